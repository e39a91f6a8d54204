#!/usr/bin/env bash
# Deployment checks, offline (no Docker engine and no Kubernetes cluster run here):
#   - helm lint --strict and helm template for the default, external-Redis, all-options and
#     embedded values; the rendered manifests validated with kubernetes-validate --strict against
#     the Kubernetes schemas of the chart's oldest and the newest supported version; the wiring
#     checked by deploy/validate/check-manifests.mjs (ServiceMonitor against prometheus-operator's
#     model); settings that cannot work refused with a message
#   - compose.yaml against the Compose specification's JSON schema (check-jsonschema's vendored
#     copy) and deploy/validate/check-compose.mjs; haproxy.cfg with `haproxy -c`
#   - the image's exact CMD started natively from the files the image holds, answering /readyz,
#     then stopped by PID with SIGTERM (deploy/validate/image-command.mjs)
#   - the compose topology on loopback: redis-server, three gateways and HAProxy running
#     haproxy.cfg with only addresses rewritten; SSE, WebSocket and a drain through it
#     (deploy/validate/lb-rehearsal.mjs)
# Writes test-results/raw/check-deploy.json and not-run-docker.json. Tools: scripts/setup.d/50-deploy-tools.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
start_ms=$(date +%s%3N)
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p test-results/raw

CHART=deploy/helm/sse-gateway
VENV=.venv/deploy-tools
HELM="$(go env GOPATH 2>/dev/null)/bin/helm"
# The chart's kubeVersion floor and the newest schemas kubernetes-validate 1.37 ships.
K8S_VERSIONS=(1.25.0 1.37.0)
# name=values-file pairs; "embedded" uses --set instead of a file.
RENDERS=(default= external="$CHART/ci/external-redis-values.yaml" full="$CHART/ci/full-values.yaml" embedded=)

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() {
  failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | head -40 | sed 's/^/        /'
}
# run NAME CMD...: passes when CMD exits 0.
run() { local name=$1 o; shift; if o=$("$@" 2>&1); then ok "$name"; else bad "$name" "$o"; fi; }
# refuses NAME PATTERN CMD...: passes when CMD fails and says PATTERN.
refuses() {
  local name=$1 pat=$2 o; shift 2
  if o=$("$@" 2>&1); then bad "$name" "accepted"; elif grep -q -- "$pat" <<<"$o"; then ok "$name"; else bad "$name" "$o"; fi
}
# tap NAME CMD...: counts the `ok - ` / `not ok - ` lines a deploy/validate script prints.
tap() {
  local name=$1 o rc line; shift
  o=$("$@" 2>&1); rc=$?
  while IFS= read -r line; do
    case "$line" in
      'ok - '*'# SKIP '*) skipped=$((skipped + 1)); printf '  skip  %s\n' "${line#ok - }" ;;
      'ok - '*) ok "${line#ok - }" ;;
      'not ok - '*) bad "${line#not ok - }" ;;
      '#'*) printf '        %s\n' "$line" ;;
    esac
  done <<<"$o"
  [ "$rc" -eq 0 ] || grep -q '^not ok' <<<"$o" || bad "$name exited $rc" "$o"
}
render_args() { # render_args NAME FILE: helm arguments for one of RENDERS
  case "$1" in
    embedded) echo "--set replicaCount=1 --set redis.enabled=false" ;;
    *) [ -z "$2" ] || echo "-f $2" ;;
  esac
}

echo "Helm chart ($CHART)"
if [ ! -x "$HELM" ] || [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -d deploy/validate/node_modules ]; then
  bad "deploy tools installed" "missing helm, $VENV or deploy/validate/node_modules: run make setup"
