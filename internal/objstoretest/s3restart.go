package objstoretest

import (
	"net/url"
	"testing"
)

// StopProcess stops versitygw alone, as an origin server that goes down:
// from then on Direct refuses connections, while the counting proxy at
// Endpoint stays and answers 502. StartProcess brings it back.
func (s *S3Server) StopProcess(t testing.TB) {
	t.Helper()
	s.proc.stop(t)
}

// StartProcess starts versitygw again after StopProcess, on Direct's
// address and with the same data, as an origin server that restarts. It
// fails the test if the address was taken meanwhile or versitygw does not
// answer.
func (s *S3Server) StartProcess(t testing.TB) {
	t.Helper()
	u, err := url.Parse(s.Direct)
	if err != nil {
		t.Fatalf("objstoretest: %v", err)
	}
	p, err := s.start(findVersitygw(t), u.Host, s.args)
	if err != nil {
		t.Fatalf("objstoretest: restart versitygw: %v", err)
	}
	t.Cleanup(func() { p.stop(t) })
	s.proc = p
}
