// Package cluster is a node's membership in its objstore cluster — found
// and watched by gossip (github.com/hashicorp/memberlist) — and the one
// port it shares with the private HTTP API that members call on each other.
// The API itself (routes, authentication, client) is internal/peerapi's:
// cluster serves the handler it is given and knows nothing of it.
//
// Start joins; Members lists who is there; SourceIP is the address to call
// the others from; Close leaves.
//
// # One port
//
// The private address (--private-addr, Config.BindAddr, 11999 by default)
// carries three things on one port number:
//
//   - UDP: memberlist's packets (probes, acks, gossip). Every packet, in and
//     out, goes through one socket bound to the private address, so
//     outgoing packets carry the node's bind IP as their source.
//   - TCP, memberlist streams: push/pull state exchanges, joins, fallback
//     probes.
//   - TCP, HTTP/1.1: the private API (routes under /private/v1/, served by
//     Config.Handler).
//
// A custom memberlist transport owns the TCP listener and tells the two
// TCP protocols apart by the first byte of each connection, read in a
// goroutine per connection with a 10-second deadline: an ASCII upper-case
// letter starts an HTTP method; memberlist streams start with byte 244 (the
// label header, always present because objstore always sets a label) or,
// from a peer without a label, with a message type below 14. Outgoing
// streams and private HTTP requests are dialled from the bind IP when it is
// a specific address (net.Dialer.LocalAddr), so rules on source and
// destination addresses (a firewall's) see one address per node.
//
// # Tag and key
//
// The cluster tag (-T, Config.Tag, "default" when empty) becomes
// memberlist's label "objstore/<tag>": memberlist prefixes every packet and
// stream with it and drops what carries another, so clusters with other
// tags cannot talk, even on the same network.
//
// The cluster key (Config.Key) is turned by HKDF-SHA256, salted with the
// tag, into keys that cannot be confused (internal/clusterkey): one is
// memberlist's AES-256 SecretKey, which encrypts and authenticates all
// gossip (and its label), with GossipVerifyIncoming and
// GossipVerifyOutgoing set so plaintext is refused; another is the HMAC
// key of private HTTP requests (derived and checked by internal/peerapi). Without
// a key nothing is encrypted or authenticated, and the node says so at
// start:
//
//	level=WARN msg="no cluster key: gossip is not encrypted and the private API accepts unauthenticated requests; set --cluster-key"
//
// # Joining
//
// Config.Join lists addresses of any members, the seeds (host:port; a bare
// host means port 11999; a host name stands for each of its addresses,
// looked up through Config.Resolver at every visit of the seed, so the
// name of a Kubernetes headless Service finds pods added later).
// The node starts even when none is up. In the background it joins each
// seed, with backoff (1 s doubling to 10 s) while that fails, until the
// seed is an alive member, and checks every 2 s that it still is, joining
// it again when it is not. It does not stop when another node has joined
// it: nodes started at once (a chain in which node k seeds node k-1, a
// star, every node listing every other) would form islands that never
// meet. A seed that answers but is listed under another address (NAT, a
// host name, itself) cannot be told from the member list and is joined
// again every 30 s, which merges islands too; a join of a live member is
// one push/pull exchange. The first join of a seed logs
//
//	level=INFO msg="cluster: joined cluster" via=10.0.0.1:11999 members=3
//
// When new members arrive, a node exchanges full state with one random
// member (at most once a second, on about 8 nodes of the cluster for each
// arrival), and memberlist's own periodic exchange runs every 10 s instead
// of 30 s: gossip of an island merge reaches most nodes but not always all.
//
// An address that is not up yet is logged at info once ("member to join not
// reachable (nothing listens there yet); retrying"), again when the reason
// changes, and at debug otherwise. An address that accepts the connection
// but not the join is looked at with a plain HTTP GET /: the public APIs
// of a node name its private address in the X-Objstore-Private-Addr
// response header (WithPrivateAddr), so -N given a public port logs
//
//	level=ERROR msg="cluster: join refused: 10.0.0.1:10999 is a public port of an objstore node (it answers HTTP), not its private address; give -N its private address 10.0.0.1:11999"
//
// Any other refusal is a member of another cluster — its tag or key
// differs. The address is looked at once; the refusal is logged at every
// attempt, as the node cannot work until it is fixed:
//
//	level=ERROR msg="cluster: join refused: 10.0.0.1:11999 answered but did not accept this node: cluster tag mismatch or wrong cluster key?" tag=blue encrypted=false err="failed to join 10.0.0.1:11999: EOF"
//
// while the member it tried logs the rejected attempt:
//
//	level=WARN msg="cluster: rejected gossip from a node of another cluster: cluster tag mismatch or wrong cluster key?" detail="discarding stream with unacceptable label \"objstore/blue\": from=10.0.0.9:40112"
//
// (with a wrong key the details read "no installed keys could decrypt the
// message"). Memberlist's own log lines reach the Config.Logger at their
// level ("[DEBUG]" → debug, "[WARN]" → warn, "[ERR]" → error).
//
// The node also retries members declared dead every 5 s for a day:
// memberlist alone never contacts a dead member again after a short while,
// so the two sides of a long partition would not merge. Seeds, dead
// members and exchanges of a round are tried at once, so an address that
// does not answer (memberlist's 10 s TCP timeout) delays no other.
//
// Every node logs every other member that joins, comes back, leaves or
// fails, the node that was joined included:
//
//	level=INFO msg="cluster: member joined" id=01J… addr=10.0.0.2:11999
//	level=INFO msg="cluster: member left" id=01J… addr=10.0.0.2:11999
//	level=WARN msg="cluster: member failed: declared dead by the others' probes" id=01J… addr=10.0.0.2:11999
//
// # Members
//
// Members lists every known member with its private address and state:
// "alive", "dead" (declared failed by the others' probes) or "left" (it
// closed and said so). Members are tracked from memberlist's join and
// leave events; memberlist reports no event for suspicion, so a suspect
// member shows "alive" until it is declared dead. A closing node first
// gossips the node meta "leaving", then memberlist's leave: memberlist's
// events cannot tell a leave from a failure by themselves.
package cluster