else
  manifests=()
  for r in "${RENDERS[@]}"; do
    name=${r%%=*} file=${r#*=}
    # shellcheck disable=SC2046 # word splitting of the helm arguments is wanted
    run "helm lint --strict ($name values)" "$HELM" lint --strict "$CHART" $(render_args "$name" "$file")
    for k in "${K8S_VERSIONS[@]}"; do
      out="$work/$name-$k.yaml"
      # A helm built from source assumes Kubernetes 1.20, below the chart's floor: say which.
      # shellcheck disable=SC2046
      if ! o=$("$HELM" template rel "$CHART" --kube-version "$k" $(render_args "$name" "$file") 2>&1 >"$out"); then
        bad "helm template ($name values, Kubernetes $k)" "$o"
        continue
      fi
      docs=$(grep -c '^kind:' "$out")
      # ServiceMonitor is a CRD: no Kubernetes schema has it (check-manifests.mjs checks it).
      if o=$("$VENV/bin/kubernetes-validate" -k "$k" --strict --quiet "$out" 2>&1) &&
        ! grep -v "kind ServiceMonitor with api version monitoring.coreos.com/v1" <<<"$o" | grep -q .; then
        ok "helm template ($name values): $docs manifests valid for Kubernetes $k (strict)"
      else
        bad "helm template ($name values): manifests valid for Kubernetes $k (strict)" "$o"
      fi
    done
    manifests+=("$name=$work/$name-${K8S_VERSIONS[-1]}.yaml")
  done
  tap check-manifests node deploy/validate/check-manifests.mjs "${manifests[@]}"
  refuses "chart refuses 3 replicas without Redis" "needs Redis" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set redis.enabled=false
  refuses "chart refuses a grace period shorter than the drain" "must exceed" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set terminationGracePeriodSeconds=20
  refuses "chart refuses env it sets itself (env.ANNOUNCE_HOST)" "set by the chart" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set env.ANNOUNCE_HOST=x
  refuses "chart refuses workers=0" "workers" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set workers=0
  refuses "chart refuses env it sets itself (env.WORKERS: use workers)" "set by the chart" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set env.WORKERS=2
  refuses "chart refuses CLUSTER_FORWARD=http with workers: 2" "one process per pod" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set workers=2 --set env.CLUSTER_FORWARD=http
  refuses "values.schema.json refuses a misspelt key" "additional properties" \
    "$HELM" template rel "$CHART" --kube-version 1.37.0 --set replicas=3
fi

echo "Compose (deploy/docker)"
if [ -x "$VENV/bin/check-jsonschema" ]; then
  run "compose.yaml is valid against the Compose specification schema" \
    "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/docker/compose.yaml
fi
[ -d deploy/validate/node_modules ] && tap check-compose node deploy/validate/check-compose.mjs
if command -v haproxy >/dev/null; then
  # Service names resolve only on the compose network: those warnings are expected here.
  if o=$(haproxy -c -dr -f deploy/docker/haproxy.cfg 2>&1) &&
    ! grep -E 'WARNING|ALERT' <<<"$o" | grep -vq 'could not resolve address'; then
    ok "haproxy -c: haproxy.cfg is valid ($(haproxy -v | head -1 | cut -d' ' -f1-3))"
  else
    bad "haproxy -c: haproxy.cfg is valid" "$o"
  fi
else
  bad "haproxy installed" "run make setup"
fi

echo "Image command, run natively (deploy/docker/Dockerfile)"
tap image-command node deploy/validate/image-command.mjs

echo "Compose topology on loopback: redis-server + 3 gateways + HAProxy with haproxy.cfg"
if command -v haproxy >/dev/null && command -v redis-server >/dev/null && [ -d deploy/validate/node_modules ]; then
  tap lb-rehearsal node deploy/validate/lb-rehearsal.mjs
else
  bad "load balancer rehearsal prerequisites" "needs haproxy, redis-server and deploy/validate/node_modules: run make setup"
fi

cat >test-results/raw/not-run-docker.json <<'EOF'
{"target":"docker","reason":"no Docker engine (nor Kubernetes) on this machine: the image is not built, compose is not started, the chart is not installed; instead the image's command runs natively from the image's files, haproxy.cfg runs on loopback in front of 3 gateways, and compose and Helm output are schema-checked offline (docs/deployment.md)"}
EOF
ms=$(($(date +%s%3N) - start_ms))
printf '{"name":"deploy","passed":%d,"failed":%d,"skipped":%d,"ms":%d}\n' \
  "$passed" "$failed" "$skipped" "$ms" >test-results/raw/check-deploy.json
echo "deploy: $passed checks passed, $failed failed, $skipped skipped in $((ms / 1000)) s"
[ "$failed" -eq 0 ]
