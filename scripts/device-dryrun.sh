#!/usr/bin/env bash
# A rehearsal of scripts/device-bench.sh here: copies what a copy of this tree would hold (the
# tracked and untracked-not-ignored files, plus .devbench, bench/dist and packages/node/dist)
# into a temporary folder and runs it there with a PATH that has no node, nginx, xz or taskset.
#   scripts/device-dryrun.sh            DEVBENCH_BUDGET_S=170 SCALING_COUNTS="1 2" by default
# Any DEVBENCH_* or SCALING_* setting passes through. Prints where the archive is.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .devbench ] || { echo "device-dryrun: run scripts/device-pack.sh first" >&2; exit 1; }
w=$(mktemp -d /tmp/devbench-dryrun.XXXXXX)
mkdir -p "$w/tree" "$w/bin" "$w/out"
(git ls-files -z --cached && git ls-files -z --others --exclude-standard) | sort -zu |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$w/tree"
tar -cf - .devbench bench/dist packages/node/dist | tar -xf - -C "$w/tree"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$d" ] && [ ! -L "$d" ] || continue
  for f in "$d"/*; do
    b=${f##*/}
    case $b in node | nodejs | npm | npx | corepack | nginx | xz | taskset) continue ;; esac
    [ -e "$w/bin/$b" ] || [ -L "$w/bin/$b" ] || ln -s "$f" "$w/bin/$b"
  done
done
pass=()
while IFS='=' read -r k _; do pass+=("$k=${!k}"); done < <(env | grep -E '^(DEVBENCH_|SCALING_)' || true)
echo "device-dryrun: in $w/tree" >&2
(cd "$w/tree" && env -i HOME="$HOME" PATH="$w/bin" OUT="$w/out" DEVBENCH_TMP="$w/tmp" \
  DEVBENCH_BUDGET_S=170 SCALING_COUNTS="1 2" "${pass[@]}" bash scripts/device-bench.sh)
echo "device-dryrun: $w/out/devbench.tgz (remove $w when done)" >&2
