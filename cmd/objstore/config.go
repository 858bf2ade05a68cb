package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore/internal/clusterkey"
	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/savings"
)

// Config is everything a node is started with. Each field is set by a flag
// and, when the flag is absent, by its environment variable; the names and
// defaults of the original objstore are kept.
type Config struct {
	Debug       int      // -d, --debug ($APP_DEBUG_LEVEL): 0 info logs, 1 debug logs
	Nodes       []string // -N, --nodes ($APP_CLUSTER_NODES): peers to join (cluster not active yet)
	Tag         string   // -T, --tag ($APP_CLUSTER_TAGNAME): cluster tag name
	PrivateAddr string   // --private-addr ($NET_PRIVATE_ADDR)
	DebugAddr   string   // --debug-addr ($NET_DEBUG_ADDR): pprof; empty = off
	PublicAddr  string   // --public-addr ($NET_PUBLIC_ADDR)
	StateDir    string   // --state-dir ($APP_STATE_DIR)
	FilesDir    string   // --files-dir ($APP_FILES_DIR)
	Region      string   // -R, --region ($S3_REGION_NAME)
	Bucket      string   // -B, --bucket ($S3_BUCKET_NAME)

	Backend       string        // --backend ($APP_BACKEND): auto, local or s3
	OriginDir     string        // --origin-dir ($APP_ORIGIN_DIR): the local backend's directory
	S3Endpoint    string        // --s3-endpoint ($S3_ENDPOINT): S3-compatible server URL
	S3PathStyle   bool          // --s3-path-style ($S3_PATH_STYLE)
	MaxObjectSize int64         // --max-object-size ($APP_MAX_OBJECT_SIZE), bytes; 0 = no limit
	MaxHeaderSize int           // --max-header-size ($APP_MAX_HEADER_SIZE), bytes
	DiskQuota     int64         // --disk-quota ($APP_DISK_QUOTA), bytes of bodies; 0 = the disk
	MemoryCache   int64         // --memory-cache ($APP_MEMORY_CACHE), bytes of small hot bodies in memory; 0 = off
	ShutdownWait  time.Duration // --shutdown-timeout ($APP_SHUTDOWN_TIMEOUT)
	AccessLog     string        // --access-log ($APP_ACCESS_LOG): off, on (the node's log) or a file path
	FastPath      bool          // --fast-path ($APP_FAST_PATH): hot GETs answered before net/http

	// Prices price the savings in /api/v1/stats: --price-egress-per-gb
	// ($APP_PRICE_EGRESS_PER_GB) and --price-get-per-1000
	// ($APP_PRICE_GET_PER_1000), in USD; defaults are AWS's list prices.
	Prices savings.Prices

	S3APIAddr            string        // --s3-api-addr ($NET_S3_API_ADDR): the S3-compatible API; empty = off
	S3APICredentials     string        // --s3-api-credentials ($APP_S3_API_CREDENTIALS): ACCESS:SECRET[,…]
	S3APICredentialsFile string        // --s3-api-credentials-file ($APP_S3_API_CREDENTIALS_FILE)
	S3APIAnonymous       string        // --s3-api-anonymous ($APP_S3_API_ANONYMOUS): off, read or write
	S3APIDomain          string        // --s3-api-domain ($APP_S3_API_DOMAIN): virtual-host-style base domain
	S3DefaultLevel       int           // --s3-default-level ($APP_S3_DEFAULT_LEVEL)
	MultipartExpiry      time.Duration // --multipart-expiry ($APP_MULTIPART_EXPIRY)

	ClusterKey     string        // --cluster-key ($APP_CLUSTER_KEY): shared secret of the cluster
	SyncInterval   time.Duration // --sync-interval ($APP_SYNC_INTERVAL)
	TombstoneGrace time.Duration // --tombstone-grace ($APP_TOMBSTONE_GRACE)

	Cache        CacheFlags      // --cache-*, --disk-*-watermark: the bounded disk (cacheflags.go)
	OriginTTL    time.Duration   // --origin-ttl ($APP_ORIGIN_TTL): revalidate read-through bodies after; 0 = never
	StaleIfError time.Duration   // --stale-if-error ($APP_STALE_IF_ERROR): serve stale past the TTL while the origin is down
	EventsToken  string          // --events-token ($APP_EVENTS_TOKEN): secret of POST /api/v1/events; empty = refused
	Deadlines    DeadlineFlags   // --origin-*-timeout, --peer-*-timeout (deadlineflags.go)
	TLS          TLSFlags        // --tls-*, --peer-tls-*: certificates of the listeners (tlsflags.go)
	Scrub        ScrubFlags      // --scrub-period, --scrub-rate: the background scrubber (scrubflags.go)
	Status       StatusFlags     // --status-interval: the status page's history (statusflags.go)
	Ops          OpsFlags        // --log-format, --ready-without-origin: logs and readiness (opsflags.go)
	Metrics      MetricsFlags    // --metrics, --metrics-addr: Prometheus metrics (metricsflags.go)
	Outbox       OutboxFlags     // --outbox-*, --s3-write-mode: write-back (outboxflags.go)
	Durability   DurabilityFlags // --small-body-max, --fsync-each-body: how bodies become durable (durabilityflags.go)

	NativeAPIAuth  string // --native-api-auth ($APP_NATIVE_API_AUTH): off, or on (SigV4 with the S3 API's keys, or the token)
	NativeAPIToken string // --native-api-token ($APP_NATIVE_API_TOKEN): bearer token the native API accepts when auth is on

	// bucketSet and endpointSet record whether -B or the endpoint was given
	// explicitly; with --backend=auto either one selects S3.
	bucketSet bool
}

