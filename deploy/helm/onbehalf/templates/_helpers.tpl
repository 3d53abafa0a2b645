{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "onbehalf.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select this release's pods. */}}
{{- define "onbehalf.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "onbehalf.labels" -}}
{{ include "onbehalf.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Where secrets are mounted; NAME_FILE points into it. */}}
{{- define "onbehalf.secretDir" -}}/run/secrets/onbehalf{{- end -}}

{{/* Checks the values before anything renders. */}}
{{- define "onbehalf.validate" -}}
{{- if not .Values.baseURL -}}
{{- fail "baseURL is required: the public https URL of this server (BASE_URL)" -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.database.enabled) -}}
{{- fail "replicaCount > 1 needs database.enabled (PostgreSQL): the bbolt file serves one process at a time" -}}
{{- end -}}
{{- if and (or .Values.secretFiles .Values.database.enabled) (not .Values.existingSecret) -}}
{{- fail "existingSecret is required: the name of the Secret holding the keys of secretFiles (and database.urlKey)" -}}
{{- end -}}
{{- if and .Values.database.enabled (not (has "TOKEN_ENCRYPTION_KEY" .Values.secretFiles)) -}}
{{- fail "database.enabled needs TOKEN_ENCRYPTION_KEY in secretFiles: PostgreSQL holds sealed tokens, the key stays out of it" -}}
{{- end -}}
{{- end -}}

{{/* The server's environment: the same in the migration init container. */}}
{{- define "onbehalf.env" -}}
- name: BASE_URL
  value: {{ .Values.baseURL | quote }}
- name: PORT
  value: "8080"
- name: DB_PATH
  value: /data/onbehalf.db
- name: LOG_FORMAT
  value: json
- name: SHUTDOWN_DRAIN
  value: {{ .Values.shutdownDrain | quote }}
{{- if .Values.metrics.enabled }}
- name: METRICS
  value: "true"
- name: METRICS_ADDR
  value: {{ printf ":%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- if .Values.database.enabled }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end }}
{{- range .Values.secretFiles }}
- name: {{ . }}_FILE
  value: {{ printf "%s/%s" (include "onbehalf.secretDir" $) . }}
{{- end }}
{{- range $k, $v := .Values.env }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Mounts of the server and the migration init container. */}}
{{- define "onbehalf.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- if .Values.secretFiles }}
- name: secrets
  mountPath: {{ include "onbehalf.secretDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
