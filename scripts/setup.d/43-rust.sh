#!/usr/bin/env bash
# Rust: the example (examples/rust) and the interop clients (e2e/interop/clients/rust-*), built
# with `cargo build --release --locked` (crates from crates.io, pinned by each Cargo.lock). Both
# build into examples/rust/target, so the crates they share compile once: about 1 min 45 s for the
# example and 15 s more for the interop clients the first time on 2 cores; under a second when
# nothing changed. rustls needs a C compiler (ring): installed when missing.
# A missing toolchain is reported here, and by the matrix and the interop suite as "not run".
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }

if ! command -v cargo >/dev/null; then
  say "cargo not found: the Rust examples and interop clients will be reported as not run"
  exit 0
fi
if ! command -v cc >/dev/null && declare -F apt_install >/dev/null; then
  apt_install gcc libc6-dev
fi
[ -x examples/rust/target/release/subscriber ] || say "build examples/rust (cargo build --release --locked)"
(cd examples/rust && cargo build --release --locked --quiet)
[ -x examples/rust/target/release/rust-tungstenite ] ||
  say "build e2e/interop/clients/rust-* (cargo build --release --locked)"
(cd e2e/interop/clients && cargo build --release --locked --quiet)
