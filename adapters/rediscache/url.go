package rediscache

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Mode is how capmatch reaches Redis, chosen by REDIS_URL's scheme.
type Mode string

// The three deployments REDIS_URL can name.
const (
	// Standalone is one Redis server: redis://, rediss:// or unix://.
	Standalone Mode = "standalone"
	// Sentinel is a primary with replicas watched by Redis Sentinel: redis+sentinel://.
	Sentinel Mode = "sentinel"
	// Cluster is a Redis Cluster: redis+cluster://.
	Cluster Mode = "cluster"
)

// Default ports of the multi-host forms (a host without a port gets its role's usual port).
const (
	sentinelPort = "26379"
	clusterPort  = "6379"
)

// Config is a parsed REDIS_URL: the mode and go-redis's options for it. Only one of the
// options is set. ParseURL validates; Open builds the client from it.
type Config struct {
	Mode Mode

	standalone *redis.Options
	failover   *redis.FailoverOptions
	cluster    *redis.ClusterOptions
}

// Addrs lists the addresses the URL names (the server, the sentinels or the cluster's seed
// nodes), for logs; no credentials.
func (c *Config) Addrs() []string {
	switch {
	case c.failover != nil:
		return append([]string(nil), c.failover.SentinelAddrs...)
	case c.cluster != nil:
		return append([]string(nil), c.cluster.Addrs...)
	default:
		return []string{c.standalone.Addr}
	}
}

// ParseURL reads REDIS_URL. Standalone URLs are go-redis's own (redis.ParseURL). The
// multi-host forms follow the convention of Python's redis-sentinel-url and of Prefect/docket
// (redis+sentinel://) and name every node in the authority, comma-separated:
//
//	redis+sentinel://[user:password@]host1[:26379][,host2[:26379]...]/<master-name>[/<db>][?options]
//	redis+cluster://[user:password@]host1[:6379][,host2[:6379]...][?options]
//
// rediss+sentinel:// and rediss+cluster:// use TLS to every node. The user and password are
// the data nodes' (the primary's, the cluster's); sentinels that require their own are given
// sentinel_username and sentinel_password options. Other options are go-redis's query
// options (snake case, e.g. pool_size, client_name), except those that would let capmatch read
// from a replica or route commands away from the primary, which are refused: capmatch reads
// back what it has just written. The timeouts and retries are capmatch's own (Open sets them);
// options naming them are accepted and overridden.
func ParseURL(raw string) (*Config, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("not a URL (no scheme://)")
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(raw)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the URL, password included
			}
			return nil, err
		}
		return &Config{Mode: Standalone, standalone: o}, nil
	case "redis+sentinel", "rediss+sentinel":
		return parseSentinel(raw)
	case "redis+cluster", "rediss+cluster":
		return parseCluster(raw)
	default:
		return nil, fmt.Errorf("unknown scheme %q: want redis://, rediss://, unix://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://", scheme)
	}
}

// multiURL is a multi-host URL cut into its parts; url.Parse cannot read a comma-separated
// host list.
type multiURL struct {
	tls   bool
	user  *url.Userinfo
	hosts []string // host:port, defaults applied
	path  []string // non-empty segments
	query url.Values
}

func splitMulti(raw, defaultPort string) (*multiURL, error) {
	scheme, rest, _ := strings.Cut(raw, "://")
	m := &multiURL{tls: strings.HasPrefix(strings.ToLower(scheme), "rediss+")}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, errors.New("a fragment (#...) is not allowed; put the master name in the path")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	m.query = q
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		u, err := url.Parse("redis://" + authority[:i+1] + "host")
		if err != nil || u.User == nil {
			return nil, errors.New("the user and password are not valid URL userinfo (percent-encode reserved characters)")
		}
		m.user = u.User
		authority = authority[i+1:]
	}
	if authority == "" {
		return nil, errors.New("no host: name at least one node, host:port[,host:port...]")
	}
	for _, h := range strings.Split(authority, ",") {
		addr, err := hostPort(h, defaultPort)
		if err != nil {
			return nil, err
		}
		m.hosts = append(m.hosts, addr)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg != "" {
			s, err := url.PathUnescape(seg)
			if err != nil {
				return nil, fmt.Errorf("path: %w", err)
			}
			m.path = append(m.path, s)
		}
	}
	return m, nil
}

