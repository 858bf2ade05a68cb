package node

import (
	"sync/atomic"

	"sphere.software/objstore"
)

// corruptReports counts ReportCorrupt calls in this process.
//
// This file is a stand-in for the real ReportCorrupt (internal/node/repair.go,
// branch h/repair): the lead deletes it at merge.
var corruptReports atomic.Int64

// ReportCorrupt is told of every local body found corrupt while it was
// served: by its first verification at Open, by a block check while it
// streamed to a client or a peer, or while it filled the memory cache. The
// store has removed the body already; the next read of the key goes to a
// peer or the origin. This minimal version only logs and counts.
func (n *Node) ReportCorrupt(key objstore.Key, v objstore.Version, cause error) {
	corruptReports.Add(1)
	n.log.Warn("corrupt local body dropped", "key", key, "version", v, "err", cause)
}
