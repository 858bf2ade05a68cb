package objstore

import (
	"strings"
	"time"
)

// Bucket is one bucket of the origin, as ListBuckets reports it.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// MaxListKeys is the most keys and common prefixes one listing page holds,
// as in S3.
const MaxListKeys = 1000

// ListQuery asks for one page of a bucket's keys in ascending byte order.
type ListQuery struct {
	// Prefix limits the listing to keys that start with it.
	Prefix string
	// Delimiter, when set, rolls up every key that contains it after the
	// prefix into one common prefix: the key up to and including the first
	// delimiter after the prefix.
	Delimiter string
	// StartAfter starts the listing after this key (exclusive). It may be a
	// key or a common prefix returned by an earlier page; after a common
	// prefix, no key that starts with it is listed again.
	StartAfter string
	// MaxKeys is the most objects plus common prefixes in the page,
	// 1..MaxListKeys; 0 means MaxListKeys.
	MaxKeys int
}

// ListEntry is one object in a listing.
type ListEntry struct {
	Key      string
	Size     int64
	ETag     string // with its double quotes, as S3 sends it
	Modified time.Time
}

// ListPage is one page of a listing: objects and common prefixes, each in
// ascending order (together they are one sorted sequence).
type ListPage struct {
	Objects  []ListEntry
	Prefixes []string
	// Truncated reports that more keys follow; Next is then the greatest
	// key or common prefix in this page, to be passed as StartAfter.
	Truncated bool
	Next      string
}

// PageSize is the most items a page of q holds: MaxKeys, or MaxListKeys
// when MaxKeys is 0, negative or above it.
func (q ListQuery) PageSize() int {
	if q.MaxKeys <= 0 || q.MaxKeys > MaxListKeys {
		return MaxListKeys
	}
	return q.MaxKeys
}

// CommonPrefix returns the common prefix key rolls up into under q: the key
// up to and including the first Delimiter after Prefix. It returns "" when
// q has no delimiter, or key is not under Prefix or has no delimiter after
// it. Applied to StartAfter, it is the common prefix that StartAfter stands
// for.
func (q ListQuery) CommonPrefix(key string) string {
	if q.Delimiter == "" || !strings.HasPrefix(key, q.Prefix) {
		return ""
	}
	i := strings.Index(key[len(q.Prefix):], q.Delimiter)
	if i < 0 {
		return ""
	}
	return key[:len(q.Prefix)+i+len(q.Delimiter)]
}
