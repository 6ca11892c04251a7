#!/usr/bin/env bash
# Installs jupyterhub-usage-quotas (PyPI) for the tests that read the quota policies hubbot writes
# with the library itself, once, into a virtualenv of its own (its dependencies never meet hubbot's)
# in a cache keyed by the library's version, JupyterHub's and the lock file's digest:
#
#   ${HUBBOT_USAGE_QUOTAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/usage-quotas}/usage-quotas-<v>-jupyterhub-<v>-<digest>
#
# The library needs Python 3.12 or newer (0.2.1 does not even import on 3.11), so the virtualenv is
# made with the first interpreter that runs and is new enough among: $HUBBOT_USAGE_QUOTAS_PYTHON,
# python3.12, python3.13 ... and python3 on PATH, then pyenv's versions 3.12 and newer. Every package
# is pinned by tools/usage_quotas.lock; `--lock` writes that file afresh from the two versions below.
# When the virtualenv is complete it does nothing. The last line printed is the folder;
# `--print-dir` prints only that, installing nothing.
set -euo pipefail

USAGE_QUOTAS_VERSION=0.2.1
JUPYTERHUB_VERSION=6.1.1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/usage_quotas.lock"
cache="${HUBBOT_USAGE_QUOTAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbot/usage-quotas}"
digest="$( [[ -f "$lock" ]] && sha256sum "$lock" | cut -c1-12 || echo unlocked)"
dest="$cache/usage-quotas-$USAGE_QUOTAS_VERSION-jupyterhub-$JUPYTERHUB_VERSION-$digest"
requirements=("jupyterhub-usage-quotas==$USAGE_QUOTAS_VERSION" "jupyterhub==$JUPYTERHUB_VERSION")
pip_quiet=(-q --disable-pip-version-check --no-input)

complete() {
    # The marker is written last; running the interpreter catches a base Python removed since.
    [[ -f "$dest/.complete" ]] && "$dest/bin/python" -c "" 2>/dev/null
}

# True when $1 runs, is Python 3.12 or newer, and can make a virtualenv. (pyenv's shims exist on
# PATH for every installed version but fail unless that version is selected, hence running it.)
usable() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

find_python() {
    if [[ -n "${HUBBOT_USAGE_QUOTAS_PYTHON:-}" ]]; then
        if usable "$HUBBOT_USAGE_QUOTAS_PYTHON"; then
            echo "$HUBBOT_USAGE_QUOTAS_PYTHON"
            return 0
        fi
        echo "build_usage_quotas: HUBBOT_USAGE_QUOTAS_PYTHON=$HUBBOT_USAGE_QUOTAS_PYTHON is not a Python 3.12+ with venv" >&2
        return 1
    fi
    local candidate minor roots=() root
    for minor in 12 13 14 15 16 17 18 19; do
        candidate="$(command -v "python3.$minor" 2>/dev/null)" || continue
        if usable "$candidate"; then echo "$candidate"; return 0; fi
    done
    candidate="$(command -v python3 2>/dev/null)" && usable "$candidate" && { echo "$candidate"; return 0; }
    if command -v pyenv >/dev/null; then
        roots+=("$(pyenv root 2>/dev/null || true)")
    fi
    roots+=("${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv)
    for root in "${roots[@]}"; do
        [[ -n "$root" && -d "$root/versions" ]] || continue
        while IFS= read -r candidate; do
            if usable "$candidate"; then echo "$candidate"; return 0; fi
        done < <(compgen -G "$root/versions/3.1[2-9]*/bin/python3" | sort -V)
    done
    {
        echo "build_usage_quotas: jupyterhub-usage-quotas $USAGE_QUOTAS_VERSION needs Python 3.12 or newer with venv, and none was found"
        echo "  install one (\`pyenv install 3.12\`, or python3.13-venv where the distribution has it) or set"
        echo "  HUBBOT_USAGE_QUOTAS_PYTHON to one; it was looked for on PATH and in pyenv's versions"
    } >&2
    return 1
}

write_lock() {
    local python
    python="$(find_python)"
    lock_tmp="$(mktemp -d)"
    trap 'rm -rf "$lock_tmp"' EXIT
    "$python" -m venv "$lock_tmp/venv"
    "$lock_tmp/venv/bin/python" -m pip install "${pip_quiet[@]}" "${requirements[@]}"
    "$lock_tmp/venv/bin/python" -m pip check >&2
    {
        echo "# Every package of the jupyterhub-usage-quotas test install (tools/build_usage_quotas.sh),"
        echo "# as resolved on $("$python" -c 'import platform; print("Python", platform.python_version())'). Refresh: \`bash tools/build_usage_quotas.sh --lock\`."
        "$lock_tmp/venv/bin/python" -m pip freeze
    } >"$lock"
    echo "build_usage_quotas: wrote $lock" >&2
}

case "${1:-}" in
    --print-dir) echo "$dest"; exit 0 ;;
    --lock) write_lock; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--print-dir | --lock]" >&2; exit 2 ;;
esac

if complete; then
    echo "$dest"
    exit 0
fi
for requirement in "${requirements[@]}"; do
    if ! grep -qixF "$requirement" "$lock"; then
        echo "build_usage_quotas: $lock does not pin $requirement; run \`bash $0 --lock\`" >&2
        exit 1
    fi
done
python="$(find_python)"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if complete; then
    echo "$dest"
    exit 0
fi
# A virtualenv records its own path, so it is made at its final name; the marker written last says
# it is whole, and a failed or interrupted install is removed here or by the next run.
rm -rf "$dest"
trap 'rm -rf "$dest"' EXIT
echo "build_usage_quotas: installing jupyterhub-usage-quotas $USAGE_QUOTAS_VERSION with $("$python" -c 'import sys; print("Python", sys.version.split()[0])')" >&2
"$python" -m venv "$dest"
"$dest/bin/python" -m pip install "${pip_quiet[@]}" -c "$lock" "${requirements[@]}"
"$dest/bin/python" -m pip check >&2
"$dest/bin/python" -c "import jupyterhub_usage_quotas.manager"
touch "$dest/.complete"
trap - EXIT
echo "$dest"
