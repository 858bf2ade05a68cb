package peerapi

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/clusterkey"
	"sphere.software/objstore/internal/sigv4"
)

// CredentialsPath is the route of a node's generated S3 API credentials:
//
//	GET /private/v1/s3-credentials   200, the sealed SharedCredentials
//
// It is served by NewCredentialsHandler, apart from the replication routes,
// because the S3 API's keys are not the node's business.
const CredentialsPath = "/private/v1/s3-credentials"

// maxCredentialsBody bounds a sealed answer: a few keys of ~60 bytes each.
const maxCredentialsBody = 64 << 10

// SharedCredentials is what a node tells its peers about its S3 API keys.
type SharedCredentials struct {
	// Generated are the generated credentials the node accepts: its own
	// and those it learned from peers. Empty when Configured.
	Generated []sigv4.Credentials `json:"generated"`
	// Configured means the node's keys were set by flag, environment or
	// file; they are never shared, so that each node's keys stay what its
	// operator set.
	Configured bool `json:"configured"`
}

// CredentialsKey derives the key that seals shared credentials from the
// cluster key and tag, apart from the gossip and request-signing keys (see
// internal/clusterkey). Without a cluster key it is nil: private requests
// are then not authenticated, and no secret may be handed out over them.
func CredentialsKey(clusterKey, tag string) []byte {
	return clusterkey.Derive(clusterKey, tag, clusterkey.Credentials)
}

// sealAAD binds a sealed body to its purpose and format version.
var sealAAD = []byte("objstore-s3-credentials/1")

// seal encrypts and authenticates plain with AES-256-GCM under key: the
// private API signs requests but not responses, and does not encrypt, so
// the secrets are sealed end to end. The result is a random 12-byte nonce
// followed by the ciphertext.
func seal(key, plain []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand never fails
	return aead.Seal(nonce, nonce, plain, sealAAD), nil
}

// open reverses seal; a body sealed under another key fails.
func open(key, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: sealed credentials of %d bytes", ErrMalformed, len(sealed))
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], sealAAD)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed credentials do not open (another cluster key?)", ErrMalformed)
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("peerapi: credentials key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("peerapi: credentials key: %w", err)
	}
	return cipher.NewGCM(block)
}

// credentialsHandler serves CredentialsPath.
type credentialsHandler struct {
	key    []byte
	shared func() SharedCredentials
	log    *slog.Logger
}

// NewCredentialsHandler serves CredentialsPath: shared() sealed under key
// (CredentialsKey). A nil key refuses every request with 403: without a
// cluster key anyone who can reach the private port could ask. Like
// NewHandler, it does not authenticate; the caller wraps it.
func NewCredentialsHandler(key []byte, shared func() SharedCredentials, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &credentialsHandler{key: key, shared: shared, log: logger.With("component", "peerapi")}
}

func (h *credentialsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CredentialsPath {
		httpError(w, http.StatusNotFound, "no such route")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		httpError(w, http.StatusMethodNotAllowed, "want GET")
		return
	}
	if h.key == nil {
		h.log.Warn("a node asked for this node's S3 credentials: refused, there is no cluster key", "remote", r.RemoteAddr)
		httpError(w, http.StatusForbidden, "no cluster key: S3 credentials are not handed out over an unauthenticated private API")
		return
	}
	plain, err := json.Marshal(h.shared())
	var sealed []byte
	if err == nil {
		sealed, err = seal(h.key, plain)
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBinary(w, sealed)
}

// Credentials asks m for its SharedCredentials, sealed under key
// (CredentialsKey). Failures wrap ErrPeer.
func (c *Client) Credentials(ctx context.Context, m objstore.Member, key []byte) (SharedCredentials, error) {
	const op = "get S3 credentials"
	b, err := c.call(ctx, m, op, http.MethodGet, CredentialsPath, nil)
	if err != nil {
		return SharedCredentials{}, err
	}
	if len(b) > maxCredentialsBody {
		return SharedCredentials{}, peerErr(op, m, fmt.Errorf("%w: answer of %d bytes", ErrMalformed, len(b)))
	}
	plain, err := open(key, b)
	if err != nil {
		return SharedCredentials{}, peerErr(op, m, err)
	}
	var sc SharedCredentials
	if err := json.Unmarshal(plain, &sc); err != nil {
		return SharedCredentials{}, peerErr(op, m, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	return sc, nil
}
