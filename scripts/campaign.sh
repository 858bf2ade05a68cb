#!/usr/bin/env bash
# The fault campaign: hundreds of kill -9 rounds at level 0 and at level 1,
# kill -9 rounds while the cache evicts, kill -9 rounds hunting orphans in
# the origin, a node of a 3-node cluster killed under load, the frozen
# origin and the partitioned cluster, all against the real binary and a real
# versitygw (tests/integration). CI runs a few rounds of each through
# scripts/test.sh; this script runs many and collects the summary line each
# test logs ("CAMPAIGN {json}") into one results file, then prints a table.
# RELIABILITY.md describes each test and holds the figures of a run.
#
#   bash scripts/campaign.sh                  # the default counts below
#   CRASH_L0_ROUNDS=320 bash scripts/campaign.sh
#   bash scripts/campaign.sh -o /tmp/campaign # results directory
#   bash scripts/campaign.sh -t results.jsonl # the table of an earlier run
#
# Counts (environment):
#   CRASH_L0_ROUNDS=200    TestCrashKill9, every PUT at level 0
#   CRASH_L1_ROUNDS=200    TestCrashKill9, every PUT at level 1
#   CRASH_MAX_DELAY=1s     latest a kill lands after the writers start
#   CRASH_FULL_CHECK_EVERY=10
#                          every k-th round reads back every object so far
#                          (the others the round's own and 1000 older ones,
#                          the last round all of them)
#   CACHE_ROUNDS=20        TestCacheKill9DuringEviction rounds
#   ORPHAN_ROUNDS=50       TestOrphansKill9 rounds (level 1)
#   CLUSTER_KILL9_RUNS=3   TestClusterKill9Converges runs
#   FROZEN_RUNS=3          TestFrozenOrigin runs
#   PARTITION_RUNS=3       TestClusterPartitionHeal runs (needs root; skipped otherwise)
#   RACE=0                 1 runs the race-instrumented binary (slower, fewer PUTs a round)
# A count of 0 leaves that test out. The results are in
# <out>/results.jsonl (one CAMPAIGN line per test run, with the commit,
# date and host added), each test's log in <out>/<name>.log, the table in
# <out>/table.txt. The script exits non-zero if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# table prints one row per run name of a results file: the sums of the
# counts over its test runs, and the worst (largest) of its times.
table() {
	jq -s -r '
		def sum(f): map(f // 0) | add;
		def worst(f): (map(f // empty) | max) // "-";
		["run", "runs", "passed", "rounds", "acked", "acked_l0", "acked_l1", "unacked", "lost", "torn", "wrong", "errors", "orphans",
			"fail_ms_max", "recover_ms_p50", "recover_ms_max", "detect_ms_max", "converge_ms_max"],
		(group_by(.run)[] | [
			.[0].run, length, (map(select(.passed)) | length), sum(.rounds),
			sum(.acknowledged // .acknowledged_puts), sum(.acknowledged_level0),
			sum(.acknowledged_level1 // (if .levels == [1] then .acknowledged else null end)),
			sum(.unacknowledged // ((.unacknowledged_complete // 0) + (.unacknowledged_absent // 0))),
			sum(.lost), sum(.torn), sum(.wrong), sum(.errors), sum(.orphans),
			worst(.fail_ms_max), worst(.recover_ms_p50), worst(.recover_ms_max), worst(.detect_ms_max), worst(.converge_ms_max)
		]) | @tsv' "$1" | column -t
}

out=""
while getopts "o:t:" opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) table "$OPTARG"; exit 0 ;;
	*) echo "usage: $0 [-o results-dir] [-t results.jsonl]" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/objstore-campaign-XXXXXX")
mkdir -p "$out"
results="$out/results.jsonl"
raw="$out/raw.jsonl"
: >"$results"
: >"$raw"

: "${CRASH_L0_ROUNDS:=200}" "${CRASH_L1_ROUNDS:=200}" "${CRASH_MAX_DELAY:=1s}" "${CRASH_FULL_CHECK_EVERY:=10}"
: "${CACHE_ROUNDS:=20}" "${ORPHAN_ROUNDS:=50}" "${CLUSTER_KILL9_RUNS:=3}" "${FROZEN_RUNS:=3}" "${PARTITION_RUNS:=3}"
: "${RACE:=0}"

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
export PATH="$gobin:$PATH"
command -v versitygw >/dev/null || { echo "versitygw is not on PATH; bash scripts/test.sh installs it" >&2; exit 1; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
export OBJSTORE_CAMPAIGN_OUT="$raw"
export OBJSTORE_INTEGRATION_RACE="$RACE"
race=()
[ "$RACE" = 1 ] && race=(-race)
echo "campaign at $commit, results in $out"

status=0
# run NAME COUNT TESTREGEX [VAR=VALUE...]: one go test invocation; COUNT is
# passed as -count (the round counts go in the variables instead).
run() {
	local name=$1 count=$2 pattern=$3
	shift 3
	local before after
	before=$(wc -l <"$raw")
	printf '==> %-22s ' "$name"
	local start=$SECONDS rc=0
	env "$@" go test "${race[@]}" -count="$count" -timeout 4h -v -run "^($pattern)\$" ./tests/integration/ >"$out/$name.log" 2>&1 || rc=$?
	after=$(wc -l <"$raw")
	# Tag this invocation's lines with the run's name, commit and host.
	tail -n +"$((before + 1))" "$raw" | jq -c --arg run "$name" --arg commit "$commit" --arg host "$(hostname)" \
		--argjson cpus "$(nproc)" '. + {run: $run, commit: $commit, host: $host, cpus: $cpus}' >>"$results"
	if grep -q -- '--- SKIP' "$out/$name.log"; then
		echo "skipped ($(grep -m1 -A1 -- '--- SKIP' "$out/$name.log" | tail -1 | sed 's/^ *//'))"
	elif [ "$rc" -ne 0 ]; then
		echo "FAILED after $((SECONDS - start))s (exit $rc, $((after - before)) summary lines; see $out/$name.log)"
		status=1
	else
		echo "ok in $((SECONDS - start))s"
	fi
}

common=(OBJSTORE_CRASH_MAX_DELAY="$CRASH_MAX_DELAY" OBJSTORE_CRASH_FULL_CHECK_EVERY="$CRASH_FULL_CHECK_EVERY")
[ "$CRASH_L0_ROUNDS" -gt 0 ] && run crash-level0 1 TestCrashKill9 "${common[@]}" OBJSTORE_CRASH_LEVELS=0 OBJSTORE_CRASH_ROUNDS="$CRASH_L0_ROUNDS"
[ "$CRASH_L1_ROUNDS" -gt 0 ] && run crash-level1 1 TestCrashKill9 "${common[@]}" OBJSTORE_CRASH_LEVELS=1 OBJSTORE_CRASH_ROUNDS="$CRASH_L1_ROUNDS"
[ "$ORPHAN_ROUNDS" -gt 0 ] && run orphans 1 TestOrphansKill9 OBJSTORE_ORPHAN_ROUNDS="$ORPHAN_ROUNDS"
[ "$CACHE_ROUNDS" -gt 0 ] && run cache-kill9 1 TestCacheKill9DuringEviction OBJSTORE_CACHE_KILL9_ROUNDS="$CACHE_ROUNDS"
[ "$CLUSTER_KILL9_RUNS" -gt 0 ] && run cluster-kill9 "$CLUSTER_KILL9_RUNS" TestClusterKill9Converges
[ "$FROZEN_RUNS" -gt 0 ] && run frozen-origin "$FROZEN_RUNS" TestFrozenOrigin
[ "$PARTITION_RUNS" -gt 0 ] && run partition "$PARTITION_RUNS" TestClusterPartitionHeal

table "$results" | tee "$out/table.txt"
echo "results: $results"
exit "$status"
