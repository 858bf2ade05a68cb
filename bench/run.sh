#!/usr/bin/env bash
# objstore benchmarks: hot GETs, through the native API and through the
# node's S3 API, beside nginx and a bare Go net/http server; PUTs, native and
# through the S3 API, beside direct S3 PUTs and (latency) an nginx proxy in front of them; a cold-miss stampede beside an
# nginx caching proxy; peer reads in a two-node cluster beside local hits;
# and the cost of one anti-entropy pass beside shipping the whole journal.
# See BENCHMARKS.md.
#
#   bash bench/run.sh                 # full run, about 10 minutes
#   BENCH_QUICK=1 bash bench/run.sh   # smoke run, about 2 minutes
#
# Everything listens on loopback only (127.0.0.1; the cluster's two nodes on
# 127.0.0.31 and 127.0.0.32), every node's S3 API included (each node gets
# --s3-api-addr explicitly: a free loopback port, or empty where it is not
# measured); every load is bounded in time and count. Raw results go to
# bench/out/<UTC time>/ (bench/out/latest links to the newest); the summary
# table is printed at the end and kept there as summary.txt.
#
# Knobs (environment):
#   BENCH_QUICK=1     fewer and shorter runs
#   BENCH_RUNS=N      runs per measurement (default 5; quick 2)
#   BENCH_WRK_DUR=D   wrk duration (default 5s; quick 2s)
#   BENCH_PUT_DUR=D   time bound of one putload run (default 5s; quick 2s)
#   BENCH_ST_RUNS=N   cold-miss stampedes per setup (default 5; quick 1)
#   BENCH_SYNC_N=LIST journal sizes for synccost (default 100000,1000000;
#                     quick 100000)
#   BENCH_PPROF=1     save CPU profiles of the node (raw/cpu-*.pprof) during
#                     the first objstore run of each hot GET, PUT and stampede
#                     measurement (profiling slows those runs a little)
#   BENCH_KEEP=1      keep the scratch directory (bodies, logs) at the end
#   BENCH_REV=REV     build the node from commit REV (git archive) instead of
#                     the work tree; the bench tools always come from the tree
#   BENCH_SECTIONS=hotget  only section 1 (hot GETs beside nginx), then the
#                     summary: about 3 minutes
#   BENCH_SECTIONS=tls     only section 1b (hot GETs over HTTPS beside nginx
#                     over HTTPS), then the summary; BENCH_SECTIONS=all (the
#                     default) runs 1b after section 1
#   BENCH_SECTIONS=put     only section 2 (PUT rates and latencies of every
#                     level beside versitygw's own PUTs), then the summary
#   BENCH_SECTIONS=putfar  only section 2c (level-1 PUT latency with the S3
#                     server at a distance, beside PUTs straight to it)
#   BENCH_FAR_DELAYS=LIST  one-way delays of section 2c (default "1ms 5ms
#                     15ms"; quick 5ms; empty: skip 2c)
#   BENCH_FAR_DUR=D   time bound of one putload run in 2c (default 8s);
#                     2c takes about 5 minutes at the defaults
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# ---- parameters ------------------------------------------------------------
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-2}
	WRK_DUR=${BENCH_WRK_DUR:-2s}
	PUT_DUR=${BENCH_PUT_DUR:-2s}
	ST_RUNS=${BENCH_ST_RUNS:-1}
	BASE_ROUNDS=3
	SYNC_N=${BENCH_SYNC_N:-100000}
else
	RUNS=${BENCH_RUNS:-5}
	WRK_DUR=${BENCH_WRK_DUR:-5s}
	PUT_DUR=${BENCH_PUT_DUR:-5s}
	ST_RUNS=${BENCH_ST_RUNS:-5}
	BASE_ROUNDS=7
	SYNC_N=${BENCH_SYNC_N:-100000,1000000}
fi
WRK_THREADS=2        # wrk -t
WRK_CONNS=32         # wrk -c, the same for objstore and nginx
PUT_CONC=32          # putload -c, the same for objstore and S3
PUT_MAX_4K=5000      # putload -n cap for 4 KiB objects (20 MiB a run)
PUT_MAX_1M=256       # putload -n cap for 1 MiB objects (256 MiB a run: the disk is shared)
ST_CLIENTS=100       # concurrent GETs of one cold object
ST_SIZE=$((16 << 20))
NGINX_WORKERS=auto   # one worker per core: 2 here
SYNC_DIFF=0.001      # synccost -diff: the share of records that differ
CLUSTER_IP_A=127.0.0.31
CLUSTER_IP_B=127.0.0.32
CLUSTER_KEY=objstore-bench-$$-$RANDOM # a throwaway shared secret for the two nodes
BUCKET=bench
export AWS_ACCESS_KEY_ID=benchaccess AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
# The node's own S3 API has other credentials than the S3 server behind it,
# so a request signed with the wrong pair fails instead of passing unnoticed.
S3API_ACCESS=objstorebench
S3API_SECRET=objstore-bench-$$-$RANDOM
S3API_EXPIRES=24h # presigned GET URLs of section 1: longer than any run of it
# The SDK must not pick up anything from the user's AWS setup.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 2>/dev/null || true

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/out/$STAMP
mkdir -p "$OUT/raw" "$OUT/logs"
ln -sfn "$STAMP" "$ROOT/bench/out/latest"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/objstore-bench.XXXXXX")
BIN=$WORK/bin

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

# ---- processes -------------------------------------------------------------
PIDS=()
NAMES=()

# start NAME CMD...: run CMD in the background, output to logs/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	PIDS+=($!)
	NAMES+=("$name")
	log "started $name (pid $!)"
}

# stop_pid PID: SIGTERM, wait up to 15 s, then SIGKILL. Only our own PIDs.
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

# stop NAME: stop the process started under NAME.
stop() {
	local i
	for i in "${!NAMES[@]}"; do
		if [ "${NAMES[$i]}" = "$1" ]; then
			stop_pid "${PIDS[$i]}"
			log "stopped $1"
		fi
	done
}

