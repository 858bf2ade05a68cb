// Package peerapi is the private node-to-node HTTP API:
// the handler one node serves under /private/v1/ and the client the other
// nodes use to push records to it, carry the calls of anti-entropy passes
// (node.Sync runs the algorithm) and read the bodies it holds. The client
// implements node.Peers; the handler reaches the node through the Local
// interface.
//
// Authentication is not done here: internal/cluster provides the
// authenticated *http.Client and wraps the handler in its middleware.
//
// # Routes
//
//	GET  /private/v1/ping                        200
//	POST /private/v1/records                     record stream → Local.Apply → 204
//	GET  /private/v1/digests                     the DigestGroups group digests
//	POST /private/v1/digests/leaves              group list → their leaf digests
//	POST /private/v1/leaves                      leaf list + the caller's records of
//	                                             those leaves → the server's records
//	                                             of those leaves (taken before it
//	                                             applies the caller's)
//	GET  /private/v1/body/{bucket}/{id}?v=<ver>  a body the node holds (ranges allowed)
//	GET  /private/v1/s3-credentials              the S3 API's generated keys, sealed
//	                                             under the cluster key (NewCredentialsHandler)
//
// Bad input gets 400, a body over the route's limit 413, and a body the node
// does not hold 404, each with a one-line text/plain reason; a request that
// fails to decode applies nothing.
//
// # Anti-entropy
//
// node.Sync runs a pass (see internal/node, sync.go) with three calls the
// client carries: GroupDigests (one request), LeafDigests of the groups
// that differ (one request), and ExchangeLeaves, which sends the caller's
// records of the leaves that differ and returns the peer's from before it
// merged them (Local.ExchangeLeaves). The client splits an exchange into
// requests of at most maxLeavesPerRequest leaves and about
// maxExchangeBytes of records, and counts the bytes of every body it sends
// and receives (objstore.Traffic).
//
// # Wire format
//
// Everything is binary. Digests are 8 bytes big-endian each, nothing else.
//
// A list (of group or leaf numbers) is a format byte (1), a uvarint count,
// then the numbers as uvarints in strictly increasing order. A leaves
// request is a list of leaves directly followed by a record stream.
//
// A record stream is a recordcodec stream: the record encoding that the
// journal stores, behind a format byte (2), each record with its length,
// a string table for the stream and an end marker; see that package for
// the layout and every check it makes. The handler and the client decode
// with the same decoder as the journal, so a record from a peer passes
// exactly the checks of a record read from disk; a body that does not
// decode is answered 400 with an error wrapping ErrMalformed. A node of
// another version sends another stream format, which is refused as such:
// nodes of different versions do not exchange records.
//
// # Bodies
//
// The body route's bucket and id are each one path segment in which every
// byte other than ASCII letters, digits, '-', '_' and '~' is percent-encoded,
// so that '/', '.', '..', '%' and any other byte an S3 key may hold pass
// through muxes and path cleaning unchanged. The version in the query is
// objstore.Version.String, read back with ParseVersion. Answers carry the
// body's ETag and its CRC-32C as X-Objstore-Crc32c (8 hex digits), and
// support Range.
package peerapi
