{{/* Names, labels and the pieces every role's objects share. */}}

{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchboard.fullname" -}}
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

{{/* The name of a role's objects: fullname-role, within 63 characters. */}}
{{- define "switchboard.roleName" -}}
{{- printf "%s-%s" (include "switchboard.fullname" .root | trunc (int (sub 62 (len .role)))) .role | trimSuffix "-" -}}
{{- end -}}

{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "switchboard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "switchboard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchboard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A role's selector labels; dict root, role. */}}
{{- define "switchboard.roleSelectorLabels" -}}
{{ include "switchboard.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "switchboard.roleLabels" -}}
{{ include "switchboard.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* A role's values: roleDefaults with its entry in roles merged over them. */}}
{{- define "switchboard.role" -}}
{{- $defaults := deepCopy .root.Values.roleDefaults -}}
{{- toYaml (mergeOverwrite $defaults (deepCopy (index .root.Values.roles .role))) -}}
{{- end -}}

{{/* The section of a role in the binary's configuration: trigger-engine → TRIGGER_ENGINE. */}}
{{- define "switchboard.roleVar" -}}
{{- . | replace "-" "_" | upper -}}
{{- end -}}

{{- define "switchboard.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchboard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.secretName" -}}
{{- default (printf "%s-secrets" (include "switchboard.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* A number as the binary parses it: YAML's integers reach templates as floats (1e+06). */}}
{{- define "switchboard.scalar" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . -}}
{{- else if kindIs "slice" . -}}
{{- toJson . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* `config` flattened to SWITCHBOARD_* variables, one `NAME: "value"` line each; dict prefix, value. */}}
{{- define "switchboard.flatten" -}}
{{- $prefix := .prefix -}}
{{- range $key, $value := .value }}
{{- $name := printf "%s%s" $prefix (upper $key) }}
{{- if kindIs "map" $value }}
{{- include "switchboard.flatten" (dict "prefix" (printf "%s__" $name) "value" $value) }}
{{- else if not (kindIs "invalid" $value) }}
{{ $name }}: {{ include "switchboard.scalar" $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The non-secret environment every process gets: the ConfigMap's data, and the migration Job's env. */}}
{{- define "switchboard.configData" -}}
{{- if not .Values.production }}
SWITCHBOARD_DEV: "1"
{{- end }}
{{- include "switchboard.flatten" (dict "prefix" "SWITCHBOARD_" "value" .Values.config) }}
{{- range $role := keys .Values.roles | sortAlpha }}
{{- $values := index $.Values.roles $role }}
{{- if $values.enabled }}
{{- $var := include "switchboard.roleVar" $role }}
SWITCHBOARD_{{ $var }}__LISTEN: {{ printf "0.0.0.0:%d" (int $values.port) | quote }}
SWITCHBOARD_{{ $var }}__URL: {{ printf "http://%s:%d" (include "switchboard.roleName" (dict "root" $ "role" $role)) (int $values.port) | quote }}
{{- end }}
{{- end }}
{{- if .Values.metrics.enabled }}
SWITCHBOARD_TELEMETRY__METRICS_LISTEN: {{ printf "0.0.0.0:%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- with .Values.otlp.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- if not (kindIs "invalid" .Values.otlp.scheduleDelayMs) }}
OTEL_BSP_SCHEDULE_DELAY: {{ include "switchboard.scalar" .Values.otlp.scheduleDelayMs | quote }}
{{- end }}
{{- end -}}

{{/*
The secrets a process needs, by setting: every role and the migrations need the database and
AMQP URLs, every role the principal key, the gateway Redis, its token secret and the IdP.
dict root, role ("migrate" for the Job).
*/}}
{{- define "switchboard.secretSettings" -}}
{{- $s := list "databaseUrl" "amqpUrl" -}}
{{- if ne .role "migrate" }}{{ $s = append $s "principalKey" }}{{ end -}}
{{- if eq .role "gateway" }}{{ $s = concat $s (list "redisUrl" "localTokenSecret" "idpIssuer" "idpAudience" "idpJwksUrl" "idpPublicKeyPem") }}{{ end -}}
{{- toJson $s -}}
{{- end -}}

{{/* The value of a secret setting in the chart's values. */}}
{{- define "switchboard.secretValue" -}}
{{- $s := .root.Values.secrets -}}
{{- $idp := $s.idp -}}
{{- $values := dict "databaseUrl" $s.databaseUrl "amqpUrl" $s.amqpUrl "redisUrl" $s.redisUrl "principalKey" $s.principalKey "localTokenSecret" $s.localTokenSecret "idpIssuer" $idp.issuer "idpAudience" $idp.audience "idpJwksUrl" $idp.jwksUrl "idpPublicKeyPem" $idp.publicKeyPem -}}
{{- index $values .setting -}}
{{- end -}}

{{/* The IdP's settings are optional; the others are needed in production. */}}
{{- define "switchboard.optionalSecret" -}}
{{- if hasPrefix "idp" . }}true{{ end -}}
{{- end -}}

{{/* The variable the binary reads each secret setting from. */}}
{{- define "switchboard.secretVar" -}}
{{- $vars := dict "databaseUrl" "SWITCHBOARD_DATABASE__URL" "amqpUrl" "SWITCHBOARD_AMQP__URL" "redisUrl" "SWITCHBOARD_REDIS__URL" "principalKey" "SWITCHBOARD_PRINCIPAL__KEY" "localTokenSecret" "SWITCHBOARD_GATEWAY__AUTH__LOCAL_TOKEN__SECRET" "idpIssuer" "SWITCHBOARD_GATEWAY__AUTH__IDP__ISSUER" "idpAudience" "SWITCHBOARD_GATEWAY__AUTH__IDP__AUDIENCE" "idpJwksUrl" "SWITCHBOARD_GATEWAY__AUTH__IDP__JWKS_URL" "idpPublicKeyPem" "SWITCHBOARD_GATEWAY__AUTH__IDP__PUBLIC_KEY_PEM" -}}
{{- index $vars . -}}
{{- end -}}

{{/*
Secret variables of a process, as env entries: every one from the existing Secret (the IdP's
keys optional), or from the chart's Secret each one given a value. dict root, role, secretName.
*/}}
{{- define "switchboard.secretEnv" -}}
{{- $root := .root -}}
{{- $secretName := .secretName -}}
{{- range $setting := include "switchboard.secretSettings" . | fromJsonArray }}
{{- $key := index $root.Values.secrets.keys $setting }}
{{- $given := include "switchboard.secretValue" (dict "root" $root "setting" $setting) }}
{{- if or $root.Values.secrets.existingSecret $given }}
- name: {{ include "switchboard.secretVar" $setting }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $key }}
      {{- if include "switchboard.optionalSecret" $setting }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Fails rendering, in production, when a secret the enabled roles need has no value and no
existingSecret is named: the binary would refuse to start anyway, and this says so at install.
*/}}
{{- define "switchboard.requireSecrets" -}}
{{- if and .Values.production (not .Values.secrets.existingSecret) -}}
{{- $needed := list "databaseUrl" "amqpUrl" "principalKey" -}}
{{- if .Values.roles.gateway.enabled }}{{ $needed = concat $needed (list "redisUrl" "localTokenSecret") }}{{ end -}}
{{- range $setting := $needed -}}
{{- $_ := required (printf "production: true needs secrets.%s (or secrets.existingSecret)" $setting) (include "switchboard.secretValue" (dict "root" $ "setting" $setting)) -}}
{{- end -}}
{{- end -}}
{{- /* Any idp setting turns the IdP on, and the gateway then refuses to start without its issuer. */ -}}
{{- $idp := dig "gateway" "auth" "idp" dict .Values.config -}}
{{- if and $idp (not .Values.secrets.existingSecret) (not (and .Values.secrets.idp.issuer .Values.secrets.idp.audience)) -}}
{{- fail "config.gateway.auth.idp needs secrets.idp.issuer and secrets.idp.audience (the identity provider it tunes)" -}}
{{- end -}}
{{- end -}}

{{/* The hardened container security context every container gets. */}}
{{- define "switchboard.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "switchboard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Rolls the pods when the configuration or the chart's Secret changes. */}}
{{- define "switchboard.checksum" -}}
checksum/config: {{ include "switchboard.configData" . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{/* A role's variables beyond the ConfigMap: its secrets, mail-ingest's mail passwords, extraEnv. dict root, role, values. */}}
{{- define "switchboard.roleEnv" -}}
{{- $root := .root -}}
{{- $secretName := include "switchboard.secretName" $root -}}
{{ include "switchboard.secretEnv" (dict "root" $root "role" .role "secretName" $secretName) }}
{{- if eq .role "mail-ingest" }}
{{- $passwords := keys $root.Values.secrets.mailPasswords | sortAlpha }}
{{- if $root.Values.secrets.existingSecret }}{{ $passwords = $root.Values.secrets.existingMailPasswords }}{{ end }}
{{- range $name := $passwords }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $name }}
{{- end }}
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
