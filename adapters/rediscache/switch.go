package rediscache

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// watchSwitches follows a Sentinel group's failovers and ends the subscriptions left on the
// demoted primary.
//
// Sentinel announces a failover on its +switch-master channel ("<master> <old-ip> <old-port>
// <new-ip> <new-port>"). go-redis (v9.23) then moves its command connections to the new
// primary, but not its subscriptions: the bus's stays on the old primary, which, when it is
// still running (a planned SENTINEL FAILOVER, a primary cut off and back), goes on taking
// PUBLISH as a primary until Sentinel reconfigures it as a replica, up to its 10 s INFO period
// later. Meanwhile this replica hears none of the others' changes and trusts its cached
// rankings: TestRedisSentinelFailoverUnderLoad measured 11 s of stale cached reads. So, on a
// switch, the watcher sends the old primary CLIENT KILL TYPE pubsub, which Sentinel itself
// sends when it reconfigures it: every subscriber there (this process's and the other
// replicas') reconnects through Sentinel to the new primary and reloads from the store.
// Without the right to CLIENT KILL (an ACL), it logs a warning and the window stays.
func watchSwitches(ctx context.Context, o *redis.FailoverOptions, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		for _, addr := range o.SentinelAddrs {
			if ctx.Err() != nil {
				return
			}
			if watchOne(ctx, o, addr, log) {
				backoff = 100 * time.Millisecond // it was subscribed: start over at once
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// watchOne listens to one sentinel until the connection breaks or ctx ends; it reports
// whether it was subscribed.
func watchOne(ctx context.Context, o *redis.FailoverOptions, addr string, log *slog.Logger) bool {
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: o.SentinelUsername, Password: o.SentinelPassword,
		TLSConfig: o.TLSConfig, DialTimeout: DialTimeout, DialerRetries: 1, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout,
		MaxRetries: -1, ContextTimeoutEnabled: true})
	defer sc.Close()
	ps := sc.Subscribe(ctx, "+switch-master")
	defer ps.Close()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := ps.Receive(rctx) // the subscription's confirmation
	cancel()
	if err != nil {
		return false
	}
	for {
		// A ping every few seconds notices a dead sentinel; the next one is tried then.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := ps.ReceiveTimeout(rctx, 3*time.Second)
		cancel()
		if ctx.Err() != nil {
			return true
		}
		if err != nil {
			if isTimeout(err) {
				if ps.Ping(ctx) != nil {
					return true
				}
				continue
			}
			return true
		}
		msg, ok := m.(*redis.Message)
		if !ok {
			continue
		}
		f := strings.Fields(msg.Payload)
		if len(f) != 5 || f[0] != o.MasterName {
			continue
		}
		old := net.JoinHostPort(f[1], f[2])
		if err := killSubscribers(ctx, o, old); err != nil {
			log.Warn("redis failover: could not end the subscriptions on the old primary; replicas may miss changes until Sentinel reconfigures it",
				"old", old, "new", net.JoinHostPort(f[3], f[4]), "err", err)
		} else {
			log.Info("redis failover: ended the subscriptions on the old primary", "old", old, "new", net.JoinHostPort(f[3], f[4]))
		}
	}
}

// killSubscribers sends CLIENT KILL TYPE pubsub to the demoted primary at addr. A primary
// that is gone has no subscribers left to end.
func killSubscribers(ctx context.Context, o *redis.FailoverOptions, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
		DialTimeout: DialTimeout, DialerRetries: 1, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout, MaxRetries: 1})
	defer c.Close()
	err := c.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err()
	var oe *net.OpError
	if err != nil && ((errors.As(err, &oe) && oe.Op == "dial") || isTimeout(err)) {
		return nil // gone or unreachable: its connections are dead already, or will be found so
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// publishBySlot sends PUBLISH, on a Cluster, to the primary that owns the channel's hash slot.
// go-redis routes SUBSCRIBE there but treats PUBLISH as keyless and sends it to any node;
// Redis Cluster forwards the message to every node, so it is delivered either way, but PUBLISH
// answers with the number of subscribers on the node that took it, and the bus waits for that
// many acknowledgements. With every replica subscribed on the slot's primary, publishing there
// makes the count the number of replicas listening.
type publishBySlot struct{ cc *redis.ClusterClient }

func (publishBySlot) DialHook(next redis.DialHook) redis.DialHook { return next }

func (publishBySlot) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h publishBySlot) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); len(args) == 3 && strings.EqualFold(cmd.Name(), "publish") {
			if ch, ok := args[1].(string); ok {
				if node, err := h.cc.MasterForKey(ctx, ch); err == nil {
					return node.Process(ctx, cmd)
				}
			}
		}
		return next(ctx, cmd)
	}
}

// reloadOnDialError makes a Cluster client read the slot map again when it cannot reach a node.
// go-redis reloads it on MOVED, ASK and READONLY answers and every 10 s otherwise; after a
// primary dies and its replica takes over, a command for another slot never meets MOVED, and
// neither does a subscription (the bus's, on the channel's slot) or a PUBLISH sent to the slot's
// primary (publishBySlot): they kept dialling the dead primary, and the bus stayed down
// (TestRedisClusterFailoverUnderLoad: not back within 20 s). It is installed on every node's
// client.
type reloadOnDialError struct{ cc *redis.ClusterClient }

func (h reloadOnDialError) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.cc.ReloadState(ctx) // lazy: at most one reload runs at a time
		}
		return conn, err
	}
}

func (reloadOnDialError) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (reloadOnDialError) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
