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
// public and private ports there, so that Partition can cut them apart with
// iptables rules on addresses (tagged objstore-test-<pid>, removed by Heal
// and at cleanup; rules a dead test process left are removed by the next).
// The partition test needs root and the iptables command, which
// scripts/test.sh installs; without them it fails rather than skips.
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
