package peerapi

import (
	"context"
	"net/http"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// The calls of an anti-entropy pass (node.Sync runs the pass; these carry
// its calls). Each returns the bytes of the bodies it sent and received.

// GroupDigests returns m's objstore.DigestGroups group digests.
func (c *Client) GroupDigests(ctx context.Context, m objstore.Member) ([]uint64, objstore.Traffic, error) {
	const op = "get group digests"
	var tr objstore.Traffic
	b, err := c.call(ctx, m, op, http.MethodGet, pathDigests, nil)
	tr.In = int64(len(b))
	if err != nil {
		return nil, tr, err
	}
	ds, err := decodeDigests(b, objstore.DigestGroups)
	if err != nil {
		return nil, tr, peerErr(op, m, err)
	}
	return ds, tr, nil
}

// LeafDigests returns m's leaf digests of groups, sorted and distinct:
// len(groups) × objstore.LeavesPerGroup values.
func (c *Client) LeafDigests(ctx context.Context, m objstore.Member, groups []uint8) ([]uint64, objstore.Traffic, error) {
	const op = "get leaf digests"
	req := appendList(nil, groups)
	tr := objstore.Traffic{Out: int64(len(req))}
	b, err := c.call(ctx, m, op, http.MethodPost, pathLeafDigests, req)
	tr.In = int64(len(b))
	if err != nil {
		return nil, tr, err
	}
	ds, err := decodeDigests(b, len(groups)*objstore.LeavesPerGroup)
	if err != nil {
		return nil, tr, peerErr(op, m, err)
	}
	return ds, tr, nil
}

// ExchangeLeaves sends ours, the caller's records of leaves (sorted,
// distinct), to m and returns m's records of those leaves from before it
// merged ours. It sends as many requests as the limits of one request ask
// for: at most c.leavesPerRequest leaves, and no more leaves once the
// records pass c.exchangeBytes (one leaf's records are never split).
func (c *Client) ExchangeLeaves(ctx context.Context, m objstore.Member, leaves []uint16, ours []objstore.Record) ([]objstore.Record, objstore.Traffic, error) {
	byLeaf := make(map[uint16][]objstore.Record)
	for _, rec := range ours {
		leaf := objstore.LeafOf(rec.Key)
		byLeaf[leaf] = append(byLeaf[leaf], rec)
	}
	var theirs []objstore.Record
	var tr objstore.Traffic
	for len(leaves) > 0 {
		enc := recordcodec.NewEncoder(nil)
		n := 0
		for ; n < len(leaves) && n < c.leavesPerRequest && (n == 0 || enc.Len() < c.exchangeBytes); n++ {
			for _, rec := range byLeaf[leaves[n]] {
				enc.Add(rec)
			}
		}
		recs, err := c.exchange(ctx, m, leaves[:n], enc.Bytes(), &tr)
		if err != nil {
			return nil, tr, err
		}
		theirs = append(theirs, recs...)
		leaves = leaves[n:]
	}
	return theirs, tr, nil
}

// exchange sends one leaves request with the given record stream and
// returns the peer's records of those leaves.
func (c *Client) exchange(ctx context.Context, m objstore.Member, leaves []uint16, stream []byte, tr *objstore.Traffic) ([]objstore.Record, error) {
	const op = "exchange leaves"
	req := append(appendList(make([]byte, 0, 2+3*len(leaves)+len(stream)), leaves), stream...)
	tr.Out += int64(len(req))
	b, err := c.call(ctx, m, op, http.MethodPost, pathLeaves, req)
	tr.In += int64(len(b))
	if err != nil {
		return nil, err
	}
	recs, err := decodeRecords(b)
	if err == nil {
		err = checkLeaves(recs, leaves)
	}
	if err != nil {
		return nil, peerErr(op, m, err)
	}
	return recs, nil
}
