#!/usr/bin/env bash
# Client examples (examples/*): the toolchains and builds the examples matrix runs. Quick when
# everything is already there (under a second): cargo rebuilds only what changed.
#   TypeScript: tsx comes with the root `npm ci` (examples/typescript is a workspace).
#   Python:     scripts/setup.d/41-python.sh (a virtual environment with pinned requirements).
#   Go:         scripts/setup.d/42-go.sh.
#   Rust:       `cargo build --release --locked` (ureq + serde_json from crates.io, pinned by
#               Cargo.lock); about 30 s the first time on 2 cores.
# A missing toolchain is reported here, and by the matrix as "not run", by name.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }

if command -v cargo >/dev/null; then
  [ -x examples/rust/target/release/subscriber ] || say "build examples/rust (cargo build --release --locked)"
  (cd examples/rust && cargo build --release --locked --quiet)
else
  say "cargo not found: the Rust examples will be reported as not run"
fi
