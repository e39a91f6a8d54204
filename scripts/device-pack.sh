#!/usr/bin/env bash
# Packs what the benchmarks need on a bare machine without Node.js, nginx or a package registry
# (docs/benchmarks.md, "On a machine without Node or nginx"): fills .devbench/ (ignored) and
# builds bench/dist and packages/node/dist. Run it here, in the checkout the copy is made of;
# scripts/device-bench.sh runs the benchmarks there. Prints the paths to carry and their size.
#   scripts/device-pack.sh            DEVBENCH_NO_BUILD=1: the two bundles as they are
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[device-pack]\033[0m %s\n' "$*" >&2; }

NODE_BIN=${DEVBENCH_NODE:-$(command -v node)}
NGINX_BIN=${BENCH_NGINX:-/usr/sbin/nginx}
MODULE=${BENCH_NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
TASKSET=$(command -v taskset)
for f in "$NODE_BIN" "$NGINX_BIN" "$MODULE" "$TASKSET"; do
  [ -f "$f" ] || { log "missing: $f (scripts/bench.sh installs nginx and Nchan)"; exit 1; }
done

out=.devbench
rm -rf "$out"
mkdir -p "$out/nginx" "$out/lib" "$out/glibc" "$out/bin"

# The C library and its loader stay out of lib/ (the machine's own are used: one from here
# would not match its loader); glibc/ holds them for the last resort of device-bench.sh, running
# nginx through this loader when the machine's C library is older than nginx needs.
GLIBC_RE='/(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libmvec\.so\.1)$'
libs_of() { ldd "$@" | awk '/=> \//{print $3}' | sort -u; }

# Every shared library of nginx, the module and taskset but the C library's own parts.
for lib in $(libs_of "$NGINX_BIN" "$MODULE" "$TASKSET"); do
  if [[ $lib =~ $GLIBC_RE ]]; then cp -L "$lib" "$out/glibc/"; else cp -L "$lib" "$out/lib/"; fi
done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/glibc/"
# Node's C++ runtime, used only where the machine's own fails (device-bench.sh says so).
mkdir -p "$out/lib-node"
for lib in $(libs_of "$NODE_BIN"); do
  [[ $lib =~ $GLIBC_RE ]] || cp -L "$lib" "$out/lib-node/"
done
cp -L "$NGINX_BIN" "$out/nginx/nginx"
cp -L "$MODULE" "$out/nginx/ngx_nchan_module.so"
cp -L "$TASKSET" "$out/bin/taskset"

log "compress $NODE_BIN ($("$NODE_BIN" --version), $(du -m "$NODE_BIN" | cut -f1) MB) with xz -T2 -6"
xz -T2 -6 -c "$NODE_BIN" >"$out/node.xz"

nchan_version=$(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null || true)
{
  echo "NODE_VERSION=$("$NODE_BIN" --version)"
  echo "NCHAN_VERSION='${nchan_version:-?}'"
  echo "NGINX_VERSION='$("$NGINX_BIN" -v 2>&1 | sed -n 's|.*nginx/||p')'"
  echo "PACKED_ON='$(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(ldd --version | head -1 | awk '{print $NF}')'"
  echo "PACKED_AT='$(date -u +%FT%TZ)'"
  echo "PACKED_COMMIT='$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- packages bench || echo '+changes')'"
} >"$out/versions"
(cd "$out" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)

if [ -z "${DEVBENCH_NO_BUILD:-}" ]; then
  log "build packages/node/dist and bench/dist"
  npm run --silent build -w @sse-gateway/node -- --log-level=warning
  npm run --silent build -w @sse-gateway/bench -- --log-level=warning
fi
for f in packages/node/dist/main.js bench/dist/cli.js bench/dist/load-worker.js bench/dist/bare-server.js; do
  [ -f "$f" ] || { log "missing: $f"; exit 1; }
done

carry=(.devbench bench/dist packages/node/dist)
tree=$( (git ls-files -z --cached && git ls-files -z --others --exclude-standard) |
  sort -zu | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
carried=$(du -cb "${carry[@]}" | tail -1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b/1048576}'; }
du -sh "$out"/* "${carry[@]:1}" >&2
log "working tree $(mib "$tree") + carried $(mib "$carried") = $(mib $((tree + carried))) (limit 64 MiB)"
printf 'carry: ["%s"]\n' "$(IFS='|'; echo "${carry[*]}" | sed 's/|/", "/g')"
