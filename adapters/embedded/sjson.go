package embedded

// A decoder of FerretDB 1.24's "sjson" documents (the text its SQLite backend stores in column
// _ferretdb_sjson) straight into Go values, following their bson struct tags as the MongoDB
// driver does. It exists for MarketReader: at start-up FerretDB spends most of its time turning
// sjson into its own document type, then into BSON for the wire, which the driver decodes
// again; read here, a document is parsed once.
//
// It decodes only what it knows to decode exactly as the driver would after FerretDB's round
// trip, and refuses the rest with an error (the caller then reads through FerretDB):
//
//   - the document is a JSON object whose "$s" member is FerretDB's schema: "$k" (the keys in
//     order) and "p" (each key's element: "t" its type, "$s" an object's schema, "i" an array's
//     items' elements, "o" a regex's options, "s" a binData's subtype); anything else in the
//     schema, or a type outside FerretDB 1.24's thirteen, is refused;
//   - Go string kinds take "string"; integer kinds "int" and "long" (in range); bool "bool";
//     time.Time "date" (milliseconds since the epoch, decoded to UTC, as the driver does);
//     slices "array"; maps with string keys and structs (pointers to structs too) "object";
//     JSON null leaves the zero value (the driver's null for each of these kinds). Every other
//     pairing (a double in an integer field, a string in a date field...) is refused, although
//     the driver would accept some of them: they are rare, and refusing is always safe;
//   - a Go type with anything else (floats, byte slices, arrays, interfaces, fields without a
//     bson tag, inline or minsize or truncate options, custom BSON unmarshalers) is refused
//     when the plan is made, before any document is read;
//   - keys the Go type does not have are skipped, as the driver skips them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// sjSchema is FerretDB's schema of a document: its keys in order and each key's element.
type sjSchema struct {
	Props map[string]*sjElem `json:"p"`
	Keys  []string           `json:"$k"`
}

// sjElem is the schema of one value.
type sjElem struct {
	T       string    `json:"t"`
	Schema  *sjSchema `json:"$s,omitempty"`
	Options *string   `json:"o,omitempty"`
	Items   []*sjElem `json:"i,omitempty"`
	Subtype *int      `json:"s,omitempty"`
}

// sjTypes are the types FerretDB 1.24's sjson knows.
var sjTypes = map[string]bool{"object": true, "array": true, "double": true, "string": true, "binData": true,
	"objectId": true, "bool": true, "date": true, "null": true, "regex": true, "int": true, "timestamp": true, "long": true}

// check refuses a schema this decoder does not know to be FerretDB's.
func (s *sjSchema) check() error {
	if s == nil {
		return nil
	}
	if len(s.Keys) != len(s.Props) {
		return fmt.Errorf("sjson schema: %d keys, %d properties", len(s.Keys), len(s.Props))
	}
	for _, k := range s.Keys {
		e, ok := s.Props[k]
		if !ok || e == nil {
			return fmt.Errorf("sjson schema: key %q has no element", k)
		}
		if err := e.check(); err != nil {
			return err
		}
	}
	return nil
}

func (e *sjElem) check() error {
	if !sjTypes[e.T] {
		return fmt.Errorf("sjson schema: unknown type %q", e.T)
	}
	switch e.T {
	case "object":
		if e.Schema == nil {
			return errors.New("sjson schema: object without schema")
		}
		return e.Schema.check()
	case "array":
		for _, it := range e.Items {
			if it == nil {
				return errors.New("sjson schema: null array item")
			}
			if err := it.check(); err != nil {
				return err
			}
		}
	}
	return nil
}

// decKind is how a Go value is decoded.
type decKind int

const (
	decString decKind = iota + 1
	decInt
	decBool
	decTime
	decSlice
	decMap
	decStruct
	decPtr
)

// valuePlan decodes one Go type.
type valuePlan struct {
	kind   decKind
	typ    reflect.Type
	bits   int          // decInt: the integer's size
	elem   *valuePlan   // decSlice, decMap (values), decPtr
	fields *structPlan  // decStruct
	ptrTo  reflect.Type // decPtr: the pointed-to type
}

// structPlan maps a struct's bson keys to its fields.
type structPlan struct {
	fields map[string]fieldPlan
}