// DefaultConfig is the configuration of a node started without options.
func DefaultConfig() Config {
	return Config{
		Tag:           "default",
		PrivateAddr:   "0.0.0.0:11999",
		PublicAddr:    "0.0.0.0:10999",
		StateDir:      "state/",
		FilesDir:      "files/",
		Region:        "us-east-1",
		Bucket:        "00-objstore-test",
		Backend:       "auto",
		OriginDir:     "origin/",
		MaxObjectSize: 5 << 30,
		MaxHeaderSize: 64 << 10,
		MemoryCache:   128 << 20,
		ShutdownWait:  30 * time.Second,
		AccessLog:     "off",
		NativeAPIAuth: "off",
		FastPath:      true,
		Prices:        savings.DefaultPrices(),

		S3APIAddr:       "0.0.0.0:10997",
		S3DefaultLevel:  1,
		MultipartExpiry: 7 * 24 * time.Hour,

		SyncInterval:   5 * time.Second,
		TombstoneGrace: 7 * 24 * time.Hour,

		Cache:        defaultCacheFlags(),
		StaleIfError: time.Hour,
		Deadlines:    defaultDeadlineFlags(),
		Scrub:        defaultScrubFlags(),
		Status:       defaultStatusFlags(),
		Ops:          defaultOpsFlags(),
		Metrics:      defaultMetricsFlags(),
		Outbox:       defaultOutboxFlags(),
		Durability:   defaultDurabilityFlags(),
	}
}

