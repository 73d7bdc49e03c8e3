# redis-rb compatibility driver for redis-pubsub.
#
# Usage: ruby driver.rb HOST PORT
#
# Prints one `ok - NAME` / `not ok - NAME: reason` line per check and ends
# with `rb: N passed, M failed`. Every check must also pass against Debian's
# redis-server. The library is Debian's ruby-redis (redis-rb 4.8, RESP2).
# Messages are always published from a second connection, in a thread that
# the subscriber's on.subscribe / on.psubscribe callback starts, so no check
# depends on a sleep.

require "redis"
require "timeout"

GLOBAL_TIMEOUT = 110 # seconds; the contract allows 120
CHECK_TIMEOUT = 15
HOST = ARGV[0] || "127.0.0.1"
PORT = (ARGV[1] || "6379").to_i
TAG = "rbc#{Process.pid}"
NAME = "rb"

$passed = 0
$failed = 0
$out = Mutex.new

def emit(line)
  $out.synchronize do
    $stdout.write(line + "\n")
    $stdout.flush
  end
end

def finish
  emit("#{NAME}: #{$passed} passed, #{$failed} failed")
  $stdout.flush
  exit!($failed.zero? ? 0 : 1)
end

class CheckFailed < StandardError; end

def expect(cond, why)
  raise CheckFailed, why unless cond
end

def short(v)
  s = v.inspect
  s.length > 200 ? s[0, 200] + "...(#{s.length} chars)" : s
end

def expect_eq(got, want, what)
  raise CheckFailed, "#{what}: got #{short(got)}, want #{short(want)}" unless got == want
end

def check(name)
  Timeout.timeout(CHECK_TIMEOUT) { yield }
rescue CheckFailed => e
  $failed += 1
  emit("not ok - #{name}: #{e.message}")
