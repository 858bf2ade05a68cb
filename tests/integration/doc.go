// Package integration tests the real objstore binary end to end.
//
// TestMain builds ./cmd/objstore once with the race detector. Every test
// then starts its own S3-compatible origin (versitygw on a posix backend, as
// its own process behind a request-counting proxy, from internal/objstoretest)
// and one or more objstore nodes as child processes on loopback ports, with
// state and files in the test's temporary directory. The tests talk to the
// nodes over the public HTTP API and look at the origin with an S3 client.
// A node whose log shows a data race or a panic fails the test.
//
// # Clusters
//
// StartCluster runs nodes that share one key, tag and bucket, each on its
// own loopback address (127.0.b.11, .12, …, a block b per cluster) with its
// public and private ports there.
//
// # Partitions, in network namespaces the test owns
//
// A partition test never touches the host's network: it adds no firewall
// rule, no interface and no address to it. StartCluster with
// ClusterOpts.Isolated runs each node in a network namespace of its own
// (ip netns add objstore-test-<pid>-<seq>-<k>), with a link-local address
// 169.254.b.(10+k)/24 on the inside end of a veth pair whose other end is on
// the bridge br0 of a hub namespace (…-hub); nothing in these namespaces
// routes anywhere else. Nodes run under `ip netns exec`; the test reaches
// them by dialling from inside their namespace (setns on a locked thread,
// which then returns to the host's namespace), and they reach the origin on
// the host through a forwarder: a listener on the origin's own address
// 127.0.0.1:port inside each node's namespace, relayed by the test process.
// Partition moves the hub-side veths of each side onto a bridge of its own,
// so sides cannot exchange a packet while each node still reaches the
// origin and the test; Heal moves them back. The namespaces are deleted at
// the test's cleanup even when it fails, and those named with the pid of a
// process that no longer exists (a test killed by a timeout) are deleted by
// the next partition test. Without root, the ip command (Debian package
// iproute2) or network namespaces, partition tests skip and say why.
// TestNetworkPartition checks this machinery alone.
//
// # Running
//
// The suite runs as part of the project's test command:
//
//	bash scripts/test.sh
//
// which installs versitygw when it is missing. To run one test:
//
//	bash scripts/test.sh -run TestReadmeSession ./tests/integration/
//
// or, with versitygw already on PATH:
//
//	go test -race -count=1 -run TestReadmeSession ./tests/integration/
//
// TestCrashKill9 runs OBJSTORE_CRASH_ROUNDS rounds (default 50) and logs the
// seed it used; set OBJSTORE_CRASH_SEED to replay one.
package integration
