#!/usr/bin/env bash
# Installs a real JupyterHub (from PyPI) and configurable-http-proxy (from npm) for the tests that
# talk to a hub's REST API, once, into a cache keyed by both versions:
#
#   ${HUBBOT_JUPYTERHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/jupyterhub}/jupyterhub-<v>-chp-<v>
#
# with bin/jupyterhub (a virtualenv of its own: JupyterHub's dependencies never meet hubbot's)
# and node_modules/.bin/configurable-http-proxy. When both are there it does nothing. The last line
# printed is the folder; `--print-dir` prints only that, installing nothing.
set -euo pipefail

JUPYTERHUB_VERSION=6.1.1
CHP_VERSION=4.6.3  # 5.x needs Node.js 22; Debian 12 machines have 20
cache="${HUBBOT_JUPYTERHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/jupyterhub}"
dest="$cache/jupyterhub-$JUPYTERHUB_VERSION-chp-$CHP_VERSION"

complete() {
    [[ -x "$dest/bin/jupyterhub" && -x "$dest/node_modules/.bin/configurable-http-proxy" ]]
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
for tool in python3 npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "build_jupyterhub: $tool is needed to install JupyterHub and configurable-http-proxy" >&2
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
# at the cache path. (A virtualenv records its own path, so it is made at its final name.)
rm -rf "$cache"/.build-* "$dest"
tmp="$(mktemp -d "$cache/.build-XXXXXX")"
trap 'rm -rf "$tmp" "$dest"' EXIT
echo "build_jupyterhub: installing jupyterhub $JUPYTERHUB_VERSION and configurable-http-proxy $CHP_VERSION" >&2
python3 -m venv "$dest"
"$dest/bin/python" -m pip install -q "jupyterhub==$JUPYTERHUB_VERSION"
npm install -q --prefix "$tmp" --no-audit --no-fund "configurable-http-proxy@$CHP_VERSION" >&2
mv "$tmp/node_modules" "$dest/node_modules"
rm -rf "$tmp"
trap - EXIT
echo "$dest"
