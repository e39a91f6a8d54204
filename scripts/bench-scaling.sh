#!/usr/bin/env bash
# Scaling (issue 18): the gateway with WORKERS=N against Nchan with N workers, for N in
# SCALING_COUNTS (default "1 2 4 8"), each target pinned to cores 0..N-1 and the load generator
# to the cores after the largest N (BENCH_LOAD_CPUS to choose). Needs at least max(N) + 2 cores
# (SCALING_FORCE=1 runs anyway, for a dry run). Then writes benchmark-results/scaling-<first
# run>.md: each figure, its ratio to Nchan's at the same N, and its share of linear scaling.
#   SCALING_COUNTS="1 2 4 8" SCALING_SCENARIOS=fanout,drop,many-topics scripts/bench-scaling.sh [quick|full] [--set k=v …]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
shift || true
counts=${SCALING_COUNTS:-1 2 4 8}
scenarios=${SCALING_SCENARIOS:-fanout,drop,many-topics}
cores=$(nproc)
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
if [ "$cores" -lt $((max + 2)) ] && [ -z "${SCALING_FORCE:-}" ]; then
  echo "bench-scaling: N up to $max needs at least $((max + 2)) cores (this machine has $cores)" >&2
  exit 2
fi
export BENCH_LOAD_CPUS=${BENCH_LOAD_CPUS:-$((max < cores ? max : cores - 1))-$((cores - 1))}
runs=()
for n in $counts; do
  node=node-w$n nchan=nchan-${n}w cpus=0-$((n - 1))
  [ "$n" = 1 ] && node=node nchan=nchan cpus=0
  log=$(mktemp)
  BENCH_TARGET_CPUS=$cpus scripts/bench.sh "$mode" --targets "$node,$nchan" --scenarios "$scenarios" "$@" 2>&1 | tee "$log" >&2
  id=$(sed -n 's/.*run · \([0-9][0-9T-]*\),.*/\1/p' "$log" | head -1)
  rm -f "$log"
  [ -n "$id" ] || { echo "bench-scaling: no run id for N=$n" >&2; exit 1; }
  runs+=("$n:$id")
done
node scripts/scaling-summary.mjs "$BENCH_LOAD_CPUS" "${runs[@]}"
