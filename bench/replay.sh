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
# REPLAY_TRACE (path), REPLAY_SHARES ("10 25", percent of the unique bytes),
# REPLAY_SCAN (2: the scan's bytes as a whole multiple of the quota; 0: no
# scan runs), REPLAY_TARGETS ("s3fifo lru second-miss nginx"),
# REPLAY_PEAK_TOL (10, %), REPLAY_WANT_PEAK_PCT (the peak nginx is fitted
# to, in % of the quota, instead of the s3fifo node's measured peak: for a
# run of nginx alone), REPLAY_TIMEOUT (1800 s per replay), REPLAY_COLD (1;
# 0 skips the cold sets),
# REPLAY_FIT (keys_zone, or max_size: fit nginx's peak by max_size, with
# the keys zone large), REPLAY_RATE (0: unpaced; else the trace's requests
# per second, for every target, and the cold sets are skipped).
#
# For each target: a fresh cache reads cold set A (objects not in the trace,
# at most half the quota) for the read-through rate on an empty cache; the
# cache is wiped and restarted; the trace's requests are replayed in order
# (in thirds, see bench/cmd/replay) while the cache dir's disk use is
# sampled every 200 ms; then cold set B (alike, other keys) is read for the
# read-through rate at a full quota. Then, on another empty cache, the
# trace again with a one-pass scan of REPLAY_SCAN times the quota mixed into
# its middle third, for the hot set's hit ratio before, during and after.
# objstore runs in S3-FIFO and LRU mode, and S3-FIFO with second-miss
# admission (the scan run only). nginx runs with max_size at the quota,
# then at equal peak: keys_zone is bisected (max_size still the quota) until
# nginx's peak file bytes come within REPLAY_PEAK_TOL % of the s3fifo
# node's (see start_target for why the keys zone and not max_size).
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
SCAN=${REPLAY_SCAN:-2}                                  # scan bytes as a multiple of the quota; 0: no scan runs
TARGETS=${REPLAY_TARGETS:-"s3fifo lru second-miss nginx"} # second-miss runs the scan replay only
PEAK_TOL=${REPLAY_PEAK_TOL:-10}                          # nginx at equal peak: within this many % of objstore's
FIT=${REPLAY_FIT:-keys_zone}                             # what is searched for nginx's equal peak: keys_zone or max_size
RATE=${REPLAY_RATE:-0}                                   # trace requests per second (0: unpaced); paced runs skip the cold sets
RUN_TIMEOUT=${REPLAY_TIMEOUT:-1800}                      # seconds, per replay (a loaded machine is slow)
COLD=${REPLAY_COLD:-1}                                   # 0: skip the cold sets (no read-through rates)
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
UNIQUE=$("${REPLAY[@]}" -mode sim -sim-shares 1 | jq '.[0].capacity')
MAXSHARE=$(for s in $SHARES; do echo "$s"; done | sort -n | tail -1)
SCAN_MAX=$(echo "$UNIQUE * $MAXSHARE / 100 * $SCAN" | bc | cut -d. -f1)
log "setup: creating the subset's objects (first $LIMIT requests; 0 = all), two cold sets and ${SCAN_MAX:-0} B of scan objects in the origin"
timeout "$RUN_TIMEOUT" "${REPLAY[@]}" -mode setup -endpoint "$S3" -scan-bytes "${SCAN_MAX:-0}" >"$OUT/setup.json"
cat "$OUT/setup.json" >&2
UNIQUE=$(jq .unique_bytes "$OUT/setup.json")