type fieldPlan struct {
	index int
	plan  *valuePlan
}

var (
	timeType          = reflect.TypeOf(time.Time{})
	unmarshalerType   = reflect.TypeOf((*bson.Unmarshaler)(nil)).Elem()
	valueUnmarshalTyp = reflect.TypeOf((*bson.ValueUnmarshaler)(nil)).Elem()
	plans             sync.Map // reflect.Type → *valuePlan or error
)

// planFor returns the plan of t (cached), or why t is not decoded here.
func planFor(t reflect.Type) (*valuePlan, error) {
	if v, ok := plans.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*valuePlan), nil
	}
	p, err := compile(t, map[reflect.Type]*valuePlan{})
	if err != nil {
		plans.Store(t, err)
		return nil, err
	}
	plans.Store(t, p)
	return p, nil
}

func compile(t reflect.Type, inProgress map[reflect.Type]*valuePlan) (*valuePlan, error) {
	if p, ok := inProgress[t]; ok {
		return p, nil
	}
	if t.Implements(unmarshalerType) || t.Implements(valueUnmarshalTyp) ||
		reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(valueUnmarshalTyp) {
		return nil, fmt.Errorf("%s has its own BSON decoding", t)
	}
	p := &valuePlan{typ: t}
	if t == timeType {
		p.kind = decTime
		return p, nil
	}
	switch t.Kind() {
	case reflect.String:
		p.kind = decString
	case reflect.Int, reflect.Int32, reflect.Int64:
		p.kind, p.bits = decInt, t.Bits()
	case reflect.Bool:
		p.kind = decBool
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("%s: byte slices are not decoded here", t)
		}
		p.kind = decSlice
		inProgress[t] = p
		e, err := compile(t.Elem(), inProgress)
		if err != nil {
			return nil, err
		}
		p.elem = e
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: map keys must be strings", t)
		}
		p.kind = decMap
		inProgress[t] = p
		e, err := compile(t.Elem(), inProgress)
		if err != nil {
			return nil, err
		}
		p.elem = e
	case reflect.Pointer:
		if t.Elem().Kind() != reflect.Struct || t.Elem() == timeType {
			return nil, fmt.Errorf("%s: only pointers to structs are decoded here", t)
		}
		p.kind, p.ptrTo = decPtr, t.Elem()
		inProgress[t] = p
		e, err := compile(t.Elem(), inProgress)
		if err != nil {
			return nil, err
		}
		p.elem = e
	case reflect.Struct:
		p.kind = decStruct
		inProgress[t] = p
		sp := &structPlan{fields: map[string]fieldPlan{}}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous {
				return nil, fmt.Errorf("%s.%s: embedded fields are not decoded here", t, f.Name)
			}
			tag, ok := f.Tag.Lookup("bson")
			if !ok {
				return nil, fmt.Errorf("%s.%s has no bson tag", t, f.Name)
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" && opts == "" {
				continue
			}
			if name == "" {
				return nil, fmt.Errorf("%s.%s: bson tag without a name", t, f.Name)
			}
			for _, o := range strings.Split(opts, ",") {
				if o != "" && o != "omitempty" {
					return nil, fmt.Errorf("%s.%s: bson option %q is not decoded here", t, f.Name, o)
				}
			}
			if _, dup := sp.fields[name]; dup {
				return nil, fmt.Errorf("%s: two fields named %q", t, name)
			}
			fp, err := compile(f.Type, inProgress)
			if err != nil {
				return nil, err
			}
			sp.fields[name] = fieldPlan{index: i, plan: fp}
		}
		p.fields = sp
	default:
		return nil, fmt.Errorf("%s: kind %s is not decoded here", t, t.Kind())
	}
	return p, nil
}

// maxSchemas bounds the schemas a sjDecoder keeps parsed: documents of one collection share a
// few hundred (the schema differs with arrays' lengths and the fields set).
const maxSchemas = 20_000

// sjDecoder decodes the documents of one read, keeping the schemas it parsed. It is not safe
// for concurrent use.
type sjDecoder struct {
	schemas map[string]*sjSchema
	spans   []span
}

func newSJDecoder() *sjDecoder { return &sjDecoder{schemas: map[string]*sjSchema{}} }

