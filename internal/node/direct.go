package node

import (
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"sphere.software/objstore"
)

// errLocalCopy marks a fill that failed on the local disk (full, or the
// write failed), not at the origin: its readers go on from the origin.
var errLocalCopy = errors.New("local copy failed")

// originStream serves a body straight from the origin without caching it:
// for reads the cache declines (too big, not admitted) and for readers of
// a fill whose local copy failed. It is an io.ReadSeeker over the whole
// body; a seek backwards reopens the origin object. Like a fill it hashes
// every byte and holds back the last one until the body has passed its
// checksum, so a response that completes is always verified. It fails if
// the origin's object is no longer the version promised.
type originStream struct {
	n    *Node
	rec  objstore.Record // what the reader was promised
	body io.ReadCloser   // nil until opened
	pos  int64           // bytes taken from body
	off  int64           // the reader's offset
	crc  uint32
	md5  hash.Hash // nil when the record has a CRC-32C to check
	err  error
}

func newOriginStream(n *Node, rec objstore.Record, body io.ReadCloser, off int64) *originStream {
	s := &originStream{n: n, rec: rec, off: off}
	s.reset(body)
	return s
}

// reset starts reading a new origin response (or none) from its start.
func (s *originStream) reset(body io.ReadCloser) {
	s.body, s.pos, s.crc, s.md5 = body, 0, 0, nil
	if s.rec.Sum.CRC32C == 0 {
		s.md5 = md5.New()
	}
}

func (s *originStream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	size := s.rec.Sum.Size
	if s.off >= size {
		return 0, io.EOF
	}
	if err := s.seekBody(); err != nil {
		s.err = err
		return 0, err
	}
	// Stop before the last byte: it goes out only once the rest is checked.
	want := min(int64(len(p)), size-1-s.off)
	if want > 0 {
		k, err := s.take(p[:want])
		s.off += int64(k)
		if err != nil {
			s.err = err
		}
		return k, err
	}
	if err := s.finish(p[:1]); err != nil {
		s.err = err
		return 0, err
	}
	s.off++
	return 1, nil
}

// seekBody opens the origin object if needed and brings pos to off,
// hashing the bytes it skips.
func (s *originStream) seekBody() error {
	if s.body != nil && s.pos > s.off {
		_ = s.body.Close() // a read body we give up; nothing to report
		s.body = nil
	}
	if s.body == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if skip := s.off - s.pos; skip > 0 {
		if _, err := io.CopyN(io.Discard, readerFunc(s.take), skip); err != nil {
			return s.originErr(err)
		}
	}
	return nil
}

func (s *originStream) open() error {
	s.n.stats.originStreams.Add(1)
	body, rec, err := s.n.remote.Get(s.n.ctx, s.rec.Key)
	if err != nil {
		return fmt.Errorf("node: get %s from the origin: %w", s.rec.Key, err)
	}
	rec = originRecord(s.rec.Key, rec)
	if rec.Version != s.rec.Version || rec.Sum.Size != s.rec.Sum.Size {
		body.Close()
		return fmt.Errorf("node: get %s: the origin's object changed while it was read: %w", s.rec.Key, objstore.ErrNoRemote)
	}
	s.reset(body)
	return nil
}

// take reads from the origin body at pos, hashing what it reads.
func (s *originStream) take(p []byte) (int, error) {
	k, err := s.body.Read(p)
	s.crc = crc32.Update(s.crc, castagnoli, p[:k])
	if s.md5 != nil {
		s.md5.Write(p[:k]) // never fails
	}
	s.pos += int64(k)
	if errors.Is(err, io.EOF) {
		if k > 0 {
			return k, nil
		}
		return 0, s.originErr(io.ErrUnexpectedEOF)
	}
	if err != nil {
		return k, s.originErr(err)
	}
	return k, nil
}

// finish reads the last byte and the end of the body, and checks the whole.
func (s *originStream) finish(last []byte) error {
	if _, err := io.ReadFull(readerFunc(s.take), last); err != nil {
		return err
	}
	var extra [1]byte
	if k, err := s.body.Read(extra[:]); k > 0 {
		return s.originErr(fmt.Errorf("%w: longer than %d bytes", objstore.ErrChecksum, s.rec.Sum.Size))
	} else if err != nil && !errors.Is(err, io.EOF) {
		return s.originErr(err)
	}
	got := objstore.Checksum{Size: s.pos, CRC32C: s.crc}
	if s.md5 != nil {
		s.md5.Sum(got.MD5[:0])
	}
	if err := verifyOrigin(s.rec.Sum, got); err != nil {
		s.n.log.Warn("origin body failed its checksum", "key", s.rec.Key, "err", err)
		return err
	}
	return nil
}

func (s *originStream) originErr(err error) error {
	return fmt.Errorf("node: get %s: origin read: %w: %w", s.rec.Key, objstore.ErrNoRemote, err)
}

func (s *originStream) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.rec.Sum.Size
	default:
		return 0, fmt.Errorf("node: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("node: seek: negative offset %d", offset)
	}
	s.off = offset
	return offset, nil
}

// Close releases the origin body.
func (s *originStream) Close() error {
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body = nil
	return err
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
