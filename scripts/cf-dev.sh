#!/usr/bin/env bash
# `make cf-dev`: the Worker in local workerd (the real Workers runtime) through Miniflare, on
# 127.0.0.1:${PORT:-8787}, with the settings of `make start` (API_KEYS, HEARTBEAT_MS, …) and
# without what `wrangler dev` adds (its proxy, request log, local explorer, file watching).
# `CF_DEV=wrangler make cf-dev` runs `wrangler dev` itself instead. Durable Object state is
# fresh on every start, like the memory of `make start`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/packages/cloudflare"

port=${PORT:-8787}
host=${HOST:-127.0.0.1}
[ "$host" = 0.0.0.0 ] && host=127.0.0.1 # wrangler dev is a development server: loopback only

keys=${API_KEYS:-}
generated=''
if [ -z "$keys" ]; then
  keys="sk_$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
  generated=1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sse-gateway-cf-dev.XXXXXX")
child=''
cleanup() {
  # Stop wrangler (and the workerd it started) when this script is stopped, then drop the state.
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The key goes to wrangler in an env file only this user can read: never on the command line,
# never in the repository.
(umask 077 && printf 'API_KEYS=%s\n' "$keys" >"$work/dev.env")
# So does TOKEN_SECRET (private topics), when set.
if [ -n "${TOKEN_SECRET:-}" ]; then
  (umask 077 && printf 'TOKEN_SECRET=%s\n' "$TOKEN_SECRET" >>"$work/dev.env")
fi

runtime=${CF_DEV:-miniflare}
case "$runtime" in
miniflare | wrangler) ;;
*) echo "CF_DEV=$runtime: use miniflare (default) or wrangler" >&2; exit 2 ;;
esac

if [ "$runtime" = wrangler ]; then
  args=(dev --ip "$host" --port "$port" --persist-to "$work/state" --env-file "$work/dev.env")
  # Its proxy needs an unread body read before the answer ends (src/unread-body.ts).
  args+=(--var UNREAD_BODY:hold)
  args+=(--inspector-port "$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')")
else
  # In memory: nothing on disk, nothing left after Ctrl-C.
  args=(--ip "$host" --port "$port" --env-file "$work/dev.env")
fi
for v in HEARTBEAT_MS DISCONNECT_CHECK_MS MAX_TOPICS_PER_CONNECTION MAX_BODY_BYTES SLOW_CONSUMER_BYTES REGISTRY_SHARDS CORS_ORIGINS LOG_LEVEL NODE_ID REPLAY_EVENTS REPLAY_AGE_MS REPLAY_TOPIC_BYTES LINGER_MS PRIVATE_TOPICS TOKEN_PUBLIC_KEY TOKEN_ISSUER TOKEN_AUDIENCE TOKEN_COOKIE; do
  if [ -n "${!v:-}" ]; then args+=(--var "$v:${!v}"); fi
done

node scripts/sync-admin.mjs

if [ -n "$generated" ]; then
  echo "sse-gateway: API_KEYS is unset: generated a key for this run only" >&2
  printf '\n  API key for this run: %s\n' "$keys"
fi
label='local workerd'
[ "$runtime" = wrangler ] && label='wrangler dev'
printf '\n  Gateway (%s): http://%s:%s   Admin UI: http://%s:%s/admin/\n\n' "$label" "$host" "$port" "$host" "$port"

export WRANGLER_HIDE_BANNER=true WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
# wrangler dev (only dev) would read a whole unread request body before answering: the drop
# path answers from the headers alone (docs/cloudflare.md, "wrangler dev").
export WRANGLER_DISABLE_REQUEST_BODY_DRAINING=true
if [ "$runtime" = wrangler ]; then
  node "$root/node_modules/wrangler/bin/wrangler.js" "${args[@]}" &
else
  node scripts/dev.mjs "${args[@]}" &
fi
child=$!
wait "$child"
