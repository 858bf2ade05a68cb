#!/usr/bin/env bash
# The cost of Prometheus metrics on hot GETs: two nodes from one build, one
# with metrics on (the default) and one with --metrics=false, each serving
# the same 4 KiB object from memory (the fast path), measured with wrk in
# alternating runs in the same session, so that the load other processes
# put on the machine falls on both alike. Prints each run, the medians and
# their ratio (on ÷ off); the target is ≥ 0.95.
#
#   bash bench/metrics.sh                       # 5 runs of 5 s per node
#   BENCH_RUNS=3 BENCH_WRK_DUR=3s bash bench/metrics.sh
#   BENCH_OFF_FIRST=1 bash bench/metrics.sh     # start the node without metrics first
#
# Both nodes use the local-directory origin and listen on 127.0.0.1 ports
# the kernel picks; everything is under a temporary directory, removed at
# the end, and only the processes started here are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-5}
WRK_DUR=${BENCH_WRK_DUR:-5s}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNS:-32}
for tool in go wrk curl; do
	command -v "$tool" >/dev/null || { echo "bench/metrics.sh: $tool is not installed" >&2; exit 1; }
done

WORK=$(mktemp -d)
# The nodes' PIDs go to a file: start runs in a command substitution, a
# subshell, whose variables the cleanup would never see.
PIDFILE=$WORK/pids
: >"$PIDFILE"
cleanup() {
	local pid
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || true
		# Not our child (started in a subshell): wait for it by polling.
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done <"$PIDFILE"
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/objstore" ./cmd/objstore
KEY=$("$WORK/objstore" keygen)

# start NAME ARGS...: a node on loopback; prints its public URL.
start() {
	local name=$1 i addr=""
	shift
	mkdir -p "$WORK/$name"
	"$WORK/objstore" --backend local --origin-dir "$WORK/$name/origin" --state-dir "$WORK/$name/state" \
		--files-dir "$WORK/$name/files" --public-addr 127.0.0.1:0 --private-addr 127.0.0.1:0 --s3-api-addr "" \
		--cluster-key "$KEY" "$@" >"$WORK/$name/log" 2>&1 &
	echo $! >>"$PIDFILE"
	for ((i = 0; i < 100; i++)); do
		addr=$(grep -o 'api=native addr=[0-9.:]*' "$WORK/$name/log" | head -1 | cut -d= -f3) && [ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$WORK/$name/log" >&2; exit 1; }
	echo "http://$addr"
}

# hot URL: PUT a 4 KiB object, read it twice (the second read comes from
# memory), and print its URL.
hot() {
	local base=$1 id
	id=$(curl -fsS "$base/api/v1/id")
	curl -fsS -o /dev/null --data-binary "@$WORK/b4k" -H "X-Meta-ID: $id" -H "X-Meta-ConsistencyLevel: 0" "$base/api/v1/put"
	curl -fsS -o /dev/null "$base/api/v1/get/$id"
	curl -fsS -o /dev/null "$base/api/v1/get/$id"
	echo "$base/api/v1/get/$id"
}

head -c 4096 /dev/urandom >"$WORK/b4k"
# BENCH_OFF_FIRST=1 starts the node without metrics first, to see whether
# a difference follows the start order rather than the metrics.
if [ "${BENCH_OFF_FIRST:-0}" = 1 ]; then
	OFF=$(hot "$(start off --metrics=false)")
	ON=$(hot "$(start on)")
else
	ON=$(hot "$(start on)")
	OFF=$(hot "$(start off --metrics=false)")
fi
scrape=$(curl -fsS "${ON%/api/*}/metrics")
grep -q '^objstore_http_requests_total' <<<"$scrape" || { echo "the node with metrics serves none" >&2; exit 1; }
[ "$(curl -sS -o /dev/null -w '%{http_code}' "${OFF%/api/*}/metrics")" = 404 ] || { echo "the node with --metrics=false serves /metrics" >&2; exit 1; }

echo "cpus $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DUR, $RUNS runs each, alternating"
# rate URL: one wrk run's requests per second.
rate() {
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DUR" "$1" | awk '$1 == "Requests/sec:" {print $2}'
}
on_rates=() off_rates=()
for ((r = 1; r <= RUNS; r++)); do
	# Alternate which goes first, so neither always runs on a warmer (or
	# busier) machine.
	if ((r % 2)); then
		on_rates+=("$(rate "$ON")") off_rates+=("$(rate "$OFF")")
	else
		off_rates+=("$(rate "$OFF")") on_rates+=("$(rate "$ON")")
	fi
	echo "run $r: metrics on ${on_rates[-1]} req/s, off ${off_rates[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m_on=$(median "${on_rates[@]}") m_off=$(median "${off_rates[@]}")
echo "median: metrics on $m_on req/s, off $m_off req/s, ratio $(awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "%.3f", a / b}') (target >= 0.95)"
scrape=$(curl -fsS "${ON%/api/*}/metrics")
served=$(awk '/^objstore_http_requests_total\{api="native",code="200",operation="get"\}/ {print $2}' <<<"$scrape")
echo "the node with metrics counted $served hot GETs"
