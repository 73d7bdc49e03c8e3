<?php
// phpredis over the server: php driver.php HOST PORT
//
// A PHP worker subscribes with phpredis's blocking callback API while a
// second PHP process (started with proc_open, as a web request or a cron job
// would publish) publishes; the callback ends the subscription by
// unsubscribing from inside itself, and the connection is then used for
// ordinary commands again.
//
// How the callback unsubscribes: phpredis 5.x's subscribe loop returns when
// it reads anything but a message, and its unsubscribe() called inside the
// callback consumes the confirmations itself, so the loop never returns
// (phpredis issues #2060 and #2135; 6.0 reworked it). What works with 5.3.7,
// and what these checks do, is a bare UNSUBSCRIBE (PUNSUBSCRIBE) sent with
// rawCommand() while two or more channels (patterns) are subscribed:
// rawCommand() takes the first confirmation and the loop returns on the next
// one. That holds us to one confirmation per channel, each a RESP2 array.
//
// The publishing process is this script run as
//   php driver.php HOST PORT publish STEPS_JSON
// where STEPS_JSON is a list of steps: ["numsub", channel, n] and
// ["numpat", n] wait (10 s at most) until PUBSUB NUMSUB / NUMPAT reports n;
// ["publish", channel, base64 payload] publishes and records the count;
// ["pubsub", ...args] records what $redis->pubsub(...) answers. It prints one
// JSON line, {"ok": bool, "counts": [...], "pubsub": [...], "error": "..."}.
//
// Prints `# version:`, `ok - NAME` / `not ok - NAME: reason` per check and
// last `phpredis: N passed, M failed`; exits 1 on any failure.

$host = $argv[1] ?? '127.0.0.1';
$port = (int)($argv[2] ?? 6379);

function connect_redis($host, $port) {
    $r = new Redis();
    if (!$r->connect($host, $port, 5.0)) {
        throw new Exception("connect to $host:$port failed");
    }
    $r->setOption(Redis::OPT_READ_TIMEOUT, 15);
    return $r;
}

// ---------------------------------------------------------------- publisher
if (($argv[3] ?? '') === 'publish') {
    $out = ['ok' => false, 'counts' => [], 'pubsub' => []];
    try {
        $r = connect_redis($host, $port);
        foreach (json_decode($argv[4], true) as $step) {
            $op = array_shift($step);
            if ($op === 'numsub' || $op === 'numpat') {
                $end = microtime(true) + 10;
                for (;;) {
                    $have = $op === 'numsub' ? $r->pubsub('numsub', [$step[0]])[$step[0]] : $r->pubsub('numpat');
                    if ((int)$have === (int)end($step)) break;
                    if (microtime(true) > $end) throw new Exception("$op " . json_encode($step) . " not reached, have $have");
                    usleep(20000);
                }
            } elseif ($op === 'publish') {
                $out['counts'][] = $r->publish($step[0], base64_decode($step[1]));
            } elseif ($op === 'pubsub') {
                $out['pubsub'][] = $r->pubsub(...$step);
            }
        }
        $r->close();
        $out['ok'] = true;
    } catch (Throwable $e) {
        $out['error'] = get_class($e) . ': ' . $e->getMessage();
    }
    echo json_encode($out), "\n";
    exit(0);
}

// ---------------------------------------------------------------- checks
$passed = 0;
$failed = 0;
function ok($name) { global $passed; $passed++; echo "ok - $name\n"; }
function not_ok($name, $why) {
    global $failed; $failed++;
    echo "not ok - $name: " . substr(preg_replace('/\s+/', ' ', $why), 0, 400) . "\n";
}
function check($name, $fn) {
    try { $fn(); ok($name); } catch (Throwable $e) { not_ok($name, get_class($e) . ': ' . $e->getMessage()); }
}
function expect($actual, $expected, $what) {
    if ($actual !== $expected) {
        throw new Exception("$what: expected " . json_encode($expected, JSON_INVALID_UTF8_SUBSTITUTE) .
            ", got " . json_encode($actual, JSON_INVALID_UTF8_SUBSTITUTE));
    }
}

// Starts the publishing process; returns [process, stdout pipe].
function start_publisher($steps) {
    global $host, $port;
    $cmd = [PHP_BINARY, __FILE__, $host, (string)$port, 'publish', json_encode($steps)];
    $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if (!is_resource($p)) throw new Exception('proc_open failed');
    return [$p, $pipes];
}
function publisher_result($pub) {
    [$p, $pipes] = $pub;
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]); fclose($pipes[2]);
    proc_close($p);
    $res = json_decode(trim($out), true);
    if (!is_array($res)) throw new Exception("publisher printed " . json_encode($out . $err));
    if (!$res['ok']) throw new Exception("publisher: " . $res['error']);
    return $res;
}
function pub_step($ch, $payload) { return ['publish', $ch, base64_encode($payload)]; }

// Ends the subscription from inside a callback (see the top of the file);
// returns what rawCommand() read: the first of the confirmations.
function unsubscribe_all($redis, $cmd) {
    return $redis->rawCommand($cmd);
}
// The first confirmation of a bare (P)UNSUBSCRIBE from $n channels.
function expect_first_confirmation($reply, $kind, $names, $n) {
    if (!is_array($reply) || count($reply) !== 3 || $reply[0] !== $kind ||
        !in_array($reply[1], $names, true) || $reply[2] !== $n - 1) {
        throw new Exception("first $kind confirmation: " . json_encode($reply));
    }
}

echo "# version: phpredis " . phpversion('redis') . " RESP2 (PHP " . PHP_VERSION . ")\n";
$tag = 'compat-php-' . getmypid();
$binary = '';
for ($i = 0; $i < 256; $i++) $binary .= chr($i);

