#!/usr/bin/env bash
# Installs mystmd (the MyST engine Jupyter Book 2 runs, from npm) for the tests that check the files
# `/hub book` writes with MyST's own validator and the page and heading ids hubbot cites against a
# real build, once, into a cache keyed by its version:
#
#   ${HUBBOT_MYSTMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/mystmd}/mystmd-<v>/bin/myst
#
# (tools/cached_build.sh: one install at a time, renamed into place whole). When it is there it does
# nothing. The last line printed is the bin folder; `--print-dir` prints only that, installing
# nothing. (Keep the version in step with MYSTMD_VERSION in hubbot/books/files.py, the one the
# publishing workflow installs.)
set -euo pipefail
source "$(dirname "$0")/cached_build.sh"

MYSTMD_VERSION=1.8.3
cache="${HUBBOT_MYSTMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/mystmd}"

install_mystmd() {
    local into=$1 tool
    for tool in node npm; do
        if ! command -v "$tool" >/dev/null; then
            echo "build_mystmd: $tool is needed to install mystmd (Debian: apt-get install nodejs npm)" >&2
            return 1
        fi
    done
    echo "build_mystmd: installing mystmd $MYSTMD_VERSION" >&2
    npm install -q --prefix "$into" --no-audit --no-fund "mystmd@$MYSTMD_VERSION" >&2
    mkdir -p "$into/bin"
    ln -s ../node_modules/.bin/myst "$into/bin/myst"
}

cached_build mystmd "$cache" "$cache/mystmd-$MYSTMD_VERSION" install_mystmd "${1:-}" myst
