//go:build !linux

package journal

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing where the journal does not drop its mapped
// pages after a full scan (see release_linux.go).
func releaseMapped(*bolt.Tx) error { return nil }
