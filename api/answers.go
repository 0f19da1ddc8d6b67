package api

import (
	"container/list"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// DefaultAnswerCacheBytes bounds the rendered ranking answers a server keeps when
// Deps.AnswerCacheBytes is zero.
const DefaultAnswerCacheBytes = 64 << 20

// A ranking answer (GET /needs/{id}/matches, GET /offers/{id}/matches) only changes when its
// ranking does, yet rendering it (each reason written in the caller's language, then JSON) cost
// most of the request's CPU (issue 16). So the API keeps each answer rendered, like a static
// file: the JSON bytes, their strong ETag and, when first asked for, their gzip and brotli
// forms, by what determines them: which ranking and which version of it the service served
// (service.NeedRanking.Version), what of it this caller is shown (Variant: limit, audience,
// the duplication counts the caller may see), whether it came from the cache (the answer says
// so), and the language. Every request still goes through the service first, so that the
// caller is authorized and the ranking's current version and the caller's variant are known
// before any kept bytes are served; a change of the ranking gives a new version, hence a new
// key: kept bytes are never stale, they are only no longer asked for, and the least recently
// used leave once the cache holds more than its bound.
//
// The ETag is a hash of the bytes (the gzip and brotli forms add a suffix: each encoding is
// its own representation), so it is strong, the same on every replica that serves the same
// answer, and an If-None-Match that names it gets 304 with no body only while the answer this
// caller would get now is exactly those bytes.

// answerShards splits the cache so that readers of different answers rarely wait on one lock.
const answerShards = 8

// minCompressLen mirrors fasthttp's: smaller bodies are not worth compressing.
const minCompressLen = 200

// Compression levels of the kept forms: made once and served many times, so better than the
// middleware's on-the-fly best speed.
const (
	answerGzipLevel   = fasthttp.CompressDefaultCompression
	answerBrotliLevel = 5
)

// answer is one rendered ranking answer. body and the ETags never change; the compressed forms
// are made when first asked for.
type answer struct {
	key  string
	body []byte
	// etags are the strong ETags of the identity, gzip and brotli forms.
	etags [3]string
	mu    sync.Mutex
	forms [3][]byte // by encoding; forms[identity] is body
	size  int64     // bytes accounted for in the cache (key, forms, overhead)
}

// encoding is a content coding the answers are kept in.
type encoding int

const (
	identity encoding = iota
	gzipped
	brotli
)

// contentEncoding is the Content-Encoding of each form ("" for identity).
var contentEncoding = [3]string{"", "gzip", "br"}

// answerOverhead approximates what an answer costs beyond its key and bytes: the struct, the
// ETag strings, the map and list entries.
const answerOverhead = 320

func newAnswer(key string, body []byte) *answer {
	sum := sha256.Sum256(body)
	tag := base64.RawURLEncoding.EncodeToString(sum[:18])
	a := &answer{key: key, body: body,
		etags: [3]string{`"` + tag + `"`, `"` + tag + `-gz"`, `"` + tag + `-br"`}}
	a.forms[identity] = body
	a.size = int64(len(key)+len(body)) + answerOverhead
	return a
}

// form returns the answer's bytes in enc, compressing them the first time; grew is how many
// bytes that added (to account for in the cache).
func (a *answer) form(enc encoding) (b []byte, grew int) {
	if enc == identity {
		return a.body, 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.forms[enc] == nil {
		switch enc {
		case gzipped:
			a.forms[enc] = fasthttp.AppendGzipBytesLevel(nil, a.body, answerGzipLevel)
		case brotli:
			a.forms[enc] = fasthttp.AppendBrotliBytesLevel(nil, a.body, answerBrotliLevel)
		}
		grew = len(a.forms[enc])
	}
	return a.forms[enc], grew
}

// answerCache keeps rendered answers, least recently used out first once it holds more than its
// bound (split evenly over its shards).
type answerCache struct {
	seed     maphash.Seed
	bound    int64 // < 0: nothing is kept (benchmarks' A/B)
	maxShard int64
	shards   [answerShards]answerShard
	outcomes *prometheus.CounterVec
	// kept, rendered and notModified are outcomes' counters, looked up once rather than by
	// label on every request.
	kept, rendered, notModified prometheus.Counter
}

type answerShard struct {
	mu    sync.Mutex
	byKey map[string]*list.Element // of *answer
	lru   list.List                // front: most recently used
	bytes int64
}

// newAnswerCache returns a cache of at most maxBytes (DefaultAnswerCacheBytes when 0; none kept
// when < 0, every answer rendered for its request as before the cache: for A/B measurements).
func newAnswerCache(maxBytes int64) *answerCache {
	if maxBytes == 0 {
		maxBytes = DefaultAnswerCacheBytes
	}
	c := &answerCache{seed: maphash.MakeSeed(), bound: maxBytes, maxShard: max(maxBytes, 0) / answerShards,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capmatch_ranking_answers_total",
			Help: "Ranking answers by outcome: kept (served from the rendered answers), rendered, not_modified (304).",
		}, []string{"outcome"})}
	c.kept, c.rendered, c.notModified = c.outcomes.WithLabelValues("kept"), c.outcomes.WithLabelValues("rendered"),
		c.outcomes.WithLabelValues("not_modified")
	for i := range c.shards {
		c.shards[i].byKey = map[string]*list.Element{}
	}
	return c
}

