package replica

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// Sync runs one anti-entropy pass with m (see the package doc): compare
// group digests, then the leaf digests of the groups that differ, then
// exchange the records of the leaves that differ; both sides merge what
// they lack. The stats count the bytes of request and response bodies.
// Failures of m wrap ErrPeer.
func (c *Client) Sync(ctx context.Context, m objstore.Member) (objstore.SyncStats, error) {
	var st objstore.SyncStats
	groups, err := c.differingGroups(ctx, m, &st)
	if err != nil || len(groups) == 0 {
		return st, err
	}
	leaves, err := c.differingLeaves(ctx, m, groups, &st)
	if err != nil {
		return st, err
	}
	for chunk := range slices.Chunk(leaves, c.leavesPerRequest) {
		if err := c.exchangeChunk(ctx, m, chunk, &st); err != nil {
			return st, err
		}
	}
	c.log.Debug("synced", "peer", m.Addr, "groups_differ", st.GroupsDiffer, "leaves_differ", st.LeavesDiffer,
		"sent", st.Sent, "received", st.Received, "bytes_out", st.BytesOut, "bytes_in", st.BytesIn)
	return st, nil
}

// differingGroups returns the groups whose digests differ between m and here.
func (c *Client) differingGroups(ctx context.Context, m objstore.Member, st *objstore.SyncStats) ([]uint8, error) {
	b, err := c.call(ctx, m, "get group digests", http.MethodGet, pathDigests, nil)
	if err != nil {
		return nil, err
	}
	st.BytesIn += int64(len(b))
	theirs, err := decodeDigests(b, objstore.DigestGroups)
	if err != nil {
		return nil, peerErr("get group digests", m, err)
	}
	ours, err := c.local.GroupDigests(ctx)
	if err != nil {
		return nil, fmt.Errorf("replica: sync with %s: %w", m.Addr, err)
	}
	if len(ours) != objstore.DigestGroups {
		return nil, fmt.Errorf("replica: sync with %s: local has %d group digests, want %d", m.Addr, len(ours), objstore.DigestGroups)
	}
	var groups []uint8
	for g := range objstore.DigestGroups {
		if theirs[g] != ours[g] {
			groups = append(groups, uint8(g))
		}
	}
	st.GroupsDiffer = len(groups)
	return groups, nil
}

// differingLeaves returns the leaves of groups whose digests differ.
func (c *Client) differingLeaves(ctx context.Context, m objstore.Member, groups []uint8, st *objstore.SyncStats) ([]uint16, error) {
	req := appendList(nil, groups)
	st.BytesOut += int64(len(req))
	b, err := c.call(ctx, m, "get leaf digests", http.MethodPost, pathLeafDigests, req)
	if err != nil {
		return nil, err
	}
	st.BytesIn += int64(len(b))
	n := len(groups) * objstore.LeavesPerGroup
	theirs, err := decodeDigests(b, n)
	if err != nil {
		return nil, peerErr("get leaf digests", m, err)
	}
	ours, err := c.local.LeafDigests(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("replica: sync with %s: %w", m.Addr, err)
	}
	if len(ours) != n {
		return nil, fmt.Errorf("replica: sync with %s: local has %d leaf digests for %d groups, want %d", m.Addr, len(ours), len(groups), n)
	}
	var leaves []uint16
	for i := range n {
		if theirs[i] != ours[i] {
			g, l := groups[i/objstore.LeavesPerGroup], i%objstore.LeavesPerGroup
			leaves = append(leaves, uint16(g)<<8|uint16(l))
		}
	}
	st.LeavesDiffer = len(leaves)
	return leaves, nil
}

// exchangeChunk exchanges the records of up to c.leavesPerRequest sorted
// leaves, in as many requests as c.exchangeBytes asks for.
func (c *Client) exchangeChunk(ctx context.Context, m objstore.Member, leaves []uint16, st *objstore.SyncStats) error {
	byLeaf := make(map[uint16][]objstore.Record)
	err := c.local.LeafRecords(ctx, leaves, func(rec objstore.Record) bool {
		leaf := objstore.LeafOf(rec.Key)
		byLeaf[leaf] = append(byLeaf[leaf], rec)
		return true
	})
	if err != nil {
		return fmt.Errorf("replica: sync with %s: %w", m.Addr, err)
	}
	for len(leaves) > 0 {
		enc := recordcodec.NewEncoder(nil)
		n := 0
		for ; n < len(leaves) && (n == 0 || enc.Len() < c.exchangeBytes); n++ {
			for _, rec := range byLeaf[leaves[n]] {
				enc.Add(rec)
			}
		}
		st.Sent += enc.Count()
		if err := c.exchange(ctx, m, leaves[:n], enc.Bytes(), st); err != nil {
			return err
		}
		leaves = leaves[n:]
	}
	return nil
}

// exchange sends one leaves request with the given record stream and
// merges the peer's records of those leaves.
func (c *Client) exchange(ctx context.Context, m objstore.Member, leaves []uint16, stream []byte, st *objstore.SyncStats) error {
	const op = "exchange leaves"
	req := append(appendList(make([]byte, 0, 2+3*len(leaves)+len(stream)), leaves), stream...)
	st.BytesOut += int64(len(req))
	b, err := c.call(ctx, m, op, http.MethodPost, pathLeaves, req)
	if err != nil {
		return err
	}
	st.BytesIn += int64(len(b))
	recs, err := decodeRecords(b)
	if err == nil {
		err = checkLeaves(recs, leaves)
	}
	if err != nil {
		return peerErr(op, m, err)
	}
	st.Received += len(recs)
	if len(recs) == 0 {
		return nil
	}
	if err := c.local.Apply(ctx, recs); err != nil {
		return fmt.Errorf("replica: sync with %s: apply %d records: %w", m.Addr, len(recs), err)
	}
	return nil
}
