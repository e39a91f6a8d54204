#!/usr/bin/env bash
# The benchmarks on a bare machine with many cores and no Node.js, nginx or package registry
# (docs/benchmarks.md, "On a machine without Node or nginx"), from what scripts/device-pack.sh
# packed: .devbench/, bench/dist and packages/node/dist beside this tree. In one command, inside
# a time budget, each step bounded and the next one run when one fails:
#   a. the request path on dedicated cores: bare, node and nchan, each on core 0, the load
#      generator on cores 2 and up; drop, 10,000 topics, idle connections (quick mode)
#   b. scaling (scripts/bench-scaling.sh): WORKERS=N against Nchan with N workers, N = 1 2 4 8,
#      fan-out, drop and 1,000 topics, the targets on cores 0..N-1, the load generator on cores
#      8 and up
#   c. step a again with the targets' order rotated, when the time left allows
# Then everything the runs wrote (figures, summaries, heads and tails of the logs) goes into
# $OUT/devbench.tgz, and this script's output into $OUT/devbench.log.
#   OUT=/some/dir bash scripts/device-bench.sh
# Knobs: DEVBENCH_BUDGET_S (400: the whole script, in seconds), DEVBENCH_RP_TARGETS,
# DEVBENCH_RP_SCENARIOS, DEVBENCH_RP_SETS, SCALING_COUNTS, SCALING_SCENARIOS,
# DEVBENCH_SCALING_SETS, DEVBENCH_STEPS (default "a b c"), DEVBENCH_TMP (/tmp/devbench: where
# node is unpacked), DEVBENCH_NGINX_MODE (system|lib|loader: force how nginx finds its libraries).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T0=$(date +%s)
BUDGET=${DEVBENCH_BUDGET_S:-400}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/devbench.log") 2>&1
teepid=$!

elapsed() { echo $(($(date +%s) - T0)); }
left() { echo $((BUDGET - $(elapsed))); }
say() { printf '[devbench %3ss] %s\n' "$(elapsed)" "$*"; }
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }

PACK=$ROOT/.devbench
TMPD=${DEVBENCH_TMP:-/tmp/devbench}
[ -d "$PACK" ] || { say "no .devbench/ here: run scripts/device-pack.sh and carry .devbench"; exit 1; }
# shellcheck disable=SC1091
. "$PACK/versions"
mkdir -p "$TMPD/bin"
marker=$TMPD/started
touch "$marker"
say "start: budget ${BUDGET} s, OUT=$OUT, packed $PACKED_AT from $PACKED_COMMIT on $PACKED_ON"

# --- the carried files -----------------------------------------------------------------------
(cd "$PACK" && sha256sum --quiet -c SHA256SUMS) || say "warning: .devbench/ does not match its SHA256SUMS"
if [ ! -x "$TMPD/bin/node" ] || [ "$("$TMPD/bin/node" --version 2>/dev/null)" != "$NODE_VERSION" ]; then
  if command -v xz >/dev/null; then
    xz -dc "$PACK/node.xz" >"$TMPD/bin/node"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$PACK/node.xz" "$TMPD/bin/node"
  fi
  chmod +x "$TMPD/bin/node"
fi
export PATH=$TMPD/bin:$PATH
if ! node --version >/dev/null 2>&1; then
  say "node does not start with this machine's C++ runtime: using the carried one"
  export LD_LIBRARY_PATH=$PACK/lib-node${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
node --version >/dev/null 2>&1 || { say "node does not start: $(node --version 2>&1 | head -3)"; exit 1; }
say "node: $(command -v node) $(node --version)"

# A wrapper for a carried program: its libraries from .devbench/lib, or (mode loader) through
# the carried loader and C library, for a machine whose own C library is too old.
wrap() { # wrap NAME PROGRAM MODE
  local name=$1 prog=$2 mode=$3 w=$TMPD/bin/$1
  case $mode in
  system) printf '#!/bin/sh\nexec %s "$@"\n' "$prog" >"$w" ;;
  lib) printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' "$PACK/lib" "$prog" >"$w" ;;
  loader) printf '#!/bin/sh\nexec %s --library-path %s %s "$@"\n' "$PACK/glibc/ld-linux-x86-64.so.2" "$PACK/lib:$PACK/glibc" "$prog" >"$w" ;;
  esac
  chmod +x "$w"
  echo "$w"
}

if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
  say "taskset: $(command -v taskset)"
else
  for mode in system lib loader; do
    t=$(wrap taskset "$PACK/bin/taskset" $mode)
    "$t" -c 0 true 2>/dev/null && break
  done
  say "taskset: the carried one ($mode): $("$t" -c 0 true 2>&1 | head -1)"
