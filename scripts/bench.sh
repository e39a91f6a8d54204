#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md). `make bench` = quick (under 5 minutes), `make bench-full`.
#   scripts/bench.sh quick|full [bench options: --targets node,nchan --scenarios fanout --set k=v]
# Installs the references it needs (nginx + the Nchan module, redis-server) when they are missing,
# builds the bench tool, raises the open-file limit, and runs it with progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
shift || true

log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

# Debian packages, installed only when missing. Services are never started by the install: a
# package's own nginx would listen on 0.0.0.0:80, and the benchmark starts its own on loopback.
apt_install_quiet() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || return 1
  local sudo=''
  [ "$(id -u)" -ne 0 ] && { command -v sudo >/dev/null || return 1; sudo='sudo'; }
  local policy=/usr/sbin/policy-rc.d made_policy=''
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
  fi
  log "apt-get install ${missing[*]}"
  local rc=0
  { $sudo apt-get update -qq >/dev/null || true; } &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ -n "$made_policy" ] && $sudo rm -f "$policy"
  return $rc
}

# BENCH_NO_INSTALL=1: install nothing (a machine without a package registry: what is missing
# is reported as not run). BENCH_NGINX / BENCH_NCHAN_MODULE: another nginx and Nchan module.
if [ -z "${BENCH_NO_INSTALL:-}" ]; then
  if [ ! -x "${BENCH_NGINX:-/usr/sbin/nginx}" ] || [ ! -f "${BENCH_NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}" ]; then
    apt_install_quiet nginx-light libnginx-mod-nchan || log "could not install nginx + Nchan: that reference is reported as not run"
  fi
  if ! command -v redis-server >/dev/null; then
    apt_install_quiet redis-server || log "could not install redis-server: the cluster target is reported as not run"
  fi
fi

# The bench tool: rebuilt when its sources are newer than its bundle. BENCH_NO_BUILD=1: the
# bundle as it is (one built elsewhere and copied here, whatever the files' times say).
if [ -n "${BENCH_NO_BUILD:-}" ]; then
  [ -f bench/dist/cli.js ] || { log "BENCH_NO_BUILD is set and bench/dist/cli.js is missing"; exit 1; }
elif [ ! -f bench/dist/cli.js ] || [ -n "$(find bench/src bench/package.json -newer bench/dist/cli.js -type f -print -quit)" ]; then
  log "build bench tool (bench/dist)"
  npm run --silent build -w @sse-gateway/bench >/dev/null
fi

# Every process the run starts inherits this: 18,000 connections per process need the room.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 20000 ]; then
  log "open-file limit is $(ulimit -n): the larger connection cases will fail to connect"
fi

# BENCH_LOAD_CPUS (a taskset CPU list): the load generator runs on those CPUs only; the targets
# go where BENCH_TARGET_CPUS says (bench/src/targets/types.ts). Both unset: no pinning.
if [ -n "${BENCH_LOAD_CPUS:-}" ]; then
  exec taskset -c "$BENCH_LOAD_CPUS" node bench/dist/cli.js run --mode "$mode" "$@"
fi
exec node bench/dist/cli.js run --mode "$mode" "$@"
