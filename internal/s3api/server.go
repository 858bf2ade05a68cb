package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/requestid"
	"sphere.software/objstore/internal/sigv4"
)

// Anonymous says what a request without any signature may do.
type Anonymous int

const (
	// AnonymousOff refuses unsigned requests with AccessDenied.
	AnonymousOff Anonymous = iota
	// AnonymousRead lets unsigned requests GET and HEAD objects and list.
	AnonymousRead
	// AnonymousWrite lets unsigned requests do everything.
	AnonymousWrite
)

// ParseAnonymous parses "off", "read" or "write".
func ParseAnonymous(s string) (Anonymous, error) {
	switch s {
	case "", "off":
		return AnonymousOff, nil
	case "read":
		return AnonymousRead, nil
	case "write":
		return AnonymousWrite, nil
	}
	return 0, fmt.Errorf("anonymous access %q: want off, read or write", s)
}

// Config configures the S3 API.
type Config struct {
	// Credentials are the access keys clients sign with; at least one
	// unless Anonymous is AnonymousWrite.
	Credentials []sigv4.Credentials
	// Keys, when set, takes the place of Credentials: a set that may grow
	// while the API serves (the keys a cluster generated, learned from
	// peers) and may be empty at first.
	Keys *KeySet
	// Region is the region signatures must be scoped to and that
	// GetBucketLocation reports.
	Region    string
	Anonymous Anonymous
	// Domain, when set, enables virtual-host-style requests: a Host of
	// "<bucket>.<Domain>" addresses that bucket.
	Domain string
	// DefaultLevel is the consistency level of a write that names none.
	DefaultLevel objstore.Level
	// DefaultWriteBack makes a PutObject or CopyObject that names no write
	// mode (X-Objstore-Write) a write-back one (node.PutRequest.WriteBack).
	DefaultWriteBack bool
	// MaxObjectSize is the largest body of one PUT; 0 means no limit.
	MaxObjectSize int64
	// NodeID is this node's ID; it names the node in multipart upload IDs
	// so that other nodes can forward requests about them here.
	NodeID string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the S3 API as an http.Handler.
type Server struct {
	cfg      Config
	node     Backend
	uploads  *multipart.Store
	verifier *sigv4.Verifier
	fwd      forwarder
	log      *slog.Logger
	done     completedUploads // results of completed multipart uploads, for retries
}

// New returns the S3 API of n, with multipart uploads staged in uploads.
func New(cfg Config, n Backend, uploads *multipart.Store) (*Server, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("s3api: no node ID")
	}
	if cfg.Keys == nil && len(cfg.Credentials) == 0 && cfg.Anonymous != AnonymousWrite {
		return nil, errors.New("s3api: no credentials configured and anonymous writes are off")
	}
	for _, c := range cfg.Credentials {
		if c.AccessKey == "" || c.SecretKey == "" {
			return nil, errors.New("s3api: an access key or secret key is empty")
		}
	}
	if cfg.Region == "" {
		cfg.Region = sigv4.DefaultRegion
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	verifier := sigv4.NewVerifier(cfg.Credentials, cfg.Region, cfg.Now)
	if cfg.Keys != nil {
		verifier = sigv4.NewVerifierWith(cfg.Keys, cfg.Region, cfg.Now)
	}
	return &Server{
		cfg: cfg, node: n, uploads: uploads,
		verifier: verifier,
		log:      cfg.Logger,
	}, nil
}

// request is one S3 request as routed: its bucket, key and sub-resource.
type request struct {
	r      *http.Request
	w      http.ResponseWriter
	id     string // x-amz-request-id
	bucket string
	key    string
	query  url.Values // r.URL.Query(), parsed once by route
	// anonymous is set for a request without a signature that anonymous
	// access let through.
	anonymous bool
}

func (q *request) objectKey() objstore.Key { return objstore.Key{Bucket: q.bucket, ID: q.key} }

// ServeHTTP authenticates, routes and answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{r: r, w: w, id: requestID(r)}
	w.Header().Set("X-Amz-Request-Id", q.id)
	w.Header().Set("Server", "objstore")
	q.bucket, q.key = s.address(r)
	if owner, ok := s.ownerElsewhere(r); ok && !forwarded(r) {
		if err := s.forward(q, owner); err != nil {
			s.fail(q, err)
		}
		return
	}
	anonymous, err := s.authenticate(r)
	if err != nil {
		s.fail(q, err)
		return
	}
	q.anonymous = anonymous
	if err := s.route(q); err != nil {
		s.fail(q, err)
	}
}

