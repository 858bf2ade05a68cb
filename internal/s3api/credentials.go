package s3api

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"sphere.software/objstore/internal/sigv4"
)

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
