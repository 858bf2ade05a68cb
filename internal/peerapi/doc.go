// Package peerapi is the private node-to-node HTTP API:
// the handler one node serves under /private/v1/ and the client the other
// nodes use to push records to it, carry the calls of anti-entropy passes
// (node.Sync runs the algorithm) and read the bodies it holds. The client
// implements node.Peers; the handler reaches the node through the Local
// interface.
//
// It also forwards clients' S3 requests to the node that must answer them
// (Forwarder, Forwarded), and signs and checks every request with the
// cluster key (NewHTTPClient, Authenticate). internal/cluster serves the
// private API on its port; the two packages do not import each other, and
// cmd/objstore wires them.
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
//	*    /private/v1/forward/s3/{path}           a client's S3 request, forwarded whole
//	                                             (Forwarder, Forwarded)
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
// # Authentication
//
// With a key, every private request carries
//
//	X-Objstore-Node: <sender node id>
//	X-Objstore-Date: <Unix milliseconds>
//	X-Objstore-To: <the addressee's node id>
//	X-Objstore-Nonce: <32 hex digits, 128 random bits new for each request>
//	X-Objstore-Content-Sha256: <hex SHA-256 of the body, or UNSIGNED-PAYLOAD without a body>
//	Authorization: OBJSTORE-HMAC-SHA256 <hex HMAC-SHA256(api key, S)>
//
// where S = method "\n" escaped-path "?" raw-query "\n" date "\n" node "\n"
// to "\n" nonce "\n" body-hash, and the api key is HKDF-SHA256 of the cluster key
// salted with the cluster tag (internal/clusterkey). NewHTTPClient's client
// signs (Sign); Authenticate checks (Verify) before the handler runs, and
// answers 401 with a one-line reason for missing, repeated or malformed
// headers, a date more than 5 minutes from its clock, a bad signature
// (compared in constant time), a body that does not match its signed hash,
// a request addressed to another node, or a nonce it has already admitted
// ("replayed"); 413 for a body above
// MaxBodySize (64 MiB). Bodies are buffered to be hashed — private request
// bodies are batches of records — and the handler reads the verified bytes.
// Responses stream and are not signed.
//
// Replays: a node remembers the nonce of each request it admitted until the
// request's signed date leaves the 5-minute window (after which the date
// check refuses it anyway), so a captured request is refused by the node
// it was sent to. The memory is bounded (maxNonces); when full, new
// requests get 503 rather than the set growing. X-Objstore-To binds a
// request to the node it was sent to, so it cannot be replayed to another
// either. A transport retry of a request that reached the node is refused
// as a replay; the caller sees a failed request, as it would have seen the
// broken connection.
//
// The one exception to hashing is a forwarded S3 request, whose body may be
// gigabytes: under StreamingPathPrefix (/private/v1/forward/) a request may
// carry the body hash STREAMING-UNHASHED-PAYLOAD and stream its body, which
// the client's own SigV4 signature covers and the receiving S3 API checks.
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
