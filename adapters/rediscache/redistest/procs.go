package redistest

// Real Redis deployments for tests: a Redis Cluster and a primary with replicas watched by
// Redis Sentinel, as redis-server and redis-sentinel processes on loopback ports, killed when
// the test ends. They show what the in-process miniredis cannot: MOVED redirections, scripts
// refused across hash slots (CROSSSLOT), failover. Under -short the tests that use them are
// skipped; when a binary is missing they fail (Debian: apt-get install redis-server
// redis-sentinel; .ci/deps.sh installs both).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// needBinary returns the path of a Redis binary: the test is skipped under -short and fails
// (it does not skip) when the binary is missing.
func needBinary(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test starts real Redis processes")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by this test and was not found in PATH (%v); install it "+
			"(Debian/Ubuntu: apt-get install redis-server redis-sentinel, or run .ci/deps.sh) or run with -short to skip", name, err)
	}
	return p
}

// Server is one redis-server or redis-sentinel process on a loopback port.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Dir holds its configuration, data and log.
	Dir string

	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	once   sync.Once
	client *redis.Client
}

// loopbackPort returns a port free on 127.0.0.1 a moment ago; with bus, one whose port+10000
// (a cluster node's bus port) is free too.
func loopbackPort(t testing.TB, bus bool) int {
	t.Helper()
	free := func(p int) bool {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = ln.Close()
		return true
	}
	if !bus {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	for range 200 {
		p := 20000 + rand.IntN(25000)
		if free(p) && free(p+10000) {
			return p
		}
	}
	t.Fatalf("no free port pair (p, p+10000) for a cluster node")
	return 0
}

// startServer runs bin with args (after which it is expected to listen on port) and waits
// until it answers PING.
func startServer(t testing.TB, bin string, port int, dir string, args ...string) *Server {
	t.Helper()
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, t: t, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	orphanProof(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	s.client = redis.NewClient(&redis.Options{Addr: s.Addr, DialTimeout: time.Second, ReadTimeout: 3 * time.Second,
		WriteTimeout: time.Second, MaxRetries: -1, PoolSize: 4})
	t.Cleanup(func() {
		_ = s.client.Close()
		s.Kill()
		if t.Failed() {
			t.Logf("%s (%s) log, last lines:\n%s", filepath.Base(bin), s.Addr, s.LogTail(15))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s
		}
		if !s.Running() || time.Now().After(deadline) {
			t.Fatalf("%s on %s did not answer PING: %v; log:\n%s", filepath.Base(bin), s.Addr, err, s.LogTail(15))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Kill stops the process with SIGKILL and waits for it to exit; what it held in memory is gone.
func (s *Server) Kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.t.Errorf("pid %d (%s) did not exit within 10s of SIGKILL", s.cmd.Process.Pid, s.Addr)
		}
	})
}

// Client is a plain client to this one process (no cluster or sentinel logic), for setup
// and inspection.
func (s *Server) Client() *redis.Client { return s.client }

// LogTail returns the last n lines of the process's log file.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serverArgs are a redis-server's arguments: loopback only, no persistence, logs in dir.
func serverArgs(port int, dir string, extra ...string) []string {
	return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no"}, extra...)
}

// waitFor polls cond every 20 ms until it holds, failing the test after within.
func waitFor(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last state: %s", what, within, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- Cluster ----

// Cluster is a Redis Cluster, the 16384 slots split evenly over its primaries.
type Cluster struct {
	// Nodes are the primaries first (in slot order), then the replicas.
	Nodes []*Server
	// Masters is how many of Nodes were started as primaries.
	Masters int
}

// StartCluster starts masters cluster-enabled redis-server processes, gives each an even
// share of the slots (CLUSTER ADDSLOTSRANGE), joins them (CLUSTER MEET) and waits until every
// node reports cluster_state:ok and knows the others. It does what `redis-cli --cluster create`
// does, without needing redis-cli.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	return StartClusterWithReplicas(t, masters, 0)
}

// StartClusterWithReplicas is StartCluster with replicas replicas per primary (CLUSTER
// REPLICATE), waiting until each is in sync, so that the cluster fails a dead primary over
// (cluster-node-timeout 2 s).
func StartClusterWithReplicas(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	bin := needBinary(t, "redis-server")
	ctx := context.Background()
	c := &Cluster{Masters: masters}
	start := func() *Server {
		port := loopbackPort(t, true)
		dir := t.TempDir()
		return startServer(t, bin, port, dir, serverArgs(port, dir,
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000")...)
	}
	for i := range masters {
		c.Nodes = append(c.Nodes, start())
		lo, hi := i*16384/masters, (i+1)*16384/masters-1
		n := c.Nodes[i].Client()
		if err := n.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			t.Fatalf("cluster node %d: SET-CONFIG-EPOCH: %v", i, err)
		}
		if err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("cluster node %d: ADDSLOTSRANGE %d %d: %v", i, lo, hi, err)
		}
	}
	for range masters * replicas {
		c.Nodes = append(c.Nodes, start())
	}
	for _, n := range c.Nodes[1:] {
		host, port, _ := net.SplitHostPort(n.Addr)
		if err := c.Nodes[0].Client().ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatalf("CLUSTER MEET %s: %v", n.Addr, err)
		}
	}
	want := fmt.Sprintf("cluster_known_nodes:%d", len(c.Nodes))
	ready := func(n *Server) {
		waitFor(t, 20*time.Second, "cluster node "+n.Addr+" ready", func() (bool, string) {
			info, err := n.Client().ClusterInfo(ctx).Result()
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "cluster_state:ok") && strings.Contains(info, want) &&
				strings.Contains(info, "cluster_slots_ok:16384"), strings.ReplaceAll(info, "\r\n", " ")
		})
	}
	for _, n := range c.Nodes[:masters] {
		ready(n)
	}
	for i, r := range c.Nodes[masters:] {
		primary := c.Nodes[i%masters]
		id, err := primary.Client().Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatalf("CLUSTER MYID on %s: %v", primary.Addr, err)
		}
		// The replica must know the primary's id first; MEET spreads it within a second or two.
		waitFor(t, 20*time.Second, "replica "+r.Addr+" of "+primary.Addr, func() (bool, string) {
			if err := r.Client().Do(ctx, "CLUSTER", "REPLICATE", id).Err(); err != nil {
				return false, err.Error()
			}
			return true, ""
		})
	}
	for _, r := range c.Nodes[masters:] {
		waitFor(t, 20*time.Second, "replica "+r.Addr+" in sync", func() (bool, string) {
			info, err := r.Client().Info(ctx, "replication").Result()
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "master_link_status:up"), info
		})
		ready(r)
	}
	return c
}