cleanup() {
	local status=$? i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]}"
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "scratch kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	[ "$status" -eq 0 ] || log "failed (status $status); logs in $OUT/logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port [HOST]: a port free on HOST (default 127.0.0.1) for TCP and UDP
# alike (a node's private port carries memberlist's UDP gossip too).
free_port() {
	/usr/bin/python3 - "${1:-127.0.0.1}" <<'PY'
import socket, sys
host = sys.argv[1]
for _ in range(100):
    t = socket.socket()
    t.bind((host, 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind((host, port))
    except OSError:
        continue
    finally:
        u.close()
        t.close()
    print(port)
    break
else:
    sys.exit("no free TCP+UDP port on " + host)
PY
}

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
	local url=$1 secs=${2:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "$url did not answer within ${secs}s"
}

sha256() { sha256sum "$1" | cut -c1-64; }

# record JSON KEY=VALUE...: append the JSON object, with the fields added, to
# results.jsonl (values that look like numbers are kept as numbers).
record() {
	local json=$1
	shift
	local args=() kv
	for kv in "$@"; do
		args+=(--arg "${kv%%=*}" "${kv#*=}")
	done
	jq -c "${args[@]}" '. + ($ARGS.named | with_entries(.value = (.value as $v | try ($v | tonumber) catch $v)))' <<<"$json" >>"$RESULTS"
}

# ---- build and environment -------------------------------------------------
for tool in go wrk nginx jq curl openssl; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
VERSITYGW=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
[ -x "$VERSITYGW" ] || die "versitygw not found; install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

log "building into $BIN"
mkdir -p "$BIN"
if [ -n "${BENCH_REV:-}" ]; then
	mkdir -p "$WORK/src"
	git archive "$BENCH_REV" | tar -x -C "$WORK/src"
	(cd "$WORK/src" && go build -o "$BIN/objstore" ./cmd/objstore)
	NODE_SRC="commit $(git rev-parse --short "$BENCH_REV")"
else
	go build -o "$BIN/objstore" ./cmd/objstore
	NODE_SRC="work tree at $(git rev-parse --short HEAD 2>/dev/null || echo none), $(git status --porcelain 2>/dev/null | grep -vc '^?? bench/' || true) changed paths besides bench/"
fi
go build -o "$BIN/" ./bench/cmd/putload ./bench/cmd/stampede ./bench/cmd/countproxy ./bench/cmd/s3ctl ./bench/cmd/minhttp ./bench/cmd/delayproxy
# synccost is built here too, so that its timed run does not include a build.
go build -o "$BIN/" ./bench/cmd/synccost

{
	echo "date_utc $STAMP"
	echo "node built from $NODE_SRC"
	echo "objstore $("$BIN/objstore" version 2>&1 || true)"
	echo "go $(go env GOVERSION)"
	echo "kernel $(uname -sr)"
	echo "cpus $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo "nginx $(nginx -v 2>&1 | sed 's/^nginx version: //')"
	echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
	echo "versitygw $(go version -m "$VERSITYGW" 2>/dev/null | awk '$1 == "mod" {print $3}')"
	echo "load_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "params quick=$QUICK runs=$RUNS wrk=-t$WRK_THREADS/-c$WRK_CONNS/-d$WRK_DUR put=-c$PUT_CONC/-d$PUT_DUR s3api=presigned-GET,PutObject-L0/L1 stampede=$ST_CLIENTS x $((ST_SIZE >> 20))MiB x $ST_RUNS runs nginx_workers=$NGINX_WORKERS cluster=$CLUSTER_IP_A+$CLUSTER_IP_B synccost=-n$SYNC_N/-diff$SYNC_DIFF"
} >"$OUT/meta.txt"
cat "$OUT/meta.txt" >&2

read -r -a STAT0 < <(head -n1 /proc/stat)

# Bodies: random, made once per run.
mkdir -p "$WORK/bodies"
head -c 4096 /dev/urandom >"$WORK/bodies/b4k"
head -c $((64 << 20)) /dev/urandom >"$WORK/bodies/b64m"
head -c "$ST_SIZE" /dev/urandom >"$WORK/bodies/b16m"

# ---- S3 server and counting proxy ------------------------------------------
P_S3=$(free_port)
S3=http://127.0.0.1:$P_S3
mkdir -p "$WORK/s3"
start versitygw "$VERSITYGW" --port "127.0.0.1:$P_S3" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
	--region "$AWS_REGION" --keep-alive --quiet --health /health posix "$WORK/s3"
wait_http "$S3/health"
"$BIN/s3ctl" -endpoint "$S3" -bucket "$BUCKET" mb

start countproxy "$BIN/countproxy" -upstream "$S3" -listen 127.0.0.1:0 -admin 127.0.0.1:0
for ((i = 0; i < 100; i++)); do
	grep -q '^admin ' "$OUT/logs/countproxy.log" 2>/dev/null && break
	sleep 0.1
done
CP=$(awk '$1 == "proxy" {print $2}' "$OUT/logs/countproxy.log")
CPADMIN=http://$(awk '$1 == "admin" {print $2}' "$OUT/logs/countproxy.log")
[ -n "$CP" ] || die "countproxy did not start"
origin_gets() { curl -fsS "$CPADMIN/count?method=GET&path=/$BUCKET/$1"; }

# start_node NAME ENDPOINT S3API: an objstore node with its own dirs under
# WORK; with S3API "on" its S3 API listens on a free loopback port with the
# credentials S3API_ACCESS:S3API_SECRET, with "off" it is disabled. Sets
# NODE_URL, NODE_DIR, NODE_DEBUG and NODE_S3 (empty when off).
start_node() {
	local name=$1 endpoint=$2 s3api=$3 pub priv dbg s3addr=""
	pub=$(free_port) priv=$(free_port) dbg=$(free_port)
	NODE_S3=""
	if [ "$s3api" = on ]; then
		s3addr=127.0.0.1:$(free_port)
		NODE_S3=http://$s3addr
	fi
	NODE_DIR=$WORK/$name
	mkdir -p "$NODE_DIR"
	start "$name" "$BIN/objstore" --backend s3 --s3-endpoint "$endpoint" --s3-path-style -B "$BUCKET" \
		--public-addr "127.0.0.1:$pub" --private-addr "127.0.0.1:$priv" --debug-addr "127.0.0.1:$dbg" \
		--s3-api-addr "$s3addr" --s3-api-credentials "$S3API_ACCESS:$S3API_SECRET" \
		--state-dir "$NODE_DIR/state" --files-dir "$NODE_DIR/files"
	NODE_URL=http://127.0.0.1:$pub
	NODE_DEBUG=http://127.0.0.1:$dbg
	wait_http "$NODE_URL/api/v1/ping"
	# An unsigned request is refused (403) once the S3 API listens.
	[ -z "$NODE_S3" ] || wait_status "$NODE_S3/" 403
}

# wait_status URL CODE [SECONDS]: until URL answers with status CODE.
wait_status() {
	local url=$1 code=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)" != "$code" ] || return 0
		sleep 0.1
	done
	die "$url did not answer $code within ${secs}s"
}

# The node for hot GETs and PUTs talks to the S3 server directly, as
# putload's direct S3 PUTs do, and serves its S3 API; the stampede uses a
# fresh node behind the counting proxy (section 3).
start_node node "$S3" on
OS=$NODE_URL OS_DIR=$NODE_DIR OS_DEBUG=$NODE_DEBUG OS_S3=$NODE_S3

# put_object BASEURL FILE NAME LEVEL: PUT FILE under a new id; prints the id.
put_object() {
	local base=$1 file=$2 name=$3 level=$4 id
	id=$(curl -fsS "$base/api/v1/id")
	curl -fsS -o /dev/null --data-binary "@$file" -H "X-Meta-ID: $id" -H "X-Meta-Name: $name" \
		-H "X-Meta-ConsistencyLevel: $level" "$base/api/v1/put" || die "PUT of $name failed"
	echo "$id"
}

# check_get URL FILE: GET URL and compare the body with FILE.
check_get() {
	local got
	got=$(curl -fsS "$1" | sha256sum | cut -c1-64) || die "GET $1 failed"
	[ "$got" = "$(sha256 "$2")" ] || die "GET $1: body differs from $2"
}

# body_file SIZE FILE: the one body file of SIZE bytes in the node's files
# dir, which must equal FILE.
# A body of more than one 64 KiB block is followed in its file by its block
# checksums (4 bytes a block and a 16-byte footer; internal/disk/blocks.go).
body_file() {
	local found blocks=$((($1 + 65535) / 65536)) fsize=$1
	[ "$blocks" -le 1 ] || fsize=$(($1 + 4 * blocks + 16))
	mapfile -t found < <(find "$OS_DIR/files" -path "$OS_DIR/files/tmp" -prune -o -type f -size "${fsize}c" -print)
	[ "${#found[@]}" -eq 1 ] || die "want one $fsize-byte body file in $OS_DIR/files, found ${#found[@]}"
	cmp -s -n "$1" "${found[0]}" "$2" || die "${found[0]} differs from $2"
	echo "${found[0]}"
}

# cpu_ticks PID...: user+system CPU ticks used so far by the processes
# (all their threads), as /proc/PID/stat counts them.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
	local pid total=0 stat
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		stat=${stat##*) } # fields after the command name; utime and stime are 12 and 13 here
		total=$((total + $(awk '{print $12 + $13}' <<<"$stat")))
	done
	echo "$total"
}
pid_of() {
	local i
	for i in "${!NAMES[@]}"; do
		[ "${NAMES[$i]}" != "$1" ] || echo "${PIDS[$i]}"
	done
}
NODE_PID=$(pid_of node)

# profile NAME DEBUGURL SECONDS: a CPU profile of a node, in the background.
PROFILE_PIDS=()
profile() {
	[ "${BENCH_PPROF:-0}" = 1 ] || return 0
	curl -fsS -o "$OUT/raw/$1.pprof" "$2/debug/pprof/profile?seconds=$3" &
	PROFILE_PIDS+=($!)
}
wait_profiles() {
	local pid
	for pid in "${PROFILE_PIDS[@]}"; do
		wait "$pid" || log "a CPU profile failed"
	done
	PROFILE_PIDS=()
}

user_line=""
[ "$(id -u)" -ne 0 ] || user_line="user root;" # the files dir is root's, mode 0700/0600
# nginx_http_head prints the start of an nginx.conf for a server rooted in
# dir $1, up to the http block's settings: the part every nginx of this
# bench shares (workers, keep-alive, sendfile, temp paths inside $1).
nginx_http_head() {
	local d=$1
	cat <<EOF
$user_line
worker_processes $NGINX_WORKERS;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;   # like Go's net/http: never close a busy keep-alive connection
    default_type application/octet-stream;
    client_body_temp_path $d/tmp/client;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
EOF
}

# BENCH_SECTIONS=put runs section 2 only, putfar its part 2c only.
if [ "${BENCH_SECTIONS:-all}" != put ] && [ "${BENCH_SECTIONS:-all}" != putfar ]; then

# ---- 1. hot GET: objstore (native and S3 API) beside nginx on the same body file
# The S3 API serves the same objects as the native API: key <id> in the
# node's bucket (-B). wrk GETs them with presigned URLs signed with the
# node's S3 API credentials for the node's S3 API address.
log "hot GET: PUT 4 KiB and 64 MiB at level 0, GET once to warm (native API, then S3 API)"
ID4K=$(put_object "$OS" "$WORK/bodies/b4k" b4k.bin 0)
ID64M=$(put_object "$OS" "$WORK/bodies/b64m" b64m.bin 0)
check_get "$OS/api/v1/get/$ID4K" "$WORK/bodies/b4k"
check_get "$OS/api/v1/get/$ID64M" "$WORK/bodies/b64m"
presign_node() {
	"$BIN/s3ctl" -endpoint "$OS_S3" -bucket "$BUCKET" -access "$S3API_ACCESS" -secret "$S3API_SECRET" \
		-expires "$S3API_EXPIRES" presign "$1"
}
S3URL4K=$(presign_node "$ID4K")
S3URL64M=$(presign_node "$ID64M")
check_get "$S3URL4K" "$WORK/bodies/b4k"
check_get "$S3URL64M" "$WORK/bodies/b64m"
F4K=$(body_file 4096 "$WORK/bodies/b4k")
F64M=$(body_file $((64 << 20)) "$WORK/bodies/b64m")
# nginx would send the block checksums after the 64 MiB body: it serves the
# reference copy, as hot in the page cache, instead.
F64M=$WORK/bodies/b64m

NG=$WORK/nginx
mkdir -p "$NG/cache" "$NG/tmp"
P_NGF=$(free_port) P_NGC=$(free_port)
NGF=http://127.0.0.1:$P_NGF NGC=http://127.0.0.1:$P_NGC

{
	echo "# Generated by bench/run.sh."
	nginx_http_head "$NG"
	cat <<EOF
    proxy_cache_path $NG/cache levels=1:2 keys_zone=s3:10m max_size=10g inactive=1h use_temp_path=off;

    # Hot GET: the body files objstore serves (64 MiB: the same bytes, see F64M).
    server {
        listen 127.0.0.1:$P_NGF;
        location = /b4k  { alias $F4K; }
        location = /b64m { alias $F64M; }
    }

    # Cold-miss stampede: a caching reverse proxy in front of the counting
    # proxy and the S3 server; clients send presigned GET URLs.
    server {
        listen 127.0.0.1:$P_NGC;
        location / {
            proxy_pass http://$CP;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache s3;
            proxy_cache_valid 200 1h;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10m;
            proxy_cache_lock_age 10m;
            add_header X-Cache-Status \$upstream_cache_status;
        }
    }
}
EOF
} >"$NG/nginx.conf"
nginx -t -q -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" || die "nginx config rejected; see $NG/nginx.conf"
start nginx nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log"
wait_http "$NGF/b4k"
check_get "$NGF/b4k" "$WORK/bodies/b4k"
check_get "$NGF/b64m" "$WORK/bodies/b64m"

