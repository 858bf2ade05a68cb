package sigv4

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// readTrailers reads "name:value" lines up to the empty line that ends the
// body, keyed by lowercase name (not http.Header's canonical form). The
// x-amz-trailer-signature line is returned apart.
func (c *chunkReader) readTrailers() (http.Header, string, error) {
	trailers := make(http.Header)
	sig := ""
	for range maxTrailers + 2 {
		line, err := c.readLine()
		if err != nil {
			return nil, "", err
		}
		if line == "" {
			return trailers, sig, nil
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		switch {
		case !c.cfg.trailer:
			return nil, "", fmt.Errorf("sigv4: trailer after the final chunk of a payload without trailers: %w", ErrMalformedChunk)
		case !ok || name == "":
			return nil, "", fmt.Errorf("sigv4: trailer line %q: %w", line, ErrMalformedChunk)
		case name == trailerSignature && c.cfg.signed && sig == "":
			sig = value
		case sig != "":
			return nil, "", fmt.Errorf("sigv4: trailer %s after the trailer signature: %w", name, ErrMalformedChunk)
		case trailers[name] != nil || !slices.Contains(c.cfg.declared, name):
			return nil, "", fmt.Errorf("sigv4: trailer %s repeated or not declared in x-amz-trailer: %w", name, ErrMalformedChunk)
		default:
			trailers[name] = []string{value}
		}
	}
	return nil, "", fmt.Errorf("sigv4: more than %d trailers: %w", maxTrailers, ErrMalformedChunk)
}

// checkTrailers verifies the trailer signature of a signed body, that every
// declared trailer came, and the checksums they carry.
func (c *chunkReader) checkTrailers(trailers http.Header, sig string) error {
	if c.cfg.signed && c.cfg.trailer {
		want := c.cfg.signer.signTrailer(c.prev, hashHex([]byte(canonicalTrailers(trailers))))
		if !equalSig(want, sig) {
			return fmt.Errorf("sigv4: trailer: %w", ErrSignatureMismatch)
		}
	}
	for _, name := range c.cfg.declared {
		if _, ok := trailers[name]; !ok {
			return fmt.Errorf("sigv4: declared trailer %s missing: %w", name, ErrMalformedChunk)
		}
	}
	for name, h := range c.sums {
		if want, got := trailers[name][0], ChecksumValue(h); got != want {
			return fmt.Errorf("sigv4: %s is %s, payload has %s: %w", name, want, got, ErrChecksumMismatch)
		}
	}
	return nil
}

// canonicalTrailers is "name:value\n" for each trailer, sorted by name.
func canonicalTrailers(trailers http.Header) string {
	names := make([]string, 0, len(trailers))
	for name := range trailers {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name + ":" + trailers[name][0] + "\n")
	}
	return b.String()
}
