package journal

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommit runs many writers at once through update, one of which
// fails every time: the others' writes all land, the failing one gets its
// own error (after running alone), and writers that overlap share
// transactions.
func TestGroupCommit(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "journal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	const writers = 64
	errBad := errors.New("bad writer")
	var (
		wg    sync.WaitGroup
		errs  [writers]error
		txMu  sync.Mutex
		txIDs = map[int]bool{}
	)
	for i := range writers {
		wg.Go(func() {
			errs[i] = s.update(func(tx *bolt.Tx) error {
				txMu.Lock()
				txIDs[tx.ID()] = true
				txMu.Unlock()
				if i == 7 {
					return errBad
				}
				return tx.Bucket(bucketMeta).Put(fmt.Appendf(nil, "test-%d", i), []byte{byte(i)})
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			if !errors.Is(err, errBad) {
				t.Errorf("failing writer: err %v, want %v", err, errBad)
			}
		} else if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for i := range writers {
			v := tx.Bucket(bucketMeta).Get(fmt.Appendf(nil, "test-%d", i))
			if want := i != 7; (v != nil) != want || (want && v[0] != byte(i)) {
				t.Errorf("key test-%d: value %v, written %v", i, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writers in %d transactions", writers, len(txIDs))
}
