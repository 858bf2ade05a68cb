// Package replica is node-to-node replication over the private HTTP API:
// the handler one node serves under /private/v1/ and the client the other
// nodes use to push records to it, run anti-entropy passes with it and read
// the bodies it holds. The client implements node.Peers; both sides reach
// the node through the Local interface.
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
// objstore.DigestGroups × objstore.LeavesPerGroup leaves split the keyspace
// (see objstore.LeafOf). Client.Sync fetches the peer's group digests and
// compares them with its own; when all are equal the pass costs that one
// request. Otherwise it fetches the leaf digests of the groups that differ
// (one request), and for the leaves that differ it sends all of its records
// of up to maxLeavesPerRequest leaves at a time and gets the peer's back:
// the peer snapshots its records of those leaves, merges the caller's and
// answers with the snapshot, which the caller merges. After one pass both
// sides hold the merge of both in every leaf that differed. Records both
// sides already had cross the wire too, and are harmless: merging is
// idempotent.
//
// # Wire format
//
// Everything is binary. Digests are 8 bytes big-endian each, nothing else.
//
// A list (of group or leaf numbers) is a format byte (1), a uvarint count,
// then the numbers as uvarints in strictly increasing order. A leaves
// request is a list of leaves directly followed by a record stream.
//
// A record stream is a format byte (1), then each record as a uvarint
// length (1..maxRecordSize) followed by that many bytes, then a zero length
// that ends the stream. One record is:
//
//	flags     1 byte: bit 0 Deleted, bit 1 InRemote, bit 2 BodyVersion
//	          equals Version, bit 3 Headers not empty; other bits must be 0
//	level     1 byte, at most objstore.MaxLevel
//	bucket    string reference
//	id        uvarint length + bytes
//	version   uvarint HLC, then the node as a string reference
//	body      BodyVersion like version; absent when flag bit 2 is set
//	size      varint
//	crc32c    4 bytes big-endian
//	md5       16 bytes
//	name      uvarint length + bytes
//	ctype     uvarint length + bytes
//	usermeta  uvarint length+1 + bytes; 0 means nil
//	headers   only when flag bit 3 is set: a uvarint count (at least 1),
//	          then each name as a string reference and its value as uvarint
//	          length + bytes, names strictly increasing
//
// A record without stored headers is encoded as before headers existed.
//
// Buckets, node IDs and header names repeat from record to record, so they
// go through a string table that lives for one stream: a reference is a
// uvarint, 0 followed by a uvarint length and the bytes for a new string
// (which then takes the next index of the table, while it has fewer than
// maxStrings entries), or i+1 for the string at index i. A stream costs about 45 bytes
// per record plus the ID, name and content type.
//
// The decoder rejects varints that do not fit 64 bits, lengths past the end,
// unknown flags and format bytes, empty buckets or IDs, buckets with a 0x00
// byte, levels above objstore.MaxLevel, empty or unsorted headers blocks
// (which would hold a name twice) and trailing bytes, with an error
// wrapping ErrMalformed. It never panics (FuzzDecodeRecords).
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
package replica
