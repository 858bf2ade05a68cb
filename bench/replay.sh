#!/usr/bin/env bash
# Trace replay (issue 9, item 2): the web-cache trace in ../shared/traces/
# replayed through the S3 API of a bounded objstore node (--cache-policy
# s3fifo, then lru) and through nginx proxy_cache, all in front of one origin
# (versitygw, posix backend) behind the counting proxy, with the quota at
# 10 % and 25 % of the unique bytes of the replayed subset. See BENCHMARKS.md,
# "Trace replay through the S3 API".
#
#   bash bench/replay.sh                       # first 20,000 requests, about 10 minutes
#   REPLAY_LIMIT=0 bash bench/replay.sh        # the whole trace (279 MB of objects)
#
# Knobs (environment): REPLAY_LIMIT (requests, 0 = all), REPLAY_CONC (16),
# REPLAY_TRACE (path), REPLAY_SHARES ("10 25", percent of the unique bytes).
#
# For each target: a fresh cache reads cold set A (objects not in the trace,
# at most half the quota) for the read-through rate on an empty cache; the
# cache is wiped and restarted; the trace's requests are replayed in order
# while `du -sb` of the cache dir is sampled every 200 ms; then cold set B
# (alike, other keys) is read for the read-through rate at a full quota.
# nginx runs twice per share: with max_size at the quota, then with max_size
# scaled so that its peak disk use matches the objstore nodes' peak.
#
# Everything listens on 127.0.0.1; every process is started here and stopped
# by its PID; each replay is bounded by `timeout`. Results:
# bench/out/replay-<UTC time>/ (results.jsonl, summary.txt, logs/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$PATH:$(go env GOPATH)/bin"
LIMIT=${REPLAY_LIMIT:-20000}
CONC=${REPLAY_CONC:-16}
TRACE=${REPLAY_TRACE:-../shared/traces/cdn-adaptsize.trace.xz}
SHARES=${REPLAY_SHARES:-"10 25"}
RUN_TIMEOUT=600 # seconds, per replay
BUCKET=bench
export AWS_ACCESS_KEY_ID=benchaccess AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 2>/dev/null || true
S3API_ACCESS=objstorebench
S3API_SECRET=objstore-replay-$$-$RANDOM

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/out/replay-$STAMP
mkdir -p "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/objstore-replay.XXXXXX")
BIN=$WORK/bin

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

# ---- processes (as bench/run.sh) ---------------------------------------------
PIDS=()
NAMES=()
start() {
	local name=$1
	shift
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	PIDS+=($!)
	NAMES+=("$name")
	log "started $name (pid $!)"
}
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
stop() {
	local i
	for i in "${!NAMES[@]}"; do
		if [ "${NAMES[$i]}" = "$1" ]; then
			stop_pid "${PIDS[$i]}"
			unset 'NAMES[i]' 'PIDS[i]'
		fi
	done
}
cleanup() {
	local status=$? i
	for i in "${!PIDS[@]}"; do
		stop_pid "${PIDS[$i]}"
	done
	rm -rf "$WORK"
	[ "$status" -eq 0 ] || log "failed (status $status); logs in $OUT/logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() {
	local url=$1 i
	for ((i = 0; i < 200; i++)); do
		curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	die "$url did not answer within 20s"
}
wait_status() {
	local url=$1 code=$2 i
	for ((i = 0; i < 200; i++)); do
		[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)" != "$code" ] || return 0
		sleep 0.1
	done
	die "$url did not answer $code within 20s"
}

for tool in go nginx jq curl xz du bc; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
VERSITYGW=$(command -v versitygw || true)
[ -n "$VERSITYGW" ] || die "versitygw not found; install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

log "building into $BIN"
mkdir -p "$BIN"
go build -o "$BIN/" ./cmd/objstore ./bench/cmd/countproxy ./bench/cmd/replay

# ---- origin and counting proxy -----------------------------------------------
P_S3=$(free_port)
S3=http://127.0.0.1:$P_S3
mkdir -p "$WORK/s3"
start versitygw "$VERSITYGW" --port "127.0.0.1:$P_S3" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
	--region "$AWS_REGION" --keep-alive --quiet --health /health posix "$WORK/s3"
