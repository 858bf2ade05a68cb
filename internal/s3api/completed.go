package s3api

import (
	"sync"
	"time"
)

// completedKeep and completedMax bound how long and how many completed
// uploads the server remembers, so that a repeated CompleteMultipartUpload
// (a client retrying after a lost response) answers the same result, as S3
// does, instead of NoSuchUpload. 10,000 entries of about 200 bytes are
// 2 MiB at most.
const (
	completedKeep = time.Hour
	completedMax  = 10000
)

// completedUploads remembers the result of each completed upload for a
// while. It is memory only: a retry after a restart answers NoSuchUpload,
// except when the process died between the journal commit and the removal
// of the parts, where the retry assembles the same parts again and gets the
// same ETag. Persisting it would cost a durable write per completion for a
// retry that races a restart.
type completedUploads struct {
	mu    sync.Mutex
	byID  map[string]completedUpload
	order []string // ids, oldest first
}

type completedUpload struct {
	bucket, key string
	doc         completeResult
	at          time.Time
}

// add remembers the result of upload id of bucket/key, completed at now.
func (c *completedUploads) add(id, bucket, key string, doc completeResult, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = make(map[string]completedUpload)
	}
	c.expireLocked(now)
	if _, ok := c.byID[id]; !ok {
		c.order = append(c.order, id)
	}
	c.byID[id] = completedUpload{bucket: bucket, key: key, doc: doc, at: now}
	for len(c.order) > completedMax {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
}

// get returns the remembered result of upload id of bucket/key.
func (c *completedUploads) get(id, bucket, key string, now time.Time) (completeResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(now)
	u, ok := c.byID[id]
	if !ok || u.bucket != bucket || u.key != key {
		return completeResult{}, false
	}
	return u.doc, true
}

// expireLocked forgets the results older than completedKeep.
func (c *completedUploads) expireLocked(now time.Time) {
	n := 0
	for n < len(c.order) && now.Sub(c.byID[c.order[n]].at) > completedKeep {
		delete(c.byID, c.order[n])
		n++
	}
	if n > 0 {
		c.order = append(c.order[:0:0], c.order[n:]...)
	}
}