// PrimaryOf returns the primary node that serves key's hash slot now, by asking a running
// node for the slot map.
func (c *Cluster) PrimaryOf(t testing.TB, key string) *Server {
	t.Helper()
	ctx := context.Background()
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		slot, err := n.Client().ClusterKeySlot(ctx, key).Result()
		if err != nil {
			continue
		}
		slots, err := n.Client().ClusterSlots(ctx).Result()
		if err != nil {
			continue
		}
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				for _, m := range c.Nodes {
					if m.Addr == r.Nodes[0].Addr {
						return m
					}
				}
			}
		}
	}
	t.Fatalf("no running node knows which primary serves %q", key)
	return nil
}

// WaitPromoted waits until a replica of the primary p says it is a primary (the cluster failed
// p over to it) and returns that replica.
func (c *Cluster) WaitPromoted(t testing.TB, p *Server, within time.Duration) *Server {
	t.Helper()
	ctx := context.Background()
	idx := -1
	for i, n := range c.Nodes[:c.Masters] {
		if n == p {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("%s is not one of the cluster's first primaries", p.Addr)
	}
	var got *Server
	waitFor(t, within, "a replica of "+p.Addr+" promoted", func() (bool, string) {
		for j, r := range c.Nodes[c.Masters:] {
			if j%c.Masters != idx || !r.Running() {
				continue
			}
			info, err := r.Client().Info(ctx, "replication").Result()
			if err == nil && strings.Contains(info, "role:master") {
				got = r
				return true, ""
			}
		}
		return false, "no replica of " + p.Addr + " is a primary yet"
	})
	return got
}

// WaitHealthy waits until every running node reports cluster_state:ok with every slot served.
func (c *Cluster) WaitHealthy(t testing.TB, within time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		waitFor(t, within, "cluster node "+n.Addr+" healthy", func() (bool, string) {
			info, err := n.Client().ClusterInfo(ctx).Result()
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_ok:16384"),
				strings.ReplaceAll(info, "\r\n", " ")
		})
	}
}

// Addrs lists the nodes' addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL is capmatch's REDIS_URL for the cluster: redis+cluster://primary1,primary2,... (the
// client finds the replicas from them).
func (c *Cluster) URL() string {
	return "redis+cluster://" + strings.Join(c.Addrs()[:c.Masters], ",")
}

// ---- Sentinel ----

