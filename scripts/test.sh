#!/usr/bin/env bash
# The project's test command: installs what the tests need when it is
# missing, then runs go vet and the whole test suite with the race detector.
#
#   bash scripts/test.sh                                  # everything
#   bash scripts/test.sh -run TestReadme ./tests/integration/
#
# Arguments, when given, replace the default package pattern ./... and are
# passed to go test as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSITYGW_VERSION=v1.8.0

section() { printf '\n==> %s\n' "$*"; }

# ensure_apt installs the Debian packages among its arguments that are not
# installed yet. It runs apt-get update at most once per invocation.
APT_UPDATED=0
ensure_apt() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	if [ "$APT_UPDATED" -eq 0 ]; then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		APT_UPDATED=1
	fi
	echo "installing apt packages: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_go_tool installs a Go command at the given module version unless a
# binary built from exactly that version is already on PATH.
ensure_go_tool() {
	local name=$1 pkg=$2 version=$3 bin
	bin=$(command -v "$name" || true)
	if [ -n "$bin" ] && go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3 }' | grep -qx "$version"; then
		echo "$name $version: $bin"
		return 0
	fi
	echo "installing $pkg@$version"
	go install "$pkg@$version"
	echo "$name $version: $(command -v "$name")"
}

section "environment"
command -v go >/dev/null || { echo "go is not on PATH" >&2; exit 1; }
# go install puts commands in GOBIN, or else in the first GOPATH entry's bin.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
export PATH="$gobin:$PATH"
go version

section "test dependencies"
ensure_apt iptables # cluster partition tests cut nodes apart with iptables rules
# the S3 API client tests drive these real clients (tests/integration/s3api_clients_test.go)
ensure_apt awscli rclone s3cmd python3-boto3
ensure_go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"

section "go vet ./..."
go vet ./...

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
section "go test -race -count=1 -timeout 45m ${args[*]}"
status=0
go test -race -count=1 -timeout 45m "${args[@]}" || status=$?
go test -run '^$' -fuzz FuzzParseMatchesNetHTTP -fuzztime 20s ./internal/fastpath/ || status=$? # the fast path's parser against net/http's, for a bounded time
section "go test exited with status $status"
exit "$status"