rescue Exception => e # rubocop:disable Lint/RescueException
  raise if e.is_a?(SystemExit) || e.is_a?(Interrupt)
  $failed += 1
  where = (e.backtrace || []).find { |l| l.include?("driver.rb") }
  emit("not ok - #{name}: #{e.class}: #{e.message.tr("\n", ' ')}#{where ? " (#{where[/driver\.rb:\d+/]})" : ''}")
else
  $passed += 1
  emit("ok - #{name}")
end

def client(**kw)
  Redis.new(host: HOST, port: PORT, timeout: 10, **kw)
end

def ch(name)
  "#{TAG}:#{name}"
end

# Polls block until it returns a truthy value or the deadline passes.
def wait_until(seconds = 5)
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
  loop do
    v = yield
    return v if v
    return yield if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
    sleep 0.02
  end
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

watchdog = Thread.new do
  sleep GLOBAL_TIMEOUT
  $failed += 1
  emit("not ok - global-timeout: driver still running after #{GLOBAL_TIMEOUT} s")
  finish
end
watchdog.report_on_exception = false

emit("# version: redis-rb #{Redis::VERSION} resp2 (driver #{Redis::Connection.drivers.last})")

begin
  client.ping
rescue StandardError => e
  $failed += 1
  emit("not ok - connect: cannot reach #{HOST}:#{PORT}: #{e.class}: #{e.message}")
  finish
end

r = client

check("connect-ping") do
  expect_eq(r.ping, "PONG", "PING")
  expect_eq(r.echo("hi"), "hi", "ECHO")
end

check("subscribe-callbacks-subscribe-message-unsubscribe") do
  sub = client
  pub = client
  events = []
  publisher = nil
  sub.subscribe(ch("a")) do |on|
    on.subscribe do |channel, count|
      events << [:subscribe, channel, count]
      publisher = Thread.new { [pub.publish(ch("a"), "one"), pub.publish(ch("a"), "two"), pub.publish(ch("a"), "stop")] }
    end
    on.message do |channel, msg|
      events << [:message, channel, msg]
      sub.unsubscribe if msg == "stop"
    end
    on.unsubscribe do |channel, count|
      events << [:unsubscribe, channel, count]
    end
  end
  expect_eq(publisher.value, [1, 1, 1], "PUBLISH replies")
  c = ch("a")
  expect_eq(events, [[:subscribe, c, 1], [:message, c, "one"], [:message, c, "two"], [:message, c, "stop"],
                     [:unsubscribe, c, 0]], "callback sequence")
  expect(!sub.subscribed?, "still subscribed after the block")
  expect_eq(sub.ping, "PONG", "PING on the same connection after the block")
  expect_eq(pub.publish(ch("a"), "late"), 0, "PUBLISH after unsubscribe")
  sub.close
  pub.close
end

check("unsubscribe-inside-handler-one-channel-at-a-time") do
  sub = client
  pub = client
  events = []
  publishers = []
  sub.subscribe(ch("x"), ch("y")) do |on|
    on.subscribe do |channel, count|
      events << [:subscribe, channel, count]
      publishers << Thread.new { pub.publish(ch("x"), "leave-x") } if count == 2
    end
    on.message do |channel, msg|
      events << [:message, channel, msg]
      sub.unsubscribe(channel)
    end
    on.unsubscribe do |channel, count|
      events << [:unsubscribe, channel, count]
      # y is published only once x's unsubscribe is confirmed
      publishers << Thread.new { [pub.publish(ch("x"), "x-after"), pub.publish(ch("y"), "leave-y")] } if count == 1
    end
  end
  expect_eq(publishers.map(&:value), [1, [0, 1]], "PUBLISH replies")
  x = ch("x")
  y = ch("y")
  expect_eq(events, [[:subscribe, x, 1], [:subscribe, y, 2], [:message, x, "leave-x"], [:unsubscribe, x, 1],
                     [:message, y, "leave-y"], [:unsubscribe, y, 0]], "callback sequence")
  sub.close
  pub.close
end

check("psubscribe-callbacks-pmessage-punsubscribe") do
  sub = client
  pub = client
  events = []
  publisher = nil
  sub.psubscribe(ch("news.*")) do |on|
    on.psubscribe do |pattern, count|
      events << [:psubscribe, pattern, count]
      publisher = Thread.new do
        [pub.publish(ch("news.tech"), "t1"), pub.publish(ch("weather"), "w"), pub.publish(ch("news.end"), "stop")]
      end
    end
    on.pmessage do |pattern, channel, msg|
      events << [:pmessage, pattern, channel, msg]
      sub.punsubscribe if msg == "stop"
    end
    on.punsubscribe do |pattern, count|
      events << [:punsubscribe, pattern, count]
    end
  end
  expect_eq(publisher.value, [1, 0, 1], "PUBLISH replies")
  pt = ch("news.*")
  expect_eq(events, [[:psubscribe, pt, 1], [:pmessage, pt, ch("news.tech"), "t1"],
                     [:pmessage, pt, ch("news.end"), "stop"], [:punsubscribe, pt, 0]], "callback sequence")
  expect_eq(sub.ping, "PONG", "PING after the block")
  sub.close
  pub.close
end

check("channel-and-pattern-on-one-client-publish-counts-2") do
  sub = client
  pub = client
  events = []
  publisher = nil
  sub.subscribe(ch("dup")) do |on|
    on.subscribe do |channel, count|
      events << [:subscribe, channel, count]
      sub.psubscribe(ch("du*")) # same connection, already subscribed
    end
    on.psubscribe do |pattern, count|
      events << [:psubscribe, pattern, count]
      publisher = Thread.new { [pub.publish(ch("dup"), "d"), pub.publish(ch("dux"), "stop")] }
    end
    on.message { |channel, msg| events << [:message, channel, msg] }
    on.pmessage do |pattern, channel, msg|
      events << [:pmessage, pattern, channel, msg]
      if msg == "stop"
        sub.punsubscribe
        sub.unsubscribe
      end
    end
    on.punsubscribe { |pattern, count| events << [:punsubscribe, pattern, count] }
    on.unsubscribe { |channel, count| events << [:unsubscribe, channel, count] }
  end
  expect_eq(publisher.value, [2, 1], "PUBLISH replies (channel+pattern, pattern only)")
  expect_eq(events, [[:subscribe, ch("dup"), 1], [:psubscribe, ch("du*"), 2],
                     [:message, ch("dup"), "d"], [:pmessage, ch("du*"), ch("dup"), "d"],
                     [:pmessage, ch("du*"), ch("dux"), "stop"],
                     [:punsubscribe, ch("du*"), 1], [:unsubscribe, ch("dup"), 0]], "callback sequence")
  sub.close
  pub.close
end

check("subscribe_with_timeout-times-out-when-idle") do
  sub = client
  confirmed = nil
  t0 = now
  err = nil
  begin
    sub.subscribe_with_timeout(0.6, ch("idle")) do |on|
      on.subscribe { |channel, count| confirmed = [channel, count] }
      on.message { |_c, m| raise CheckFailed, "unexpected message #{m.inspect}" }
    end
  rescue Redis::TimeoutError => e
    err = e
  end
  elapsed = now - t0
  expect(!err.nil?, "subscribe_with_timeout returned without Redis::TimeoutError")
  expect_eq(confirmed, [ch("idle"), 1], "subscribe confirmation")
  expect(elapsed >= 0.5 && elapsed < 5, "returned after #{elapsed.round(2)} s, want about 0.6 s")
  # the client reconnects on its next command
  expect_eq(sub.ping, "PONG", "PING after the timeout")
  expect(wait_until { r.pubsub(:numsub, ch("idle")) == [ch("idle"), 0] }, "NUMSUB did not drop to 0")
  sub.close
end

check("subscribe_with_timeout-receives-published") do
  sub = client
  pub = client
  got = []
  publisher = nil
  t0 = now
  sub.subscribe_with_timeout(5, ch("swt")) do |on|
    on.subscribe { |_c, _n| publisher = Thread.new { pub.publish(ch("swt"), "payload") } }
    on.message do |channel, msg|
      got << [channel, msg]
      sub.unsubscribe
    end
  end
  expect_eq(publisher.value, 1, "PUBLISH reply")
  expect_eq(got, [[ch("swt"), "payload"]], "messages")
  expect(now - t0 < 4, "took #{(now - t0).round(2)} s")
  sub.close
  pub.close
end

check("psubscribe_with_timeout-receives-and-times-out") do
  sub = client
  pub = client
  got = []
  publisher = nil
  sub.psubscribe_with_timeout(5, ch("p?")) do |on|
    on.psubscribe { |_p, _n| publisher = Thread.new { pub.publish(ch("p1"), "m") } }
    on.pmessage do |pattern, channel, msg|
      got << [pattern, channel, msg]
      sub.punsubscribe
    end
  end
  expect_eq(publisher.value, 1, "PUBLISH reply")
  expect_eq(got, [[ch("p?"), ch("p1"), "m"]], "pmessages")
  t0 = now
  err = nil
  begin
    sub.psubscribe_with_timeout(0.5, ch("q?")) { |on| on.pmessage { |*_| nil } }
  rescue Redis::TimeoutError => e
    err = e
  end
  expect(!err.nil?, "psubscribe_with_timeout did not time out")
  expect(now - t0 < 4, "timed out after #{(now - t0).round(2)} s")
  sub.close
  pub.close
end

# Subscribes sub to channel, publishes payloads from a thread once confirmed,
# returns [publish replies, received payloads (binary)].
def roundtrip(channel, payloads)
  sub = client
  pub = client
  got = []
  publisher = nil
  sub.subscribe_with_timeout(10, channel) do |on|
    on.subscribe do |_c, _n|
      publisher = Thread.new { payloads.map { |p| pub.publish(channel, p) } + [pub.publish(channel, "__end__")] }
    end
    on.message do |_c, msg|
      if msg == "__end__"
        sub.unsubscribe
      else
        got << msg.b
      end
    end
  end
  [publisher.value, got]
ensure
  sub&.close
  pub&.close
end

check("binary-payloads-256-bytes-empty-1MiB") do
  all = (0..255).to_a.pack("C*")
  big = Random.new(42).bytes(1 << 20)
  payloads = [all, "".b, "\r\n".b, "\x00".b, big]
  replies, got = roundtrip(ch("bin"), payloads)
  expect_eq(replies, [1] * (payloads.size + 1), "PUBLISH replies")
  expect_eq(got.size, payloads.size, "messages received")
  expect(got[0] == all, "256-byte payload differs: #{short(got[0])}")
  expect_eq(got[1], "".b, "empty payload")
  expect_eq(got[2], "\r\n".b, "CRLF payload")
  expect_eq(got[3], "\x00".b, "NUL payload")
  expect_eq(got[4].bytesize, 1 << 20, "1 MiB payload length")
  expect(got[4] == big, "1 MiB payload bytes differ")
end

check("utf8-channel-and-payload") do
  channel = ch("канал-日本-🚀")
  replies, got = roundtrip(channel, ["héllo ✓"])
  expect_eq(replies, [1, 1], "PUBLISH replies")
  expect_eq(got, ["héllo ✓".b], "payload")
end

check("publish-return-counts") do
  expect_eq(r.publish(ch("nobody"), "x"), 0, "no subscriber")
  ready = Queue.new
  done = Queue.new
  subs = [[:subscribe, ch("cnt")], [:subscribe, ch("cnt")], [:psubscribe, ch("cn*")]].map do |kind, name|
    s = client
    th = Thread.new do
      s.send(kind, name) do |on|
        on.send(kind) { |_c, _n| ready << true }
        on.send(kind == :subscribe ? :message : :pmessage) do |*args|
          if args.last == "quit"
            kind == :subscribe ? s.unsubscribe : s.punsubscribe
          end
        end
      end
      done << true
    end
    [s, th]
  end
  3.times { Timeout.timeout(5) { ready.pop } }
  expect_eq(r.publish(ch("cnt"), "x"), 3, "two channel subscribers + one pattern")
  expect_eq(r.publish(ch("cnz"), "x"), 1, "pattern only")
  expect_eq(r.pubsub(:numsub, ch("cnt")), [ch("cnt"), 2], "PUBSUB NUMSUB")
  expect_eq(r.publish(ch("cnt"), "quit"), 3, "quit message")
  3.times { Timeout.timeout(5) { done.pop } }
  subs.each { |s, th| th.join(5); s.close }
  expect(wait_until { r.publish(ch("cnt"), "x") == 0 }, "PUBLISH never back to 0")
end

check("pubsub-channels-numsub-numpat") do
  base_numpat = r.pubsub(:numpat)
  expect(base_numpat.is_a?(Integer), "NUMPAT not an integer: #{base_numpat.inspect}")
  sub = client
  results = nil
  sub.subscribe(ch("ps.one"), ch("ps.two")) do |on|
    on.subscribe do |_c, count|
      sub.psubscribe(ch("ps.*"), ch("ps.?ne")) if count == 2
    end
    on.psubscribe do |_p, count|
      next unless count == 4

      # query from the other connection (a thread: this one is subscribed)
      results = Thread.new do
        [r.pubsub(:channels, ch("ps.*")).sort, r.pubsub(:channels).include?(ch("ps.one")),
         r.pubsub(:numsub, ch("ps.one"), ch("ps.two"), ch("ps.none")), r.pubsub(:numpat) - base_numpat]
      end.value
      sub.punsubscribe
      sub.unsubscribe
    end
  end
  chans, listed, numsub, numpat = results
  expect_eq(chans, [ch("ps.one"), ch("ps.two")], "PUBSUB CHANNELS pattern")
  expect(listed, "PUBSUB CHANNELS without pattern lacks our channel")
  expect_eq(numsub, [ch("ps.one"), 1, ch("ps.two"), 1, ch("ps.none"), 0], "PUBSUB NUMSUB")
  expect_eq(numpat, 2, "PUBSUB NUMPAT delta")
  expect_eq(r.pubsub(:channels, ch("ps.*")), [], "channels after unsubscribe")
  expect_eq(r.pubsub(:numpat), base_numpat, "NUMPAT after punsubscribe")
  sub.close
end

check("command-in-subscribed-mode-raises-CommandError") do
  sub = client
  err = nil
  begin
    sub.subscribe(ch("rule")) do |on|
      on.subscribe { |_c, _n| sub.publish(ch("rule"), "x") }
    end
  rescue Redis::CommandError => e
    err = e
  end
  expect(!err.nil?, "no CommandError raised")
  expect_eq(err.message, "ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET " \
                         "are allowed in this context", "error message")
  sub.close
end

r.close
watchdog.kill
finish
