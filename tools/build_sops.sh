#!/usr/bin/env bash
# Builds sops, age and age-keygen from the Go module in tools/sops, once, into a cache keyed by the
# sops and age releases (read from tools/sops/go.mod) and the Go version:
#
#   ${HUBBOT_SOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/sops}/<sops>-<age>-<go version>/bin
#
# When the three binaries are there it does nothing (tools/cached_build.sh: the lock, the atomic
# rename, `--print-dir`).
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

build() {
    local tmp=$1
    echo "build_sops: building sops $sops_release and age $age_release with $goversion" >&2
    (
        cd "$module"
        CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp/bin/" \
            github.com/getsops/sops/v3/cmd/sops
        # age prints the main module's version, which is this tools module's (devel): stamp its release.
        CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w -X main.Version=$age_release" \
            -o "$tmp/bin/" filippo.io/age/cmd/age filippo.io/age/cmd/age-keygen
    )
    printf 'sops %s\nage %s\n' "$sops_release" "$age_release" > "$tmp/RELEASE"
}

# shellcheck source=tools/cached_build.sh
source "$here/cached_build.sh"
cached_build sops "$cache" "$dest" build "${1:-}" "${binaries[@]}"
