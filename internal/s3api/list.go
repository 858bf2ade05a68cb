package s3api

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/sigv4"
)

// afterAll is appended to a common prefix to seek past every key under it:
// 0xFF never occurs in UTF-8, so it sorts after any key with that prefix.
const afterAll = "\xff"

// journalBatch is how many journal records one scan of a listing reads.
const journalBatch = 256

// item is one entry of a merged listing: an object or a common prefix.
type item struct {
	key    string
	prefix bool
	entry  objstore.ListEntry
}

// mergedList lists a bucket as the origin holds it, with the cluster's
// newer records laid over it: keys the cluster holds but the origin lacks
// are added, keys the cluster deleted are hidden, and for keys both hold
// the cluster's size, ETag and time win.
func (s *Server) mergedList(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	max := q.PageSize()
	origin := &originSide{s: s, bucket: bucket, q: q, batch: min(max+1, objstore.MaxListKeys)}
	cluster := &clusterSide{s: s, bucket: bucket, prefix: q.Prefix, delim: q.Delimiter}
	cluster.seekAfter(q.StartAfter)
	var out []item
	for len(out) <= max {
		o, okO, err := origin.peek(ctx)
		if err != nil {
			return objstore.ListPage{}, err
		}
		c, tomb, okC, err := cluster.peek(ctx)
		if err != nil {
			return objstore.ListPage{}, err
		}
		switch {
		case !okO && !okC:
			return page(out, max), nil
		case okC && (!okO || c.key < o.key):
			cluster.next()
			if !tomb {
				out = append(out, c)
			}
		case okO && (!okC || o.key < c.key):
			origin.next()
			if o.prefix {
				visible, err := s.prefixVisible(ctx, bucket, o.key)
				if err != nil {
					return objstore.ListPage{}, err
				}
				if !visible {
					continue
				}
			}
			out = append(out, o)
		default: // the same key or common prefix on both sides
			origin.next()
			cluster.next()
			if !tomb {
				out = append(out, c)
			}
		}
	}
	return page(out, max), nil
}

// prefixVisible reports whether a common prefix that only the origin
// lists has a key the cluster has not deleted. Only when the journal holds
// records under the prefix (which, since the cluster side did not list it,
// are all tombstones) are the origin's keys under it checked one by one.
func (s *Server) prefixVisible(ctx context.Context, bucket, cp string) (bool, error) {
	var tombstones bool
	err := s.node.Scan(ctx, bucket, cp, func(rec objstore.Record) bool {
		tombstones = strings.HasPrefix(rec.ID, cp)
		return false
	})
	if err != nil || !tombstones {
		return true, err
	}
	q := objstore.ListQuery{Prefix: cp}
	for {
		p, err := s.origin.List(ctx, bucket, q)
		if err != nil {
			return false, err
		}
		for _, o := range p.Objects {
			rec, err := s.node.Head(ctx, objstore.Key{Bucket: bucket, ID: o.Key})
			if err != nil && !errors.Is(err, objstore.ErrNotFound) {
				return false, err
			}
			if err != nil || !rec.Deleted {
				return true, nil
			}
		}
		if !p.Truncated {
			return false, nil
		}
		q.StartAfter = p.Next
	}
}

// page cuts a merged listing to max items.
func page(items []item, max int) objstore.ListPage {
	var p objstore.ListPage
	if len(items) > max {
		items = items[:max]
		p.Truncated = true
		p.Next = items[max-1].key
	}
	for _, it := range items {
		if it.prefix {
			p.Prefixes = append(p.Prefixes, it.key)
		} else {
			p.Objects = append(p.Objects, it.entry)
		}
	}
	return p
}

// originSide pages through the origin's listing.
type originSide struct {
	s      *Server
	bucket string
	q      objstore.ListQuery
	batch  int
	buf    []item
	done   bool
}

func (o *originSide) peek(ctx context.Context) (item, bool, error) {
	for len(o.buf) == 0 && !o.done {
		q := o.q
		q.MaxKeys = o.batch
		p, err := o.s.origin.List(ctx, o.bucket, q)
		if err != nil {
			return item{}, false, err
		}
		o.buf = mergeOriginPage(p)
		o.done = !p.Truncated
		o.q.StartAfter = p.Next
	}
	if len(o.buf) == 0 {
		return item{}, false, nil
	}
	return o.buf[0], true, nil
}

func (o *originSide) next() { o.buf = o.buf[1:] }

// mergeOriginPage turns a page into one sorted run of items.
func mergeOriginPage(p objstore.ListPage) []item {
	out := make([]item, 0, len(p.Objects)+len(p.Prefixes))
	i, j := 0, 0
	for i < len(p.Objects) || j < len(p.Prefixes) {
		if j == len(p.Prefixes) || i < len(p.Objects) && p.Objects[i].Key < p.Prefixes[j] {
			out = append(out, item{key: p.Objects[i].Key, entry: p.Objects[i]})
			i++
		} else {
			out = append(out, item{key: p.Prefixes[j], prefix: true})
			j++
		}
	}
	return out
}

// clusterSide pages through the journal's records of the bucket, rolling
// keys up into common prefixes as the origin does.
type clusterSide struct {
	s             *Server
	bucket        string
	prefix, delim string
	from          string // the next scan starts at this ID (inclusive)
	buf           []clusterItem
	done          bool
}

type clusterItem struct {
	item
	tombstone bool
}

// seekAfter positions the scan after a StartAfter key, or after every key
// under the common prefix it stands for.
func (c *clusterSide) seekAfter(after string) {
	c.from = c.prefix
	if after == "" || after < c.prefix {
		return
	}
	if cp, ok := c.commonPrefix(after); ok {
		c.from = cp + afterAll
		return
	}
	c.from = after + "\x00"
}

