package localdir

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"strings"

	"sphere.software/objstore"
)

// GetIfNoneMatch is Get made conditional on the object's ETag, as S3 does
// it: when the object's ETag (the MD5 of its body, in quotes) is etag, the
// error wraps objstore.ErrNotModified and no body is returned. The ETag of
// a file objstore did not write is computed by reading the file, which is
// cheap next to the copy it saves.
func (r *Remote) GetIfNoneMatch(ctx context.Context, key objstore.Key, etag string) (io.ReadCloser, objstore.Record, error) {
	body, rec, err := r.Get(ctx, key)
	if err != nil {
		return nil, rec, err
	}
	tag, err := fileETag(body, rec)
	if err != nil {
		_ = body.Close() // read-only; the error that matters is err
		return nil, objstore.Record{}, unavailable("conditional get", key, err)
	}
	if strings.Trim(etag, `"`) == strings.Trim(tag, `"`) {
		_ = body.Close() // read-only
		return nil, objstore.Record{}, fmt.Errorf("localdir: conditional get %s: %w", key, objstore.ErrNotModified)
	}
	return body, rec, nil
}

// fileETag returns the ETag of the body Get opened: the recorded MD5 when
// the sidecar has one, else the MD5 of the file, read and rewound.
func fileETag(body io.ReadCloser, rec objstore.Record) (string, error) {
	if rec.Sum.MD5 != (objstore.MD5{}) {
		return rec.Sum.ETag(), nil
	}
	f, ok := body.(*os.File)
	if !ok {
		return "", fmt.Errorf("body is a %T, not a file", body)
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	var m objstore.MD5
	copy(m[:], h.Sum(nil))
	return `"` + m.String() + `"`, nil
}
