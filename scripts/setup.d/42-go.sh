#!/usr/bin/env bash
# Go programs the tests run: the Go client example (examples/go, run by the examples matrix) and
# the Go interop clients (e2e/interop/clients/go-*, run by the interop suite). Each is a module
# of its own, pinned by its go.sum; `go build` fetches the modules once through the Go module
# proxy and afterwards rebuilds only what changed (about a second when all is up to date).
# go-sse 0.12 needs Go >= 1.26: an older `go` with GOTOOLCHAIN=auto (its default) fetches that
# toolchain by itself. Without `go` on PATH the matrix and the suite report these as not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }

if ! command -v go >/dev/null; then
  say "go not found: the Go examples and Go interop clients will be reported as not run"
  exit 0
fi

[ -x examples/go/bin/subscriber ] || say "build examples/go (go build -o examples/go/bin/)"
(cd examples/go && go build -buildvcs=false -o bin/ ./cmd/...)

for dir in e2e/interop/clients/go-*/; do
  [ -f "$dir/go.mod" ] || continue
  [ -x "$dir/bin/client" ] || say "build ${dir%/} (go build -o bin/client)"
  (cd "$dir" && go build -buildvcs=false -o bin/client .)
done
