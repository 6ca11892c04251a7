# Sourced by the tools/build_*.sh scripts that build Go binaries once into a cache folder.
#
#   cached_build NAME CACHE DEST BUILD MODE BINARY...
#
# DEST (a folder under CACHE, named after what is built) holds bin/BINARY... once built. With MODE
# --print-dir it prints DEST/bin and builds nothing (tests use it to find the binaries); with MODE
# "" it builds when a binary is missing: one build at a time (a lock in CACHE; whoever waited finds
# the finished cache), by calling the function BUILD with a fresh folder beside the cache, which is
# renamed into place whole, so an interrupted build never leaves a half-filled folder behind (only a
# .build-* folder, removed by the next build). The last line printed on stdout is DEST/bin.

cached_build() {
    local name=$1 cache=$2 dest=$3 build=$4 mode=$5
    shift 5
    local bindir="$dest/bin" binary start
    case "$mode" in
        --print-dir) echo "$bindir"; return 0 ;;
        "") ;;
        *) echo "usage: build_$name.sh [--print-dir]" >&2; return 2 ;;
    esac
    _cached_build_complete() {
        for binary in "$@"; do
            [[ -x "$bindir/$binary" ]] || return 1
        done
    }
    if _cached_build_complete "$@"; then
        echo "$bindir"
        return 0
    fi
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    if _cached_build_complete "$@"; then
        echo "$bindir"
        return 0
    fi
    rm -rf "$cache"/.build-*
    _cached_build_tmp="$(mktemp -d "$cache/.build-XXXXXX")"
    trap 'rm -rf "$_cached_build_tmp"' EXIT
    start=$(date +%s)
    "$build" "$_cached_build_tmp"
    rm -rf "$dest"
    mv -T "$_cached_build_tmp" "$dest"
    trap - EXIT
    echo "build_$name: built in $(( $(date +%s) - start ))s" >&2
    echo "$bindir"
}
