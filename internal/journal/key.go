package journal

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// keySep separates the bucket from the ID in an encoded key.
const keySep = 0x00

// MaxKeyLen is the longest encoded key (bucket, 0x00, ID) the journal
// stores: what bbolt allows, less the longest prefix an index puts before
// an encoded key (the tombstone index's 8-byte HLC).
const MaxKeyLen = bolt.MaxKeySize - hlcLen

// encodeKey returns the bbolt key of k: bucket, 0x00, id.
func encodeKey(k objstore.Key) ([]byte, error) {
	if err := checkKey(k); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(k.Bucket)+1+len(k.ID))
	b = append(b, k.Bucket...)
	b = append(b, keySep)
	return append(b, k.ID...), nil
}

// checkKey rejects keys that encodeKey cannot encode unambiguously (see
// recordcodec.CheckKey, which every record a peer sends has passed) or
// that bbolt cannot store.
func checkKey(k objstore.Key) error {
	if err := recordcodec.CheckKey(k); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if len(k.Bucket)+1+len(k.ID) > MaxKeyLen {
		return fmt.Errorf("journal: key of %d bytes in bucket %q, longer than %d: %w",
			len(k.ID), k.Bucket, MaxKeyLen, objstore.ErrInvalidKey)
	}
	return nil
}

// decodeKey splits an encoded key at its first 0x00.
func decodeKey(b []byte) (objstore.Key, error) {
	bucket, id, ok := bytes.Cut(b, []byte{keySep})
	if !ok || len(bucket) == 0 || len(id) == 0 {
		return objstore.Key{}, fmt.Errorf("malformed key %q", b)
	}
	return objstore.Key{Bucket: string(bucket), ID: string(id)}, nil
}