check('subscribe callback receives a second process\'s messages in order, unsubscribes itself to end', function () use ($host, $port, $tag, $binary) {
    $a = "$tag.a"; $b = "$tag.b";
    $steps = [['numsub', $a, 1], ['numsub', $b, 1]];
    $want = [];
    for ($i = 0; $i < 100; $i++) {
        $ch = $i % 2 ? $b : $a;
        $steps[] = pub_step($ch, "m$i");
        $want[] = [$ch, "m$i"];
    }
    $steps[] = pub_step($a, $binary); $want[] = [$a, $binary];
    $steps[] = pub_step($b, ''); $want[] = [$b, ''];
    $steps[] = ['pubsub', 'channels', "$tag.*"];
    $steps[] = ['pubsub', 'numsub', [$a, $b, "$tag.none"]];
    $steps[] = pub_step($a, 'quit');
    $steps[] = pub_step($b, 'quit');
    $r = connect_redis($host, $port);
    $pub = start_publisher($steps);
    $got = [];
    $quits = 0;
    $unsub = null;
    $ret = $r->subscribe([$a, $b], function ($redis, $chan, $msg) use (&$got, &$quits, &$unsub) {
        if ($msg === 'quit') {
            if (++$quits === 2) $unsub = unsubscribe_all($redis, 'UNSUBSCRIBE');
            return;
        }
        $got[] = [$chan, $msg];
    });
    $res = publisher_result($pub);
    expect($ret === false ? 'false' : 'returned', 'returned', 'subscribe() return');
    expect_first_confirmation($unsub, 'unsubscribe', [$a, $b], 2);
    expect(count($got), count($want), 'number of messages');
    expect($got, $want, 'messages');
    expect($res['counts'], array_fill(0, 104, 1), 'PUBLISH counts');
    $chans = $res['pubsub'][0]; sort($chans);
    expect($chans, [$a, $b], "pubsub('channels')");
    expect($res['pubsub'][1], [$a => 1, $b => 1, "$tag.none" => 0], "pubsub('numsub')");
    // Out of subscribed mode, the same connection serves ordinary commands.
    $pong = $r->ping();
    expect($pong === true || $pong === '+PONG' || $pong === 'PONG', true, 'PING after the callback returned');
    expect($r->publish($a, 'x'), 0, 'PUBLISH after unsubscribing');
    $r->close();
});

check('psubscribe callback gets pattern, channel and message; punsubscribe ends it', function () use ($host, $port, $tag) {
    $pat = "$tag.news.*";
    $pat2 = "$tag.?port.eu";
    $r = connect_redis($host, $port);
    $numpat0 = (int)$r->pubsub('numpat');
    $steps = [['numpat', $numpat0 + 2]];
    foreach (['news.eu', 'sport.eu', 'news.us.east', 'news', 'news.'] as $c) $steps[] = pub_step("$tag.$c", "on $c");
    $steps[] = ['pubsub', 'numpat'];
    $steps[] = pub_step("$tag.news.end", 'quit');
    $pub = start_publisher($steps);
    $got = [];
    $unsub = null;
    $r->psubscribe([$pat, $pat2], function ($redis, $pattern, $chan, $msg) use (&$got, &$unsub) {
        if ($msg === 'quit') { $unsub = unsubscribe_all($redis, 'PUNSUBSCRIBE'); return; }
        $got[] = [$pattern, $chan, $msg];
    });
    $res = publisher_result($pub);
    expect_first_confirmation($unsub, 'punsubscribe', [$pat, $pat2], 2);
    expect($got, [
        [$pat, "$tag.news.eu", 'on news.eu'],
        [$pat2, "$tag.sport.eu", 'on sport.eu'],
        [$pat, "$tag.news.us.east", 'on news.us.east'],
        [$pat, "$tag.news.", 'on news.'],
    ], 'pmessages');
    expect($res['counts'], [1, 1, 1, 0, 1, 1], 'PUBLISH counts');
    expect((int)$res['pubsub'][0], $numpat0 + 2, "pubsub('numpat') while subscribed");
    expect((int)$r->pubsub('numpat'), $numpat0, "pubsub('numpat') after punsubscribe");
    $r->close();
});

check('a connection subscribes again after its callback returned', function () use ($host, $port, $tag) {
    $c = "$tag.again";
    $c2 = "$tag.again.control";
    $r = connect_redis($host, $port);
    for ($round = 0; $round < 3; $round++) {
        $pub = start_publisher([['numsub', $c2, 1], pub_step($c, "round $round")]);
        $got = null;
        $unsub = null;
        $r->subscribe([$c, $c2], function ($redis, $chan, $msg) use (&$got, &$unsub) {
            $got = $msg;
            $unsub = unsubscribe_all($redis, 'UNSUBSCRIBE');
        });
        publisher_result($pub);
        expect($got, "round $round", "round $round");
        expect_first_confirmation($unsub, 'unsubscribe', [$c, $c2], 2);
        expect($r->pubsub('numsub', [$c, $c2]), [$c => 0, $c2 => 0], "NUMSUB after round $round");
    }
    $r->close();
});

check('nothing of the run is left subscribed', function () use ($host, $port, $tag) {
    $r = connect_redis($host, $port);
    $end = microtime(true) + 10;
    while (($left = $r->pubsub('channels', "$tag*")) !== []) {
        if (microtime(true) > $end) throw new Exception('still subscribed: ' . json_encode($left));
        usleep(20000);
    }
    $r->close();
});

echo "phpredis: $passed passed, $failed failed\n";
exit($failed ? 1 : 0);
