#!/usr/bin/env bash
# Builds sops, age and age-keygen from the Go module in tools/sops, once, into a cache keyed by the
# sops and age releases (read from tools/sops/go.mod) and the Go version:
#
#   ${HUBBOT_SOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/sops}/<sops>-<age>-<go version>/bin
#
# When the three binaries are there it does nothing. The last line printed on stdout is the bin
# folder; `--print-dir` prints only that folder, building nothing (tests use it to find the binaries).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/sops"
binaries=(sops age age-keygen)

version_of() {
    awk -v mod="$1" '$1 == mod && $2 ~ /^v[0-9]/ { print $2; exit }' "$module/go.mod"
}
sops_release="$(version_of github.com/getsops/sops/v3)"
age_release="$(version_of filippo.io/age)"
if [[ -z "$sops_release" || -z "$age_release" ]]; then
    echo "build_sops: no github.com/getsops/sops/v3 or filippo.io/age version in $module/go.mod" >&2
    exit 1
fi
if ! command -v go >/dev/null; then
    echo "build_sops: Go is not installed (sops and age are built from Go modules)" >&2
    exit 1
fi
goversion="$(cd "$module" && go env GOVERSION)"  # e.g. go1.26.8 (the toolchain go.mod selects)
cache="${HUBBOT_SOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/sops}"
dest="$cache/$sops_release-$age_release-$goversion"
bindir="$dest/bin"

complete() {
    local name
    for name in "${binaries[@]}"; do
        [[ -x "$bindir/$name" ]] || return 1
    done
}

case "${1:-}" in
    --print-dir) echo "$bindir"; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--print-dir]" >&2; exit 2 ;;
esac

if complete; then
    echo "$bindir"
    exit 0
fi

mkdir -p "$cache"
# One build at a time; whoever waited finds the finished cache.
exec 9>"$cache/.lock"
flock 9
if complete; then
    echo "$bindir"
    exit 0
fi

# Built beside the cache (same file system) and renamed into place whole, so an interrupted build
# never leaves a half-filled bin folder behind (only a .build-* folder, removed by the next build).
rm -rf "$cache"/.build-*
tmp="$(mktemp -d "$cache/.build-$sops_release-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build_sops: building sops $sops_release and age $age_release with $goversion" >&2
start=$(date +%s)
(
    cd "$module"
    CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp/bin/" \
        github.com/getsops/sops/v3/cmd/sops
    # age prints the main module's version, which is this tools module's (devel): stamp its release.
    CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w -X main.Version=$age_release" -o "$tmp/bin/" \
        filippo.io/age/cmd/age filippo.io/age/cmd/age-keygen
)
printf 'sops %s\nage %s\n' "$sops_release" "$age_release" > "$tmp/RELEASE"
rm -rf "$dest"
mv -T "$tmp" "$dest"
trap - EXIT
echo "build_sops: built in $(( $(date +%s) - start ))s" >&2
echo "$bindir"
