{{- define "hubbot.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hubbot.selectorLabels" -}}
app.kubernetes.io/name: hubbot
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hubbot.labels" -}}
{{ include "hubbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "hubbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hubbot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the chart creates (when slack.existingSecret is "" or database.url is set). */}}
{{- define "hubbot.ownSecret" -}}
{{- printf "%s-secrets" (include "hubbot.fullname" .) -}}
{{- end -}}

{{- define "hubbot.slackSecret" -}}
{{- default (include "hubbot.ownSecret" .) .Values.slack.existingSecret -}}
{{- end -}}

{{/* "postgresql" when the URL comes from a Secret, "sqlite" when hubbot keeps its database in the pod. */}}
{{- define "hubbot.databaseKind" -}}
{{- if or .Values.database.existingSecret (and .Values.database.url (not (hasPrefix "sqlite" .Values.database.url))) -}}
postgresql
{{- else -}}
sqlite
{{- end -}}
{{- end -}}

{{- define "hubbot.createsSecret" -}}
{{- if or (not .Values.slack.existingSecret) (and .Values.database.url (not .Values.database.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{/* Settings that cannot be checked by values.schema.json alone; rendering fails with a message. */}}
{{- define "hubbot.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if and .Values.database.existingSecret .Values.database.url -}}
{{- fail "database.url and database.existingSecret are both set: choose one (set database.existingSecret to \"\" to keep database.url in the chart's Secret)" -}}
{{- end -}}
{{- if and (gt $replicas 1) (eq (include "hubbot.databaseKind" .) "sqlite") -}}
{{- fail (printf "replicaCount is %d but the database is SQLite, which serves one replica only: give a PostgreSQL URL in a Secret (database.existingSecret and database.existingSecretKey, or database.url), or set replicaCount to 1" $replicas) -}}
{{- end -}}
{{- if not .Values.slack.existingSecret -}}
{{- if not .Values.slack.botToken -}}
{{- fail "Slack credentials are missing: set slack.existingSecret to a Secret holding them, or give slack.botToken (and slack.signingSecret, or slack.appToken in socket mode)" -}}
{{- end -}}
{{- if and (eq .Values.mode "http") (not .Values.slack.signingSecret) -}}
{{- fail "mode http needs slack.signingSecret (or slack.existingSecret)" -}}
{{- end -}}
{{- if and (eq .Values.mode "socket") (not .Values.slack.appToken) -}}
{{- fail "mode socket needs slack.appToken (or slack.existingSecret)" -}}
{{- end -}}
{{- end -}}
{{- if and (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) -}}
{{- fail "podDisruptionBudget: set one of minAvailable and maxUnavailable, and the other to null" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (eq .Values.mode "socket") -}}
{{- fail "metrics.serviceMonitor needs mode http: in socket mode hubbot serves no HTTP port" -}}
{{- end -}}
{{- end -}}
