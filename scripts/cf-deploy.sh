#!/usr/bin/env bash
# `make cf-deploy`: `wrangler deploy` of the Worker and its Durable Objects (packages/cloudflare)
# to the Cloudflare account named by CLOUDFLARE_ACCOUNT_ID. See docs/cloudflare.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/packages/cloudflare"

missing=()
[ -n "${CLOUDFLARE_API_TOKEN:-}" ] || missing+=(CLOUDFLARE_API_TOKEN)
[ -n "${CLOUDFLARE_ACCOUNT_ID:-}" ] || missing+=(CLOUDFLARE_ACCOUNT_ID)
if [ ${#missing[@]} -gt 0 ]; then
  cat >&2 <<MSG
make cf-deploy: not deploying: ${missing[*]} not set.

  1. Create an API token at https://dash.cloudflare.com/profile/api-tokens from the
     "Edit Cloudflare Workers" template.
  2. Find your account id on the dashboard (Workers & Pages, right-hand column).
  3. export CLOUDFLARE_API_TOKEN=…  CLOUDFLARE_ACCOUNT_ID=…
     export API_KEYS=…   # optional: uploaded as a secret with this deploy
     make cf-deploy

Durable Objects on SQLite storage are available on the Workers Free and Paid plans.
Details: docs/cloudflare.md
MSG
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sse-gateway-cf-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT

args=(deploy)
if [ -n "${API_KEYS:-}" ] || [ -n "${TOKEN_SECRET:-}" ]; then
  # Uploaded as secrets (encrypted, never shown), from a file only this user can read: API_KEYS
  # and, for private topics, TOKEN_SECRET, whichever are set.
  (umask 077 && node -e 'const s = {}; for (const k of ["API_KEYS", "TOKEN_SECRET"]) if (process.env[k]) s[k] = process.env[k]; process.stdout.write(JSON.stringify(s))' >"$work/secrets.json")
  args+=(--secrets-file "$work/secrets.json")
fi
if [ -z "${API_KEYS:-}" ]; then
  echo "make cf-deploy: API_KEYS not set here: the Worker keeps the API_KEYS secret it already has;" >&2
  echo "  a first deploy answers 503 until you run: npx wrangler secret put API_KEYS (in packages/cloudflare)" >&2
fi
for v in HEARTBEAT_MS MAX_TOPICS_PER_CONNECTION MAX_BODY_BYTES SLOW_CONSUMER_BYTES REGISTRY_SHARDS CORS_ORIGINS LOG_LEVEL NODE_ID PRIVATE_TOPICS TOKEN_PUBLIC_KEY TOKEN_ISSUER TOKEN_AUDIENCE TOKEN_COOKIE; do
  if [ -n "${!v:-}" ]; then args+=(--var "$v:${!v}"); fi
done

node scripts/sync-admin.mjs
export WRANGLER_SEND_METRICS=false
node "$root/node_modules/wrangler/bin/wrangler.js" "${args[@]}"
