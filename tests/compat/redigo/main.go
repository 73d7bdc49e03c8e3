// redigo over the server: redigo-compat HOST PORT
//
// A Go service's subscriber loop on redigo's PubSubConn, the way redigo's
// own example writes it: Subscribe and PSubscribe, a goroutine receiving
// with ReceiveWithTimeout, Ping as the health check from another goroutine
// while a second connection publishes, and Unsubscribe/PUnsubscribe to end.
//
// Prints `# version:`, `ok - NAME` / `not ok - NAME: reason` per check and
// last `redigo: N passed, M failed`; exits 1 on any failure. Built by `run`
// offline from Debian's golang-github-gomodule-redigo-dev (GOPATH mode).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
)

var (
	addr   string
	tag    string
	passed int
	failed int
)

const wait = 10 * time.Second

func check(name string, fn func() error) {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		err = errors.New("timed out after 30 s")
	}
	if err != nil {
		failed++
		fmt.Printf("not ok - %s: %s\n", name, strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	passed++
	fmt.Printf("ok - %s\n", name)
}

func dial() (redis.Conn, error) {
	return redis.Dial("tcp", addr, redis.DialConnectTimeout(5*time.Second),
		redis.DialReadTimeout(wait), redis.DialWriteTimeout(wait))
}

// expect compares a received notification with the one wanted.
func expect(got, want interface{}, what string) error {
	if m, ok := got.(redis.Message); ok {
		if w, ok := want.(redis.Message); ok && m.Channel == w.Channel && m.Pattern == w.Pattern &&
			bytes.Equal(m.Data, w.Data) {
			return nil
		}
	} else if reflect.DeepEqual(got, want) {
		return nil
	}
	return fmt.Errorf("%s: want %#v, got %#v", what, want, got)
}

// numsubIs waits until PUBSUB NUMSUB channel is n.
func numsubIs(c redis.Conn, channel string, n int) error {
	end := time.Now().Add(wait)
	for {
		v, err := redis.Values(c.Do("PUBSUB", "NUMSUB", channel))
		if err != nil {
			return err
		}
		if got, _ := redis.Int(v[1], nil); got == n {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("NUMSUB %s did not reach %d", channel, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func subscribeAndReceive() error {
	c, err := dial()
	if err != nil {
		return err
	}
	psc := redis.PubSubConn{Conn: c}
	defer psc.Close()
	pub, err := dial()
	if err != nil {
		return err
	}
	defer pub.Close()
	a, b, pat := tag+".a", tag+".b", tag+".p.*"
	if err := psc.Subscribe(a, b); err != nil {
		return err
	}
	if err := psc.PSubscribe(pat); err != nil {
		return err
	}
	for i, want := range []redis.Subscription{{"subscribe", a, 1}, {"subscribe", b, 2}, {"psubscribe", pat, 3}} {
		if err := expect(psc.ReceiveWithTimeout(wait), want, fmt.Sprintf("confirmation %d", i)); err != nil {
			return err
		}
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	sends := []redis.Message{
		{Channel: a, Data: []byte("one")},
		{Channel: b, Data: binary},
		{Channel: tag + ".p.x", Pattern: pat, Data: []byte("via pattern")},
		{Channel: a, Data: []byte{}},
	}
	for _, m := range sends {
		n, err := redis.Int(pub.Do("PUBLISH", m.Channel, m.Data))
		if err != nil || n != 1 {
			return fmt.Errorf("PUBLISH %s: %d, %v", m.Channel, n, err)
		}
	}
	if n, err := redis.Int(pub.Do("PUBLISH", tag+".px", "no")); err != nil || n != 0 {
		return fmt.Errorf("PUBLISH to a channel nobody matches: %d, %v", n, err)
	}
	for i, want := range sends {
		if err := expect(psc.ReceiveWithTimeout(wait), want, fmt.Sprintf("message %d", i)); err != nil {
			return err
		}
	}
	// The messages above were queued before this PING was read, so the
	// pong comes after them and before anything published later.
	if err := psc.Ping("health"); err != nil {
		return err
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Pong{Data: "health"}, "pong"); err != nil {
		return err
	}
	if err := psc.Unsubscribe(); err != nil {
		return err
	}
	// One confirmation per channel, in any order; the count still
	// includes the pattern.
	seen := map[string]bool{}
	for count := 2; count >= 1; count-- {
		s, ok := psc.ReceiveWithTimeout(wait).(redis.Subscription)
		if !ok || s.Kind != "unsubscribe" || s.Count != count || seen[s.Channel] || (s.Channel != a && s.Channel != b) {
			return fmt.Errorf("bare UNSUBSCRIBE confirmation with count %d: %#v", count, s)
		}
		seen[s.Channel] = true
	}
	if err := psc.PUnsubscribe(); err != nil {
		return err
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Subscription{"punsubscribe", pat, 0}, "bare PUNSUBSCRIBE"); err != nil {
		return err
	}
	// Out of subscribed mode the connection answers ordinary commands.
	if s, err := redis.String(c.Do("PING")); err != nil || s != "PONG" {
		return fmt.Errorf("PING after unsubscribing: %q, %v", s, err)
	}
	return nil
}

// The health-checked listener of redigo's example: one goroutine receives,
// another pings, while a second connection publishes 2000 messages.
func listenerWithHealthCheck() error {
	c, err := dial()
	if err != nil {
		return err
	}
	psc := redis.PubSubConn{Conn: c}
	defer psc.Close()
	pub, err := dial()
	if err != nil {
		return err
	}
	defer pub.Close()
	ch := tag + ".listen"
	if err := psc.Subscribe(ch); err != nil {
		return err
	}
	const messages, pings = 2000, 50
	result := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		next, pongs := 0, 0
		for next < messages || pongs < pings {
			switch v := psc.ReceiveWithTimeout(wait).(type) {
			case redis.Subscription:
				if v.Kind != "subscribe" || v.Channel != ch || v.Count != 1 {
					result <- fmt.Errorf("confirmation %#v", v)
					return
				}
				close(ready)
			case redis.Message:
				if want := fmt.Sprintf("m%d", next); string(v.Data) != want || v.Channel != ch {
					result <- fmt.Errorf("message %d: got %q on %s", next, v.Data, v.Channel)
					return
				}
				next++
			case redis.Pong:
				if want := fmt.Sprintf("p%d", pongs); v.Data != want {
					result <- fmt.Errorf("pong %d: got %q", pongs, v.Data)
					return
				}
				pongs++
			case error:
				result <- fmt.Errorf("after %d messages and %d pongs: %v", next, pongs, v)
				return
			}
		}
		result <- nil
	}()
	select {
	case <-ready:
	case err := <-result:
		return err
	case <-time.After(wait):
		return errors.New("no subscribe confirmation")
	}
	pingErr := make(chan error, 1)
	go func() {
		for i := 0; i < pings; i++ {
			if err := psc.Ping(fmt.Sprintf("p%d", i)); err != nil {
				pingErr <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
		pingErr <- nil
	}()
	for i := 0; i < messages; i++ {
		pub.Send("PUBLISH", ch, fmt.Sprintf("m%d", i))
	}
	if err := pub.Flush(); err != nil {
		return err
	}
	for i := 0; i < messages; i++ {
		if n, err := redis.Int(pub.Receive()); err != nil || n != 1 {
			return fmt.Errorf("pipelined PUBLISH %d: %d, %v", i, n, err)
		}
	}
	if err := <-pingErr; err != nil {
		return err
	}
	if err := <-result; err != nil {
		return err
	}
	if err := psc.Unsubscribe(ch); err != nil {
		return err
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Subscription{"unsubscribe", ch, 0}, "unsubscribe"); err != nil {
		return err
	}
	return numsubIs(pub, ch, 0)
}

// ReceiveWithTimeout with nothing to read gives a timeout error in time.
func receiveTimeout() error {
	c, err := dial()
	if err != nil {
		return err
	}
	psc := redis.PubSubConn{Conn: c}
	defer psc.Close()
	if err := psc.Subscribe(tag + ".quiet"); err != nil {
		return err
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Subscription{"subscribe", tag + ".quiet", 1}, "confirmation"); err != nil {
		return err
	}
	start := time.Now()
	v := psc.ReceiveWithTimeout(200 * time.Millisecond)
	var ne net.Error
	if err, ok := v.(error); !ok || !errors.As(err, &ne) || !ne.Timeout() {
		return fmt.Errorf("want a timeout error, got %#v", v)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		return fmt.Errorf("timeout after %v", d)
	}
	return nil
}

// Subscriptions through a Pool's connection, then everything is gone.
func poolAndCleanup() error {
	pool := &redis.Pool{MaxIdle: 2, Dial: dial}
	defer pool.Close()
	psc := redis.PubSubConn{Conn: pool.Get()}
	ch := tag + ".pool"
	if err := psc.Subscribe(ch); err != nil {
		return err
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Subscription{"subscribe", ch, 1}, "confirmation"); err != nil {
		return err
	}
	admin := pool.Get()
	defer admin.Close()
	if n, err := redis.Int(admin.Do("PUBLISH", ch, "x")); err != nil || n != 1 {
		return fmt.Errorf("PUBLISH: %d, %v", n, err)
	}
	if err := expect(psc.ReceiveWithTimeout(wait), redis.Message{Channel: ch, Data: []byte("x")}, "message"); err != nil {
		return err
	}
	// Closing a pooled connection that is subscribed makes the pool
	// unsubscribe it (UNSUBSCRIBE, PUNSUBSCRIBE, then an ECHO to sync).
	if err := psc.Close(); err != nil {
		return fmt.Errorf("close: %v", err)
	}
	if err := numsubIs(admin, ch, 0); err != nil {
		return err
	}
	end := time.Now().Add(wait)
	for {
		left, err := redis.Strings(admin.Do("PUBSUB", "CHANNELS", tag+"*"))
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("still subscribed: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: redigo-compat HOST PORT")
		os.Exit(2)
	}
	addr = net.JoinHostPort(os.Args[1], os.Args[2])
	tag = fmt.Sprintf("compat-go-%d", os.Getpid())
	fmt.Printf("# version: redigo %s RESP2 (%s)\n", os.Getenv("REDIGO_VERSION"), strings.TrimSpace(os.Getenv("GO_VERSION")))
	check("Subscribe, PSubscribe, messages with binary data, Ping, bare Unsubscribe and PUnsubscribe", subscribeAndReceive)
	check("listener goroutine with ReceiveWithTimeout and Ping health checks during 2000 pipelined PUBLISH", listenerWithHealthCheck)
	check("ReceiveWithTimeout with nothing to read times out", receiveTimeout)
	check("PubSubConn on a Pool connection; Close unsubscribes it; nothing of the run left", poolAndCleanup)
	fmt.Printf("redigo: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