// collectors are the cache's metrics: outcomes, and the bytes and answers it holds.
func (c *answerCache) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.outcomes,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "capmatch_ranking_answers_bytes",
			Help: "Bytes of rendered ranking answers kept (bodies, compressed forms, keys)."},
			func() float64 { b, _ := c.usage(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "capmatch_ranking_answers",
			Help: "Rendered ranking answers kept."},
			func() float64 { _, n := c.usage(); return float64(n) }),
	}
}

func (c *answerCache) shard(key string) *answerShard {
	return &c.shards[maphash.String(c.seed, key)%answerShards]
}

// get returns the answer kept under key, or nil. The key is bytes built per request (see
// appendAnswerKey): looking it up allocates nothing.
func (c *answerCache) get(key []byte) *answer {
	s := &c.shards[maphash.Bytes(c.seed, key)%answerShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byKey[string(key)]
	if !ok {
		return nil
	}
	s.lru.MoveToFront(el)
	return el.Value.(*answer)
}

// add keeps a (unless an answer with its key is already kept, which it returns instead) and
// makes room for it.
func (c *answerCache) add(a *answer) *answer {
	if a.size > c.maxShard {
		return a // larger than a shard's bound: served, never kept
	}
	s := c.shard(a.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[a.key]; ok {
		s.lru.MoveToFront(el)
		return el.Value.(*answer)
	}
	s.byKey[a.key] = s.lru.PushFront(a)
	s.bytes += a.size
	s.evict(c.maxShard)
	return a
}

// grew accounts for n more bytes of a kept answer (a compressed form made).
func (c *answerCache) grew(a *answer, n int) {
	if n == 0 {
		return
	}
	s := c.shard(a.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[a.key]; ok && el.Value.(*answer) == a {
		a.size += int64(n)
		s.bytes += int64(n)
		s.evict(c.maxShard)
	}
}

// evict drops least recently used answers until the shard is within max; s.mu must be held.
func (s *answerShard) evict(max int64) {
	for s.bytes > max {
		el := s.lru.Back()
		if el == nil {
			return
		}
		a := el.Value.(*answer)
		s.lru.Remove(el)
		delete(s.byKey, a.key)
		s.bytes -= a.size
	}
}

// usage reports the bytes and the number of answers kept.
func (c *answerCache) usage() (bytes int64, n int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		bytes += s.bytes
		n += len(s.byKey)
		s.mu.Unlock()
	}
	return bytes, n
}

// answerKey names a rendered ranking answer: its direction and subject, the version and
// variant the service served, whether it came from the cache, and the language.
// It appends the key to dst (a buffer on the request's stack), so that a kept answer is found
// without allocating.
func appendAnswerKey(dst []byte, kind, id, version, variant string, cached bool, lang string) []byte {
	for _, part := range [...]string{kind, id, version, variant} {
		dst = append(append(dst, part...), 0)
	}
	dst = append(strconv.AppendBool(dst, cached), 0)
	return append(dst, lang...)
}

// sendAnswer answers with the rendered form of a ranking answer: kept when keep (a ranking
// served from the cache: one computed for this read is rendered for it alone), else rendered
// by render. It negotiates the encoding like the compression middleware (brotli, then gzip,
// else none; the middleware leaves these routes alone, see ownsEncoding), sets the ETag, and
// answers 304 with no body when If-None-Match names it.
func (s *Server) sendAnswer(c *fiber.Ctx, key []byte, keep bool, render func() any) error {
	keep = keep && s.answers.bound > 0
	var a *answer
	if keep {
		a = s.answers.get(key)
	}
	outcome := s.answers.kept
	if a == nil {
		outcome = s.answers.rendered
		body, err := json.Marshal(render())
		if err != nil {
			return err
		}
		a = newAnswer(string(key), body)
		if keep {
			a = s.answers.add(a)
		}
	}
	enc := identity
	if len(a.body) >= minCompressLen {
		if h := &c.Request().Header; h.HasAcceptEncoding("br") {
			enc = brotli
		} else if h.HasAcceptEncoding("gzip") {
			enc = gzipped
		}
	}
	setHeader(c, fiber.HeaderETag, a.etags[enc])
	setHeader(c, fiber.HeaderCacheControl, "private, no-cache")
	vary(c, fiber.HeaderAcceptEncoding)
	// Read in place (c.Get copies: the app is Immutable); nothing keeps it.
	if noneMatch := utils.UnsafeString(c.Request().Header.Peek(fiber.HeaderIfNoneMatch)); noneMatch != "" && etagListed(noneMatch, a.etags[enc]) {
		s.answers.notModified.Inc()
		c.Status(fiber.StatusNotModified)
		return nil
	}
	outcome.Inc()
	body, grew := a.form(enc)
	if keep {
		s.answers.grew(a, grew)
	}
	if enc != identity {
		setHeader(c, fiber.HeaderContentEncoding, contentEncoding[enc])
	}
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(body) // kept bytes are never written to: no copy
	return nil
}

// etagListed reports whether an If-None-Match value names etag ("*", or a list of entity tags
// compared weakly: a W/ prefix is ignored, RFC 9110 §13.1.2).
func etagListed(header, etag string) bool {
	for header != "" {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// ownsEncoding reports whether a request goes to a route that encodes its own answers (the
// ranking answers, kept compressed with the ETag of each form), which the compression
// middleware must leave alone: compressing them again on the fly would send an encoding
// their ETag does not name.
func ownsEncoding(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasSuffix(p, "/matches") &&
		(strings.HasPrefix(p, "/api/v1/needs/") || strings.HasPrefix(p, "/api/v1/offers/"))
}