# The floor of Go's net/http: the 4 KiB body from memory, nothing else.
start minhttp "$BIN/minhttp" -listen 127.0.0.1:0 -file "$WORK/bodies/b4k"
for ((i = 0; i < 100; i++)); do
	grep -q '^listen ' "$OUT/logs/minhttp.log" 2>/dev/null && break
	sleep 0.1
done
MH=http://$(awk '$1 == "listen" {print $2}' "$OUT/logs/minhttp.log")
[ "$MH" != http:// ] || die "minhttp did not start"
check_get "$MH/b4k" "$WORK/bodies/b4k"

NGINX_PID=$(pid_of nginx)
NGINX_WORKER_PIDS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
MINHTTP_PID=$(pid_of minhttp)

# run_wrk BENCH TARGET SIZE RUN URL: one wrk run, recorded with the CPU
# seconds the server processes (SERVER_PIDS[TARGET]) used over the run.
declare -A SERVER_PIDS=([objstore]=$NODE_PID [s3api]=$NODE_PID [nginx]="$NGINX_PID $NGINX_WORKER_PIDS" [minhttp]=$MINHTTP_PID)
run_wrk() {
	local bench=$1 target=$2 size=$3 run=$4 url=$5 raw pids t0 t1
	raw=$OUT/raw/$bench-$size-$target-$run.txt
	pids=${SERVER_PIDS[$target]}
	# shellcheck disable=SC2086 # pids is a list
	t0=$(cpu_ticks $pids)
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DUR" --timeout 10s --latency -s bench/wrk/report.lua "$url" >"$raw" 2>&1 ||
		die "wrk failed; see $raw"
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $pids)
	record "$(grep '^{' "$raw" | tail -n1)" bench="$bench" target="$target" size="$size" run="$run" \
		server_cpu_s="$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d / hz}')"
	log "  $(grep -E '^Requests/sec' "$raw" | tr -s ' ') $(grep -E '^Transfer/sec' "$raw" | tr -s ' ')  [$bench $target $size #$run]"
}

