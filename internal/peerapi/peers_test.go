package peerapi_test

import (
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/peerapi"
)

var _ node.Peers = (*peerapi.Client)(nil)
