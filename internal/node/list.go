package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sphere.software/objstore"
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

// List returns one page of bucket's keys as the cluster sees them: the
// origin's listing with the cluster's newer records laid over it. Keys the
// cluster holds but the origin lacks (level 0, or not uploaded yet) are
// added, keys the cluster deleted are hidden, and for keys both hold the
// cluster's size, ETag and time win. The origin must be reachable.
func (n *Node) List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	cat, err := n.catalogOrErr()
	if err != nil {
		return objstore.ListPage{}, err
	}
	p, err := n.mergedList(ctx, cat, bucket, q)
	if err != nil {
		return objstore.ListPage{}, fmt.Errorf("node: list %s: %w", bucket, err)
	}
	return p, nil
}

func (n *Node) mergedList(ctx context.Context, cat Catalog, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	max := q.PageSize()
	origin := &originSide{c: cat, bucket: bucket, q: q, batch: min(max+1, objstore.MaxListKeys)}
	cluster := &clusterSide{j: n.journal, bucket: bucket, prefix: q.Prefix, delim: q.Delimiter}
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
				visible, err := n.prefixVisible(ctx, cat, bucket, o.key)
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
func (n *Node) prefixVisible(ctx context.Context, c Catalog, bucket, cp string) (bool, error) {
	var tombstones bool
	err := n.journal.Scan(ctx, bucket, cp, func(rec objstore.Record) bool {
		tombstones = strings.HasPrefix(rec.ID, cp)
		return false
	})
	if err != nil || !tombstones {
		return true, err
	}
	q := objstore.ListQuery{Prefix: cp}
	for {
		p, err := c.List(ctx, bucket, q)
		if err != nil {
			return false, err
		}
		for _, o := range p.Objects {
			rec, err := n.journal.Get(ctx, objstore.Key{Bucket: bucket, ID: o.Key})
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
	c      Catalog
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
		p, err := o.c.List(ctx, o.bucket, q)
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
	j             Journal
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
	err := c.j.Scan(ctx, c.bucket, c.from, func(rec objstore.Record) bool {
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