HOTGET_SIZES="4KiB 64MiB"
[ "${BENCH_SECTIONS:-all}" != tls ] || HOTGET_SIZES="" # section 1b only
for size in $HOTGET_SIZES; do
	case $size in
	4KiB) osurl=$OS/api/v1/get/$ID4K s3url=$S3URL4K ngurl=$NGF/b4k ;;
	64MiB) osurl=$OS/api/v1/get/$ID64M s3url=$S3URL64M ngurl=$NGF/b64m ;;
	esac
	if [ "$size" = 4KiB ]; then
		log "hot GET $size: $RUNS runs of wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DUR, objstore (native), objstore (S3 API), nginx and minhttp in turn"
	else
		log "hot GET $size: $RUNS runs of wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DUR, objstore (native), objstore (S3 API) and nginx in turn"
	fi
	for ((r = 1; r <= RUNS; r++)); do
		[ "$r" -ne 1 ] || profile "cpu-hotget-$size" "$OS_DEBUG" 4
		run_wrk hotget objstore "$size" "$r" "$osurl"
		wait_profiles
		[ "$r" -ne 1 ] || profile "cpu-hotget-$size-s3api" "$OS_DEBUG" 4
		run_wrk hotget s3api "$size" "$r" "$s3url"
		wait_profiles
		run_wrk hotget nginx "$size" "$r" "$ngurl"
		[ "$size" != 4KiB ] || run_wrk hotget minhttp "$size" "$r" "$MH/b4k"
	done
done
stop minhttp

