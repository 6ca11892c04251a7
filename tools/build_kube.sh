#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module in tools/kube, once,
# into a cache keyed by the Kubernetes release (read from tools/kube/go.mod) and the Go version:
#
#   ${HUBBOT_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/kube}/<release>-<go version>/bin
#
# When the three binaries are there it does nothing. The last line printed on stdout is the bin
# folder; `--print-dir` prints only that folder, building nothing (tests use it to find the binaries).
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
tmp="$(mktemp -d "$cache/.build-$release-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build_kube: building ${binaries[*]} of Kubernetes $release with $goversion (takes a while the first time)" >&2
start=$(date +%s)
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
rm -rf "$dest"
mv -T "$tmp" "$dest"
trap - EXIT
echo "build_kube: built in $(( $(date +%s) - start ))s" >&2
echo "$bindir"