# ---- targets -----------------------------------------------------------------
# start_target KIND POLICY SIZE DIR [ADMISSION]: an objstore node (KIND node;
# SIZE is --disk-quota) or nginx (KIND nginx; SIZE is max_size, and NGX_ZONE
# the keys_zone size, see below) with an empty cache under DIR; sets
# ENDPOINT, SIGN_ARGS and CACHE_DIR (the dir whose disk use is sampled).
NGX_ZONE=32m
start_target() {
	local kind=$1 policy=$2 size=$3 dir=$4 admission=${5:-always} port
	rm -rf "$dir"
	mkdir -p "$dir"
	port=$(free_port)
	if [ "$kind" = node ]; then
		start target "$BIN/objstore" --backend s3 --s3-endpoint "http://$CP" --s3-path-style -B "$BUCKET" \
			--public-addr "127.0.0.1:$(free_port)" --private-addr "127.0.0.1:$(free_port)" \
			--s3-api-addr "127.0.0.1:$port" --s3-api-credentials "$S3API_ACCESS:$S3API_SECRET" \
			--state-dir "$dir/state" --files-dir "$dir/files" \
			--disk-quota "$size" --cache-policy "$policy" --cache-admission "$admission" --memory-cache 0
		ENDPOINT=http://127.0.0.1:$port
		SIGN_ARGS=(-access "$S3API_ACCESS" -secret "$S3API_SECRET")
		CACHE_DIR=$dir/files
		wait_status "$ENDPOINT/" 403
		return
	fi
	local user_line=""
	[ "$(id -u)" -ne 0 ] || user_line="user root;"
	mkdir -p "$dir/cache" "$dir/tmp"
	# nginx's cache manager, while the cache is under max_size, sleeps until
	# the LRU tail's `inactive` expiry, but at most 10 s (the cap in
	# ngx_http_file_cache_expire); manager_files/_sleep/_threshold only pace
	# its deletions once it finds the cache over. So max_size is looked at
	# every 10 s, and a fast replay writes tens of MB past it meanwhile.
	# What nginx bounds at once is its keys zone: a worker that cannot
	# allocate a node for a new key evicts the LRU tail itself
	# (ngx_http_file_cache_exists -> forced_expire). A small keys_zone thus
	# caps the number of cached objects synchronously; the equal-peak rows
	# use that. manager_* are set so that the manager deletes all it must,
	# without pauses, whenever it wakes.
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
    proxy_cache_path $dir/cache levels=1:2 keys_zone=r:$NGX_ZONE max_size=$size inactive=24h use_temp_path=off
        manager_files=100000 manager_sleep=10ms manager_threshold=5000ms;
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
            add_header X-Cache-Status \$upstream_cache_status;
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

# run_get LABEL RUN SHARE QUOTA KEYS [args]: one replay against the running
# target, its JSON line recorded with the labels (RUN: trace, scan, cold-a,
# cold-b, or probe: a run of the equal-peak search).
run_get() {
	local label=$1 run=$2 share=$3 quota=$4 keys=$5 line
	shift 5
	line=$(timeout "$RUN_TIMEOUT" "${REPLAY[@]}" -mode get -keys "$keys" -endpoint "$ENDPOINT" "${SIGN_ARGS[@]}" \
		-count-admin "$CPADMIN" "$@") || die "replay $label $run failed"
	jq -c --arg t "$label" --arg r "$run" --argjson s "$share" --argjson q "$quota" --arg z "$NGX_ZONE" \
		--argjson m "${NGX_MAX:-0}" --argjson rate "$RATE" \
		'. + {target: $t, run: $r, share: $s, quota: $q, rate: $rate}
		 + if ($t | startswith("nginx")) then {keys_zone: $z, max_size: $m} else {keys_zone: "-", max_size: 0} end' <<<"$line" >>"$RESULTS"
	log "  $label $run: $(jq -c '{origin_gets, byte_miss_ratio, peak_file_bytes, hot_hit_ratio, req_per_s, errors}' <<<"$line")"
}

# measure LABEL KIND POLICY SIZE SHARE QUOTA: cold set A on an empty cache;
# restart empty; the trace with disk sampling; cold set B on the full cache.
measure() {
	local label=$1 kind=$2 policy=$3 size=$4 share=$5 quota=$6 dir=$WORK/target
	log "$label (share $share %, quota $quota, size $size, keys_zone $NGX_ZONE)"
	if [ "$RATE" = 0 ] && [ "$COLD" = 1 ]; then
		start_target "$kind" "$policy" "$size" "$dir"
		run_get "$label" cold-a "$share" "$quota" cold-a -cold-bytes $((quota / 2))
		stop target
	fi
	start_target "$kind" "$policy" "$size" "$dir"
	run_get "$label" trace "$share" "$quota" trace -du "$CACHE_DIR" -rate "$RATE"
	[ "$RATE" != 0 ] || [ "$COLD" != 1 ] || run_get "$label" cold-b "$share" "$quota" cold-b -cold-bytes $((quota / 2))
	stop target
	keep_nginx_log "$dir" "$label-$share"
	rm -rf "$dir"
}

# one_run LABEL RUN KIND POLICY SIZE SHARE QUOTA ADMISSION [args]: the trace
# once on an empty cache (a scan run, or a probe of the equal-peak search).
one_run() {
	local label=$1 run=$2 kind=$3 policy=$4 size=$5 share=$6 quota=$7 admission=$8 dir=$WORK/target
	shift 8
	log "$label $run (share $share %, quota $quota, size $size, keys_zone $NGX_ZONE)"
	start_target "$kind" "$policy" "$size" "$dir" "$admission"
	run_get "$label" "$run" "$share" "$quota" trace -du "$CACHE_DIR" -rate "$RATE" "$@"
	stop target
	keep_nginx_log "$dir" "$label-$share"
	rm -rf "$dir"
}

# keep_nginx_log DIR NAME: nginx's error log, if any, into the run's logs
# (a small keys zone logs its failed node allocations there).
keep_nginx_log() {
	[ ! -s "$1/error.log" ] || cat "$1/error.log" >>"$OUT/logs/$2.nginx-error.log"
}

# peak_of SHARE TARGET RUN: the last recorded peak file bytes of that run.
peak_of() {
	jq -s --argjson s "$1" --arg t "$2" --arg r "$3" \
		'[.[] | select(.share == $s and .target == $t and .run == $r) | .peak_file_bytes] | last // 0' "$RESULTS"
}

# equal_peak SHARE QUOTA WANT: searches nginx's keys_zone size (FIT
# keys_zone; KiB, bisected, max_size at the quota) or its max_size (FIT
# max_size; keys zone 32m; each probe moves max_size by the peak's miss,
# since the peak is max_size plus what is written between two checks)
# until its peak file bytes come within PEAK_TOL % of WANT, at most 6
# probes; leaves the closest setting found in NGX_ZONE and NGX_MAX.
equal_peak() {
	local share=$1 quota=$2 want=$3 lo=8 hi=4096 x peak best="" bestd=-1 d i
	if [ "$FIT" = max_size ]; then
		# Start where the max_size = quota run says: its overshoot off.
		x=$((quota - ($(peak_of "$share" nginx-maxsize=quota trace) - want)))
		x=$((x < 65536 ? 65536 : x))
	else
		# First guess: 128-byte nodes, 32 to a 4 KiB page, for as many
		# objects as the quota holds at the mean object size, plus 16 KiB.
		x=$(((quota / MEAN_OBJECT / 32 + 1) * 4 + 16))
	fi
	for ((i = 0; i < 6; i++)); do
		if [ "$FIT" = max_size ]; then NGX_ZONE=32m NGX_MAX=$x; else NGX_ZONE=${x}k NGX_MAX=$quota; fi
		one_run nginx-equal-peak probe nginx - "$NGX_MAX" "$share" "$quota" -
		peak=$(peak_of "$share" nginx-equal-peak probe)
		d=$(((peak - want) * 100 / want))
		log "  $FIT $x: peak $peak B against objstore's $want B ($d %)"
		if [ "$bestd" -lt 0 ] || [ "${d#-}" -lt "$bestd" ]; then
			best=$x bestd=${d#-}
		fi
		[ "${d#-}" -gt "$PEAK_TOL" ] || break
		if [ "$FIT" = max_size ]; then
			x=$((x - (peak - want)))
			x=$((x < 65536 ? 65536 : x))
			continue
		fi
		if [ "$peak" -gt "$want" ]; then hi=$x; else lo=$x; fi
		x=$(((lo + hi) / 2))
		[ "$x" -ne "$lo" ] && [ "$x" -ne "$hi" ] || break
	done
	if [ "$FIT" = max_size ]; then NGX_ZONE=32m NGX_MAX=$best; else NGX_ZONE=${best}k NGX_MAX=$quota; fi
	log "  equal peak: keys_zone $NGX_ZONE, max_size $NGX_MAX (peak within $bestd % of objstore's)"
}

MEAN_OBJECT=$((UNIQUE / $(jq .objects "$OUT/setup.json")))
has() {
	case " $TARGETS " in *" $1 "*) return 0 ;; esac
	return 1
}
for share in $SHARES; do
	quota=$((UNIQUE * share / 100))
	scan_bytes=$((quota * SCAN))
	if has s3fifo; then
		measure objstore-s3fifo node s3fifo "$quota" "$share" "$quota"
		[ "$SCAN" = 0 ] || one_run objstore-s3fifo scan node s3fifo "$quota" "$share" "$quota" always -scan-bytes "$scan_bytes"
	fi
	if has lru; then
		measure objstore-lru node lru "$quota" "$share" "$quota"
		[ "$SCAN" = 0 ] || one_run objstore-lru scan node lru "$quota" "$share" "$quota" always -scan-bytes "$scan_bytes"
	fi
	if has second-miss && [ "$SCAN" != 0 ]; then
		one_run objstore-s3fifo-second-miss scan node s3fifo "$quota" "$share" "$quota" second-miss -scan-bytes "$scan_bytes"
	fi
	if has nginx; then
		NGX_ZONE=32m NGX_MAX=$quota
		measure nginx-maxsize=quota nginx - "$quota" "$share" "$quota"
		want=$(peak_of "$share" objstore-s3fifo trace)
		[ -z "${REPLAY_WANT_PEAK_PCT:-}" ] || want=$((quota * REPLAY_WANT_PEAK_PCT / 100))
		if [ "$want" -gt 0 ]; then
			equal_peak "$share" "$quota" "$want"
			# The probe at the setting found is the row (a rerun of the
			# same replay would take as long and change nothing).
			jq -c -s --argjson s "$share" --arg z "$NGX_ZONE" --argjson m "$NGX_MAX" \
				'[.[] | select(.share == $s and .run == "probe" and .keys_zone == $z and .max_size == $m)] | last | .run = "trace"' \
				"$RESULTS" >>"$RESULTS.tmp"
			cat "$RESULTS.tmp" >>"$RESULTS"
			rm -f "$RESULTS.tmp"
			[ "$SCAN" = 0 ] || one_run nginx-equal-peak scan nginx - "$NGX_MAX" "$share" "$quota" - -scan-bytes "$scan_bytes"
		fi
	fi
done

SIMSHARES=$(for s in $SHARES; do printf '%s,' "$(echo "scale=4; $s / 100" | bc)"; done | sed 's/,$//')
"${REPLAY[@]}" -mode sim -sim-shares "$SIMSHARES" >"$OUT/sim.json"
"${REPLAY[@]}" -mode sim -sim-shares "$SIMSHARES" -sim-scan "$SCAN" >"$OUT/sim-scan.json"

# ---- tables ------------------------------------------------------------------
{
	echo "subset: $(jq -c . "$OUT/setup.json")"
	echo
	echo "requests per second: ${RATE} (0: unpaced, $CONC in flight)"
	echo
	echo "| share | quota, MB | target | keys_zone | max_size, MB | origin GETs | origin MB | object miss | byte miss | peak du -sb, MB | peak files, MB | req/s | failed GETs | read-through req/s empty → full (ratio) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	jq -s -r '
	  group_by([.share, .target])[] |
	  (map(select(.run == "trace"))[0]) as $t | select($t != null) |
	  (map(select(.run == "cold-a"))[0]) as $a |
	  (map(select(.run == "cold-b"))[0]) as $b |
	  "| \($t.share) % | \($t.quota / 1e6 * 10 | round / 10) | \($t.target) | \($t.keys_zone) | \($t.max_size / 1e6 * 10 | round / 10) | \($t.origin_gets) | \($t.origin_bytes / 1e6 * 10 | round / 10) | \($t.object_miss_ratio * 1000 | round / 1000) | \($t.byte_miss_ratio * 1000 | round / 1000) | \($t.peak_disk_bytes / 1e6 * 10 | round / 10) | \($t.peak_file_bytes / 1e6 * 10 | round / 10) | \($t.req_per_s | round) | \($t.errors) | \(if $a == null or $b == null then "-" else "\($a.req_per_s | round) → \($b.req_per_s | round) (\($b.req_per_s / $a.req_per_s * 100 | round / 100))" end) |"' "$RESULTS"
	echo
	echo "equal-peak search (nginx, $FIT searched):"
	echo
	echo "| share | keys_zone | max_size, MB | peak files, MB | origin GETs | object miss | byte miss | req/s | errors |"
	echo "|---|---|---|---|---|---|---|---|---|"
	jq -s -r '.[] | select(.run == "probe") | "| \(.share) % | \(.keys_zone) | \(.max_size / 1e6 * 10 | round / 10) | \(.peak_file_bytes / 1e6 * 10 | round / 10) | \(.origin_gets) | \(.object_miss_ratio * 1000 | round / 1000) | \(.byte_miss_ratio * 1000 | round / 1000) | \(.req_per_s | round) | \(.errors) |"' "$RESULTS"
	echo
	echo "with a one-pass scan of $SCAN× the quota in the middle third (miss ratios over the trace's requests only):"
	echo
	echo "| share | target | scan objects / MB | scan origin GETs | object miss | byte miss | peak files, MB | hot hit before / during / after | X-Cache-Status HIT of hot requests |"
	echo "|---|---|---|---|---|---|---|---|---|"
	jq -s -r '.[] | select(.run == "scan") | "| \(.share) % | \(.target) | \(.scan_requests) / \(.scan_bytes / 1e6 * 10 | round / 10) | \(.scan_origin_gets) | \(.object_miss_ratio * 1000 | round / 1000) | \(.byte_miss_ratio * 1000 | round / 1000) | \(.peak_file_bytes / 1e6 * 10 | round / 10) | \([.hot_hit_ratio[] | . * 1000 | round / 1000] | map(tostring) | join(" / ")) | \(.hot_header_hits | map(tostring) | join(" / ")) of \(.hot_requests | map(tostring) | join(" / ")) |"' "$RESULTS"
	echo
	echo "errors: $(jq -s '[.[].errors] | add' "$RESULTS")"
	echo
	echo "offline (internal/evict on the same requests and sizes, no server), without and with the scan:"
	echo
	echo "| capacity, MB | policy | scan MB | object miss | byte miss | hot hit before / during / after |"
	echo "|---|---|---|---|---|---|"
	jq -s -r '.[][] | "| \(.capacity / 1e6 * 10 | round / 10) | \(.policy) | \(.scan_bytes / 1e6 * 10 | round / 10) | \(.object_miss_ratio * 1000 | round / 1000) | \(.byte_miss_ratio * 1000 | round / 1000) | \([.hot_hit_ratio[] | . * 1000 | round / 1000] | map(tostring) | join(" / ")) |"' "$OUT/sim.json" "$OUT/sim-scan.json"
} | tee "$OUT/summary.txt"
