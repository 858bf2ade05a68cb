package multipart

import (
	"cmp"
	"slices"
	"strings"
)

// ListUploadsQuery selects uploads as S3's ListMultipartUploads does.
type ListUploadsQuery struct {
	// Bucket is the bucket whose uploads to list; it must match exactly.
	Bucket string
	// Prefix keeps only keys that start with it.
	Prefix string
	// KeyMarker and UploadIDMarker say where the previous page ended,
	// exclusive: with KeyMarker alone, the list starts after every upload
	// of that key; with both, after the upload with that key and ID (or,
	// if it is gone, where it would be). UploadIDMarker without KeyMarker
	// is ignored, as in S3.
	KeyMarker      string
	UploadIDMarker string
	// MaxUploads is the most uploads to return; ≤ 0 means DefaultMaxList.
	MaxUploads int
}

// ListUploads returns the uploads q selects, sorted by key, then
// initiation time, then ID, as S3 sorts them, and whether more follow.
// Since an ID begins with its initiation time, this is the order of (key,
// ID), and S3's rule for the upload-id marker (IDs lexicographically
// greater) agrees with it. Delimiter grouping is left to the caller.
func (s *Store) ListUploads(q ListUploadsQuery) (uploads []Info, truncated bool, err error) {
	max := q.MaxUploads
	if max <= 0 {
		max = DefaultMaxList
	}
	s.mu.RLock()
	for _, u := range s.uploads {
		if q.selects(u.info) {
			uploads = append(uploads, u.info)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(uploads, compareUploads)
	if len(uploads) > max {
		uploads, truncated = uploads[:max:max], true
	}
	for i := range uploads {
		uploads[i] = uploads[i].clone()
	}
	return uploads, truncated, nil
}

// selects reports whether q lists the upload i.
func (q ListUploadsQuery) selects(i Info) bool {
	switch {
	case i.Bucket != q.Bucket, !strings.HasPrefix(i.Key, q.Prefix):
		return false
	case q.KeyMarker == "":
		return true
	case q.UploadIDMarker == "":
		return i.Key > q.KeyMarker
	}
	return i.Key > q.KeyMarker || i.Key == q.KeyMarker && i.ID > q.UploadIDMarker
}

// compareUploads orders uploads by key, initiation time and ID.
func compareUploads(a, b Info) int {
	return cmp.Or(strings.Compare(a.Key, b.Key), a.Initiated.Compare(b.Initiated), strings.Compare(a.ID, b.ID))
}