wait_http "$S3/health"
start countproxy "$BIN/countproxy" -upstream "$S3" -listen 127.0.0.1:0 -admin 127.0.0.1:0
for ((i = 0; i < 100; i++)); do
	grep -q '^admin ' "$OUT/logs/countproxy.log" 2>/dev/null && break
	sleep 0.1
done
CP=$(awk '$1 == "proxy" {print $2}' "$OUT/logs/countproxy.log")
CPADMIN=http://$(awk '$1 == "admin" {print $2}' "$OUT/logs/countproxy.log")
[ -n "$CP" ] || die "countproxy did not start"

REPLAY=("$BIN/replay" -trace "$TRACE" -limit "$LIMIT" -c "$CONC" -bucket "$BUCKET")
log "setup: creating the subset's objects (first $LIMIT requests; 0 = all) and two cold sets in the origin"
timeout "$RUN_TIMEOUT" "${REPLAY[@]}" -mode setup -endpoint "$S3" >"$OUT/setup.json"
cat "$OUT/setup.json" >&2
UNIQUE=$(jq .unique_bytes "$OUT/setup.json")

# ---- targets -----------------------------------------------------------------
# start_target KIND POLICY QUOTA|MAXSIZE DIR: an objstore node (KIND node) or
# nginx (KIND nginx) with an empty cache under DIR; sets ENDPOINT, SIGN_ARGS
# and CACHE_DIR (the dir whose disk use is sampled).
start_target() {
	local kind=$1 policy=$2 size=$3 dir=$4 port
	rm -rf "$dir"
	mkdir -p "$dir"
	port=$(free_port)
	if [ "$kind" = node ]; then
		start target "$BIN/objstore" --backend s3 --s3-endpoint "http://$CP" --s3-path-style -B "$BUCKET" \
			--public-addr "127.0.0.1:$(free_port)" --private-addr "127.0.0.1:$(free_port)" \
			--s3-api-addr "127.0.0.1:$port" --s3-api-credentials "$S3API_ACCESS:$S3API_SECRET" \
			--state-dir "$dir/state" --files-dir "$dir/files" \
			--disk-quota "$size" --cache-policy "$policy" --memory-cache 0
		ENDPOINT=http://127.0.0.1:$port
		SIGN_ARGS=(-access "$S3API_ACCESS" -secret "$S3API_SECRET")
		CACHE_DIR=$dir/files
		wait_status "$ENDPOINT/" 403
		return
	fi
	local user_line=""
	[ "$(id -u)" -ne 0 ] || user_line="user root;"
	mkdir -p "$dir/cache" "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
# Generated by bench/replay.sh.
$user_line
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/client;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    proxy_cache_path $dir/cache levels=1:2 keys_zone=r:32m max_size=$size inactive=24h use_temp_path=off;
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://$CP;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache r;
            proxy_cache_key \$uri;     # presigned URLs differ in their query; the object is the path
            proxy_cache_valid 200 24h;
            proxy_cache_lock on;
        }
    }
}
EOF
	nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "nginx config rejected; see $dir/nginx.conf"
	start target nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
	ENDPOINT=http://127.0.0.1:$port
	SIGN_ARGS=(-sign-endpoint "http://$CP")
	CACHE_DIR=$dir/cache
	wait_status "$ENDPOINT/" 403
}

# run_get LABEL SHARE QUOTA KEYS [args]: one replay against the running
# target, its JSON line recorded with the labels.
run_get() {
	local label=$1 share=$2 quota=$3 keys=$4 line
	shift 4
	line=$(timeout "$RUN_TIMEOUT" "${REPLAY[@]}" -mode get -keys "$keys" -endpoint "$ENDPOINT" "${SIGN_ARGS[@]}" \
		-count-admin "$CPADMIN" "$@") || die "replay $label $keys failed"
	jq -c --arg t "$label" --argjson s "$share" --argjson q "$quota" '. + {target: $t, share: $s, quota: $q}' <<<"$line" >>"$RESULTS"
	log "  $label $keys: $line"
}

