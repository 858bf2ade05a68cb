package objstoretest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartS3(t *testing.T) {
	s := StartS3(t)
	s.CreateBucket(t, "counted")
	s.CreateBucket(t, "counted2")
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || !strings.HasPrefix(s.Direct, "http://127.0.0.1:") || s.Endpoint == s.Direct {
		t.Fatalf("Endpoint %q, Direct %q", s.Endpoint, s.Direct)
	}
	if n := s.Count(http.MethodPut, "counted"); n != 0 {
		t.Errorf("bucket creation through Direct was counted: %d", n)
	}

	viaProxy := s3.New(s3.Options{
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
	})
	for range 3 {
		_, err := viaProxy.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String("counted"), Key: aws.String("k"), Body: strings.NewReader("hello"),
		})
		if err != nil {
			t.Fatalf("PutObject through the proxy: %v", err)
		}
	}
	if _, err := viaProxy.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("counted"), Key: aws.String("k")}); err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	for _, c := range []struct {
		method, bucket string
		want           int
	}{
		{http.MethodPut, "counted", 3},
		{http.MethodHead, "counted", 1},
		{http.MethodGet, "counted", 0},
		{http.MethodPut, "counted2", 0},
		{http.MethodPut, "count", 0},
	} {
		if got := s.Count(c.method, c.bucket); got != c.want {
			t.Errorf("Count(%s, %s) = %d, want %d", c.method, c.bucket, got, c.want)
		}
	}
	s.ResetCounts()
	if got := s.Count(http.MethodPut, "counted"); got != 0 {
		t.Errorf("after ResetCounts: %d", got)
	}

	// The object landed in the posix backend.
	out, err := s.Client(t).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("counted"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject direct: %v", err)
	}
	_ = out.Body.Close() // read nothing
}

func TestEnv(t *testing.T) {
	s := &S3Server{AccessKey: "ak", SecretKey: "sk", Region: "r1", noConfig: "/nonexistent"}
	env := map[string]string{}
	for _, kv := range s.Env() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("malformed entry %q", kv)
		}
		env[k] = v
	}
	for k, want := range map[string]string{
		"AWS_ACCESS_KEY_ID": "ak", "AWS_SECRET_ACCESS_KEY": "sk", "AWS_REGION": "r1",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
	} {
		if got, ok := env[k]; !ok || got != want {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, want)
		}
	}
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Errorf("FreePort = %d", p)
	}
	if a := FreeAddr(t); !strings.HasPrefix(a, "127.0.0.1:") {
		t.Errorf("FreeAddr = %q", a)
	}
}

func TestLogger(t *testing.T) {
	Logger(t).Info("hello", "k", "v")
}