// UseS3 reports whether the node talks to S3 rather than the local origin.
func (c Config) UseS3() bool {
	switch c.Backend {
	case "s3":
		return true
	case "local":
		return false
	}
	return c.bucketSet || c.S3Endpoint != ""
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if err := c.Deadlines.validate(); err != nil {
		return err
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	if err := c.Scrub.validate(); err != nil {
		return err
	}
	if err := c.Status.validate(); err != nil {
		return err
	}
	if err := c.Ops.validate(); err != nil {
		return err
	}
	if err := c.Metrics.validate(); err != nil {
		return err
	}
	if err := c.Durability.validate(); err != nil {
		return err
	}
	if err := c.Outbox.validate(); err != nil {
		return err
	}
	for _, a := range []struct{ name, addr string }{
		{"--public-addr", c.PublicAddr}, {"--private-addr", c.PrivateAddr}, {"--debug-addr", c.DebugAddr},
		{"--s3-api-addr", c.S3APIAddr},
	} {
		if a.addr == "" && (a.name == "--debug-addr" || a.name == "--s3-api-addr") {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s %q: want host:port: %w", a.name, a.addr, err)
		}
	}
	switch {
	case c.Backend != "auto" && c.Backend != "local" && c.Backend != "s3":
		return fmt.Errorf("--backend %q: want auto, local or s3", c.Backend)
	case c.Debug < 0 || c.Debug > 1:
		return fmt.Errorf("--debug %d: want 0 or 1", c.Debug)
	case c.StateDir == "" || c.FilesDir == "":
		return errors.New("--state-dir and --files-dir must not be empty")
	case c.Bucket == "":
		return errors.New("--bucket must not be empty")
	case c.MaxObjectSize < 0 || c.DiskQuota < 0 || c.MemoryCache < 0:
		return errors.New("--max-object-size, --disk-quota and --memory-cache must not be negative")
	case c.SyncInterval < 10*time.Millisecond:
		return fmt.Errorf("--sync-interval %s: want at least 10ms", c.SyncInterval)
	case c.OriginTTL < 0 || c.StaleIfError < 0:
		return fmt.Errorf("--origin-ttl %s and --stale-if-error %s: must not be negative", c.OriginTTL, c.StaleIfError)
	case c.TombstoneGrace < time.Minute:
		return fmt.Errorf("--tombstone-grace %s: want at least 1m", c.TombstoneGrace)
	case c.S3DefaultLevel < 0 || c.S3DefaultLevel > 2:
		return fmt.Errorf("--s3-default-level %d: want 0, 1 or 2", c.S3DefaultLevel)
	case c.S3APIAnonymous != "" && c.S3APIAnonymous != "off" && c.S3APIAnonymous != "read" && c.S3APIAnonymous != "write":
		return fmt.Errorf("--s3-api-anonymous %q: want off, read or write", c.S3APIAnonymous)
	case c.NativeAPIAuth != "off" && c.NativeAPIAuth != "on":
		return fmt.Errorf("--native-api-auth %q: want off or on", c.NativeAPIAuth)
	case c.NativeAPIAuth == "off" && c.NativeAPIToken != "":
		return errors.New("--native-api-token is set but --native-api-auth is off: set --native-api-auth on to require it")
	case c.NativeAPIAuth == "on" && c.S3APIAddr == "" && c.NativeAPIToken == "":
		return errors.New("--native-api-auth on needs the S3 API's keys (--s3-api-addr) or --native-api-token")
	case c.NativeAPIToken != "" && len(c.NativeAPIToken) < httpapi.MinTokenLength:
		return fmt.Errorf("--native-api-token: %d bytes; want at least %d (openssl rand -hex 32 makes one)", len(c.NativeAPIToken), httpapi.MinTokenLength)
	case c.MultipartExpiry < time.Hour:
		return fmt.Errorf("--multipart-expiry %s: want at least 1h", c.MultipartExpiry)
	case strings.Contains(c.S3APIDomain, "/") || strings.HasPrefix(c.S3APIDomain, "."):
		return fmt.Errorf("--s3-api-domain %q: want a host name such as s3.example.com", c.S3APIDomain)
	case c.MaxHeaderSize < 1024:
		return fmt.Errorf("--max-header-size %d: want at least 1024", c.MaxHeaderSize)
	case c.Prices.Validate() != nil:
		return fmt.Errorf("--price-egress-per-gb %v, --price-get-per-1000 %v: want finite numbers ≥ 0", c.Prices.EgressPerGB, c.Prices.GetPer1000)
	case c.UseS3() && c.S3Endpoint != "" && !strings.HasPrefix(c.S3Endpoint, "http://") && !strings.HasPrefix(c.S3Endpoint, "https://"):
		return fmt.Errorf("--s3-endpoint %q: want an http:// or https:// URL", c.S3Endpoint)
	}
	if err := clusterkey.Check(c.ClusterKey); err != nil {
		return fmt.Errorf("--cluster-key: %w", err)
	}
	_, err := c.Cache.nodeConfig(c.DiskQuota, c.StateDir)
	return err
}

// ParseConfig reads flags from args, falling back to the environment
// (getenv) for every flag that args do not set.
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("objstore", flag.ContinueOnError)
	fs.SetOutput(usage)
	env := map[string]string{}
	fs.Usage = func() { printUsage(usage, fs, env) }
	var nodes string
	str := func(p *string, names []string, envName, help string) {
		for _, n := range names {
			fs.StringVar(p, n, *p, help)
			env[n] = envName
		}
	}
	str(&nodes, []string{"N", "nodes"}, "APP_CLUSTER_NODES", "comma-separated cluster nodes to join (host:port)")
	str(&c.Tag, []string{"T", "tag"}, "APP_CLUSTER_TAGNAME", "cluster tag name")
	str(&c.PrivateAddr, []string{"private-addr"}, "NET_PRIVATE_ADDR", "listen address for cluster discovery and the private API")
	str(&c.DebugAddr, []string{"debug-addr"}, "NET_DEBUG_ADDR", "listen address for pprof debugging; empty = off")
	str(&c.PublicAddr, []string{"public-addr"}, "NET_PUBLIC_ADDR", "listen address for the public HTTP API")
	str(&c.StateDir, []string{"state-dir"}, "APP_STATE_DIR", "directory for local state and journals")
	str(&c.FilesDir, []string{"files-dir"}, "APP_FILES_DIR", "directory for local files (object bodies)")
	str(&c.Region, []string{"R", "region"}, "S3_REGION_NAME", "Amazon S3 region name")
	str(&c.Bucket, []string{"B", "bucket"}, "S3_BUCKET_NAME", "Amazon S3 bucket name")
	str(&c.Backend, []string{"backend"}, "APP_BACKEND", "origin: auto (s3 when --bucket or --s3-endpoint is set), local or s3")
	str(&c.OriginDir, []string{"origin-dir"}, "APP_ORIGIN_DIR", "directory of the local origin that stands in for S3")
	str(&c.S3Endpoint, []string{"s3-endpoint"}, "S3_ENDPOINT", "URL of an S3-compatible server; empty = AWS")
	str(&c.S3APIAddr, []string{"s3-api-addr"}, "NET_S3_API_ADDR", "listen address for the S3-compatible API; empty = off")
	str(&c.S3APICredentials, []string{"s3-api-credentials"}, "APP_S3_API_CREDENTIALS", "S3 API access keys: ACCESS:SECRET[,ACCESS:SECRET…]")
	str(&c.S3APICredentialsFile, []string{"s3-api-credentials-file"}, "APP_S3_API_CREDENTIALS_FILE", "file of S3 API access keys, one 'ACCESS SECRET' per line")
	str(&c.S3APIAnonymous, []string{"s3-api-anonymous"}, "APP_S3_API_ANONYMOUS", "what unsigned S3 requests may do: off, read or write")
	str(&c.S3APIDomain, []string{"s3-api-domain"}, "APP_S3_API_DOMAIN", "base domain for virtual-host-style S3 requests (bucket.domain); empty = path style only")
	intFlag(fs, &c.S3DefaultLevel, []string{"s3-default-level"}, "consistency level of S3 writes that name none", env, "APP_S3_DEFAULT_LEVEL")
	durationFlag(fs, &c.MultipartExpiry, "multipart-expiry", "how long an unfinished S3 multipart upload is kept", env, "APP_MULTIPART_EXPIRY")
	str(&c.ClusterKey, []string{"cluster-key"}, "APP_CLUSTER_KEY", "shared cluster secret, at least 16 bytes (make one with `objstore keygen`): encrypts gossip, authenticates the private API")
	intFlag(fs, &c.Debug, []string{"d", "debug"}, "debug level, 0 or 1", env, "APP_DEBUG_LEVEL")
	str(&c.AccessLog, []string{"access-log"}, "APP_ACCESS_LOG", "one line per request: off, on (in the node's log) or a file to append to")
	boolFlag(fs, &c.FastPath, "fast-path", "answer hot GETs from memory before net/http (internal/fastpath); false = net/http only", env, "APP_FAST_PATH")
	boolFlag(fs, &c.S3PathStyle, "s3-path-style", "path-style S3 addressing (most S3-compatible servers need it)", env, "S3_PATH_STYLE")
	int64Flag(fs, &c.MaxObjectSize, "max-object-size", "largest object body in bytes; 0 = no limit", env, "APP_MAX_OBJECT_SIZE")
	int64Flag(fs, &c.MemoryCache, "memory-cache", "bytes of memory for the bodies of small hot objects; 0 = off", env, "APP_MEMORY_CACHE")
	int64Flag(fs, &c.DiskQuota, "disk-quota", "bytes of bodies this node may hold; 0 = the whole disk", env, "APP_DISK_QUOTA")
	intFlag(fs, &c.MaxHeaderSize, []string{"max-header-size"}, "largest request header block in bytes", env, "APP_MAX_HEADER_SIZE")
	durationFlag(fs, &c.ShutdownWait, "shutdown-timeout", "how long SIGTERM waits for in-flight requests", env, "APP_SHUTDOWN_TIMEOUT")
	durationFlag(fs, &c.SyncInterval, "sync-interval", "how often journals are compared with a random peer", env, "APP_SYNC_INTERVAL")
	durationFlag(fs, &c.TombstoneGrace, "tombstone-grace", "how long deletes are remembered", env, "APP_TOMBSTONE_GRACE")
	floatFlag(fs, &c.Prices.EgressPerGB, "price-egress-per-gb", "USD per GB (2^30 bytes) of origin egress, to price the savings (AWS S3 to internet, first tier)", env, "APP_PRICE_EGRESS_PER_GB")
	floatFlag(fs, &c.Prices.GetPer1000, "price-get-per-1000", "USD per 1,000 origin GET requests, to price the savings (AWS S3 Standard)", env, "APP_PRICE_GET_PER_1000")
	c.Cache.register(fs, env)
	c.Deadlines.register(fs, env)
	c.TLS.register(fs, env)
	c.Scrub.register(fs, env)
	c.Status.register(fs, env)
	c.Ops.register(fs, env)
	c.Metrics.register(fs, env)
	c.Outbox.register(fs, env)
	c.Durability.register(fs, env)
	durationFlag(fs, &c.OriginTTL, "origin-ttl", "revalidate a body read through from the origin with a conditional GET once it is this old; 0 = never", env, "APP_ORIGIN_TTL")
	durationFlag(fs, &c.StaleIfError, "stale-if-error", "serve a body this long past --origin-ttl, marked stale, while the origin cannot be reached", env, "APP_STALE_IF_ERROR")
	str(&c.EventsToken, []string{"events-token"}, "APP_EVENTS_TOKEN", "secret that POST /api/v1/events requires (Bearer or ?token=); empty refuses all events")
	str(&c.NativeAPIAuth, []string{"native-api-auth"}, "APP_NATIVE_API_AUTH", "require authentication on the native API: off, or on (AWS SigV4 with an S3 API key, or --native-api-token); ping and version stay open")
	str(&c.NativeAPIToken, []string{"native-api-token"}, "APP_NATIVE_API_TOKEN", "bearer token the native API accepts when --native-api-auth is on (Authorization: Bearer TOKEN), at least 16 bytes")
	if err := applyEnv(fs, env, getenv); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { c.bucketSet = c.bucketSet || f.Name == "B" || f.Name == "bucket" })
	c.bucketSet = c.bucketSet || getenv("S3_BUCKET_NAME") != ""
	c.Nodes = splitList(nodes)
	return c, c.Validate()
}

