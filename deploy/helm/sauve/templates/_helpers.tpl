{{/*
Named templates. The chart keeps to a plain subset of Helm's template
language (tests/deploy/helm/render.py renders it where Helm is not installed
and refuses anything outside that subset).
*/}}

{{- define "sauve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sauve.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sauve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sauve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sauve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sauve.labels" -}}
helm.sh/chart: {{ include "sauve.chart" . }}
{{ include "sauve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "sauve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sauve.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sauve.claimName" -}}
{{- default (include "sauve.fullname" .) .Values.persistence.existingClaim -}}
{{- end -}}

{{/*
The refusals, included by every manifest so that no combination renders
half a release. Each message says what to change.
*/}}
{{- define "sauve.validate" -}}
{{- $store := .Values.store.type -}}
{{- if not (has $store (list "sqlite" "postgres")) -}}
{{- fail (printf "store.type must be sqlite or postgres, not %q" $store) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne $store "postgres") -}}
{{- fail (printf "replicaCount is %d but the metadata store is SQLite, which only one Sauve may open: set replicaCount=1, or use PostgreSQL (store.type=postgres, and existingSecret naming a Secret whose key %q holds the postgres:// URL). Several replicas are safe only on PostgreSQL, whose queue hands each run to one worker." (int .Values.replicaCount) .Values.secretKeys.databaseUrl) -}}
{{- end -}}
{{- if and (eq $store "sqlite") (not .Values.persistence.enabled) -}}
{{- fail "store.type=sqlite keeps the metadata store (jobs, runs, users, master.key) on the data volume: set persistence.enabled=true (a PersistentVolumeClaim), or use store.type=postgres" -}}
{{- end -}}
{{- if and (eq $store "postgres") (not .Values.existingSecret) -}}
{{- fail (printf "store.type=postgres reads the database URL from a Secret: create one with the keys %q (postgres://user:password@host:5432/db) and %q (an AGE-SECRET-KEY-1… every replica shares), and set existingSecret to its name" .Values.secretKeys.databaseUrl .Values.secretKeys.masterKey) -}}
{{- end -}}
{{- if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) (has "ReadWriteOnce" .Values.persistence.accessModes) -}}
{{- fail "replicaCount > 1 with a ReadWriteOnce data volume: pods on other nodes cannot mount it. With PostgreSQL the data directory holds staging files only: set persistence.enabled=false (an emptyDir per pod), or persistence.accessModes=[ReadWriteMany]" -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.existingSecret) -}}
{{- fail (printf "serviceMonitor.enabled: /metrics needs a token with the metrics:read scope (sauve token create prometheus --scope metrics:read); put it in a Secret under the key %q and set existingSecret to its name" .Values.secretKeys.metricsToken) -}}
{{- end -}}
{{- end -}}

{{/* The path prefix every route is served under ("" or "/backup"). */}}
{{- define "sauve.basePath" -}}
{{- .Values.config.basePath | trimSuffix "/" -}}
{{- end -}}