// span is one member of a JSON object: its key (raw, the bytes between the quotes, when it has
// no escapes; decoded otherwise) and the bytes of its value.
type span struct {
	raw        []byte
	key        string
	start, end int
}

// is reports whether the member's key is k, without allocating.
func (s *span) is(k string) bool {
	if s.raw != nil {
		return string(s.raw) == k
	}
	return s.key == k
}

// name is the member's key.
func (s *span) name() string {
	if s.raw != nil {
		return string(s.raw)
	}
	return s.key
}

var errSJSON = errors.New("sjson")

func sjErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errSJSON}, args...)...)
}

// decode decodes the sjson document doc into v (a pointer to a fresh struct of plan p's type).
func (d *sjDecoder) decode(doc []byte, p *valuePlan, v reflect.Value) error {
	spans, err := members(doc, d.spans[:0])
	if err != nil {
		return err
	}
	d.spans = spans
	if len(spans) == 0 || !spans[0].is("$s") {
		return sjErr("the document does not begin with its schema")
	}
	raw := doc[spans[0].start:spans[0].end]
	sch, ok := d.schemas[string(raw)]
	if !ok {
		sch = new(sjSchema)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(sch); err != nil {
			return sjErr("schema: %v", err)
		}
		if err := sch.check(); err != nil {
			return err
		}
		if len(d.schemas) < maxSchemas {
			d.schemas[string(raw)] = sch
		}
	}
	fields := spans[1:]
	if len(sch.Keys) != len(fields) {
		return sjErr("%d schema keys, %d fields", len(sch.Keys), len(fields))
	}
	return decodeMembers(doc, fields, sch, p, v)
}

// decodeMembers decodes an object's members (spans of doc) following its schema into v, a
// struct or a map.
func decodeMembers(doc []byte, fields []span, sch *sjSchema, p *valuePlan, v reflect.Value) error {
	for i, k := range sch.Keys {
		var f *span
		if i < len(fields) && fields[i].is(k) {
			f = &fields[i]
		} else {
			for j := range fields {
				if fields[j].is(k) {
					f = &fields[j]
					break
				}
			}
		}
		if f == nil {
			return sjErr("key %q of the schema is missing", k)
		}
		val := doc[f.start:f.end]
		el := sch.Props[k]
		switch p.kind {
		case decStruct:
			fp, ok := p.fields.fields[k]
			if !ok {
				continue // a field the Go type does not have: skipped, as the driver does
			}
			if err := decodeValue(val, el, fp.plan, v.Field(fp.index)); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		case decMap:
			ev := reflect.New(p.elem.typ).Elem()
			if err := decodeValue(val, el, p.elem, ev); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			v.SetMapIndex(reflect.ValueOf(k).Convert(p.typ.Key()), ev)
		default:
			return sjErr("members into %s", p.typ)
		}
	}
	return nil
}

