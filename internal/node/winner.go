package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"sphere.software/objstore"
)

// ConditionalRemote is a Remote that can replace exactly the object it read:
// the origin adapter implements it with S3's conditional PutObject, and with
// it concurrent uploads of one key from several nodes leave the origin
// holding the newest version, the one the journals agree on (docs/DESIGN.md,
// "One winner in the origin"). A Remote without it gets plain uploads.
type ConditionalRemote interface {
	// StatETag is Stat that also returns the object's ETag.
	StatETag(ctx context.Context, key objstore.Key) (objstore.Record, string, error)
	// PutIf is Put that lands only when the object's ETag is still etag, or
	// with etag "" only when there is no object; otherwise it writes nothing
	// and its error wraps objstore.ErrOriginChanged.
	PutIf(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) error
}

// maxOriginRaces bounds how often one upload re-reads the origin after
// another writer changed the object between its HEAD and its PUT; each round
// is lost only to a write that landed meanwhile, so this is generous.
const maxOriginRaces = 16

// originStep is what an upload does about the object the origin holds.
type originStep int

const (
	// stepPut: upload, replacing what was read (or nothing).
	stepPut originStep = iota
	// stepLanded: the origin already holds this very version.
	stepLanded
	// stepSuperseded: the origin holds a newer objstore version; uploading
	// would put the loser over the winner.
	stepSuperseded
)

// decideUpload says what an upload of version ours does when the origin
// holds got (found false: nothing). A foreign object (no objstore version)
// is replaced: this write comes after it. An objstore version is replaced
// only when ours is newer by HLC order, the order the journals merge by.
func decideUpload(ours objstore.Version, got objstore.Record, found bool) originStep {
	switch {
	case !found || got.Version.IsForeign():
		return stepPut
	case got.Version == ours:
		return stepLanded
	case got.Version.Compare(ours) > 0:
		return stepSuperseded
	}
	return stepPut
}

// putOrigin uploads rec unless the origin holds a newer version of its key,
// and reports whether the origin now holds rec. Each PUT is conditional on
// the ETag read just before (or on there being no object), so a version that
// lands between the read and the write makes it fail and read again: the
// origin's objstore versions of a key only ever grow.
//
// fresh says the journal holds no live record of the key: then the first
// PUT is conditional on there being no object without reading first, which
// is the same condition the read would most likely give (If-None-Match: *
// holds only when nothing is there, so it is exact, not a guess), and the
// read comes only after it fails. That saves the HEAD of a new key's upload.
func (n *Node) putOrigin(ctx context.Context, rec objstore.Record, body io.ReaderAt, fresh bool) (bool, error) {
	cr, ok := n.remote.(ConditionalRemote)
	if !ok {
		return true, n.remote.Put(ctx, rec, body)
	}
	for round := range maxOriginRaces {
		var (
			got   objstore.Record
			etag  string
			found bool
		)
		if round > 0 || !fresh {
			var err error
			got, etag, err = cr.StatETag(ctx, rec.Key)
			found = err == nil
			if err != nil && !errors.Is(err, objstore.ErrNotFound) {
				return false, err
			}
		}
		switch decideUpload(rec.Version, got, found) {
		case stepLanded:
			return true, nil
		case stepSuperseded:
			n.log.Info("upload superseded: the origin holds a newer version", "key", rec.Key, "version", rec.Version, "origin", got.Version)
			return false, nil
		}
		if !found {
			etag = ""
		}
		err := cr.PutIf(ctx, rec, body, etag)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, objstore.ErrOriginChanged) {
			if _, moved := n.originMoved(ctx, cr, rec, found, etag); !moved {
				return false, err
			}
		}
		n.log.Info("origin changed during upload, reading it again", "key", rec.Key, "version", rec.Version)
	}
	return false, fmt.Errorf("origin object changed %d times during the upload", maxOriginRaces)
}

// originMoved reports, after a conditional upload failed without a clear
// answer, whether the object in the origin is no longer the one read before
// it (found, etag): an origin may refuse a failed precondition before it has
// read the body and drop the connection, which reaches us as a transport
// error or a proxy's 502 rather than a 412. Then the upload did not decide
// anything and the caller reads the origin again; when the object is
// unchanged, the failure was the origin's own and stands. It returns what
// the origin holds now (zero when nothing), so that a caller that wants its
// version need not read it again.
func (n *Node) originMoved(ctx context.Context, cr ConditionalRemote, rec objstore.Record, found bool, etag string) (objstore.Record, bool) {
	if ctx.Err() != nil {
		return objstore.Record{}, false
	}
	got, now, err := cr.StatETag(ctx, rec.Key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return objstore.Record{}, found
	case err != nil:
		return objstore.Record{}, false
	}
	return got, !found || now != etag
}
