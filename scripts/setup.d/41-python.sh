#!/usr/bin/env bash
# Python examples (examples/python) and Python interop clients (e2e/interop/clients/python-*):
# one virtual environment, examples/python/.venv, with the pinned, hash-checked requirements of
# both. Quick when it is already there: the venv keeps a checksum of the requirement files it
# was made from, and pip runs again only when they changed.
# A missing or too old python3 is reported here, and by the matrix as "not run", by name.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }

VENV=examples/python/.venv
REQUIREMENTS=(examples/python/requirements.txt e2e/interop/clients/python-requirements.txt)

if ! command -v python3 >/dev/null; then
  say "python3 not found: the Python examples will be reported as not run"
  exit 0
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "examples/python needs Python >= 3.11, found $(python3 --version 2>&1): not installed"
  exit 0
fi

stamp=$VENV/.requirements.sha256
want=$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "python3 -m venv $VENV"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    # Debian's python3 keeps venv (ensurepip) in a package of its own.
    rm -rf "$VENV"
    if declare -F apt_install >/dev/null; then apt_install python3-venv; fi
    python3 -m venv "$VENV"
  fi
fi
say "pip install the pinned requirements into $VENV (${REQUIREMENTS[*]})"
reqs=()
for r in "${REQUIREMENTS[@]}"; do reqs+=(-r "$r"); done
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  --no-deps --only-binary :all: "${reqs[@]}"
echo "$want" >"$stamp"