// decodeValue decodes one JSON value (exactly its bytes) of schema element el into v, a fresh
// zero value of plan p's type.
func decodeValue(val []byte, el *sjElem, p *valuePlan, v reflect.Value) error {
	if string(val) == "null" {
		return nil // FerretDB reads JSON null as BSON null whatever the schema; the driver's null is the zero value
	}
	switch p.kind {
	case decString:
		if el.T != "string" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		s, err := jsonString(val)
		if err != nil {
			return err
		}
		v.SetString(s)
	case decInt:
		if el.T != "int" && el.T != "long" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		n, err := jsonInt(val)
		if err != nil {
			return err
		}
		if el.T == "int" && int64(int32(n)) != n {
			return sjErr("int %d out of range", n)
		}
		if p.bits < 64 && (n < -1<<(p.bits-1) || n > 1<<(p.bits-1)-1) {
			return sjErr("%d overflows %s", n, p.typ)
		}
		v.SetInt(n)
	case decBool:
		if el.T != "bool" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		switch string(val) {
		case "true":
			v.SetBool(true)
		case "false":
		default:
			return sjErr("bool %q", val)
		}
	case decTime:
		if el.T != "date" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		ms, err := jsonInt(val)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(time.Unix(ms/1000, ms%1000*1_000_000).UTC()))
	case decSlice:
		if el.T != "array" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		items, err := elements(val)
		if err != nil {
			return err
		}
		if len(items) != len(el.Items) {
			return sjErr("%d array items, %d in the schema", len(items), len(el.Items))
		}
		s := reflect.MakeSlice(p.typ, len(items), len(items))
		for i, it := range items {
			if err := decodeValue(val[it[0]:it[1]], el.Items[i], p.elem, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case decMap, decStruct, decPtr:
		if el.T != "object" {
			return sjErr("%s into %s", el.T, p.typ)
		}
		fields, err := members(val, nil)
		if err != nil {
			return err
		}
		target, tp := v, p
		switch p.kind {
		case decMap:
			v.Set(reflect.MakeMapWithSize(p.typ, len(fields)))
		case decPtr:
			ptr := reflect.New(p.ptrTo)
			v.Set(ptr)
			target, tp = ptr.Elem(), p.elem
		}
		if len(fields) == 0 {
			return nil // FerretDB reads {} as an empty document whatever its schema
		}
		if len(el.Schema.Keys) != len(fields) {
			return sjErr("%d schema keys, %d fields", len(el.Schema.Keys), len(fields))
		}
		return decodeMembers(val, fields, el.Schema, tp, target)
	default:
		return sjErr("plan %d", p.kind)
	}
	return nil
}

// jsonString decodes a JSON string (its bytes, quotes included).
func jsonString(b []byte) (string, error) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", sjErr("not a string: %.40q", b)
	}
	in := b[1 : len(b)-1]
	plain := true
	for _, c := range in {
		if c == '\\' || c < 0x20 || c == '"' {
			plain = false
			break
		}
	}
	if plain && utf8.Valid(in) {
		return string(in), nil
	}
	// Escapes, or bytes encoding/json would replace: let it decode them as FerretDB does.
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", sjErr("string: %v", err)
	}
	return s, nil
}

// jsonInt decodes a JSON integer as encoding/json writes one (an optional minus, digits).
func jsonInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, sjErr("empty number")
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, sjErr("integer %q", b)
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, sjErr("integer %q", b)
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, sjErr("integer %q overflows", b)
		}
		return -int64(n), nil
	}
	if n > 1<<63-1 {
		return 0, sjErr("integer %q overflows", b)
	}
	return int64(n), nil
}

// members splits a JSON object into its members (appended to out).
func members(b []byte, out []span) ([]span, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, sjErr("not an object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipWS(b, i+1) != len(b) {
			return nil, sjErr("bytes after the object")
		}
		return out, nil
	}
	for {
		end, err := skipString(b, i)
		if err != nil {
			return nil, err
		}
		m := span{raw: b[i+1 : end-1]}
		if bytes.IndexByte(m.raw, '\\') >= 0 || !utf8.Valid(m.raw) {
			if m.key, err = jsonString(b[i:end]); err != nil {
				return nil, err
			}
			m.raw = nil
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, sjErr("no colon after key %q", m.name())
		}
		i = skipWS(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		m.start, m.end = i, vend
		out = append(out, m)
		i = skipWS(b, vend)
		if i >= len(b) {
			return nil, sjErr("unterminated object")
		}
		if b[i] == '}' {
			if skipWS(b, i+1) != len(b) {
				return nil, sjErr("bytes after the object")
			}
			return out, nil
		}
		if b[i] != ',' {
			return nil, sjErr("unexpected %q in an object", b[i])
		}
		i = skipWS(b, i+1)
	}
}

// elements splits a JSON array into its items' [start, end) offsets.
func elements(b []byte) ([][2]int, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, sjErr("not an array")
	}
	i = skipWS(b, i+1)
	var out [][2]int
	if i < len(b) && b[i] == ']' {
		return out, nil
	}
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]int{i, end})
		i = skipWS(b, end)
		if i >= len(b) {
			return nil, sjErr("unterminated array")
		}
		if b[i] == ']' {
			return out, nil
		}
		if b[i] != ',' {
			return nil, sjErr("unexpected %q in an array", b[i])
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset after the JSON string that begins at i.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, sjErr("expected a string")
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, sjErr("unterminated string")
}

// skipValue returns the offset after the JSON value that begins at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, sjErr("missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, sjErr("unterminated value")
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, sjErr("missing value")
		}
		return j, nil
	}
}
