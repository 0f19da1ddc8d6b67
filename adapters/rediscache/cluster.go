package rediscache

import (
	"context"
	"net"

	"github.com/redis/go-redis/v9"
)

// reloadOnDialError makes a Cluster client read the slot map again when it cannot reach a node.
// go-redis reloads it on MOVED, ASK and READONLY answers and every 10 s otherwise; after a
// primary dies and its replica takes over, a command for another slot never meets MOVED, and
// neither does the change log's blocking read on its slot's primary: it kept dialling the dead
// primary, and the replica stayed off the log (TestRedisClusterFailoverUnderLoad, measured with
// the pub/sub bus the log replaced: not back within 20 s). It is installed on every node's
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