# ---- 1b. hot GET over HTTPS: objstore (native and S3 API) beside nginx, one certificate
# A second node serves both APIs over TLS (--tls-cert/--tls-key; its fast
# path reads and writes through the TLS connection); nginx serves the same
# body files over HTTPS with the same self-signed P-256 certificate, made
# here with openssl. Both negotiate TLS 1.3 with wrk (OpenSSL) and keep the
# connections alive, so the figures are the cost of encrypting bodies, not
# of handshakes.
if [ "${BENCH_SECTIONS:-all}" = all ] || [ "${BENCH_SECTIONS:-all}" = tls ]; then
	TLSD=$WORK/tls
	mkdir -p "$TLSD"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TLSD/key.pem" -out "$TLSD/cert.pem" 2>"$OUT/logs/openssl.log" ||
		die "openssl could not make a certificate; see $OUT/logs/openssl.log"
	pub=$(free_port) priv=$(free_port) s3p=$(free_port)
	mkdir -p "$WORK/tlsnode"
	start tlsnode "$BIN/objstore" --backend s3 --s3-endpoint "$S3" --s3-path-style -B "$BUCKET" \
		--public-addr "127.0.0.1:$pub" --private-addr "127.0.0.1:$priv" --s3-api-addr "127.0.0.1:$s3p" \
		--s3-api-credentials "$S3API_ACCESS:$S3API_SECRET" --tls-cert "$TLSD/cert.pem" --tls-key "$TLSD/key.pem" \
		--state-dir "$WORK/tlsnode/state" --files-dir "$WORK/tlsnode/files"
	export CURL_CA_BUNDLE=$TLSD/cert.pem # curl (wait_http, put_object, check_get) trusts the certificate
	TOS=https://127.0.0.1:$pub TOS_S3=https://127.0.0.1:$s3p
	wait_http "$TOS/api/v1/ping"
	wait_status "$TOS_S3/" 403
	TID4K=$(put_object "$TOS" "$WORK/bodies/b4k" b4k.bin 0)
	TID64M=$(put_object "$TOS" "$WORK/bodies/b64m" b64m.bin 0)
	presign_tls() {
		"$BIN/s3ctl" -endpoint "$TOS_S3" -bucket "$BUCKET" -access "$S3API_ACCESS" -secret "$S3API_SECRET" \
			-expires "$S3API_EXPIRES" presign "$1"
	}
	TS3URL4K=$(presign_tls "$TID4K")
	TS3URL64M=$(presign_tls "$TID64M")
	for u in "$TOS/api/v1/get/$TID4K" "$TS3URL4K"; do check_get "$u" "$WORK/bodies/b4k"; done
	for u in "$TOS/api/v1/get/$TID64M" "$TS3URL64M"; do check_get "$u" "$WORK/bodies/b64m"; done

	NGT=$WORK/nginx-tls
	mkdir -p "$NGT/tmp"
	P_NGT=$(free_port)
	{
		echo "# Generated by bench/run.sh: section 1's hot GET server, over HTTPS."
		nginx_http_head "$NGT"
		cat <<EOF
    server {
        listen 127.0.0.1:$P_NGT ssl;
        ssl_certificate $TLSD/cert.pem;
        ssl_certificate_key $TLSD/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /b4k  { alias $F4K; }
        location = /b64m { alias $F64M; }
    }
}
EOF
	} >"$NGT/nginx.conf"
	nginx -t -q -p "$NGT" -c "$NGT/nginx.conf" -e "$NGT/error.log" || die "nginx TLS config rejected; see $NGT/nginx.conf"
	start nginx-tls nginx -p "$NGT" -c "$NGT/nginx.conf" -e "$NGT/error.log"
	NGTU=https://127.0.0.1:$P_NGT
	wait_http "$NGTU/b4k"
	check_get "$NGTU/b4k" "$WORK/bodies/b4k"
	check_get "$NGTU/b64m" "$WORK/bodies/b64m"
	NGT_PID=$(pid_of nginx-tls)
	SERVER_PIDS[objstore-tls]=$(pid_of tlsnode)
	SERVER_PIDS[s3api-tls]=$(pid_of tlsnode)
	SERVER_PIDS[nginx-tls]="$NGT_PID $(pgrep -P "$NGT_PID" | tr '\n' ' ')"
	for size in 4KiB 64MiB; do
		case $size in
		4KiB) osurl=$TOS/api/v1/get/$TID4K s3url=$TS3URL4K ngurl=$NGTU/b4k ;;
		64MiB) osurl=$TOS/api/v1/get/$TID64M s3url=$TS3URL64M ngurl=$NGTU/b64m ;;
		esac
		log "hot GET over HTTPS $size: $RUNS runs of wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DUR, objstore (native), objstore (S3 API) and nginx in turn"
		for ((r = 1; r <= RUNS; r++)); do
			run_wrk tls objstore-tls "$size" "$r" "$osurl"
			run_wrk tls s3api-tls "$size" "$r" "$s3url"
			run_wrk tls nginx-tls "$size" "$r" "$ngurl"
		done
	done
	stop nginx-tls
	stop tlsnode
	unset CURL_CA_BUNDLE
fi

fi # not put, not putfar

if [ "${BENCH_SECTIONS:-all}" = hotget ] || [ "${BENCH_SECTIONS:-all}" = tls ]; then
	log "BENCH_SECTIONS=${BENCH_SECTIONS}: sections 2 to 5 skipped"
else

# ---- 2. PUT: rates and latencies of every level beside direct S3 PUTs ----------
# Rates with putload -c$PUT_CONC, then latencies one PUT at a time (-c1:
# p50/p99 of a lone writer, where a level-1 PUT meets the issue-11 target of
# at most 1.1x a direct PUT of the same object to the S3 server). Through the
# S3 API putload signs PutObject with the node's S3 API credentials and sets
# the level with a signed X-Meta-ConsistencyLevel. One node, so level 2 has
# no peer to wait for. BENCH_SECTIONS=put runs this section alone.
# run_put BENCH CONC TARGET SIZE RUN ARGS...: one putload run, recorded with
# the CPU seconds the node and the S3 server used over the run (putload
# reports its own). Each run starts after a sync(1), so that no run pays for
# the writeback the one before it left: versitygw's posix backend never
# fsyncs, the node's level-1 copies are not synced, and a sync of the file
# system (the node's, for its small bodies; the kernel's flusher) would
# write them during whichever run comes next.
VERSITYGW_PID=$(pid_of versitygw)

# The floor of any proxy for the latency targets: nginx passing PUTs
# through to the S3 server (no cache, no request buffering, keep-alive
# upstream), timed -c1 like the node. A PUT through it pays one more
# loopback hop and nothing else: what no intermediary can go below.
NGP=$WORK/nginx-proxy
mkdir -p "$NGP/tmp"
P_NGP=$(free_port)
{
	nginx_http_head "$NGP"
	cat <<EOF
    upstream s3 { server 127.0.0.1:$P_S3; keepalive 32; }
    server {
        listen 127.0.0.1:$P_NGP;
        client_max_body_size 0;
        location / {
            proxy_pass http://s3;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_request_buffering off;
        }
    }
}
EOF
} >"$NGP/nginx.conf"
nginx -t -q -p "$NGP" -c "$NGP/nginx.conf" -e "$NGP/error.log" || die "nginx proxy config rejected; see $NGP/nginx.conf"
start nginx-proxy nginx -p "$NGP" -c "$NGP/nginx.conf" -e "$NGP/error.log"
wait_http "http://127.0.0.1:$P_NGP/health"
run_put() {
	local bench=$1 conc=$2 target=$3 size=$4 run=$5 raw n0 n1 s0 s1
	shift 5
	raw=$OUT/raw/$bench-$size-$target-$run.txt
	sync
	n0=$(cpu_ticks "$NODE_PID") s0=$(cpu_ticks "$VERSITYGW_PID")
	"$BIN/putload" -c "$conc" -d "$PUT_DUR" -label "$target" "$@" >"$raw" 2>&1 ||
		log "  putload reported failures; see $raw"
	n1=$(cpu_ticks "$NODE_PID") s1=$(cpu_ticks "$VERSITYGW_PID")
	grep -q '^{' "$raw" || die "putload gave no result; see $raw"
	record "$(grep '^{' "$raw" | tail -n1)" bench="$bench" target="$target" sizename="$size" run="$run" \
		node_cpu_s="$(awk -v d=$((n1 - n0)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d / hz}')" \
		s3_cpu_s="$(awk -v d=$((s1 - s0)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d / hz}')"
	log "  $(head -n1 "$raw")"
}

