#!/usr/bin/env bash
# Client examples (examples/*): the toolchains and builds the examples matrix runs. Quick when
# everything is already there.
#   TypeScript: its packages come with the root `npm ci` (examples/typescript is a workspace).
#   Python:     scripts/setup.d/41-python.sh (a venv with the pinned requirements).
#   Go:         scripts/setup.d/42-go.sh.
#   Rust:       scripts/setup.d/43-rust.sh.
# A missing toolchain is reported here, and by the matrix as "not run", by name.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }
