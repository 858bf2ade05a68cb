package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"sphere.software/objstore"
)

func sampleRecord() objstore.Record {
	return objstore.Record{
		Key:         objstore.Key{Bucket: "b", ID: "dir/obj"},
		Name:        "report.pdf",
		ContentType: "application/pdf",
		UserMeta:    json.RawMessage(`{"a":"b"}`),
		Level:       objstore.LevelFull,
		Sum:         objstore.Checksum{Size: 42, CRC32C: 0xdeadbeef, MD5: md5.Sum([]byte("x"))},
		Version:     objstore.Version{HLC: 0x0001_8f00_0000_0001, Node: "node-1"},
		BodyVersion: objstore.Version{HLC: 0x0001_8e00_0000_0002, Node: "node-2"},
		InRemote:    true,
	}
}

// answer is what S3 answers on a GetObject of an object that Put wrote
// from rec: its metadata and its own headers.
func answer(rec objstore.Record) objectInfo {
	ctype := rec.ContentType
	if ctype == "" {
		ctype = "binary/octet-stream" // what S3 answers
	}
	h := encodeHeaders(rec.Headers)
	var expires *string
	if h.Expires != nil {
		expires = aws.String(h.Expires.Format(http.TimeFormat))
	}
	return objectInfo{
		Size: rec.Size(), ContentType: ctype, ETag: `"x-2"`, Meta: encodeMeta(rec),
		Headers: responseHeaders(h.CacheControl, h.ContentDisposition, h.ContentEncoding, h.ContentLanguage, expires),
	}
}

// roundTrip encodes rec's metadata and headers as Put does and decodes
// them as Get does.
func roundTrip(t *testing.T, rec objstore.Record) objstore.Record {
	t.Helper()
	got, err := decodeMeta(rec.Key, answer(rec))
	if err != nil {
		t.Fatalf("decodeMeta: %v", err)
	}
	return got
}

// allHeaders is a value for every stored header.
func allHeaders() map[string]string {
	return map[string]string{
		"Cache-Control":       "public, max-age=3600",
		"Content-Disposition": `attachment; filename="report.pdf"`,
		"Content-Encoding":    "gzip",
		"Content-Language":    "de-DE, en",
		"Expires":             "Thu, 01 Jan 2037 00:00:00 GMT",
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*objstore.Record)
	}{
		{"sample", func(*objstore.Record) {}},
		{"empty name", func(r *objstore.Record) { r.Name = "" }},
		{"unicode name", func(r *objstore.Record) { r.Name = "Отчёт 📄 日本語.txt" }},
		{"header-hostile name", func(r *objstore.Record) { r.Name = "a\r\nX-Evil: 1\x00=?UTF-8?B?Zm9v?=%41 .txt" }},
		{"invalid utf-8 name", func(r *objstore.Record) { r.Name = "\xff\xfe" }},
		{"no user meta", func(r *objstore.Record) { r.UserMeta = nil }},
		{"unicode user meta", func(r *objstore.Record) { r.UserMeta = json.RawMessage(`{"ключ":"<&>🎉"}`) }},
		{"no content type", func(r *objstore.Record) { r.ContentType = "" }},
		{"body version same", func(r *objstore.Record) { r.BodyVersion = r.Version }},
		{"body version zero", func(r *objstore.Record) { r.BodyVersion = objstore.Version{} }},
		{"body version node with dashes", func(r *objstore.Record) { r.BodyVersion.Node = "a-b-c" }},
		{"zero version parts", func(r *objstore.Record) { r.Version = objstore.Version{HLC: 1}; r.BodyVersion = r.Version }},
		{"level local", func(r *objstore.Record) { r.Level = objstore.LevelLocal }},
		{"max crc", func(r *objstore.Record) { r.Sum.CRC32C = 0xffffffff }},
		{"all headers", func(r *objstore.Record) { r.Headers = allHeaders() }},
		{"one header", func(r *objstore.Record) { r.Headers = map[string]string{"Content-Language": "fr"} }},
		{"expires not a date", func(r *objstore.Record) { r.Headers = map[string]string{"Expires": "0"} }},
		{"expires rfc 850", func(r *objstore.Record) {
			r.Headers = map[string]string{"Expires": "Thursday, 01-Jan-37 00:00:00 GMT", "Cache-Control": "no-cache"}
		}},
		{"plain user meta", func(r *objstore.Record) { r.UserMeta = json.RawMessage(`{"a.b":"1","team-x":"ops","z_9":"a b \"q\""}`) }},
		{"mixed user meta", func(r *objstore.Record) { r.UserMeta = json.RawMessage(`{"a":"b","n":1}`) }},
		{"empty user meta object", func(r *objstore.Record) { r.UserMeta = json.RawMessage(`{}`) }},
		{"reserved user meta key", func(r *objstore.Record) { r.UserMeta = json.RawMessage(`{"objstore-level":"2"}`) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := sampleRecord()
			tt.edit(&rec)
			if got := roundTrip(t, rec); !reflect.DeepEqual(got, rec) {
				t.Errorf("got  %+v\nwant %+v", got, rec)
			}
		})
	}
}

