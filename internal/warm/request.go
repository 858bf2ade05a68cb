package warm

import "fmt"

// maxKeyLen is S3's bound on a key, in bytes.
const maxKeyLen = 1024

// Request is what a job warms: every key of Bucket under Prefix, or the
// Keys listed; exactly one of the two.
type Request struct {
	Bucket string `json:"bucket"`
	// Prefix, when set, warms every key that starts with it ("" is the
	// whole bucket).
	Prefix *string `json:"prefix,omitempty"`
	// Keys, when set, are the keys to warm.
	Keys []string `json:"keys,omitempty"`
	// Concurrency is the prefetches in flight; 0 means the default.
	Concurrency int `json:"concurrency,omitempty"`
}

// check validates r against c and fills in the default concurrency.
func (r *Request) check(c Config) error {
	switch {
	case r.Bucket == "":
		return fmt.Errorf("%w: bucket is required", ErrInvalid)
	case r.Prefix != nil && r.Keys != nil:
		return fmt.Errorf("%w: give either prefix or keys, not both", ErrInvalid)
	case r.Prefix == nil && r.Keys == nil:
		return fmt.Errorf("%w: give prefix (\"\" for the whole bucket) or keys", ErrInvalid)
	case r.Keys != nil && len(r.Keys) == 0:
		return fmt.Errorf("%w: keys is empty", ErrInvalid)
	case len(r.Keys) > c.MaxKeys:
		return fmt.Errorf("%w: %d keys, at most %d per job", ErrInvalid, len(r.Keys), c.MaxKeys)
	case r.Concurrency < 0 || r.Concurrency > c.MaxConcurrency:
		return fmt.Errorf("%w: concurrency %d, want 1 to %d", ErrInvalid, r.Concurrency, c.MaxConcurrency)
	}
	for _, k := range r.Keys {
		if k == "" || len(k) > maxKeyLen {
			return fmt.Errorf("%w: key %q: want 1 to %d bytes", ErrInvalid, truncate(k, 64), maxKeyLen)
		}
	}
	if r.Concurrency == 0 {
		r.Concurrency = c.DefaultConcurrency
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
