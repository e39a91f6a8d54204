#!/usr/bin/env bash
# Admin UI browser tests (apps/admin/test): Debian's Chromium, driven headless by playwright-core,
# plus the fonts the screenshots are made with (Chromium pulls no fonts in without recommends).
# Quick when everything is installed: apt_install only checks dpkg.
set -euo pipefail
say() { if declare -F log >/dev/null; then log "$@"; else printf '[setup] %s\n' "$*" >&2; fi; }

if declare -F apt_install >/dev/null; then
  apt_install chromium fonts-dejavu-core fonts-liberation
elif ! command -v chromium >/dev/null; then
  say "chromium not installed (run: make setup): the admin UI browser tests will be reported as not run"
fi
if [ ! -x /usr/bin/chromium ]; then
  say "/usr/bin/chromium missing after setup: the admin UI browser tests will be reported as not run"
fi
