package evict

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// snapshotMagic starts every snapshot; its last byte is the format
// version: 2 adds each entry's tag. Restore reads version 1 too (tags 0).
const (
	snapshotMagic   = "objstore-evict\x02"
	snapshotMagicV1 = "objstore-evict\x01"
)

// maxKeyLen bounds a key read from a snapshot, so a corrupt length cannot
// allocate without limit.
const maxKeyLen = 1 << 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is returned by Restore for a snapshot that is not one, is
// truncated, or fails its checksum.
var ErrCorrupt = errors.New("evict: corrupt snapshot")

// Snapshot writes the policy's state: every entry with its FIFO and
// counter, oldest first, then the ghosts, then a CRC-32C. Pinned entries
// are written as if unpinned at the head of their FIFO; pins are not kept.
// It holds the policy's mutex while it writes, so every other call waits:
// give it a buffered file or a bytes.Buffer, not a network stream.
func (p *Policy) Snapshot(w io.Writer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	sw := &snapWriter{w: bufio.NewWriter(w), crc: crc32.New(castagnoli)}
	sw.bytes([]byte(snapshotMagic))
	sw.uvarint(uint64(p.opts.Mode))
	sw.uvarint(uint64(len(p.entries)))
	for _, l := range []*list{&p.small, &p.main} {
		for e := l.root.prev; e != &l.root; e = e.prev {
			sw.entry(e)
		}
	}
	for _, e := range p.entries {
		if e.pins > 0 {
			sw.entry(e)
		}
	}
	sw.uvarint(uint64(p.ghost.len()))
	p.ghost.each(func(h uint64, size int64) {
		sw.bytes(binary.LittleEndian.AppendUint64(nil, h))
		sw.uvarint(uint64(size))
	})
	sum := sw.crc.Sum32()
	sw.bytes(binary.LittleEndian.AppendUint32(nil, sum))
	if sw.err != nil {
		return fmt.Errorf("evict: write snapshot: %w", sw.err)
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("evict: write snapshot: %w", err)
	}
	return nil
}

// snapWriter writes through a CRC and remembers the first error.
type snapWriter struct {
	w   *bufio.Writer
	crc interface {
		io.Writer
		Sum32() uint32
	}
	err error
}

func (s *snapWriter) bytes(b []byte) {
	if s.err != nil {
		return
	}
	_, _ = s.crc.Write(b) // a hash never fails
	_, s.err = s.w.Write(b)
}

func (s *snapWriter) uvarint(v uint64) { s.bytes(binary.AppendUvarint(nil, v)) }

func (s *snapWriter) entry(e *entry) {
	s.uvarint(uint64(len(e.key)))
	s.bytes([]byte(e.key))
	s.uvarint(uint64(e.size))
	s.bytes([]byte{byte(e.queue) | e.freq<<1})
	s.uvarint(uint64(e.tag))
}

// Restore replaces the policy's state with a snapshot's and returns the
// entries evicted to fit the current capacity (which may have shrunk since
// the snapshot). Entries come back unpinned; a snapshot taken in the other
// Mode comes back with every entry in the main list, counters cleared. On
// error the state is unchanged.
func (p *Policy) Restore(r io.Reader) ([]Entry, error) {
	sr := &snapReader{r: bufio.NewReader(r), crc: crc32.New(castagnoli)}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := sr.read(p.opts.Mode, p.ghost.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("evict: restore: %w", err)
	}
	p.entries, p.small, p.main = st.entries, list{}, list{}
	p.small.init()
	p.main.init()
	p.pinned, p.pinnedBytes = 0, 0
	for _, e := range st.order {
		p.listLocked(e.queue).pushHead(e)
	}
	p.ghost = st.ghost
	p.setCapacityLocked(p.capacity)
	return p.makeRoomLocked(0), nil
}

// restored is a snapshot read in full, before it replaces the state.
type restored struct {
	entries map[string]*entry
	order   []*entry // oldest first, per list
	ghost   *ghost
}

// snapReader reads through a CRC.
type snapReader struct {
	r   *bufio.Reader
	crc interface {
		io.Writer
		Sum32() uint32
	}
}

func (s *snapReader) read(mode Mode, ghostBytes int64) (restored, error) {
	magic := make([]byte, len(snapshotMagic))
	if err := s.full(magic); err != nil || string(magic) != snapshotMagic && string(magic) != snapshotMagicV1 {
		return restored{}, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	tagged := string(magic) == snapshotMagic
	snapMode, err := s.uvarint()
	if err != nil {
		return restored{}, err
	}
	n, err := s.uvarint()
	if err != nil {
		return restored{}, err
	}
	st := restored{entries: make(map[string]*entry), ghost: newGhost(ghostBytes)}
	for range n {
		e, err := s.entry(tagged)
		if err != nil {
			return restored{}, err
		}
		if _, dup := st.entries[e.key]; dup {
			return restored{}, fmt.Errorf("%w: key %q twice", ErrCorrupt, e.key)
		}
		if Mode(snapMode) != mode {
			e.queue, e.freq = queueMain, 0
		}
		st.entries[e.key] = e
		st.order = append(st.order, e)
	}
	if err := s.ghosts(st.ghost); err != nil {
		return restored{}, err
	}
	want := s.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(s.r, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != want {
		return restored{}, fmt.Errorf("%w: checksum", ErrCorrupt)
	}
	return st, nil
}

func (s *snapReader) ghosts(g *ghost) error {
	n, err := s.uvarint()
	if err != nil {
		return err
	}
	var h [8]byte
	for range n {
		if err := s.full(h[:]); err != nil {
			return err
		}
		size, err := s.uvarint()
		if err != nil {
			return err
		}
		g.add(binary.LittleEndian.Uint64(h[:]), int64(size), int(n))
	}
	return nil
}

func (s *snapReader) entry(tagged bool) (*entry, error) {
	klen, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	if klen > maxKeyLen {
		return nil, fmt.Errorf("%w: key length %d", ErrCorrupt, klen)
	}
	key := make([]byte, klen)
	if err := s.full(key); err != nil {
		return nil, err
	}
	size, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	var flags [1]byte
	if err := s.full(flags[:]); err != nil {
		return nil, err
	}
	var tag uint64
	if tagged {
		if tag, err = s.uvarint(); err != nil {
			return nil, err
		}
	}
	q, freq := queue(flags[0]&1), flags[0]>>1
	if freq > maxFreq || size > 1<<62 || tag > math.MaxUint16 {
		return nil, fmt.Errorf("%w: entry %q", ErrCorrupt, key)
	}
	return &entry{key: string(key), size: int64(size), queue: q, freq: freq, tag: uint16(tag)}, nil
}

func (s *snapReader) full(b []byte) error {
	if _, err := io.ReadFull(s.r, b); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	_, _ = s.crc.Write(b) // a hash never fails
	return nil
}

// uvarint reads one uvarint byte by byte, so the CRC sees exactly the
// bytes read.
func (s *snapReader) uvarint() (uint64, error) {
	var buf [binary.MaxVarintLen64]byte
	for i := range buf {
		if err := s.full(buf[i : i+1]); err != nil {
			return 0, err
		}
		if buf[i] < 0x80 {
			v, n := binary.Uvarint(buf[:i+1])
			if n <= 0 {
				return 0, fmt.Errorf("%w: varint", ErrCorrupt)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint too long", ErrCorrupt)
}