fi

# nginx and the Nchan module: the first way that passes `nginx -t` with the module loaded.
mkdir -p /var/log/nginx /var/lib/nginx 2>/dev/null || true
ngx=$TMPD/nginx-check
mkdir -p "$ngx"
printf 'load_module %s;\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\n' \
  "$PACK/nginx/ngx_nchan_module.so" "$ngx" "$ngx" >"$ngx/nginx.conf"
nginx_ok=''
for mode in ${DEVBENCH_NGINX_MODE:-system lib loader}; do
  w=$(wrap nginx "$PACK/nginx/nginx" "$mode")
  if "$w" -t -q -p "$ngx" -c "$ngx/nginx.conf" >"$ngx/check.log" 2>&1; then
    nginx_ok=$mode
    break
  fi
  say "nginx ($mode libraries): $(head -2 "$ngx/check.log" | tr '\n' ' ')"
done
if [ -n "$nginx_ok" ]; then
  export BENCH_NGINX=$w BENCH_NCHAN_MODULE=$PACK/nginx/ngx_nchan_module.so
  export BENCH_NCHAN_VERSION=$NCHAN_VERSION
  say "nginx: $("$w" -v 2>&1) with the carried Nchan $NCHAN_VERSION ($nginx_ok libraries: $w)"
else
  say "nginx does not start here: the nchan target is reported as not run"
  export BENCH_NGINX=$TMPD/no-nginx
fi

export BENCH_NO_INSTALL=1 BENCH_NO_BUILD=1
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cores=$(nproc)
# Source addresses 127.1.x.y: some network stacks cannot bind them.
if ! node -e '
const net = require("node:net")
const srv = net.createServer((s) => s.end()).listen(0, "127.0.0.1", () => {
  const c = net.connect({ port: srv.address().port, host: "127.0.0.1", localAddress: "127.1.0.1" })
  c.on("connect", () => process.exit(0)).on("error", () => process.exit(1))
})
setTimeout(() => process.exit(1), 3000)' 2>/dev/null; then
  say "cannot connect from 127.1.0.1: the load generator connects from 127.0.0.1 (BENCH_LOOPBACK_SOURCES=0)"
  export BENCH_LOOPBACK_SOURCES=0
fi
{
  echo "date: $(date -u +%FT%TZ)"
  echo "uname: $(uname -a)"
  echo "nproc: $cores; $(grep -m1 'model name' /proc/cpuinfo)"
  grep -E 'MemTotal|MemAvailable' /proc/meminfo
  echo "affinity: $(grep Cpus_allowed_list /proc/self/status)"
  echo "ulimit -n: $(ulimit -n)"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"); glibc $(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')"
  echo "node: $(node --version); nginx: $("$BENCH_NGINX" -v 2>&1) ($nginx_ok); nchan: $NCHAN_VERSION"
  echo "BENCH_LOOPBACK_SOURCES=${BENCH_LOOPBACK_SOURCES:-}; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  cat "$PACK/versions"
} >"$TMPD/env.txt"
cat "$TMPD/env.txt"

# --- the steps -------------------------------------------------------------------------------
# step NAME LIMIT_S COMMAND…: runs it under `timeout` (its process group: the targets it
# started too), prints how long it took; never stops this script.
declare -A took
step() {
  local name=$1 limit=$2
  shift 2
  if [ "$limit" -lt 20 ]; then
    say "== $name: skipped, ${limit} s left"
    return
  fi
  say "== $name: start (at most $limit s): $*"
  local s rc
  s=$(date +%s)
  timeout -k 10 "$limit" "$@"
  rc=$?
  took[$name]=$(($(date +%s) - s))
  say "== $name: rc $rc after ${took[$name]} s$([ $rc = 124 ] && echo ' (stopped at its limit)')"
}
RESERVE=15 # the archive at the end
if [ "$cores" -ge 4 ]; then rp_load=2-$((cores - 1)); else rp_load=0-$((cores - 1)); fi
rp_targets=${DEVBENCH_RP_TARGETS:-bare,node,nchan}
rp_scenarios=${DEVBENCH_RP_SCENARIOS:-drop,many-topics,connections}
read -r -a rp_sets <<<"${DEVBENCH_RP_SETS:---set manyTopics.topics=10000 --set manyTopics.publishes=40000}"
request_path() {
  BENCH_TARGET_CPUS=0 BENCH_LOAD_CPUS=$rp_load step "$1" "$2" \
    scripts/bench.sh quick --targets "$3" --scenarios "$rp_scenarios" "${rp_sets[@]}"
}
rotated=${rp_targets#*,},${rp_targets%%,*}

steps=${DEVBENCH_STEPS:-a b c}
case " $steps " in *' a '*)
  request_path a-request-path "$(min 150 $(($(left) - RESERVE)))" "$rp_targets"
  ;;