# measure LABEL KIND POLICY SIZE SHARE QUOTA: cold set A on an empty cache;
# restart empty; the trace with disk sampling; cold set B on the full cache.
measure() {
	local label=$1 kind=$2 policy=$3 size=$4 share=$5 quota=$6 dir=$WORK/target
	log "$label (share $share %, quota $quota, size $size)"
	start_target "$kind" "$policy" "$size" "$dir"
	run_get "$label" "$share" "$quota" cold-a -cold-bytes $((quota / 2))
	stop target
	start_target "$kind" "$policy" "$size" "$dir"
	run_get "$label" "$share" "$quota" trace -du "$CACHE_DIR"
	run_get "$label" "$share" "$quota" cold-b -cold-bytes $((quota / 2))
	stop target
	rm -rf "$dir"
}

for share in $SHARES; do
	quota=$((UNIQUE * share / 100))
	measure objstore-s3fifo node s3fifo "$quota" "$share" "$quota"
	measure objstore-lru node lru "$quota" "$share" "$quota"
	# nginx: max_size at the quota first, then scaled so its peak matches
	# the higher of the two nodes' peaks.
	measure nginx-maxsize=quota nginx - "$quota" "$share" "$quota"
	target_peak=$(jq -s --argjson s "$share" '[.[] | select(.share == $s and .keys == "trace" and (.target | startswith("objstore"))) | .peak_disk_bytes] | max' "$RESULTS")
	nginx_peak=$(jq -s --argjson s "$share" '[.[] | select(.share == $s and .keys == "trace" and .target == "nginx-maxsize=quota") | .peak_disk_bytes] | max' "$RESULTS")
	scaled=$((quota * target_peak / nginx_peak))
	scaled=$((scaled < 4096 ? 4096 : scaled))
	measure "nginx-maxsize=$scaled" nginx - "$scaled" "$share" "$quota"
done

"${REPLAY[@]}" -mode sim -sim-shares "$(for s in $SHARES; do printf '%s,' "$(echo "scale=4; $s / 100" | bc)"; done | sed 's/,$//')" >"$OUT/sim.json"

# ---- table -------------------------------------------------------------------
{
	echo "subset: $(jq -c . "$OUT/setup.json")"
	echo
	echo "| share | quota, MB | target | origin GETs | origin MB | object miss | byte miss | peak du -sb, MB | peak files, MB | req/s | read-through req/s empty → full (ratio) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	jq -s -r '
	  group_by([.share, .target])[] |
	  (map(select(.keys == "trace"))[0]) as $t |
	  (map(select(.keys == "cold-a"))[0]) as $a |
	  (map(select(.keys == "cold-b"))[0]) as $b |
	  "| \($t.share) % | \($t.quota / 1e6 * 10 | round / 10) | \($t.target) | \($t.origin_gets) | \($t.origin_bytes / 1e6 * 10 | round / 10) | \($t.object_miss_ratio * 1000 | round / 1000) | \($t.byte_miss_ratio * 1000 | round / 1000) | \($t.peak_disk_bytes / 1e6 * 10 | round / 10) | \($t.peak_file_bytes / 1e6 * 10 | round / 10) | \($t.req_per_s | round) | \($a.req_per_s | round) → \($b.req_per_s | round) (\($b.req_per_s / $a.req_per_s * 100 | round / 100)) |"' "$RESULTS"
	echo
	echo "errors: $(jq -s '[.[].errors] | add' "$RESULTS")"
	echo
	echo "offline (internal/evict on the same requests and sizes, no server):"
	echo
	echo "| capacity, MB | policy | object miss | byte miss |"
	echo "|---|---|---|---|"
	jq -r '.[] | "| \(.capacity / 1e6 * 10 | round / 10) | \(.policy) | \(.object_miss_ratio * 1000 | round / 1000) | \(.byte_miss_ratio * 1000 | round / 1000) |"' "$OUT/sim.json"
} | tee "$OUT/summary.txt"