// commonPrefix returns the common prefix key rolls up into, if any.
func (c *clusterSide) commonPrefix(key string) (string, bool) {
	cp := objstore.ListQuery{Prefix: c.prefix, Delimiter: c.delim}.CommonPrefix(key)
	return cp, cp != ""
}

func (c *clusterSide) peek(ctx context.Context) (it item, tombstone, ok bool, err error) {
	for len(c.buf) == 0 && !c.done {
		if err := c.fill(ctx); err != nil {
			return item{}, false, false, err
		}
	}
	if len(c.buf) == 0 {
		return item{}, false, false, nil
	}
	return c.buf[0].item, c.buf[0].tombstone, true, nil
}

func (c *clusterSide) next() { c.buf = c.buf[1:] }

// fill reads the next batch of journal records from c.from. A common
// prefix ends the batch and moves the scan past every key under it, so a
// directory of a million keys costs one seek, not a million records.
func (c *clusterSide) fill(ctx context.Context) error {
	n := 0
	var last string
	stopped := false
	err := c.s.node.Scan(ctx, c.bucket, c.from, func(rec objstore.Record) bool {
		n++
		last = rec.ID
		if !strings.HasPrefix(rec.ID, c.prefix) {
			stopped, c.done = true, true
			return false
		}
		if cp, ok := c.commonPrefix(rec.ID); ok {
			if !rec.Deleted {
				c.buf = append(c.buf, clusterItem{item: item{key: cp, prefix: true}})
				c.from = cp + afterAll
				stopped = true
				return false
			}
			return n < journalBatch
		}
		c.buf = append(c.buf, clusterItem{item: item{key: rec.ID, entry: entryOf(rec)}, tombstone: rec.Deleted})
		return n < journalBatch
	})
	if err != nil {
		return err
	}
	switch {
	case stopped:
	case n < journalBatch:
		c.done = true
	default:
		c.from = last + "\x00"
	}
	return nil
}

// entryOf is the listing entry of a journal record.
func entryOf(rec objstore.Record) objstore.ListEntry {
	return objstore.ListEntry{Key: rec.ID, Size: rec.Size(), ETag: rec.Sum.ETag(), Modified: rec.Modified()}
}

type listV2Result struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	Marker                *string        `xml:"Marker"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	KeyCount              *int           `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listObject   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listObjects serves ListObjectsV2 (list-type=2) and the original
// ListObjects, which s3cmd and older SDKs still use.
func (s *Server) listObjects(q *request) error {
	query := q.query
	v2 := query.Get("list-type") == "2"
	if lt := query.Get("list-type"); lt != "" && lt != "2" {
		return errInvalidArgument("list-type %q: want 2 or none", lt)
	}
	enc := query.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errInvalidArgument("encoding-type %q: want url", enc)
	}
	maxKeys := objstore.MaxListKeys
	if v := query.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("max-keys %q: want a number from 0 to 1000", v)
		}
		maxKeys = min(n, objstore.MaxListKeys)
	}
	lq := objstore.ListQuery{Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"), MaxKeys: maxKeys}
	res := listV2Result{Name: q.bucket, Prefix: lq.Prefix, Delimiter: lq.Delimiter, MaxKeys: maxKeys, EncodingType: enc}
	if v2 {
		res.StartAfter = query.Get("start-after")
		lq.StartAfter = res.StartAfter
		if tok := query.Get("continuation-token"); tok != "" {
			after, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return errInvalidArgument("the continuation token %q is not one this server issued", tok)
			}
			res.ContinuationToken = tok
			lq.StartAfter = string(after)
		}
	} else {
		marker := query.Get("marker")
		res.Marker = &marker
		lq.StartAfter = marker
	}
	if err := s.checkBucket(q); err != nil {
		return err
	}
	var p objstore.ListPage
	if maxKeys > 0 {
		var err error
		if p, err = s.mergedList(q.r.Context(), q.bucket, lq); err != nil {
			return err
		}
	}
	res.IsTruncated = p.Truncated
	if p.Truncated {
		if v2 {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(p.Next))
		} else {
			res.NextMarker = p.Next
		}
	}
	for _, o := range p.Objects {
		lo := listObject{Key: o.Key, LastModified: xmlTime(o.Modified), ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD"}
		if !v2 || query.Get("fetch-owner") == "true" {
			lo.Owner = &theOwner
		}
		res.Contents = append(res.Contents, lo)
	}
	for _, cp := range p.Prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: cp})
	}
	if v2 {
		n := len(p.Objects) + len(p.Prefixes)
		res.KeyCount = &n
	}
	if enc == "url" {
		res.encodeKeys()
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

// encodeKeys URL-encodes every key-like field, as encoding-type=url asks:
// every byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX, which both unquote and
// unquote_plus (as SDKs decode) read back exactly.
func (res *listV2Result) encodeKeys() {
	enc := func(s string) string { return sigv4.URIEncode(s, false) }
	for _, p := range []*string{&res.Prefix, &res.Delimiter, &res.StartAfter, &res.NextMarker} {
		*p = enc(*p)
	}
	if res.Marker != nil {
		m := enc(*res.Marker)
		res.Marker = &m
	}
	for i := range res.Contents {
		res.Contents[i].Key = enc(res.Contents[i].Key)
	}
	for i := range res.CommonPrefixes {
		res.CommonPrefixes[i].Prefix = enc(res.CommonPrefixes[i].Prefix)
	}
}