// SentinelGroup is a primary with replicas and the sentinels that watch them.
type SentinelGroup struct {
	// Master is the name the sentinels know the group by.
	Master string
	// Data are the redis-server processes, the first started as primary.
	Data []*Server
	// Sentinels are the redis-sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts a primary, replicas replica redis-server processes and sentinels
// redis-sentinel processes (quorum: a majority) that mark a silent primary down after one
// second, and waits until the replicas are in sync and every sentinel knows every replica
// and every other sentinel, so that a failover can be authorised at once.
func StartSentinel(t testing.TB, replicas, sentinels int) *SentinelGroup {
	t.Helper()
	bin := needBinary(t, "redis-server")
	sbin := needBinary(t, "redis-sentinel")
	ctx := context.Background()
	g := &SentinelGroup{Master: "capmatch"}
	pport := loopbackPort(t, false)
	dir := t.TempDir()
	g.Data = append(g.Data, startServer(t, bin, pport, dir, serverArgs(pport, dir)...))
	for range replicas {
		port := loopbackPort(t, false)
		dir := t.TempDir()
		g.Data = append(g.Data, startServer(t, bin, port, dir, serverArgs(port, dir,
			"--replicaof", "127.0.0.1", strconv.Itoa(pport))...))
	}
	for _, r := range g.Data[1:] {
		waitFor(t, 15*time.Second, "replica "+r.Addr+" in sync", func() (bool, string) {
			info, err := r.Client().Info(ctx, "replication").Result()
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "master_link_status:up"), info
		})
	}
	quorum := sentinels/2 + 1
	for range sentinels {
		port := loopbackPort(t, false)
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %d %d\n"+
			"sentinel down-after-milliseconds %[4]s 1000\n"+
			"sentinel failover-timeout %[4]s 4000\n"+
			"sentinel parallel-syncs %[4]s 1\n",
			port, dir, filepath.Join(dir, "redis.log"), g.Master, pport, quorum)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		g.Sentinels = append(g.Sentinels, startServer(t, sbin, port, dir, conf))
	}
	for _, s := range g.Sentinels {
		sc := redis.NewSentinelClient(s.Client().Options())
		waitFor(t, 20*time.Second, "sentinel "+s.Addr+" knows the group", func() (bool, string) {
			m, err := sc.Master(ctx, g.Master).Result()
			if err != nil {
				return false, err.Error()
			}
			return m["flags"] == "master" && m["num-slaves"] == strconv.Itoa(replicas) &&
				m["num-other-sentinels"] == strconv.Itoa(sentinels-1), fmt.Sprint(m)
		})
		_ = sc.Close()
	}
	return g
}

// URL is capmatch's REDIS_URL for the group: redis+sentinel://s1,s2,.../<master>.
func (g *SentinelGroup) URL() string {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + g.Master
}

// PrimaryAddr asks the live sentinels which server is the primary; it answers only when they
// all agree.
func (g *SentinelGroup) PrimaryAddr(ctx context.Context) (string, error) {
	addr := ""
	for _, s := range g.Sentinels {
		if !s.Running() {
			continue
		}
		sc := redis.NewSentinelClient(s.Client().Options())
		hp, err := sc.GetMasterAddrByName(ctx, g.Master).Result()
		_ = sc.Close()
		if err != nil {
			return "", fmt.Errorf("sentinel %s: %w", s.Addr, err)
		}
		a := net.JoinHostPort(hp[0], hp[1])
		if addr != "" && a != addr {
			return "", fmt.Errorf("sentinels disagree: %s and %s", addr, a)
		}
		addr = a
	}
	return addr, nil
}

// Server returns the data server listening on addr, or nil.
func (g *SentinelGroup) Server(addr string) *Server {
	for _, s := range g.Data {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// WaitNewPrimary waits until every live sentinel names a primary other than old and that
// server says it is a primary, and returns it.
func (g *SentinelGroup) WaitNewPrimary(t testing.TB, old string, within time.Duration) *Server {
	t.Helper()
	ctx := context.Background()
	var got *Server
	waitFor(t, within, "a new primary replacing "+old, func() (bool, string) {
		addr, err := g.PrimaryAddr(ctx)
		if err != nil {
			return false, err.Error()
		}
		if addr == old {
			return false, "sentinels still name " + old
		}
		s := g.Server(addr)
		if s == nil {
			return false, "sentinels name an unknown server " + addr
		}
		info, err := s.Client().Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "role:master") {
			return false, fmt.Sprintf("%s is not a primary yet (%v)", addr, err)
		}
		got = s
		return true, ""
	})
	return got
}
