package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/savings"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfigDefaultsMatchTheOriginal(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if c.PublicAddr != "0.0.0.0:10999" || c.PrivateAddr != "0.0.0.0:11999" || c.StateDir != "state/" ||
		c.FilesDir != "files/" || c.Region != "us-east-1" || c.Bucket != "00-objstore-test" || c.Tag != "default" {
		t.Fatalf("defaults changed: %+v", c)
	}
	if c.UseS3() {
		t.Fatal("default config must use the local origin")
	}
	if c.MaxObjectSize != want.MaxObjectSize || c.ShutdownWait != 30*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestParseConfigFlagsEnvAndPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		check func(Config) bool
	}{
		{"short flags", []string{"-d", "1", "-N", "a:1, b:2", "-T", "blue", "-R", "eu-west-1", "-B", "bkt"}, nil,
			func(c Config) bool {
				return c.Debug == 1 && len(c.Nodes) == 2 && c.Nodes[1] == "b:2" && c.Tag == "blue" && c.Region == "eu-west-1" && c.Bucket == "bkt" && c.UseS3()
			}},
		{"long flags with =", []string{"--debug=1", "--public-addr=127.0.0.1:1", "--state-dir=/s", "--files-dir=/f"}, nil,
			func(c Config) bool {
				return c.Debug == 1 && c.PublicAddr == "127.0.0.1:1" && c.StateDir == "/s" && c.FilesDir == "/f"
			}},
		{"environment", nil, map[string]string{"APP_DEBUG_LEVEL": "1", "NET_PUBLIC_ADDR": "127.0.0.1:2", "S3_BUCKET_NAME": "envb",
			"APP_CLUSTER_NODES": "x:1", "APP_MAX_OBJECT_SIZE": "64M", "S3_PATH_STYLE": "true"},
			func(c Config) bool {
				return c.Debug == 1 && c.PublicAddr == "127.0.0.1:2" && c.Bucket == "envb" && c.UseS3() &&
					len(c.Nodes) == 1 && c.MaxObjectSize == 64<<20 && c.S3PathStyle
			}},
		{"flag beats environment", []string{"--public-addr", "127.0.0.1:3"}, map[string]string{"NET_PUBLIC_ADDR": "127.0.0.1:2"},
			func(c Config) bool { return c.PublicAddr == "127.0.0.1:3" }},
		{"endpoint selects s3", []string{"--s3-endpoint", "http://127.0.0.1:9"}, nil, func(c Config) bool { return c.UseS3() }},
		{"backend local wins over bucket", []string{"-B", "b", "--backend", "local"}, nil, func(c Config) bool { return !c.UseS3() }},
		{"s3 api defaults", nil, nil, func(c Config) bool {
			return c.S3APIAddr == "0.0.0.0:10997" && c.S3DefaultLevel == 1 && c.MultipartExpiry == 168*time.Hour
		}},
		{"s3 api from the environment", nil, map[string]string{"NET_S3_API_ADDR": "127.0.0.1:9", "APP_S3_API_CREDENTIALS": "a:b",
			"APP_S3_API_CREDENTIALS_FILE": "/f", "APP_S3_API_ANONYMOUS": "read", "APP_S3_API_DOMAIN": "s3.local", "APP_S3_DEFAULT_LEVEL": "2"},
			func(c Config) bool {
				return c.S3APIAddr == "127.0.0.1:9" && c.S3APICredentials == "a:b" && c.S3APICredentialsFile == "/f" &&
					c.S3APIAnonymous == "read" && c.S3APIDomain == "s3.local" && c.S3DefaultLevel == 2
			}},
		{"s3 api off", []string{"--s3-api-addr", ""}, nil, func(c Config) bool { return c.S3APIAddr == "" }},
		{"backend s3 with default bucket", []string{"--backend", "s3"}, nil, func(c Config) bool { return c.UseS3() && c.Bucket == "00-objstore-test" }},
		{"tls from flags and the environment", []string{"--tls-cert", "/c.pem", "--tls-key", "/k.pem"},
			map[string]string{"APP_PEER_TLS_CERT": "/pc.pem", "APP_PEER_TLS_KEY": "/pk.pem", "APP_PEER_TLS_CA": "/ca.pem"},
			func(c Config) bool {
				return c.TLS == TLSFlags{Cert: "/c.pem", Key: "/k.pem", PeerCert: "/pc.pem", PeerKey: "/pk.pem", PeerCA: "/ca.pem"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestParseConfigRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad address", []string{"--public-addr", "nope"}, nil, "--public-addr"},
		{"bad debug", []string{"-d", "7"}, nil, "--debug"},
		{"bad backend", []string{"--backend", "ftp"}, nil, "--backend"},
		{"bad size", []string{"--max-object-size", "lots"}, nil, "not a size"},
		{"negative size", []string{"--max-object-size", "-5"}, nil, "not a size"},
		{"bad endpoint", []string{"--s3-endpoint", "127.0.0.1:9"}, nil, "--s3-endpoint"},
		{"bad env", nil, map[string]string{"APP_DEBUG_LEVEL": "x"}, "$APP_DEBUG_LEVEL"},
		{"stray argument", []string{"extra"}, nil, "unexpected argument"},
		{"unknown flag", []string{"--nope"}, nil, "not defined"},
		{"tiny header limit", []string{"--max-header-size", "10"}, nil, "--max-header-size"},
		{"bad s3 api address", []string{"--s3-api-addr", "10997"}, nil, "--s3-api-addr"},
		{"bad default level", []string{"--s3-default-level", "3"}, nil, "--s3-default-level"},
		{"bad anonymous", nil, map[string]string{"APP_S3_API_ANONYMOUS": "everyone"}, "--s3-api-anonymous"},
		{"short multipart expiry", []string{"--multipart-expiry", "1m"}, nil, "--multipart-expiry"},
		{"bad domain", []string{"--s3-api-domain", "http://x/"}, nil, "--s3-api-domain"},
		{"negative egress price", []string{"--price-egress-per-gb", "-1"}, nil, "--price-egress-per-gb"},
		{"NaN GET price", nil, map[string]string{"APP_PRICE_GET_PER_1000": "NaN"}, "--price-get-per-1000"},
		{"negative origin ttl", []string{"--origin-ttl", "-1s"}, nil, "--origin-ttl"},
		{"negative stale bound", nil, map[string]string{"APP_STALE_IF_ERROR": "-1m"}, "--stale-if-error"},
		{"bad native auth", []string{"--native-api-auth", "sigv4"}, nil, "--native-api-auth"},
		{"token with auth off", []string{"--native-api-token", "0123456789abcdef0123"}, nil, "--native-api-auth is off"},
		{"native auth with nothing to check", []string{"--native-api-auth", "on", "--s3-api-addr", ""}, nil, "needs the S3 API's keys"},
		{"short native token", nil, map[string]string{"APP_NATIVE_API_AUTH": "on", "APP_NATIVE_API_TOKEN": "short"}, "at least 16"},
		{"tls cert without key", []string{"--tls-cert", "/c.pem"}, nil, "--tls-cert and --tls-key"},
		{"tls key without cert", nil, map[string]string{"APP_TLS_KEY": "/k.pem"}, "--tls-cert and --tls-key"},
		{"peer tls without CA", []string{"--peer-tls-cert", "/c.pem", "--peer-tls-key", "/k.pem"}, nil, "--peer-tls-ca"},
		{"peer CA alone", []string{"--peer-tls-ca", "/ca.pem"}, nil, "all three or none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err=%v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "64M": 64 << 20, "5G": 5 << 30, "5GiB": 5 << 30, "2k": 2048, "1T": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestUsageListsEveryOptionWithItsEnvironmentVariable(t *testing.T) {
	var out strings.Builder
	_, err := ParseConfig([]string{"-h"}, env(nil), &out)
	if err == nil {
		t.Fatal("-h parsed as a configuration")
	}
	for _, want := range []string{"-d, --debug", "$APP_DEBUG_LEVEL", "-N, --nodes", "$APP_CLUSTER_NODES", "-T, --tag",
		"--private-addr", "$NET_PRIVATE_ADDR", "--debug-addr", "--public-addr", "--state-dir", "$APP_STATE_DIR",
		"--files-dir", "-R, --region", "$S3_REGION_NAME", "-B, --bucket", "$S3_BUCKET_NAME", "--s3-endpoint", "--backend"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunVersionAndHelpExitCodes(t *testing.T) {
	var out strings.Builder
	if code := run([]string{"version"}, env(nil), &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), release) {
		t.Fatalf("version: code %d, out %q", code, out.String())
	}
	if code := run([]string{"-h"}, env(nil), io.Discard, io.Discard); code != 0 {
		t.Fatalf("-h exit code %d", code)
	}
	if code := run([]string{"--backend", "nope"}, env(nil), io.Discard, io.Discard); code != 2 {
		t.Fatalf("bad flag exit code %d", code)
	}
}

func TestPricesDefaultToAWSListPricesAndParse(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Prices != savings.DefaultPrices() || c.Prices.EgressPerGB != 0.09 || c.Prices.GetPer1000 != 0.0004 {
		t.Fatalf("defaults %+v, %v", c.Prices, err)
	}
	c, err = ParseConfig([]string{"--price-egress-per-gb", "0.05"}, env(map[string]string{"APP_PRICE_GET_PER_1000": "0"}), io.Discard)
	if err != nil || c.Prices != (savings.Prices{EgressPerGB: 0.05}) {
		t.Fatalf("parsed %+v, %v", c.Prices, err)
	}
}
