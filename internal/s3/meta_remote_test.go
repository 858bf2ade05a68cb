package s3_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
)

// TestStoredAsS3Sees checks what another S3 client sees of an object that
// objstore wrote: plain user metadata as x-amz-meta-* entries, stored
// headers as the object's own.
func TestStoredAsS3Sees(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "seen")
	r := newRemote(t, srv, "seen")
	client := srv.Client(t)
	for _, tt := range []struct {
		name, meta string
		plain      map[string]string // nil: the metadata stays base64 JSON
	}{
		{"plain", `{"team":"ops","cost-center":"a_1.b"}`, map[string]string{"team": "ops", "cost-center": "a_1.b"}},
		{"mixed", `{"team":"ops","n":1}`, nil},
		{"reserved", `{"objstore-x":"y"}`, nil},
		{"unsafe", `{"k":"line\nbreak"}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := remotetest.Body(1, 10)
			rec := remotetest.Record(objstore.Key{Bucket: "seen", ID: tt.name}, body, 1<<16, objstore.LevelS3, "text/plain")
			rec.UserMeta = json.RawMessage(tt.meta)
			rec.Headers = map[string]string{"Cache-Control": "no-cache", "Expires": "Fri, 01 Jan 2038 00:00:00 GMT"}
			if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			out, err := client.HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: aws.String("seen"), Key: aws.String(tt.name)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			_, b64 := out.Metadata["objstore-usermeta"]
			for k, v := range tt.plain {
				if out.Metadata[k] != v {
					t.Errorf("x-amz-meta-%s = %q, want %q (metadata %v)", k, out.Metadata[k], v, out.Metadata)
				}
			}
			if b64 != (tt.plain == nil) {
				t.Errorf("objstore-usermeta present %v, want %v", b64, tt.plain == nil)
			}
			if aws.ToString(out.CacheControl) != "no-cache" || aws.ToString(out.ExpiresString) != rec.Headers["Expires"] {
				t.Errorf("Cache-Control %q, Expires %q", aws.ToString(out.CacheControl), aws.ToString(out.ExpiresString))
			}
			got, err := r.Stat(t.Context(), rec.Key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			var want, have any
			if json.Unmarshal(got.UserMeta, &have) != nil || json.Unmarshal(rec.UserMeta, &want) != nil || !reflect.DeepEqual(have, want) {
				t.Errorf("Stat: user meta %s, want %s", got.UserMeta, rec.UserMeta)
			}
			if !reflect.DeepEqual(got.Headers, rec.Headers) {
				t.Errorf("Stat: headers %v, want %v", got.Headers, rec.Headers)
			}
		})
	}
}

// TestExpiresNotADate checks that an Expires S3 cannot keep as a date comes
// back as it was put.
func TestExpiresNotADate(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "exp")
	r := newRemote(t, srv, "exp")
	for i, v := range []string{"0", "Thursday, 01-Jan-37 00:00:00 GMT"} {
		body := remotetest.Body(2, 10)
		rec := remotetest.Record(objstore.Key{Bucket: "exp", ID: string(rune('a' + i))}, body, 1<<16, objstore.LevelS3, "")
		rec.Headers = map[string]string{"Expires": v}
		if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := r.Stat(t.Context(), rec.Key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if !reflect.DeepEqual(got.Headers, rec.Headers) {
			t.Errorf("Expires %q: headers %v", v, got.Headers)
		}
	}
}

// TestForeignObjectRestored checks that an object written by another tool
// keeps its x-amz-meta-* entries as user metadata and its headers as
// stored headers.
func TestForeignObjectRestored(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "foreign")
	r := newRemote(t, srv, "foreign")
	expires := time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := srv.Client(t).PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket:             aws.String("foreign"),
		Key:                aws.String("tool/out.txt"),
		Body:               bytes.NewReader([]byte("hello")),
		Metadata:           map[string]string{"Owner": "ops", "build": "42"},
		CacheControl:       aws.String("max-age=60"),
		ContentDisposition: aws.String("inline"),
		ContentLanguage:    aws.String("en"),
		Expires:            &expires,
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	want := map[string]string{
		"Cache-Control": "max-age=60", "Content-Disposition": "inline", "Content-Language": "en",
		"Expires": "Fri, 01 Jan 2038 00:00:00 GMT",
	}
	key := objstore.Key{Bucket: "foreign", ID: "tool/out.txt"}
	rc, got, err := r.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	_ = rc.Close() // only the record matters here
	st, err := r.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	for op, rec := range map[string]objstore.Record{"Get": got, "Stat": st} {
		if !rec.Version.IsForeign() || string(rec.UserMeta) != `{"build":"42","owner":"ops"}` || !reflect.DeepEqual(rec.Headers, want) {
			t.Errorf("%s: user meta %s, headers %v, version %v", op, rec.UserMeta, rec.Headers, rec.Version)
		}
	}
}
