package s3api

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sphere.software/objstore/internal/durable"
	"sphere.software/objstore/internal/sigv4"
)

// KeySet is the set of access keys the S3 API accepts. It can grow while
// the API serves (a node learns the keys its cluster generated), never
// shrinks, and never changes the secret of a key it holds, as
// sigv4.Secrets requires. Lookups take no lock; it is safe for concurrent
// use.
type KeySet struct {
	mu      sync.Mutex                        // serialises writers
	secrets atomic.Pointer[map[string]string] // access key → secret; replaced, never modified
}

var _ sigv4.Secrets = (*KeySet)(nil)

// NewKeySet returns a set holding creds.
func NewKeySet(creds []sigv4.Credentials) (*KeySet, error) {
	if err := checkUnique(creds); err != nil {
		return nil, err
	}
	s := &KeySet{}
	m := make(map[string]string, len(creds))
	s.secrets.Store(&m)
	s.Add(creds...)
	return s, nil
}

// Secret returns the secret key of accessKey.
func (s *KeySet) Secret(accessKey string) (string, bool) {
	secret, ok := (*s.secrets.Load())[accessKey]
	return secret, ok
}

// Add adds the credentials the set does not hold yet and returns them. A
// credential whose access key the set holds with another secret is not
// added: its access key is returned in conflicts. Credentials with an
// empty key or secret are skipped.
func (s *KeySet) Add(creds ...sigv4.Credentials) (added []sigv4.Credentials, conflicts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.secrets.Load()
	var next map[string]string
	for _, c := range creds {
		if c.AccessKey == "" || c.SecretKey == "" {
			continue
		}
		have, ok := old[c.AccessKey]
		if !ok && next != nil {
			have, ok = next[c.AccessKey]
		}
		switch {
		case ok && have != c.SecretKey:
			conflicts = append(conflicts, c.AccessKey)
		case !ok:
			if next == nil {
				next = maps.Clone(old)
			}
			next[c.AccessKey] = c.SecretKey
			added = append(added, c)
		}
	}
	if next != nil {
		s.secrets.Store(&next)
	}
	return added, conflicts
}

// List returns the credentials in the set, by access key.
func (s *KeySet) List() []sigv4.Credentials {
	m := *s.secrets.Load()
	out := make([]sigv4.Credentials, 0, len(m))
	for _, access := range slices.Sorted(maps.Keys(m)) {
		out = append(out, sigv4.Credentials{AccessKey: access, SecretKey: m[access]})
	}
	return out
}

// Len is the number of credentials in the set.
func (s *KeySet) Len() int { return len(*s.secrets.Load()) }

// AccessKeys returns the access keys of creds, for logs.
func AccessKeys(creds []sigv4.Credentials) []string {
	keys := make([]string, len(creds))
	for i, c := range creds {
		keys[i] = c.AccessKey
	}
	return keys
}

// GenerateCredentials returns a random access key ("OBJSTORE" and 12
// base32 characters) and secret (40 characters).
func GenerateCredentials() sigv4.Credentials {
	return sigv4.Credentials{AccessKey: "OBJSTORE" + rand.Text()[:12], SecretKey: rand.Text() + rand.Text()[:14]}
}

// WriteCredentialsFile replaces the file at path (mode 0600, its directory
// made if missing) with creds in the form ReadCredentialsFile reads, under
// a comment that says where they came from.
func WriteCredentialsFile(path string, creds []sigv4.Credentials, comment string) error {
	var b strings.Builder
	b.WriteString("# objstore S3 API credentials, written " + time.Now().UTC().Format(time.RFC3339) + "\n")
	for line := range strings.SplitSeq(comment, "\n") {
		b.WriteString("# " + line + "\n")
	}
	b.WriteString("# one \"ACCESS SECRET\" pair per line\n")
	for _, c := range creds {
		b.WriteString(c.AccessKey + " " + c.SecretKey + "\n")
	}
	if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := durable.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	return nil
}

// ParseCredentials parses "ACCESS:SECRET[,ACCESS:SECRET…]", the form of
// the --s3-api-credentials flag.
func ParseCredentials(s string) ([]sigv4.Credentials, error) {
	var out []sigv4.Credentials
	for i, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		c, err := parsePair(pair, ":")
		if err != nil {
			return nil, fmt.Errorf("credentials pair %d: %w", i+1, err)
		}
		out = append(out, c)
	}
	return out, checkUnique(out)
}

// ReadCredentialsFile reads a credentials file: one "ACCESS SECRET" or
// "ACCESS:SECRET" pair per line; blank lines and lines starting with # are
// skipped.
func ReadCredentialsFile(path string) ([]sigv4.Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sigv4.Credentials
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		sep := ":"
		if strings.ContainsAny(text, " \t") {
			sep = " "
			text = strings.Join(strings.Fields(text), " ")
		}
		c, err := parsePair(text, sep)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkUnique(out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func parsePair(s, sep string) (sigv4.Credentials, error) {
	access, secret, ok := strings.Cut(s, sep)
	switch {
	case !ok:
		return sigv4.Credentials{}, fmt.Errorf("want ACCESS%sSECRET", sep)
	case access == "" || secret == "":
		return sigv4.Credentials{}, errors.New("the access key and the secret key must not be empty")
	case strings.ContainsAny(access, " \t:/") || len(access) > 128:
		return sigv4.Credentials{}, fmt.Errorf("access key %q: want up to 128 characters without spaces, ':' or '/'", access)
	case strings.ContainsAny(secret, " \t"):
		return sigv4.Credentials{}, errors.New("the secret key must not contain spaces")
	}
	return sigv4.Credentials{AccessKey: access, SecretKey: secret}, nil
}

func checkUnique(creds []sigv4.Credentials) error {
	seen := map[string]bool{}
	for _, c := range creds {
		if seen[c.AccessKey] {
			return fmt.Errorf("access key %q is given twice", c.AccessKey)
		}
		seen[c.AccessKey] = true
	}
	return nil
}
