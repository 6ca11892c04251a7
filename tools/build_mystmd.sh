#!/usr/bin/env bash
# Installs mystmd (the MyST engine Jupyter Book 2 runs, from npm) for the tests that check the files
# `/hub book` writes with MyST's own validator and the page and heading ids hubbot cites against a
# real build, once, into a cache keyed by its version:
#
#   ${HUBBOT_MYSTMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/mystmd}/mystmd-<v>
#
# with node_modules/.bin/myst. When it is there it does nothing. The last line printed is the folder;
# `--print-dir` prints only that, installing nothing. (Keep the version in step with MYSTMD_VERSION in
# hubbot/books/files.py, the one the publishing workflow installs.)
set -euo pipefail

MYSTMD_VERSION=1.8.3
cache="${HUBBOT_MYSTMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/mystmd}"
dest="$cache/mystmd-$MYSTMD_VERSION"

complete() {
    [[ -x "$dest/node_modules/.bin/myst" ]]
}

case "${1:-}" in
    --print-dir) echo "$dest"; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--print-dir]" >&2; exit 2 ;;
esac

if complete; then
    echo "$dest"
    exit 0
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "build_mystmd: $tool is needed to install mystmd (Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
done
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if complete; then
    echo "$dest"
    exit 0
fi
# Installed beside the cache and renamed into place whole: an interrupted install leaves nothing
# at the cache path.
rm -rf "$cache"/.build-* "$dest"
tmp="$(mktemp -d "$cache/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build_mystmd: installing mystmd $MYSTMD_VERSION" >&2
npm install -q --prefix "$tmp" --no-audit --no-fund "mystmd@$MYSTMD_VERSION" >&2
mv -T "$tmp" "$dest"
trap - EXIT
echo "$dest"
