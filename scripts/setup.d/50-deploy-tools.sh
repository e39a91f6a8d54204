#!/usr/bin/env bash
# Tools for the deployment checks (scripts/test.d/40-deploy.sh); quick when they are there.
#   helm           go install from the Go module proxy into $(go env GOPATH)/bin (kept between
#                  work trees on one machine: the first build takes about 3 minutes)
#   kubernetes-validate, check-jsonschema
#                  PyPI, in .venv/deploy-tools: Kubernetes schemas per version and the Compose
#                  specification's schema, both shipped inside the packages (no downloads later)
#   haproxy        Debian: `haproxy -c` checks deploy/docker/haproxy.cfg
#   deploy/validate/node_modules
#                  npm ci from its own lock file: the prometheus-operator models (ServiceMonitor)
#                  and a YAML parser for the checks in deploy/validate/*.mjs
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_VERSION=v3.22.0
PY_PACKAGES=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0)
VENV=.venv/deploy-tools

command -v log >/dev/null || log() { printf '[setup] %s\n' "$*" >&2; }
command -v apt_install >/dev/null || apt_install() {
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; done
}

apt_install haproxy

# helm: `helm version` of a source build says only "v3.22", so read the module version instead.
command -v go >/dev/null || { echo "50-deploy-tools: go is needed to install helm" >&2; exit 1; }
helm_bin="$(go env GOPATH)/bin/helm"
have=''
[ -x "$helm_bin" ] && have=$(go version -m "$helm_bin" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" { print $3 }')
if [ "$have" != "$HELM_VERSION" ]; then
  log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes the first time)"
  GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

# Python schema checkers, reinstalled only when the pinned list changes.
stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]; then
  log "pip install ${PY_PACKAGES[*]} into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  printf '%s' "${PY_PACKAGES[*]}" >"$stamp"
fi

# The node packages of deploy/validate (not a workspace of the root package.json).
dir=deploy/validate
if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
  log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true)
  [ -d "$dir/node_modules/@kubernetes-models/prometheus-operator" ] || { echo "npm ci in $dir failed" >&2; exit 1; }
fi