# wait_outbox: after a write-back run, waits (at most 5 minutes) until the
# node's outbox has uploaded everything, so that its uploads do not slow the
# targets that run next; the write-back run itself keeps its own.
wait_outbox() {
	local i depth
	for ((i = 0; i < 600; i++)); do
		depth=$(curl -fsS "$OS/api/v1/stats" | jq '.outbox.depth // 0') || depth=0
		[ "$depth" -gt 0 ] || return 0
		sleep 0.5
	done
	log "  the outbox still holds $depth uploads after 5 minutes"
}

# The node's PUT targets, one a line: the target's name, then putload's
# arguments. A new write mode is one more line here.
put_targets() {
	local level
	for level in 0 1 2; do
		echo "objstore-L$level -mode objstore -url $OS -level $level"
	done
	echo "objstore-WB -mode objstore -url $OS -level 1 -write back"
	for level in 0 1; do
		echo "s3api-L$level -mode s3 -endpoint $OS_S3 -bucket $BUCKET -access $S3API_ACCESS -secret $S3API_SECRET -s3-level $level"
	done
	echo "s3api-WB -mode s3 -endpoint $OS_S3 -bucket $BUCKET -access $S3API_ACCESS -secret $S3API_SECRET -s3-level 1 -write back"
}
# The targets whose latency is measured (-c1) besides s3-direct.
PUT_LAT_TARGETS="objstore-L0 objstore-L1 objstore-L2"
S3_DIRECT="-mode s3 -endpoint $S3 -bucket $BUCKET"

[ "${BENCH_SECTIONS:-all}" = putfar ] || for size in 4KiB 1MiB; do
	case $size in
	4KiB) bytes=4096 cap=$PUT_MAX_4K ;;
	1MiB) bytes=$((1 << 20)) cap=$PUT_MAX_1M ;;
	esac
	log "PUT $size: $RUNS runs of putload -c$PUT_CONC -d$PUT_DUR -n$cap of $(put_targets | awk '{print $1}' | tr '\n' ' ')and s3-direct in turn, then -c1 of $PUT_LAT_TARGETS, s3-direct and nginx-proxy"
	for ((r = 1; r <= RUNS; r++)); do
		while read -r target args; do
			[ "$r" -ne 1 ] || profile "cpu-put-$size-$target" "$OS_DEBUG" 2
			# shellcheck disable=SC2086 # args are words by design
			run_put put "$PUT_CONC" "$target" "$size" "$r" $args -size "$bytes" -n "$cap"
			wait_profiles
			wait_outbox
		done < <(put_targets)
		# shellcheck disable=SC2086
		run_put put "$PUT_CONC" s3-direct "$size" "$r" $S3_DIRECT -size "$bytes" -n "$cap"
		for target in $PUT_LAT_TARGETS s3-direct nginx-proxy; do
			args=$S3_DIRECT
			[ "$target" != nginx-proxy ] || args="-mode s3 -endpoint http://127.0.0.1:$P_NGP -bucket $BUCKET"
			[ "$target" = s3-direct ] || [ "$target" = nginx-proxy ] || args=$(put_targets | awk -v t="$target" '$1 == t {$1 = ""; print}')
			# shellcheck disable=SC2086
			run_put putlat 1 "$target" "$size" "$r" $args -size "$bytes" -n "$cap"
		done
	done
done

# ---- 2c. level-1 PUT latency against a distant origin --------------------------
# The S3 server of this run answers a 4 KiB PUT in about 0.6 ms over
# loopback, where S3 itself is milliseconds away from a datacenter: against
# it even nginx only forwarding is 1.2x slower (section 2b). Here the same
# S3 server is put at a distance: delayproxy delivers every byte, each way,
# DELAY after it arrived (a link of that one-way latency, no bandwidth
# limit). A node whose origin is the relay takes level-1 PUTs, -c1, beside
# PUTs straight to the relay, in turn, so both pay the same distance.
# BENCH_FAR_DELAYS lists the one-way delays (empty: none).
FAR_DELAYS=${BENCH_FAR_DELAYS-"1ms 5ms 15ms"}
[ "$QUICK" != 1 ] || FAR_DELAYS=${BENCH_FAR_DELAYS-5ms}
FAR_DUR=${BENCH_FAR_DUR:-8s}
for delay in $FAR_DELAYS; do
	start "delayproxy-$delay" "$BIN/delayproxy" -upstream "127.0.0.1:$P_S3" -delay "$delay"
	far=""
	for ((i = 0; i < 100; i++)); do
		far=$(head -n1 "$OUT/logs/delayproxy-$delay.log" 2>/dev/null) && [ -n "$far" ] && break
		sleep 0.1
	done
	[ -n "$far" ] || die "delayproxy did not start; see $OUT/logs/delayproxy-$delay.log"
	start_node "far-$delay" "http://$far" off
	log "PUT latency with the origin $delay away (each way): $RUNS runs of putload -c1 -d$FAR_DUR -n256 of s3-direct and objstore-L1, 4KiB and 1MiB"
	for size in 4KiB 1MiB; do
		case $size in
		4KiB) bytes=4096 ;;
		1MiB) bytes=$((1 << 20)) ;;
		esac
		for ((r = 1; r <= RUNS; r++)); do
			PUT_DUR=$FAR_DUR run_put putfar 1 "s3-direct@$delay" "$size" "$r" -mode s3 -endpoint "http://$far" -bucket "$BUCKET" -size "$bytes" -n 256
			PUT_DUR=$FAR_DUR run_put putfar 1 "objstore-L1@$delay" "$size" "$r" -mode objstore -url "$NODE_URL" -level 1 -size "$bytes" -n 256
		done
	done
	stop "far-$delay"
	stop "delayproxy-$delay"
done

