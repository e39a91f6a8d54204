#!/usr/bin/env bash
# `make cluster`: a redis-server and three gateway nodes on loopback (127.0.0.2, 127.0.0.3,
# 127.0.0.4), each announcing its own address; prints their URLs. A process that exits by itself
# is reported and the others keep running. Ctrl-C stops all of it: the nodes drain and
# deregister first, then Redis stops.
#   PORT (8787)        port of every node, each on its own address
#   REDIS_PORT (6379)  port of redis-server on 127.0.0.1
#   API_KEYS           shared by the nodes; one random key is made when unset
#   NODE_TTL_MS, CLUSTER_FORWARD, LOG_LEVEL, REPLAY_*, DRAIN_LINGER_MS … are passed to the nodes
#   as they are (a node with subscribers keeps its topics up to DRAIN_LINGER_MS when stopped)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8787}
REDIS_PORT=${REDIS_PORT:-6379}
HOSTS=(127.0.0.2 127.0.0.3 127.0.0.4)
IDS=(node-a node-b node-c)
MAIN=packages/node/dist/main.js

say() { printf '\033[1;34m[cluster]\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -f "$MAIN" ] || die "$MAIN is missing: run make build"
if ! command -v redis-server >/dev/null; then
  command -v apt-get >/dev/null || die "redis-server is not installed"
  sudo=''
  [ "$(id -u)" -ne 0 ] && sudo='sudo'
  say "installing redis-server"
  $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

port_busy() { # host port
  node -e 'const s=require("net").connect(+process.argv[2],process.argv[1]);s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1))' "$1" "$2"
}
port_busy 127.0.0.1 "$REDIS_PORT" && die "127.0.0.1:$REDIS_PORT is in use: set REDIS_PORT"
for h in "${HOSTS[@]}"; do port_busy "$h" "$PORT" && die "$h:$PORT is in use: set PORT"; done

generated=''
if [ -z "${API_KEYS:-}" ]; then
  API_KEYS=$(node -e 'console.log("sk_" + require("crypto").randomBytes(24).toString("hex"))')
  generated=1
fi
export API_KEYS

node_pids=()
redis_pid=''
stop_all() {
  trap - INT TERM EXIT
  say "stopping: nodes with subscribers drain for up to DRAIN_LINGER_MS (${DRAIN_LINGER_MS:-10000} ms)"
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Children run in their own sessions: Ctrl-C reaches this script only, which stops the nodes
# before Redis, so they deregister cleanly.
setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --loglevel warning > >(sed -u 's/^/[redis] /') 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis-server did not start"

for i in 0 1 2; do
  HOST=${HOSTS[$i]} PORT=$PORT NODE_ID=${IDS[$i]} REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
    setsid node --enable-source-maps "$MAIN" > >(sed -u "s/^/[${IDS[$i]}] /") 2>&1 &
  node_pids+=($!)
done

for h in "${HOSTS[@]}"; do
  ok=''
  for _ in $(seq 150); do
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
      "http://$h:$PORT/readyz"; then
      ok=1
      break
    fi
    sleep 0.1
  done
  [ -n "$ok" ] || die "node on $h:$PORT did not become ready"
done

cat <<EOF

  Cluster ready: redis://127.0.0.1:$REDIS_PORT and three nodes
    ${IDS[0]}  http://${HOSTS[0]}:$PORT   pid ${node_pids[0]}   (admin UI: http://${HOSTS[0]}:$PORT/admin/)
    ${IDS[1]}  http://${HOSTS[1]}:$PORT   pid ${node_pids[1]}
    ${IDS[2]}  http://${HOSTS[2]}:$PORT   pid ${node_pids[2]}
EOF
[ -n "$generated" ] && echo "  API key for this run: $API_KEYS"
cat <<EOF

  Try it: subscribe on one node, publish on another
    curl -N 'http://${HOSTS[2]}:$PORT/sse?topic=demo'
    curl -X POST http://${HOSTS[0]}:$PORT/publish -H 'Authorization: Bearer <key>' \\
      -H 'x-sse-topic: demo' -H 'x-sse-id: 1' -d 'hello from node-a'

  Ctrl-C stops everything.

EOF

# Until Ctrl-C. A process that ends by itself is reported; the others keep running (a node that
# crashed can be looked at while its peers carry on, as they would in production).
declare -A name_of=(["$redis_pid"]=redis-server)
for i in 0 1 2; do name_of[${node_pids[$i]}]=${IDS[$i]}; done
running=("${node_pids[@]}" "$redis_pid")
while [ ${#running[@]} -gt 0 ]; do
  ended=''
  status=0
  wait -n -p ended "${running[@]}" || status=$?
  [ -n "$ended" ] || continue
  left=()
  for pid in "${running[@]}"; do [ "$pid" = "$ended" ] || left+=("$pid"); done
  running=("${left[@]}")
  if [ "$ended" = "$redis_pid" ]; then
    say "redis-server (pid $ended) exited with status $status: the nodes keep running and answer 503 on /readyz until a Redis is back on 127.0.0.1:$REDIS_PORT; Ctrl-C stops all"
  else
    say "${name_of[$ended]} (pid $ended) exited with status $status; the other nodes keep running; Ctrl-C stops all"
  fi
done
say "every process has exited"
exit 1
