package localdir

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sphere.software/objstore"
)

func TestSidecarRoundTrip(t *testing.T) {
	rec := objstore.Record{
		Key:         objstore.Key{Bucket: "bkt", ID: "a/b"},
		Name:        "Отчёт <&> 📄.txt",
		ContentType: "text/plain",
		UserMeta:    json.RawMessage(`{"html":"<b>&</b>","n":1}`),
		Headers: map[string]string{
			"Cache-Control":       "max-age=60, <private>",
			"Content-Disposition": `attachment; filename="Отчёт.txt"`,
			"Expires":             "Thu, 01 Jan 2037 00:00:00 GMT",
		},
		Level:       objstore.LevelFull,
		Sum:         objstore.Checksum{Size: 3, CRC32C: 7, MD5: objstore.MD5{1, 2, 3}},
		Version:     objstore.Version{HLC: 99, Node: "n1"},
		BodyVersion: objstore.Version{HLC: 98, Node: "n0"},
		InRemote:    true,
	}
	data, err := encodeSidecar(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSidecar(rec.Key, 3, data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("got  %+v\nwant %+v", got, rec)
	}
	for _, bad := range []struct {
		key  objstore.Key
		size int64
	}{
		{objstore.Key{Bucket: "bkt", ID: "other"}, 3},
		{rec.Key, 4},
	} {
		if _, err := decodeSidecar(bad.key, bad.size, data); err == nil {
			t.Errorf("decodeSidecar(%s, %d): no error", bad.key, bad.size)
		}
	}
}

// TestSidecarHeaders checks the headers' JSON and that a sidecar without
// them, as written before they existed, decodes with nil Headers.
func TestSidecarHeaders(t *testing.T) {
	key := objstore.Key{Bucket: "bkt", ID: "k"}
	data, err := encodeSidecar(objstore.Record{Key: key, Headers: map[string]string{"Content-Language": "de"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"headers":{"Content-Language":"de"}`) {
		t.Errorf("sidecar %s: no headers object", data)
	}
	for _, old := range []string{
		`{"format":1,"bucket":"bkt","id":"k","level":0,"sum":{"size":0,"crc32c":0,"md5":"00000000000000000000000000000000"}}`,
		`{"format":1,"bucket":"bkt","id":"k","headers":{},"level":0}`,
		`{"format":1,"bucket":"bkt","id":"k","headers":null,"level":0}`,
	} {
		rec, err := decodeSidecar(key, 0, []byte(old))
		if err != nil || rec.Headers != nil {
			t.Errorf("decodeSidecar(%s) = %+v, %v; want nil Headers", old, rec, err)
		}
	}
	data, err = encodeSidecar(objstore.Record{Key: key})
	if err != nil || strings.Contains(string(data), "headers") {
		t.Errorf("sidecar without headers = %s, %v", data, err)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	rec := objstore.Record{Key: objstore.Key{Bucket: "bkt", ID: "k"}, Name: "n", UserMeta: json.RawMessage(`{"a":1}`), Sum: objstore.Checksum{Size: 5}}
	good, err := encodeSidecar(rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, int64(5))
	f.Add([]byte(`{"format":1,"bucket":"bkt","id":"k","level":9}`), int64(0))
	f.Add([]byte(`{"format":1,"bucket":"bkt","id":"k","user_meta":null,"sum":{"md5":"zz"}}`), int64(0))
	f.Add([]byte(`null`), int64(0))
	f.Add([]byte(`{"format":1,"bucket":"bkt","id":"k","headers":{"Expires":"x","":""}}`), int64(0))
	f.Add([]byte(`{"format":1,"bucket":"bkt","id":"k","headers":{"a":1}}`), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		key := objstore.Key{Bucket: "bkt", ID: "k"}
		rec, err := decodeSidecar(key, size, data)
		if err != nil {
			return
		}
		again, err := encodeSidecar(rec)
		if err != nil {
			t.Fatalf("encode a decoded sidecar: %v", err)
		}
		rec2, err := decodeSidecar(key, size, again)
		if err != nil || !reflect.DeepEqual(rec, rec2) {
			t.Fatalf("re-decode: %+v, %v; want %+v", rec2, err, rec)
		}
	})
}