if [ "${BENCH_SECTIONS:-all}" = put ] || [ "${BENCH_SECTIONS:-all}" = putfar ]; then
	log "BENCH_SECTIONS=${BENCH_SECTIONS}: sections 3 to 5 skipped"
else

# ---- 3. cold-miss stampede ---------------------------------------------------
# The objects are written at level 1 by the node of sections 1-2, which then
# stops; the stampede goes to a fresh node (empty state and files dirs) whose
# origin is the counting proxy in front of the S3 server, so it has never
# seen them. nginx reaches the same S3 server through the same proxy with
# presigned GET URLs. Each run uses a fresh object for objstore and another
# for nginx, so both are cold every time.
log "stampede: writing $((4 * ST_RUNS + 1)) objects of $((ST_SIZE >> 20)) MiB at level 1"
ST_OS=() ST_NG=() ST_OS1=() ST_NG1=()
for ((r = 1; r <= ST_RUNS; r++)); do
	ST_OS+=("$(put_object "$OS" "$WORK/bodies/b16m" b16m.bin 1)")
	ST_NG+=("$(put_object "$OS" "$WORK/bodies/b16m" b16m.bin 1)")
	ST_OS1+=("$(put_object "$OS" "$WORK/bodies/b16m" b16m.bin 1)")
	ST_NG1+=("$(put_object "$OS" "$WORK/bodies/b16m" b16m.bin 1)")
done
ST_BASE=$(put_object "$OS" "$WORK/bodies/b16m" b16m.bin 1)
stop node
start_node fetcher "http://$CP" off
FETCH=$NODE_URL FETCH_DEBUG=$NODE_DEBUG
SHA16=$(sha256 "$WORK/bodies/b16m")
presign() { "$BIN/s3ctl" -endpoint "$1" -bucket "$BUCKET" presign "$2"; }

# run_stampede TARGET RUN KEY URL [stampede args...]: one stampede, recorded
# with the GETs of KEY that the counting proxy saw meanwhile.
run_stampede() {
	local target=$1 run=$2 key=$3 url=$4 raw before after
	shift 4
	raw=$OUT/raw/stampede-$target-$run.txt
	before=$(origin_gets "$key")
	"$BIN/stampede" -url "$url" -sha256 "$SHA16" -size "$ST_SIZE" -label "$target" "$@" >"$raw" 2>&1 ||
		log "  stampede reported failures; see $raw"
	grep -q '^{' "$raw" || die "stampede gave no result; see $raw"
	after=$(origin_gets "$key")
	record "$(grep '^{' "$raw" | tail -n1)" bench=stampede target="$target" run="$run" origin_gets=$((after - before))
	log "  $(grep ' round 1:' "$raw" | head -n1) origin_gets=$((after - before))"
}

log "stampede baseline: $BASE_ROUNDS single GETs in a row from the S3 server, directly and through the counting proxy"
run_stampede s3-single 1 "$ST_BASE" "$(presign "$S3" "$ST_BASE")" -n 1 -rounds "$BASE_ROUNDS"
run_stampede s3-single-via-proxy 1 "$ST_BASE" "$(presign "http://$CP" "$ST_BASE")" -n 1 -rounds "$BASE_ROUNDS"

log "stampede: $ST_RUNS runs of one cold GET, then $ST_CLIENTS concurrent cold GETs and the same $ST_CLIENTS again warm, for objstore (X-Meta-Fetch: 1) and nginx proxy_cache; then $ST_CLIENTS GETs with no cache"
for ((r = 1; r <= ST_RUNS; r++)); do
	key=${ST_OS1[r - 1]}
	run_stampede objstore-single "$r" "$key" "$FETCH/api/v1/get/$key" -n 1 -H 'X-Meta-Fetch: 1' -count-header X-Meta-Fetched
	key=${ST_NG1[r - 1]}
	url=$(presign "http://$CP" "$key")
	run_stampede nginx-single "$r" "$key" "${url/"http://$CP"/$NGC}" -n 1 -count-header X-Cache-Status

	key=${ST_OS[r - 1]}
	[ "$r" -ne 1 ] || profile cpu-stampede "$FETCH_DEBUG" 4
	run_stampede objstore "$r" "$key" "$FETCH/api/v1/get/$key" -n "$ST_CLIENTS" -H 'X-Meta-Fetch: 1' -count-header X-Meta-Fetched
	wait_profiles
	# The same stampede again, now that the node holds the body: the floor
	# for handing 100 x 16 MiB to these clients on this machine, which the
	# cold stampede's p99 is compared with.
	run_stampede objstore-warm "$r" "$key" "$FETCH/api/v1/get/$key" -n "$ST_CLIENTS"
	key=${ST_NG[r - 1]}
	url=$(presign "http://$CP" "$key")
	run_stampede nginx-cache "$r" "$key" "${url/"http://$CP"/$NGC}" -n "$ST_CLIENTS" -count-header X-Cache-Status
	run_stampede nginx-warm "$r" "$key" "${url/"http://$CP"/$NGC}" -n "$ST_CLIENTS" -count-header X-Cache-Status
	# No cache: every client GETs the object from the S3 server (through the proxy).
	run_stampede s3-nocache "$r" "$ST_BASE" "$(presign "http://$CP" "$ST_BASE")" -n "$ST_CLIENTS"
done

# ---- 4. cluster: peer reads beside local hits -------------------------------
# Two nodes on their own loopback addresses, A on 127.0.0.31 and B on
# 127.0.0.32, each with its public and private address on its own IP, the
# same cluster key, B joining A. Their origin is the S3 server of sections
# 1-2 (directly, as the first node's), though level 0 never touches it. Both
# objects are PUT at level 0 on A, so only A holds their bodies: a GET on A
# is a local hit (from the hot cache at 4 KiB, from the file at 64 MiB), a
# GET on B reads the body from A over the private API (X-Meta-Symlink): at
# 64 MiB streamed every time, at 4 KiB once and then from B's hot cache.
stop fetcher
stop nginx