// TestPlainUserMeta checks which user metadata becomes plain S3 metadata
// entries and which stays base64 JSON under objstore-usermeta.
func TestPlainUserMeta(t *testing.T) {
	for _, tt := range []struct {
		name, meta string
		plain      map[string]string // nil: base64 JSON
	}{
		{"all strings", `{"team":"ops","env":"prod"}`, map[string]string{"team": "ops", "env": "prod"}},
		{"key characters", `{"a-b_c.d9":"x"}`, map[string]string{"a-b_c.d9": "x"}},
		{"value punctuation", `{"k":"a=b; c/d \"e\" <&>"}`, map[string]string{"k": `a=b; c/d "e" <&>`}},
		{"escaped ascii", `{"k":"\u0041"}`, map[string]string{"k": "A"}},
		{"mixed types", `{"a":"b","n":1}`, nil},
		{"number", `{"n":1}`, nil},
		{"bool", `{"b":true}`, nil},
		{"null value", `{"z":null}`, nil},
		{"nested", `{"o":{"a":"b"}}`, nil},
		{"array", `["a"]`, nil},
		{"string", `"a"`, nil},
		{"empty object", `{}`, nil},
		{"invalid json", `{"a":`, nil},
		{"reserved prefix", `{"objstore-name":"x"}`, nil},
		{"reserved among others", `{"a":"b","objstore-x":"y"}`, nil},
		{"uppercase key", `{"Team":"ops"}`, nil},
		{"empty key", `{"":"v"}`, nil},
		{"space in key", `{"a b":"v"}`, nil},
		{"unicode key", `{"ключ":"v"}`, nil},
		{"newline", `{"k":"a\nb"}`, nil},
		{"carriage return", `{"k":"a\rb"}`, nil},
		{"tab", `{"k":"a\tb"}`, nil},
		{"nul", `{"k":"a\u0000b"}`, nil},
		{"del", `{"k":"a\u007fb"}`, nil},
		{"non-ascii value", `{"k":"é"}`, nil},
		{"empty value", `{"k":""}`, nil},
		{"leading space", `{"k":" v"}`, nil},
		{"trailing space", `{"k":"v "}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := sampleRecord()
			rec.UserMeta = json.RawMessage(tt.meta)
			m := encodeMeta(rec)
			plain := map[string]string{}
			for k, v := range m {
				if !strings.HasPrefix(k, metaPrefix) {
					plain[k] = v
				}
			}
			b64, hasB64 := m[metaUserMeta]
			if tt.plain != nil {
				if hasB64 || !reflect.DeepEqual(plain, tt.plain) {
					t.Errorf("metadata %v; want plain entries %v and no %s", m, tt.plain, metaUserMeta)
				}
			} else if len(plain) > 0 || !hasB64 || b64 != base64.StdEncoding.EncodeToString([]byte(tt.meta)) {
				t.Errorf("metadata %v; want only %s", m, metaUserMeta)
			}
			if !json.Valid(rec.UserMeta) {
				return // no record holds it; decodeMeta refuses it
			}
			got := roundTrip(t, rec)
			if !jsonEqual(got.UserMeta, rec.UserMeta) {
				t.Errorf("restored user meta %s, want %s", got.UserMeta, rec.UserMeta)
			}
		})
	}
}

// jsonEqual reports whether a and b are equal bytes or equal JSON values.
func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// TestDecodeUserMeta checks where decodeMeta takes the user metadata from.
func TestDecodeUserMeta(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		name  string
		extra map[string]string
		want  string // "" means nil
	}{
		{"none", nil, ""},
		{"plain", map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{"plain mixed case", map[string]string{"Team": "ops"}, `{"team":"ops"}`},
		{"plain html", map[string]string{"k": "<&>"}, `{"k":"\u003c\u0026\u003e"}`},
		{"base64 wins", map[string]string{metaUserMeta: b64(`{"n":1}`), "stray": "x"}, `{"n":1}`},
		{"empty base64", map[string]string{metaUserMeta: ""}, ""},
		{"other objstore keys", map[string]string{"objstore-future": "x"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := sampleRecord()
			rec.UserMeta = nil
			info := answer(rec)
			maps.Copy(info.Meta, tt.extra)
			got, err := decodeMeta(rec.Key, info)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.UserMeta) != tt.want || (tt.want == "") != (got.UserMeta == nil) {
				t.Errorf("user meta %q, want %q", got.UserMeta, tt.want)
			}
		})
	}
}

// TestHeadersToS3 checks the S3 object headers Put sends for the stored
// headers, and the Expires kept in metadata.
func TestHeadersToS3(t *testing.T) {
	rec := sampleRecord()
	rec.Headers = allHeaders()
	h := encodeHeaders(rec.Headers)
	if aws.ToString(h.CacheControl) != "public, max-age=3600" || aws.ToString(h.ContentDisposition) != `attachment; filename="report.pdf"` ||
		aws.ToString(h.ContentEncoding) != "gzip" || aws.ToString(h.ContentLanguage) != "de-DE, en" ||
		h.Expires == nil || !h.Expires.Equal(time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("encodeHeaders = %+v", h)
	}
	if _, ok := encodeMeta(rec)[metaExpires]; ok {
		t.Errorf("an HTTP date Expires is kept in metadata too")
	}
	for _, v := range []string{"0", "tomorrow", "Thursday, 01-Jan-37 00:00:00 GMT", "Thu Jan  1 00:00:00 2037"} {
		rec.Headers = map[string]string{"Expires": v}
		if got := encodeMeta(rec)[metaExpires]; got != v {
			t.Errorf("Expires %q: %s = %q", v, metaExpires, got)
		}
		if h := encodeHeaders(rec.Headers); (h.Expires != nil) != (v != "0" && v != "tomorrow") {
			t.Errorf("Expires %q: object header %v", v, h.Expires)
		}
	}
	if h := encodeHeaders(nil); h != (objectHeaders{}) {
		t.Errorf("no headers: %+v", h)
	}
	if got := roundTrip(t, sampleRecord()); got.Headers != nil {
		t.Errorf("record without headers restored with %v", got.Headers)
	}
}

func TestEncodeMetaHeaderSafe(t *testing.T) {
	rec := sampleRecord()
	rec.Name = "日本\r\n語"
	for k, v := range encodeMeta(rec) {
		for _, c := range []byte(k + v) {
			if c < 0x20 || c > 0x7e {
				t.Errorf("%s: %q has byte %#x, not printable ASCII", k, v, c)
			}
		}
	}
}

func TestDecodeMetaErrors(t *testing.T) {
	good := encodeMeta(sampleRecord())
	for _, tt := range []struct {
		name       string
		key, value string // value "" with delete means remove
		del        bool
		foreign    bool
	}{
		{name: "no hlc", key: metaHLC, del: true, foreign: true},
		{name: "short hlc", key: metaHLC, value: "abc"},
		{name: "hlc not hex", key: metaHLC, value: "zzzzzzzzzzzzzzzz"},
		{name: "hlc with sign", key: metaHLC, value: "+000000000000001"},
		{name: "crc too long", key: metaCRC32C, value: "123456789"},
		{name: "no crc", key: metaCRC32C, del: true},
		{name: "md5 short", key: metaMD5, value: "abcd"},
		{name: "md5 not hex", key: metaMD5, value: strings.Repeat("g", 32)},
		{name: "level 3", key: metaLevel, value: "3"},
		{name: "level word", key: metaLevel, value: "full"},
		{name: "name not base64", key: metaName, value: "not base64!"},
		{name: "user meta not base64", key: metaUserMeta, value: "%%%"},
		{name: "user meta not json", key: metaUserMeta, value: "bm90IGpzb24="},
		{name: "body version short", key: metaBody, value: "0001-x"},
		{name: "body version no dash", key: metaBody, value: "0000000000000001x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			if tt.del {
				delete(m, tt.key)
			} else {
				m[tt.key] = tt.value
			}
			_, err := decodeMeta(objstore.Key{Bucket: "b", ID: "k"}, objectInfo{Meta: m})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, errForeign) != tt.foreign {
				t.Errorf("%v: foreign = %v, want %v", err, !tt.foreign, tt.foreign)
			}
		})
	}
}

func TestDecodeMetaKeyCase(t *testing.T) {
	rec := sampleRecord()
	m := map[string]string{}
	for k, v := range encodeMeta(rec) {
		m[strings.ToUpper(k[:1])+k[1:]] = v
	}
	got, err := decodeMeta(rec.Key, objectInfo{Size: rec.Size(), ContentType: rec.ContentType, Meta: m})
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("decodeMeta with mixed-case keys: %+v, %v", got, err)
	}
}

func TestForeignRecord(t *testing.T) {
	sum := md5.Sum([]byte("hello"))
	for _, tt := range []struct {
		id, etag string
		name     string
		md5      objstore.MD5
	}{
		{"a/b/photo.jpg", `"5d41402abc4b2a76b9719d911017c592"`, "photo.jpg", sum},
		{"top", `"5D41402ABC4B2A76B9719D911017C592"`, "top", sum},
		{"multi", `"5d41402abc4b2a76b9719d911017c592-3"`, "multi", objstore.MD5{}},
		{"dir/", `""`, "", objstore.MD5{}},
		{"weird", `W/"xyz"`, "weird", objstore.MD5{}},
	} {
		rec := foreignRecord(objstore.Key{Bucket: "b", ID: tt.id}, objectInfo{Size: 5, ContentType: "image/jpeg", ETag: tt.etag, Meta: map[string]string{}})
		want := objstore.Record{
			Key: objstore.Key{Bucket: "b", ID: tt.id}, Name: tt.name, ContentType: "image/jpeg",
			Level: objstore.LevelS3, Sum: objstore.Checksum{Size: 5, MD5: tt.md5}, InRemote: true,
			Version: objstore.Version{HLC: 1}, BodyVersion: objstore.Version{HLC: 1}, // no Last-Modified given
		}
		if !reflect.DeepEqual(rec, want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.id, rec, want)
		}
	}
}

// TestForeignMetaAndHeaders checks that a foreign object's x-amz-meta-*
// entries become its user metadata and its headers its stored headers.
func TestForeignMetaAndHeaders(t *testing.T) {
	key := objstore.Key{Bucket: "b", ID: "k"}
	info := objectInfo{
		Size: 1, ContentType: "text/plain",
		Meta:    map[string]string{"Owner": "Zoë", "a": "1", "objstore-level": "2"},
		Headers: map[string]string{"Cache-Control": "no-store", "Expires": "whenever"},
	}
	rec := foreignRecord(key, info)
	if string(rec.UserMeta) != `{"a":"1","owner":"Zoë"}` {
		t.Errorf("user meta %s", rec.UserMeta)
	}
	if !reflect.DeepEqual(rec.Headers, info.Headers) {
		t.Errorf("headers %v, want %v", rec.Headers, info.Headers)
	}
	if _, err := decodeMeta(key, info); !errors.Is(err, errForeign) {
		t.Errorf("decodeMeta: %v, want errForeign", err)
	}
	rec = foreignRecord(key, objectInfo{Meta: map[string]string{}})
	if rec.UserMeta != nil || rec.Headers != nil {
		t.Errorf("no metadata: user meta %q, headers %v; want nil", rec.UserMeta, rec.Headers)
	}
}

// TestMetaBudget checks that the largest user metadata objstore allows, with
// a long Unicode name and node ID, fits S3's 2 KiB.
func TestMetaBudget(t *testing.T) {
	rec := sampleRecord()
	rec.UserMeta = json.RawMessage(`{"k":"` + strings.Repeat("x", objstore.MaxUserMeta-10) + `","n":1}`) // base64
	if _, ok := encodeMeta(rec)[metaUserMeta]; !ok {
		t.Fatal("user meta not base64-encoded")
	}
	rec.Name = strings.Repeat("語", 85) // 255 bytes
	rec.Version.Node = strings.Repeat("n", 40)
	rec.BodyVersion.Node = strings.Repeat("n", 40)
	if n := metaSize(encodeMeta(rec)); n > maxMetaSize {
		t.Errorf("metadata is %d bytes, over %d", n, maxMetaSize)
	}
}

func TestPutRefusesOversizedMeta(t *testing.T) {
	r := &Remote{partSize: DefaultPartSize}
	rec := sampleRecord()
	rec.Name = strings.Repeat("x", 2000)
	err := r.Put(t.Context(), rec, strings.NewReader(""))
	if !errors.Is(err, objstore.ErrInvalidUserMeta) || errors.Is(err, objstore.ErrNoRemote) {
		t.Errorf("Put: %v, want ErrInvalidUserMeta", err)
	}
}

func TestEncodeTags(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // runes, not bytes
	for _, tt := range []struct {
		name, meta string
		want       string // "" means no tags
	}{
		{"nil", ``, ""},
		{"empty object", `{}`, ""},
		{"array", `["a"]`, ""},
		{"string", `"a"`, ""},
		{"null", `null`, ""},
		{"invalid json", `{"a":`, ""},
		{"strings", `{"team":"ops","env":"prod"}`, "env=prod&team=ops"},
		{"escaping", `{"p":"a b+c=d/e:f@g_h.i-j"}`, "p=a%20b%2Bc%3Dd%2Fe%3Af%40g_h.i-j"},
		{"unicode letters", `{"ключ":"значение 日本"}`, "%D0%BA%D0%BB%D1%8E%D1%87=%D0%B7%D0%BD%D0%B0%D1%87%D0%B5%D0%BD%D0%B8%D0%B5%20%E6%97%A5%E6%9C%AC"},
		{"number bool null", `{"n":42,"f":-1.5e3,"b":true,"z":null}`, "b=true&f=-1.5e3&n=42&z=null"},
		{"empty value", `{"k":""}`, "k="},
		{"nested object", `{"o":{"a":1}}`, ""},
		{"array value", `{"o":[1]}`, ""},
		{"string with quote", `{"k":"a\"b"}`, ""},
		{"semicolon", `{"k":"a;b"}`, ""},
		{"tab", `{"k":"a\tb"}`, ""},
		{"newline", `{"k":"a\nb"}`, ""},
		{"emoji", `{"k":"🎉"}`, ""},
		{"empty key", `{"":"v"}`, ""},
		{"aws prefix", `{"aws:k":"v"}`, ""},
		{"key 128", `{"` + long(128) + `":"v"}`, "SOME"},
		{"key 129", `{"` + long(129) + `":"v"}`, ""},
		{"value 256", `{"k":"` + long(256) + `"}`, "SOME"},
		{"value 257", `{"k":"` + long(257) + `"}`, ""},
		{"10 entries", `{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10"}`, "SOME"},
		{"11 entries", `{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}`, ""},
		{"one bad of many", `{"a":"1","b":"x;y"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := encodeTags([]byte(tt.meta))
			switch {
			case tt.want == "" && (ok || got != ""):
				t.Errorf("encodeTags = %q, %v; want no tags", got, ok)
			case tt.want == "SOME" && !ok:
				t.Errorf("encodeTags: no tags, want some")
			case tt.want != "" && tt.want != "SOME" && (!ok || got != tt.want):
				t.Errorf("encodeTags = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestPartSizeFor(t *testing.T) {
	for _, tt := range []struct{ size, want, got int64 }{
		{100 << 20, 64 << 20, 64 << 20},
		{10000 * (64 << 20), 64 << 20, 64 << 20},
		{10000*(64<<20) + 1, 64 << 20, 64<<20 + 1},
		{5 << 40, 64 << 20, (5<<40 + 9999) / 10000},
	} {
		if got := partSizeFor(tt.size, tt.want); got != tt.got {
			t.Errorf("partSizeFor(%d, %d) = %d, want %d", tt.size, tt.want, got, tt.got)
		}
		if n := (tt.size + tt.got - 1) / tt.got; n > maxParts {
			t.Errorf("size %d: %d parts", tt.size, n)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Bucket: "b"}, true},
		{"full", Config{Bucket: "b", Region: "eu-west-1", Endpoint: "https://s3.example.com:9000", PathStyle: true, PartSize: MinPartSize}, true},
		{"no bucket", Config{}, false},
		{"part too small", Config{Bucket: "b", PartSize: MinPartSize - 1}, false},
		{"part too big", Config{Bucket: "b", PartSize: MaxPartSize + 1}, false},
		{"endpoint without scheme", Config{Bucket: "b", Endpoint: "127.0.0.1:9000"}, false},
		{"endpoint ftp", Config{Bucket: "b", Endpoint: "ftp://host"}, false},
	} {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestString(t *testing.T) {
	r, err := New(t.Context(), Config{Bucket: "b", Endpoint: "http://127.0.0.1:9", Region: "eu-north-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != "s3 bucket b at http://127.0.0.1:9" {
		t.Errorf("String = %q", got)
	}
	r, err = New(t.Context(), Config{Bucket: "b", Region: "eu-north-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != "s3 bucket b at AWS region eu-north-1" {
		t.Errorf("String = %q", got)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	rec := sampleRecord()
	rec.UserMeta = json.RawMessage(`{"n":1}`)
	good := encodeMeta(rec)
	f.Add(good[metaName], good[metaLevel], good[metaCRC32C], good[metaMD5], good[metaHLC], good[metaNode], good[metaUserMeta], good[metaBody], "x", "", "", "")
	f.Add("", "", "", "", "", "", "", "", "", "", "", "")
	f.Add("!!", "9", "zz", "00", "ffffffffffffffff", "", "e30=", "0000000000000000-", `"abc"`, "k", "v", "0")
	f.Add(good[metaName], good[metaLevel], good[metaCRC32C], good[metaMD5], good[metaHLC], good[metaNode], "-", good[metaBody], "x",
		"Team", "ops", "Thu, 01 Jan 2037 00:00:00 GMT")
	f.Add(good[metaName], good[metaLevel], good[metaCRC32C], good[metaMD5], good[metaHLC], good[metaNode],
		base64.StdEncoding.EncodeToString([]byte(`{"b":"1","a":"\u003c"}`)), good[metaBody], "x", "", "", "Thursday, 01-Jan-37 00:00:00 GMT")
	f.Fuzz(func(t *testing.T, name, level, crc, sum, hlc, node, user, body, etag, plainKey, plainValue, expires string) {
		key := objstore.Key{Bucket: "b", ID: "k"}
		meta := map[string]string{metaName: name, metaLevel: level, metaCRC32C: crc, metaMD5: sum, metaHLC: hlc, metaNode: node, metaBody: body}
		if user != "-" { // "-" leaves objstore-usermeta out, so that plain entries count
			meta[metaUserMeta] = user
		}
		if plainKey != "" {
			meta[plainKey] = plainValue
		}
		info := objectInfo{Size: 3, ContentType: "text/plain", ETag: etag, Meta: meta}
		if expires != "" {
			info.Headers = map[string]string{"Expires": expires}
		}
		rec, err := decodeMeta(key, info)
		_ = foreignRecord(key, info) // must not panic either
		if err != nil {
			return
		}
		// A record decoded from metadata re-encodes to metadata that
		// decodes to the same record; user metadata that goes back as
		// plain entries comes back equivalent, with its keys sorted.
		again, err := decodeMeta(key, answer(rec))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !jsonEqual(again.UserMeta, rec.UserMeta) {
			t.Fatalf("re-decode: user meta %s, want %s", again.UserMeta, rec.UserMeta)
		}
		again.UserMeta = rec.UserMeta
		if !reflect.DeepEqual(again, rec) {
			t.Fatalf("re-decode: got %+v, want %+v", again, rec)
		}
	})
}
