#!/usr/bin/env bash
# The project's test command: installs what the tests need when it is
# missing (printing the list first), then runs go vet and the whole test
# suite with the race detector. It changes nothing on the host's network:
# partition tests use network namespaces they create and remove, and skip
# when not run as root.
#
#   bash scripts/test.sh                                  # everything
#   bash scripts/test.sh -run TestReadme ./tests/integration/
#
# Arguments, when given, replace the default package pattern ./... and are
# passed to go test as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSITYGW_VERSION=v1.8.0
STATICCHECK_VERSION=v0.8.2
KUBECONFORM_VERSION=v0.7.0

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

# go_tool_current reports whether the command on PATH was built from
# exactly the given module version.
go_tool_current() {
	local bin
	bin=$(command -v "$1") || return 1
	go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3 }' | grep -qx "$2"
}

# ensure_go_tool installs a Go command at the given module version unless a
# binary built from exactly that version is already on PATH.
ensure_go_tool() {
	local name=$1 pkg=$2 version=$3
	if go_tool_current "$name" "$version"; then
		echo "$name $version: $(command -v "$name")"
		return 0
	fi
	echo "installing $pkg@$version"
	go install "$pkg@$version"
	echo "$name $version: $(command -v "$name")"
}

# ensure_promtool puts promtool in $gobin unless one is on PATH: it unpacks
# the binary alone from Debian's prometheus package, because installing the
# package would also install (and on a host with an init system start) a
# Prometheus server, and pull in its web assets.
ensure_promtool() {
	if command -v promtool >/dev/null; then
		echo "promtool: $(command -v promtool)"
		return 0
	fi
	local tmp sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null); then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		APT_UPDATED=1
		(cd "$tmp" && apt-get download -qq prometheus)
	fi
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
	install -m 0755 "$tmp/x/usr/bin/promtool" "$gobin/promtool"
	rm -rf "$tmp"
	echo "promtool: $gobin/promtool ($(promtool --version 2>&1 | head -1))"
}

section "environment"
command -v go >/dev/null || { echo "go is not on PATH" >&2; exit 1; }
# go install puts commands in GOBIN, or else in the first GOPATH entry's bin.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
export PATH="$gobin:$PATH"
go version

section "test dependencies"
# What the suite needs, and why; each is installed only when it is missing,
# and the list of what will be installed is printed before anything is.
#   iproute2 (ip)   partition tests run nodes in network namespaces they
#                   create and remove (tests/integration/cluster_netns_test.go);
#                   nothing on the host's network is changed
#   awscli rclone s3cmd python3-boto3
#                   real S3 clients the S3 API tests drive
#                   (tests/integration/s3api_clients_test.go)
#   chromium fonts-liberation
#                   the headless browser the status page test drives
#                   (tests/integration/statuspage_browser_test.go, via chromedp),
#                   and the font its screenshot is drawn in (a recommend of
#                   chromium, which --no-install-recommends leaves out)
#   versitygw       the S3-compatible origin of the integration tests
#   staticcheck     the linter the tree is kept clean with (honnef.co/go/tools)
#   systemd (systemd-analyze)
#                   checks deploy/systemd/objstore.service: verify and its
#                   hardening score (tests/integration/deploy_files_test.go)
#   kubeconform     checks deploy/kubernetes against strict schemas that
#                   deploy/check derives offline from k8s.io/api
#   promtool        Prometheus's linter: the metrics test pipes a live node's
#                   /metrics to `promtool check metrics`
#                   (tests/integration/metrics_scrape_test.go); unpacked alone
#                   from Debian's prometheus package, see ensure_promtool
APT_PACKAGES=(iproute2 awscli rclone s3cmd python3-boto3 systemd)
APT_PACKAGES+=(chromium fonts-liberation)
plan_install() {
	local missing=() pkg
	for pkg in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("apt:$pkg")
	done
	go_tool_current versitygw "$VERSITYGW_VERSION" || missing+=("go:github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
	go_tool_current staticcheck "$STATICCHECK_VERSION" || missing+=("go:honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION")
	go_tool_current kubeconform "$KUBECONFORM_VERSION" || missing+=("go:github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION")
	command -v promtool >/dev/null || missing+=("apt-download:prometheus(promtool only)")
	if [ ${#missing[@]} -eq 0 ]; then
		echo "everything the tests need is installed"
	else
		echo "will install: ${missing[*]}"
	fi
}
plan_install
ensure_apt "${APT_PACKAGES[@]}"
ensure_go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
ensure_go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
ensure_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
ensure_promtool

section "go vet ./... and staticcheck ./..."
go vet ./...
staticcheck ./...
# deploy/check is a module of its own (k8s.io/api and compose-go stay out
# of the main go.mod), so ./... above does not reach it.
(cd deploy/check && go vet ./... && staticcheck ./...)

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
section "go test -race -count=1 -timeout 45m ${args[*]}"
# The fault tests (kill -9, orphans, frozen origin, partition) run a few
# rounds here and append one JSON summary each to this file (see
# scripts/campaign.sh for hundreds of rounds, RELIABILITY.md for what they
# show); it is printed after the run, passed or failed.
campaign_out=$(mktemp "${TMPDIR:-/tmp}/objstore-campaign-XXXXXX")
trap 'rm -f "$campaign_out"' EXIT
export OBJSTORE_CAMPAIGN_OUT="$campaign_out"
status=0
go test -race -count=1 -timeout 45m "${args[@]}" || status=$?
if [ -s "$campaign_out" ]; then
	section "fault test figures"
	sed 's/^/CAMPAIGN /' "$campaign_out"
fi
# The fast path's parser against net/http's, for a bounded number of inputs.
# A count, not a duration: with -fuzztime <duration>, Go 1.26's fuzz
# coordinator can report its own stop deadline as a failure
# ("context deadline exceeded", no crasher written; golang/go#75804, fixed
# in Go 1.27). A count never arms that deadline.
go test -run '^$' -fuzz FuzzParseMatchesNetHTTP -fuzztime 300000x ./internal/fastpath/ || status=$?
section "go test exited with status $status"
exit "$status"