// applyEnv sets each flag from its environment variable, so that a flag on
// the command line (parsed afterwards) wins over the environment.
func applyEnv(fs *flag.FlagSet, env map[string]string, getenv func(string) string) error {
	for name, envName := range env {
		v := getenv(envName)
		if v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("$%s=%q: %w", envName, v, err)
		}
	}
	return nil
}

func intFlag(fs *flag.FlagSet, p *int, names []string, help string, env map[string]string, envName string) {
	for _, n := range names {
		fs.IntVar(p, n, *p, help)
		env[n] = envName
	}
}

func int64Flag(fs *flag.FlagSet, p *int64, name, help string, env map[string]string, envName string) {
	fs.Func(name, help+" (default "+strconv.FormatInt(*p, 10)+")", func(s string) error {
		v, err := parseSize(s)
		*p = v
		return err
	})
	env[name] = envName
}

func boolFlag(fs *flag.FlagSet, p *bool, name, help string, env map[string]string, envName string) {
	fs.BoolVar(p, name, *p, help)
	env[name] = envName
}

func floatFlag(fs *flag.FlagSet, p *float64, name, help string, env map[string]string, envName string) {
	fs.Float64Var(p, name, *p, help)
	env[name] = envName
}

func durationFlag(fs *flag.FlagSet, p *time.Duration, name, help string, env map[string]string, envName string) {
	fs.DurationVar(p, name, *p, help)
	env[name] = envName
}