esac

case " $steps " in *' b '*)
  if [ "$cores" -ge 10 ]; then counts=${SCALING_COUNTS:-1 2 4 8}; else counts=${SCALING_COUNTS:-1 2}; fi
  max=0
  for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
  [ "$cores" -lt $((max + 2)) ] && export SCALING_FORCE=1
  export SCALING_COUNTS=$counts SCALING_SCENARIOS=${SCALING_SCENARIOS:-fanout,drop,many-topics}
  export BENCH_LOAD_CPUS=$((max < cores ? max : cores - 1))-$((cores - 1))
  # Three rounds of fan-out (the median is then not the cold one), and 10,000 subscribers as the
  # docs' example; four publisher processes and 32 connections so that the drop path of eight
  # workers is not held back by the load generator.
  read -r -a scaling_sets <<<"${DEVBENCH_SCALING_SETS:---set fanout.subscribers=1000,10000 --set fanout.rounds=3 --set publisherProcs=4 --set drop.conns=32}"
  step b-scaling $(($(left) - RESERVE)) \
    bash -c 'set -o pipefail; scripts/bench-scaling.sh quick "$@" 2>&1 | tee "$0"' "$TMPD/scaling.log" "${scaling_sets[@]}"
  # Stopped before its table: the table of the counts that ran.
  if ! grep -q '^# Scaling' "$TMPD/scaling.log"; then
    mapfile -t ids < <(sed -n 's/.*run · \([0-9][0-9T-]*\),.*/\1/p' "$TMPD/scaling.log")
    pairs=()
    i=0
    for n in $counts; do
      [ -n "${ids[$i]:-}" ] && pairs+=("$n:${ids[$i]}")
      i=$((i + 1))
    done
    [ ${#pairs[@]} -gt 0 ] && node scripts/scaling-summary.mjs "$BENCH_LOAD_CPUS" "${pairs[@]}"
  fi
  unset BENCH_LOAD_CPUS
  ;;
esac

case " $steps " in *' c '*)
  need=$((${took[a-request-path]:-120} * 5 / 4 + 10))
  if [ "$(($(left) - RESERVE))" -ge "$need" ]; then
    request_path c-request-path-rotated $(($(left) - RESERVE)) "$rotated"
  else
    say "== c-request-path-rotated: skipped ($(left) s left, it needs about $need)"
  fi
  ;;
esac

# --- the archive -----------------------------------------------------------------------------
say "archive"
pack=$TMPD/archive
rm -rf "$pack"
mkdir -p "$pack/benchmark-results/raw"
find benchmark-results -maxdepth 1 -type f -newer "$marker" ! -name 'latest.*' -exec cp {} "$pack/benchmark-results/" \;
# Logs: the first and last 300 lines of each (a gateway logs a line a publish: tens of MB).
for d in $(find benchmark-results/raw -mindepth 1 -maxdepth 1 -type d -newer "$marker" 2>/dev/null); do
  mkdir -p "$pack/$d"
  for f in "$d"/*.log; do
    [ -f "$f" ] || continue
    if [ "$(stat -c %s "$f")" -gt 1000000 ]; then
      { head -300 "$f"; echo "… $(wc -l <"$f") lines in all …"; tail -300 "$f"; } >"$pack/$f"
    else
      cp "$f" "$pack/$f"
    fi
  done
done
cp "$TMPD/env.txt" "$pack/"
[ -f "$TMPD/scaling.log" ] && cp "$TMPD/scaling.log" "$pack/"
for s in "${!took[@]}"; do echo "$s ${took[$s]} s"; done | sort >"$pack/steps.txt"
cp "$OUT/devbench.log" "$pack/"
tar -czf "$OUT/devbench.tgz" -C "$pack" .
say "steps: $(tr '\n' ';' <"$pack/steps.txt")"
say "done in $(elapsed) s: $OUT/devbench.tgz ($(du -k "$OUT/devbench.tgz" | cut -f1) KiB, $(tar -tzf "$OUT/devbench.tgz" | grep -c 'json$') result files)"
for f in "$pack"/benchmark-results/*-summary.md "$pack"/benchmark-results/scaling-*.md; do
  [ -f "$f" ] && say "wrote $(basename "$f")"
done
exec >&- 2>&-
wait "$teepid" 2>/dev/null || true
