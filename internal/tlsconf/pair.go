package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
)

// CheckInterval is how often, at most, a Pair looks at its files.
const CheckInterval = time.Second

// Files names a certificate and key pair: the paths, and what to call each
// in errors (the flag that gave it, say "--tls-cert"; empty means
// "certificate" and "key").
type Files struct {
	Cert, Key         string
	CertName, KeyName string
}

func (f Files) certName() string { return nameOr(f.CertName, "certificate") }
func (f Files) keyName() string  { return nameOr(f.KeyName, "key") }

func nameOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// Pair is a certificate and its key, loaded from Files and reloaded when
// they change (see the package doc).
type Pair struct {
	files Files
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex // guards the fields below
	cert    *tls.Certificate
	stamp   stamp     // of the files cert was loaded from, or of the last failed load
	checked time.Time // when the files were last looked at
	failed  string    // the last reload error logged, so that it is logged once
}

// stamp is what tells a changed file: its size, modification time and
// inode. The inode catches a file replaced by rename (as renewal tools and
// Kubernetes secret volumes do) within one tick of the file system's
// clock with a file of the same size, which size and time alone miss.
type stamp struct {
	certSize, keySize int64
	certMod, keyMod   time.Time
	certIno, keyIno   uint64
}

// inode returns fi's inode number, or 0 where the system has none.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// LoadPair loads files; an error names the file at fault (by its name in
// files) and says what is wrong with it. log receives the reloads; nil
// discards.
func LoadPair(files Files, log *slog.Logger) (*Pair, error) {
	if files.Cert == "" || files.Key == "" {
		return nil, fmt.Errorf("%s and %s: both are needed, or neither", files.certName(), files.keyName())
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pair{files: files, log: log, now: time.Now}
	st, err := p.stat()
	if err != nil {
		return nil, err
	}
	cert, err := p.load()
	if err != nil {
		return nil, err
	}
	p.cert, p.stamp, p.checked = cert, st, p.now()
	return p, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair, reloaded
// first if the files changed.
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return p.current(), nil
}

// GetClientCertificate is tls.Config.GetClientCertificate, the same pair
// offered to a server that asks for one.
func (p *Pair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return p.current(), nil
}

// current returns the pair in use, after a reload if CheckInterval has
// passed and the files changed.
func (p *Pair) current() *tls.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.checked) < CheckInterval {
		return p.cert
	}
	p.checked = now
	p.reloadLocked()
	return p.cert
}

// reloadLocked loads the files if they changed since the last load or
// failed load, keeping the current pair when the new one does not load.
func (p *Pair) reloadLocked() {
	st, err := p.stat()
	if err == nil && st == p.stamp {
		return
	}
	if err == nil {
		p.stamp = st // a pair that fails to load is tried again once it changes
		var cert *tls.Certificate
		if cert, err = p.load(); err == nil {
			p.cert, p.failed = cert, ""
			p.log.Info("tls: certificate reloaded", "cert", p.files.Cert, "subject", cert.Leaf.Subject.String(),
				"serial", cert.Leaf.SerialNumber.String(), "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
			return
		}
	}
	if err.Error() != p.failed {
		p.failed = err.Error()
		p.log.Error("tls: cannot reload; still serving the previous certificate", "cert", p.files.Cert,
			"subject", p.cert.Leaf.Subject.String(), "err", err)
	}
}

func (p *Pair) stat() (stamp, error) {
	c, err := os.Stat(p.files.Cert)
	if err != nil {
		return stamp{}, fmt.Errorf("%s %s: %w", p.files.certName(), p.files.Cert, err)
	}
	k, err := os.Stat(p.files.Key)
	if err != nil {
		return stamp{}, fmt.Errorf("%s %s: %w", p.files.keyName(), p.files.Key, err)
	}
	return stamp{certSize: c.Size(), keySize: k.Size(), certMod: c.ModTime(), keyMod: k.ModTime(),
		certIno: inode(c), keyIno: inode(k)}, nil
}

// load reads and checks the pair: the certificate must parse, the key must
// parse and match it.
func (p *Pair) load() (*tls.Certificate, error) {
	f := p.files
	certPEM, err := os.ReadFile(f.Cert)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.certName(), err)
	}
	keyPEM, err := os.ReadFile(f.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.keyName(), err)
	}
	if _, err := parseCerts(certPEM); err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.certName(), f.Cert, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s %s with %s %s: %w", f.keyName(), f.Key, f.certName(), f.Cert, keyError(err))
	}
	return &cert, nil
}

// keyError says in words what tls.X509KeyPair found wrong with a key whose
// certificate parsed.
func keyError(err error) error {
	msg := err.Error()
	switch {
	case msg == "tls: private key does not match public key":
		return errors.New("the key does not match the certificate")
	case msg == "tls: failed to find any PEM data in key input":
		return errors.New("no PEM key found")
	}
	return err
}
