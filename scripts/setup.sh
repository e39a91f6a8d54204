#!/usr/bin/env bash
# Installs what is missing, quickly when it is already there.
#   setup.sh build  npm packages + builds (what `make start` needs)
#   setup.sh full   + system packages and toolchains for the whole test suite (scripts/setup.d/*)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# Installs Debian packages that are missing (as root, or through sudo when there is one).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=''
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo='sudo'
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
export -f apt_install log

# npm packages: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true
  [ -d node_modules/hono ] || { echo "npm ci failed" >&2; exit 1; }
fi

# Builds, each only when its sources are newer than its output.
stale() { # stale OUTPUT DIR...
  [ ! -e "$1" ] && return 0
  local out=$1; shift
  [ -n "$(find "$@" -newer "$out" -type f -not -path '*/node_modules/*' -not -path '*/dist/*' -print -quit 2>/dev/null)" ]
}
if stale packages/node/dist/main.js packages/node/src packages/core/src packages/node/package.json; then
  log "build gateway (packages/node/dist/main.js)"
  npm run --silent build -w @sse-gateway/node >/dev/null
fi
if [ -f apps/admin/vite.config.ts ] && stale apps/admin/dist/index.html apps/admin/src apps/admin/public apps/admin/index.html apps/admin/vite.config.ts apps/admin/package.json; then
  log "build admin UI (apps/admin/dist)"
  npm run --silent build -w @sse-gateway/admin >/dev/null
fi

if [ "$mode" = full ]; then
  apt_install redis-server
  for f in scripts/setup.d/*.sh; do
    [ -e "$f" ] || continue
    bash "$f"
  done
fi
