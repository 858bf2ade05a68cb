package replica_test

import (
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/replica"
)

var _ node.Peers = (*replica.Client)(nil)