// parseSize reads a byte count: a plain number or one with a K, M, G or T
// suffix (powers of 1024, optional "i" and "B").
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size in bytes (e.g. 1048576, 64M, 5G)", s)
	}
	return v * mult, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printUsage lists every option once, with all its names and its
// environment variable, in the original's layout.
func printUsage(w io.Writer, fs *flag.FlagSet, env map[string]string) {
	fmt.Fprintf(w, `Usage: objstore [serve] [OPTIONS]
       objstore version
       objstore keygen        (prints a new --cluster-key: 256 random bits, base64)

A Multi-Master Distributed Caching Layer for Amazon S3.
Version %s

Options:
`, buildVersion())
	names := map[string][]string{}
	var order []string
	fs.VisitAll(func(f *flag.Flag) {
		e := env[f.Name]
		if _, seen := names[e]; !seen {
			order = append(order, e)
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		names[e] = append(names[e], dash+f.Name)
	})
	for _, e := range order {
		f := fs.Lookup(strings.TrimLeft(names[e][0], "-"))
		sort.Slice(names[e], func(i, j int) bool { return len(names[e][i]) < len(names[e][j]) })
		fmt.Fprintf(w, "  %-22s %s (default %q) ($%s)\n", strings.Join(names[e], ", "), f.Usage, f.DefValue, e)
	}
}