// hostPort checks one node of a host list and gives it the default port when it has none.
func hostPort(h, defaultPort string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in the host list (two commas in a row, or a trailing comma)")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port: a bare name, IPv4 or bracketed IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		if strings.ContainsAny(host, "[]") || (strings.Contains(host, ":") && !strings.HasPrefix(h, "[")) {
			return "", fmt.Errorf("host %q: write an IPv6 address in brackets, [::1]:%s", h, defaultPort)
		}
	}
	if host == "" || strings.ContainsAny(host, " /@?#") {
		return "", fmt.Errorf("host %q is not a host name or IP address", h)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("host %q: port must be a number from 1 to 65535", h)
	}
	return net.JoinHostPort(host, port), nil
}

// refuse returns an error naming the first of names present in q.
func refuse(q url.Values, why string, names ...string) error {
	for _, n := range names {
		if q.Has(n) {
			return fmt.Errorf("option %s is not accepted: %s", n, why)
		}
	}
	return nil
}

// goRedisURL rebuilds a go-redis URL (scheme redis or rediss, the first node in the
// authority, the others as addr options) so that go-redis's own parser reads the options.
func goRedisURL(m *multiURL, user *url.Userinfo, path string, q url.Values) string {
	u := url.URL{Scheme: "redis", User: user, Host: m.hosts[0], Path: path}
	if m.tls {
		u.Scheme = "rediss"
	}
	for _, h := range m.hosts[1:] {
		q.Add("addr", h)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func parseSentinel(raw string) (*Config, error) {
	m, err := splitMulti(raw, sentinelPort)
	if err != nil {
		return nil, err
	}
	if len(m.path) == 0 {
		return nil, errors.New("no master name: redis+sentinel://host:26379[,host:26379...]/<master-name>[/<db>]")
	}
	if len(m.path) > 2 {
		return nil, errors.New("the path is /<master-name>[/<db>]; it has more segments")
	}
	q := m.query
	if err := refuse(q, "the URL's path names the master and the database, its hosts the sentinels, its user and password the primary's",
		"master_name", "db", "addr", "username", "password"); err != nil {
		return nil, err
	}
	if err := refuse(q, "capmatch reads from and writes to the primary only", "replica_only", "route_by_latency",
		"route_randomly", "use_disconnected_replicas"); err != nil {
		return nil, err
	}
	q.Set("master_name", m.path[0])
	if len(m.path) == 2 {
		if db, err := strconv.Atoi(m.path[1]); err != nil || db < 0 {
			return nil, fmt.Errorf("database %q must be a number", m.path[1])
		}
		q.Set("db", m.path[1])
	}
	// go-redis reads the URL's userinfo as the sentinels' credentials and the username and
	// password options as the primary's; capmatch's form is the other way round.
	if m.user != nil {
		q.Set("username", m.user.Username())
		if p, ok := m.user.Password(); ok {
			q.Set("password", p)
		}
	}
	var sentinelUser *url.Userinfo
	if q.Has("sentinel_username") || q.Has("sentinel_password") {
		sentinelUser = url.UserPassword(q.Get("sentinel_username"), q.Get("sentinel_password"))
		q.Del("sentinel_username")
		q.Del("sentinel_password")
	}
	o, err := redis.ParseFailoverURL(goRedisURL(m, sentinelUser, "", q))
	if err != nil {
		return nil, err
	}
	return &Config{Mode: Sentinel, failover: o}, nil
}

func parseCluster(raw string) (*Config, error) {
	m, err := splitMulti(raw, clusterPort)
	if err != nil {
		return nil, err
	}
	if len(m.path) > 0 {
		return nil, errors.New("a cluster has no database number or path: redis+cluster://host:6379[,host:6379...]")
	}
	q := m.query
	if err := refuse(q, "the URL's hosts name the cluster's nodes", "addr"); err != nil {
		return nil, err
	}
	if err := refuse(q, "capmatch reads from and writes to the primaries only", "read_only", "route_by_latency",
		"route_randomly"); err != nil {
		return nil, err
	}
	o, err := redis.ParseClusterURL(goRedisURL(m, m.user, "", q))
	if err != nil {
		return nil, err
	}
	return &Config{Mode: Cluster, cluster: o}, nil
}