# start_cluster_node NAME IP [JOIN]: a node of the cluster with its own dirs
# under WORK, both addresses on IP; JOIN is a member's private address. Sets
# CN_URL and CN_PRIV.
start_cluster_node() {
	local name=$1 ip=$2 join=${3:-} pub priv dir args=()
	pub=$(free_port "$ip") priv=$(free_port "$ip")
	dir=$WORK/$name
	mkdir -p "$dir"
	[ -z "$join" ] || args=(-N "$join")
	start "$name" "$BIN/objstore" --backend s3 --s3-endpoint "$S3" --s3-path-style -B "$BUCKET" \
		--cluster-key "$CLUSTER_KEY" "${args[@]}" \
		--public-addr "$ip:$pub" --private-addr "$ip:$priv" --s3-api-addr "" \
		--state-dir "$dir/state" --files-dir "$dir/files"
	CN_URL=http://$ip:$pub
	CN_PRIV=$ip:$priv
	wait_http "$CN_URL/api/v1/ping"
}

# alive_members URL: how many members URL's node lists as alive.
alive_members() {
	curl -fsS --max-time 2 "$1/api/v1/nodes" 2>/dev/null | jq '[.[] | select(.state == "alive")] | length' 2>/dev/null || echo 0
}

log "cluster: node A on $CLUSTER_IP_A, node B on $CLUSTER_IP_B joining A"
start_cluster_node nodeA "$CLUSTER_IP_A"
CA=$CN_URL CA_PRIV=$CN_PRIV
start_cluster_node nodeB "$CLUSTER_IP_B" "$CA_PRIV"
CB=$CN_URL
cluster_formed() { [ "$(alive_members "$CA")" = 2 ] && [ "$(alive_members "$CB")" = 2 ]; }
for ((i = 0; i < 300; i++)); do
	if cluster_formed; then
		break
	fi
	sleep 0.1
done
cluster_formed || die "the cluster did not form within 30s: A lists $(alive_members "$CA"), B $(alive_members "$CB") alive"
log "cluster: both nodes list 2 alive members"
curl -fsS "$CB/api/v1/nodes" >"$OUT/raw/cluster-nodes.json"

CID4K=$(put_object "$CA" "$WORK/bodies/b4k" b4k.bin 0)
CID64M=$(put_object "$CA" "$WORK/bodies/b64m" b64m.bin 0)
# B learns the records by push (or, failing that, the next anti-entropy pass).
for id in "$CID4K" "$CID64M"; do
	for ((i = 0; i < 300; i++)); do
		curl -fsS -o /dev/null --max-time 2 "$CB/api/v1/meta/$id" 2>/dev/null && break
		sleep 0.1
	done
	curl -fsS -o /dev/null --max-time 2 "$CB/api/v1/meta/$id" || die "node B did not learn $id within 30s"
done
# check_peer LABEL URL FILE WANT: GET URL once (headers kept in
# raw/cluster-headers-LABEL.txt), compare the body with FILE, and check that
# X-Meta-Symlink is WANT ("true" on B, absent on A).
check_peer() {
	local label=$1 url=$2 file=$3 want=$4 hdrs got
	hdrs=$OUT/raw/cluster-headers-$label.txt
	curl -fsS -D "$hdrs" -o "$WORK/check.body" "$url" || die "GET $url failed"
	cmp -s "$WORK/check.body" "$file" || die "GET $url: body differs from $file"
	got=$(tr -d '\r' <"$hdrs" | awk -F': ' 'tolower($1) == "x-meta-symlink" {print $2}')
	[ "$got" = "$want" ] || die "GET $url: X-Meta-Symlink is '$got', want '$want'"
}
check_peer A-4KiB "$CA/api/v1/get/$CID4K" "$WORK/bodies/b4k" ""
check_peer A-64MiB "$CA/api/v1/get/$CID64M" "$WORK/bodies/b64m" ""
check_peer B-4KiB "$CB/api/v1/get/$CID4K" "$WORK/bodies/b4k" true
check_peer B-64MiB "$CB/api/v1/get/$CID64M" "$WORK/bodies/b64m" true
[ -z "$(find "$WORK/nodeB/files" -type f -size +0 -print -quit 2>/dev/null)" ] ||
	log "cluster: warning: node B holds body files; peer reads may not be peer reads"
log "cluster: B answers with X-Meta-Symlink: true and the right bodies; A without it"

# CPU of a run counts both nodes: for a local hit B is idle, for a peer read
# both work (B streams from A).
SERVER_PIDS[local]="$(pid_of nodeA) $(pid_of nodeB)"
SERVER_PIDS[peer]=${SERVER_PIDS[local]}
for size in 4KiB 64MiB; do
	case $size in
	4KiB) id=$CID4K ;;
	64MiB) id=$CID64M ;;
	esac
	log "peer read $size: $RUNS runs of wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DUR, A (local hit) and B (peer read) in turn"
	for ((r = 1; r <= RUNS; r++)); do
		run_wrk peer local "$size" "$r" "$CA/api/v1/get/$id"
		run_wrk peer peer "$size" "$r" "$CB/api/v1/get/$id"
	done
done
stop nodeB
stop nodeA

# ---- 5. anti-entropy sync cost ----------------------------------------------
# synccost builds two journals of N records differing in SYNC_DIFF of them
# and measures one anti-entropy pass against shipping the whole journal.
# Nothing else runs meanwhile but the idle S3 server and counting proxy.
log "sync cost: synccost -n $SYNC_N -diff $SYNC_DIFF (1M records take about a minute and a half)"
mkdir -p "$WORK/synccost"
"$BIN/synccost" -n "$SYNC_N" -diff "$SYNC_DIFF" -dir "$WORK/synccost" >"$OUT/raw/synccost.txt" 2>"$OUT/logs/synccost.log" ||
	die "synccost failed; see $OUT/logs/synccost.log"
cat "$OUT/raw/synccost.txt" >&2

fi # sections 3 to 5
fi # BENCH_SECTIONS

# ---- 6. summary ----------------------------------------------------------------
# How busy the machine was: the load average, and the share of all CPU time
# since the start that went to other processes or to the hypervisor (steal).
read -r -a STAT1 < <(head -n1 /proc/stat)
echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
awk -v a="${STAT0[*]}" -v b="${STAT1[*]}" 'BEGIN {
	n = split(a, x, " "); split(b, y, " ")
	for (i = 2; i <= n; i++) { d[i] = y[i] - x[i]; tot += d[i] }
	printf "cpu_during_run idle+iowait %.0f%%, steal %.0f%% (of %d cores)\n", 100 * (d[5] + d[6]) / tot, 100 * d[9] / tot, '"$(nproc)"'
}' >>"$OUT/meta.txt"
/usr/bin/python3 bench/summarize.py "$OUT" | tee "$OUT/summary.txt"
log "raw results in $OUT"
