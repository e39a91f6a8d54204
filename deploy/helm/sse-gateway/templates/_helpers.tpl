{{/* Names, labels and the decisions several templates share. */}}

{{- define "sse-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sse-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sse-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sse-gateway.labels" -}}
helm.sh/chart: {{ include "sse-gateway.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "sse-gateway.name" . }}
{{- end }}

{{/* Selector of the gateway pods. */}}
{{- define "sse-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sse-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{/* Selector of the built-in Redis pod. */}}
{{- define "sse-gateway.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "sse-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "sse-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sse-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sse-gateway.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "sse-gateway.fullname" .)) .Values.apiKeys.existingSecret }}
{{- end }}

{{- define "sse-gateway.apiKeysSecretKey" -}}
{{- if .Values.apiKeys.existingSecret }}{{ .Values.apiKeys.existingSecretKey }}{{ else }}api-keys{{ end }}
{{- end }}

{{/* "external", "builtin" or "embedded": where the gateway's REDIS_URL comes from, if anywhere. */}}
{{- define "sse-gateway.redisMode" -}}
{{- if or .Values.externalRedis.url .Values.externalRedis.existingSecret }}external
{{- else if .Values.redis.enabled }}builtin
{{- else }}embedded
{{- end }}
{{- end }}

{{- define "sse-gateway.redisName" -}}
{{- printf "%s-redis" (include "sse-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sse-gateway.externalRedisSecret" -}}
{{- default (printf "%s-redis-url" (include "sse-gateway.fullname" .)) .Values.externalRedis.existingSecret }}
{{- end }}

{{- define "sse-gateway.externalRedisSecretKey" -}}
{{- if .Values.externalRedis.existingSecret }}{{ .Values.externalRedis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{/*
A value kept in an existing Secret, or a new random one: generated values must survive
`helm upgrade`, or every upgrade would change the API key and the Redis password under running
clients. `lookup` returns nothing under `helm template`, which then shows a fresh value.
Call with (dict "ctx" $ "name" "<secret>" "key" "<data key>" "fresh" "<new value>").
*/}}
{{- define "sse-gateway.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- .fresh }}
{{- end }}
{{- end }}

{{/* Refuses settings that cannot work, with a message saying what to change. */}}
{{- define "sse-gateway.validate" -}}
{{- $mode := include "sse-gateway.redisMode" . }}
{{- if and (eq $mode "embedded") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount=%d needs Redis: keep redis.enabled=true or set externalRedis.url (embedded mode runs one pod only)" (int .Values.replicaCount)) }}
{{- end }}
{{- range $name := list "PORT" "HOST" "API_KEYS" "REDIS_URL" "NODE_ID" "ANNOUNCE_HOST" "ANNOUNCE_URL" "ADMIN_UI_DIR" "WORKERS" }}
{{- if hasKey $.Values.env $name }}
{{- fail (printf "env.%s is set by the chart; remove it from values (see the chart's values.yaml)" $name) }}
{{- end }}
{{- end }}
{{- if and (ne (include "sse-gateway.workers" .) "1") (eq (lower (toString (default "" (index .Values.env "CLUSTER_FORWARD")))) "http") }}
{{- fail "env.CLUSTER_FORWARD=http needs one process per pod (workers: 1): the processes of a pod share its address. Remove it, and they forward through Redis" }}
{{- end }}
{{- $shutdownMs := int (default "10000" (index .Values.env "SHUTDOWN_TIMEOUT_MS")) }}
{{- $needed := add (int .Values.preStopSleepSeconds) (div (add $shutdownMs 999) 1000) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds=%d must exceed preStopSleepSeconds + SHUTDOWN_TIMEOUT_MS (%d s), or Kubernetes kills pods before they drain" (int .Values.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- end }}

{{/*
WORKERS for the pod: `workers` as given, except "auto" with a CPU limit, which becomes that
limit rounded up ("1500m" -> 2): Node counts the node's cores, not the pod's share of them.
*/}}
{{- define "sse-gateway.workers" -}}
{{- $w := toString .Values.workers }}
{{- $cpu := "" }}
{{- with .Values.resources }}{{ with .limits }}{{ $cpu = toString (default "" .cpu) }}{{ end }}{{ end }}
{{- if and (eq $w "auto") $cpu }}
{{- if hasSuffix "m" $cpu }}
{{- div (add (trimSuffix "m" $cpu | int) 999) 1000 | max 1 }}
{{- else }}
{{- ceil (float64 $cpu) | int | max 1 }}
{{- end }}
{{- else }}
{{- $w }}
{{- end }}
{{- end }}