// address splits a request into bucket and key, path-style or, with a
// domain configured, virtual-host-style.
func (s *Server) address(r *http.Request) (bucket, key string) {
	return s.addressOf(r.Host, r.URL.Path)
}

// addressOf is address on a request's Host and decoded path.
func (s *Server) addressOf(host, path string) (bucket, key string) {
	path = strings.TrimPrefix(path, "/")
	if s.cfg.Domain != "" {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if b, ok := strings.CutSuffix(strings.ToLower(host), "."+s.cfg.Domain); ok && b != "" {
			return b, path
		}
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// authenticate verifies the request's signature; unsigned requests pass
// only as far as anonymous access allows, and are reported as anonymous.
func (s *Server) authenticate(r *http.Request) (anonymous bool, err error) {
	_, err = s.verifier.Verify(r)
	if !errors.Is(err, sigv4.ErrMissingAuth) {
		return false, err
	}
	switch {
	case s.cfg.Anonymous == AnonymousWrite:
		return true, nil
	case s.cfg.Anonymous == AnonymousRead && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return true, nil
	}
	return false, err
}

// route picks the operation from the method, the address and the query.
func (s *Server) route(q *request) error {
	r := q.r
	q.query = r.URL.Query()
	query := q.query
	if q.bucket == "" {
		if r.Method != http.MethodGet {
			return errorf("MethodNotAllowed", http.StatusMethodNotAllowed, "%s / is not allowed; GET lists buckets", r.Method)
		}
		return s.listBuckets(q)
	}
	if q.key == "" {
		return s.routeBucket(q, query)
	}
	if len(q.key) > 1024 {
		return errorf("KeyTooLongError", http.StatusBadRequest, "the key is %d bytes; the limit is 1024", len(q.key))
	}
	for _, sub := range []string{"acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"} {
		if query.Has(sub) {
			switch {
			case sub == "acl" && r.Method == http.MethodGet:
				return s.getObjectACL(q)
			case sub == "tagging" && r.Method == http.MethodGet:
				return s.getObjectTagging(q)
			}
			return errNotImplemented("the ?" + sub + " object sub-resource")
		}
	}
	uploadID := query.Get("uploadId")
	switch r.Method {
	case http.MethodGet:
		if query.Has("uploadId") {
			return s.listParts(q, uploadID)
		}
		return s.getObject(q, true)
	case http.MethodHead:
		return s.getObject(q, false)
	case http.MethodPut:
		switch {
		case query.Has("partNumber") || query.Has("uploadId"):
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return s.uploadPartCopy(q, uploadID, query.Get("partNumber"))
			}
			return s.uploadPart(q, uploadID, query.Get("partNumber"))
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return s.copyObject(q)
		}
		return s.putObject(q)
	case http.MethodPost:
		switch {
		case query.Has("uploads"):
			return s.createUpload(q)
		case query.Has("uploadId"):
			return s.completeUpload(q, uploadID)
		}
		return errNotImplemented("POST on an object without ?uploads or ?uploadId")
	case http.MethodDelete:
		if query.Has("uploadId") {
			return s.abortUpload(q, uploadID)
		}
		return s.deleteObject(q)
	}
	return errorf("MethodNotAllowed", http.StatusMethodNotAllowed, "%s is not allowed on an object", r.Method)
}

// unconfigured are the bucket sub-resources that objstore has none of,
// with the code S3 answers for a bucket that has none.
var unconfigured = map[string]string{
	"policy":     "NoSuchBucketPolicy",
	"cors":       "NoSuchCORSConfiguration",
	"lifecycle":  "NoSuchLifecycleConfiguration",
	"tagging":    "NoSuchTagSet",
	"website":    "NoSuchWebsiteConfiguration",
	"encryption": "ServerSideEncryptionConfigurationNotFoundError",
}

// routeBucket routes requests that name a bucket and no key.
func (s *Server) routeBucket(q *request, query map[string][]string) error {
	has := func(k string) bool { _, ok := query[k]; return ok }
	switch q.r.Method {
	case http.MethodGet:
		switch {
		case has("location"):
			return s.getBucketLocation(q)
		case has("uploads"):
			return s.listUploads(q)
		case has("versioning"):
			return s.getBucketVersioning(q)
		case has("acl"):
			return s.getBucketACL(q)
		}
		for sub, code := range unconfigured {
			if has(sub) {
				// objstore has no such setting, and says so as S3 says
				// of a bucket where it was never set.
				if err := s.checkBucket(q); err != nil {
					return err
				}
				return errorf(code, http.StatusNotFound, "the bucket has no %s configuration", sub)
			}
		}
		for _, sub := range []string{"versions", "logging", "notification", "replication", "object-lock",
			"ownershipControls", "publicAccessBlock", "accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering"} {
			if has(sub) {
				return errNotImplemented("the ?" + sub + " bucket sub-resource")
			}
		}
		return s.listObjects(q)
	case http.MethodHead:
		return s.headBucket(q)
	case http.MethodPut:
		if len(query) > 0 {
			return errNotImplemented("configuring a bucket sub-resource")
		}
		return s.createBucket(q)
	case http.MethodDelete:
		if len(query) > 0 {
			return errNotImplemented("deleting a bucket sub-resource")
		}
		return s.deleteBucket(q)
	case http.MethodPost:
		if has("delete") {
			return s.deleteObjects(q)
		}
		return errNotImplemented("POST on a bucket without ?delete (browser uploads)")
	}
	return errorf("MethodNotAllowed", http.StatusMethodNotAllowed, "%s is not allowed on a bucket", q.r.Method)
}

// fail answers a request with the S3 error for err. A HEAD gets the status
// alone, as S3 answers it.
func (s *Server) fail(q *request, err error) {
	code, status := codeOf(err)
	if status >= 500 {
		s.log.WarnContext(q.r.Context(), "s3 request failed", "method", q.r.Method, "bucket", q.bucket, "key", q.key, "code", code, "err", err)
	} else {
		s.log.DebugContext(q.r.Context(), "s3 request refused", "method", q.r.Method, "bucket", q.bucket, "key", q.key, "code", code, "err", err)
	}
	h := q.w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Content-Type"} {
		h.Del(k)
	}
	if errors.Is(err, objstore.ErrLost) {
		h.Set("X-Objstore-Lost", "true") // as the native API marks it
	}
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(status)
		return
	}
	body := errorBody{Code: code, Message: messageOf(err), Bucket: q.bucket, Key: q.key,
		Resource: q.r.URL.Path, Region: regionOf(err), RequestID: q.id}
	writeXML(q.w, status, body)
}

// writeXML answers with an XML document.
func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header) //nolint:errcheck // the client went away
	w.Write(b)                    //nolint:errcheck // the client went away
}

// requestID is the request's ID (internal/requestid), which S3 clients
// see as x-amz-request-id and in error bodies: the one the node's
// middleware gave it, or a new one when none did.
func requestID(r *http.Request) string {
	if id := requestid.From(r.Context()); id != "" {
		return id
	}
	return requestid.New()
}

// timeFormat is S3's timestamp format in XML documents.
const timeFormat = "2006-01-02T15:04:05.000Z"

func xmlTime(t time.Time) string { return t.UTC().Format(timeFormat) }
