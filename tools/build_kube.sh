#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module in tools/kube, once,
# into a cache keyed by the Kubernetes release (read from tools/kube/go.mod) and the Go version:
#
#   ${HUBBOT_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/kube}/<release>-<go version>/bin
#
# When the three binaries are there it does nothing (tools/cached_build.sh: the lock, the atomic
# rename, `--print-dir`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/kube"
binaries=(etcd kube-apiserver kube-controller-manager)

release="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v[0-9]/ { print $2; exit }' "$module/go.mod")"
if [[ -z "$release" ]]; then
    echo "build_kube: no k8s.io/kubernetes version in $module/go.mod" >&2
    exit 1
fi
if ! command -v go >/dev/null; then
    echo "build_kube: Go is not installed (the control plane is built from Go modules)" >&2
    exit 1
fi
goversion="$(cd "$module" && go env GOVERSION)"  # e.g. go1.26.8 (the toolchain go.mod selects)
cache="${HUBBOT_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/kube}"
dest="$cache/$release-$goversion"

build() {
    local tmp=$1 minor ldflags pkg
    echo "build_kube: building ${binaries[*]} of Kubernetes $release with $goversion (takes a while the first time)" >&2
    # What upstream's release build stamps in, so /version and --version name the release.
    minor="${release#v1.}"; minor="${minor%%.*}"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitVersion=$release -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    (
        cd "$module"
        CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/bin/" \
            ./cmd/etcd ./cmd/kube-apiserver ./cmd/kube-controller-manager
    )
    printf '%s\n' "$release" > "$tmp/RELEASE"
}

# shellcheck source=tools/cached_build.sh
source "$here/cached_build.sh"
cached_build kube "$cache" "$dest" build "${1:-}" "${binaries[@]}"
