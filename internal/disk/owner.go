package disk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sphere.software/objstore/internal/durable"
)

const (
	// lockName is the file in dir that the Store holding dir keeps
	// flock(2)ed; it holds the holder's pid, for the error of the next.
	lockName = "lock"
	// ownerName is the file in dir that names the node owning it.
	ownerName = "owner"
	// unclaimedDir receives the bodies without records that Sweep finds
	// while the dir is not proven this node's.
	unclaimedDir = "unclaimed"
)

// errHeld is lockFile's error when another process holds the lock.
var errHeld = errors.New("lock held")

// lock takes dir's lock file, failing with an error that names the holder
// when another process has it.
func (s *Store) lock() error {
	path := filepath.Join(s.dir, lockName)
	f, holder, err := lockFile(path)
	if errors.Is(err, errHeld) {
		node := "unknown"
		if o, ok, _ := readOwner(s.dir); ok { // best effort: only for the message
			node = o.node
		}
		if holder == "" {
			holder = "unknown"
		}
		return fmt.Errorf("disk: files dir %s is in use by another process (pid %s, node %s; lock %s): "+
			"give each node its own files dir", s.dir, holder, node, path)
	}
	if err != nil {
		return fmt.Errorf("disk: open %s: lock: %w", s.dir, err)
	}
	s.lockF = f
	return nil
}

// ownership is how sure the Store is that dir is its node's.
type ownership uint8

const (
	// unchecked: Config.NodeID was empty.
	unchecked ownership = iota
	// adopted: the dir held bodies and no owner file when this node first
	// used it (a files dir of an older objstore); until a Sweep has moved
	// the bodies it cannot account for aside, it is not proven.
	adopted
	// proven: the owner file names this node, and no adoption is pending.
	proven
)

// owner is what the owner file says.
type owner struct {
	node    string
	adopted bool // the sweep that follows an adoption has not finished
}

// encode returns the owner file's text.
func (o owner) encode() []byte {
	var b bytes.Buffer
	b.WriteString("# objstore files dir: the node that owns it. Give each node its own files dir.\n")
	b.WriteString("node " + o.node + "\n")
	if o.adopted {
		b.WriteString("adopted pending-sweep\n")
	}
	return b.Bytes()
}

// parseOwner reads an owner file's text.
func parseOwner(data []byte) (owner, error) {
	var o owner
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "node":
			o.node = v
		case "adopted":
			o.adopted = true
		default:
			return owner{}, fmt.Errorf("unknown line %q", line)
		}
	}
	if o.node == "" {
		return owner{}, errors.New("no node line")
	}
	return o, nil
}

// readOwner reads the owner file of dir; ok is false when there is none.
func readOwner(dir string) (o owner, ok bool, err error) {
	path := filepath.Join(dir, ownerName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return owner{}, false, nil
	}
	if err != nil {
		return owner{}, false, err
	}
	o, err = parseOwner(data)
	if err != nil {
		return owner{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return o, true, nil
}

// claim checks that dir belongs to node, claiming it if no node does yet,
// and returns how sure that is. An empty node checks nothing.
func (s *Store) claim(node string) (ownership, error) {
	if node == "" {
		return unchecked, nil
	}
	o, ok, err := readOwner(s.dir)
	switch {
	case err != nil:
		return 0, fmt.Errorf("disk: open %s: owner: %w", s.dir, err)
	case ok && o.node != node:
		path := filepath.Join(s.dir, ownerName)
		return 0, fmt.Errorf("disk: files dir %s belongs to node %s (%s), not to this node %s: "+
			"give each node its own files dir (if node %s is gone for good, remove %s to let this node adopt it)",
			s.dir, o.node, path, node, o.node, path)
	case ok && o.adopted:
		return adopted, nil
	case ok:
		return proven, nil
	}
	held, err := s.anyBody()
	if err != nil {
		return 0, err
	}
	o = owner{node: node, adopted: held}
	if err := durable.WriteFile(filepath.Join(s.dir, ownerName), o.encode(), 0o644); err != nil {
		return 0, fmt.Errorf("disk: open %s: claim: %w", s.dir, err)
	}
	if o.adopted {
		s.log.Warn("adopting a files dir that names no owner; bodies without records will be moved aside, not removed",
			"dir", s.dir, "node_id", node, "unclaimed", filepath.Join(s.dir, unclaimedDir))
		return adopted, nil
	}
	return proven, nil
}

// proveOwned marks an adopted dir proven, once a Sweep has moved aside the
// bodies this node cannot account for.
func (s *Store) proveOwned() error {
	if s.owned != adopted {
		return nil
	}
	o := owner{node: s.node}
	if err := durable.WriteFile(filepath.Join(s.dir, ownerName), o.encode(), 0o644); err != nil {
		return fmt.Errorf("disk: %s: %w", ownerName, err)
	}
	s.owned = proven
	return nil
}
