package s3

import (
	"crypto/md5"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

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

// roundTrip encodes rec's metadata as Put does and decodes it as Get does.
func roundTrip(t *testing.T, rec objstore.Record) objstore.Record {
	t.Helper()
	ctype := rec.ContentType
	if ctype == "" {
		ctype = "binary/octet-stream" // what S3 answers
	}
	got, err := decodeMeta(rec.Key, objectInfo{Size: rec.Size(), ContentType: ctype, ETag: `"x-2"`, Meta: encodeMeta(rec)})
	if err != nil {
		t.Fatalf("decodeMeta: %v", err)
	}
	return got
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
		rec := foreignRecord(objstore.Key{Bucket: "b", ID: tt.id}, objectInfo{Size: 5, ContentType: "image/jpeg", ETag: tt.etag})
		want := objstore.Record{
			Key: objstore.Key{Bucket: "b", ID: tt.id}, Name: tt.name, ContentType: "image/jpeg",
			Level: objstore.LevelS3, Sum: objstore.Checksum{Size: 5, MD5: tt.md5}, InRemote: true,
		}
		if !reflect.DeepEqual(rec, want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.id, rec, want)
		}
	}
}

// TestMetaBudget checks that the largest user metadata objstore allows, with
// a long Unicode name and node ID, fits S3's 2 KiB.
func TestMetaBudget(t *testing.T) {
	rec := sampleRecord()
	rec.UserMeta = json.RawMessage(`{"k":"` + strings.Repeat("x", objstore.MaxUserMeta-8) + `"}`)
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
	good := encodeMeta(sampleRecord())
	f.Add(good[metaName], good[metaLevel], good[metaCRC32C], good[metaMD5], good[metaHLC], good[metaNode], good[metaUserMeta], good[metaBody], "x")
	f.Add("", "", "", "", "", "", "", "", "")
	f.Add("!!", "9", "zz", "00", "ffffffffffffffff", "", "e30=", "0000000000000000-", `"abc"`)
	f.Fuzz(func(t *testing.T, name, level, crc, sum, hlc, node, user, body, etag string) {
		key := objstore.Key{Bucket: "b", ID: "k"}
		meta := map[string]string{metaName: name, metaLevel: level, metaCRC32C: crc, metaMD5: sum, metaHLC: hlc, metaNode: node, metaUserMeta: user, metaBody: body}
		info := objectInfo{Size: 3, ContentType: "text/plain", ETag: etag, Meta: meta}
		rec, err := decodeMeta(key, info)
		_ = foreignRecord(key, info) // must not panic either
		if err != nil {
			return
		}
		// A record decoded from metadata re-encodes to metadata that
		// decodes to the same record.
		again, err := decodeMeta(key, objectInfo{Size: 3, ContentType: "text/plain", Meta: encodeMeta(rec)})
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(again, rec) {
			t.Fatalf("re-decode: got %+v, want %+v", again, rec)
		}
	})
}
