#!/usr/bin/env bash
# Docker HEALTHCHECK of the chat-gateway image: exits 0 when GET PATH on
# 127.0.0.1:PORT answers 200, else 1. Plain bash (/dev/tcp), so the image needs
# no curl. Liveness, not readiness: /healthz answers 200 while the event loop
# runs, even with Redis down, so a Redis outage does not get every gateway
# marked unhealthy (and restarted by an orchestrator) at once; load balancers
# check /readyz themselves.
#   chat-healthcheck [PATH] [PORT]      defaults: /healthz, $PORT or 8080
set -uo pipefail

path=${1:-/healthz}
port=${2:-${PORT:-8080}}
[[ $port =~ ^[0-9]+$ ]] || {
  echo "healthcheck: bad port '$port'" >&2
  exit 1
}

# (The braces keep 2>/dev/null from applying to the rest of the script.)
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || {
  echo "healthcheck: nothing listens on port $port" >&2
  exit 1
}
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
status=''
IFS= read -r -t 3 status <&3 || true
# Read the rest (the server closes) so that closing does not reset the socket.
while IFS= read -r -t 3 _ <&3; do :; done
exec 3>&-
code=${status#HTTP/1.[01] }
if [[ $status == HTTP/1.[01]\ * && ${code:0:3} == 200 ]]; then
  exit 0
fi
echo "healthcheck: GET $path on port $port: ${status%$'\r'}" >&2
exit 1
