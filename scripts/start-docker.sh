#!/usr/bin/env bash
# Starts a Docker engine the way the CI machines allow one (see INFRA.md): host and
# "none" networks only (no bridge, no iptables), vfs storage. Installs docker.io when
# dockerd is missing. Idempotent: returns at once when `docker info` already answers.
#
#   scripts/start-docker.sh            # log in /tmp/dockerd.log, waits up to 60 s
#   DOCKERD_LOG=/path WAIT_SECONDS=120 scripts/start-docker.sh
set -euo pipefail
log=${DOCKERD_LOG:-/tmp/dockerd.log}
wait_seconds=${WAIT_SECONDS:-60}

if docker info >/dev/null 2>&1; then
  echo "start-docker: engine already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-docker: installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
# Without a docker client (docker.io brings one) nothing below works: say so.
command -v docker >/dev/null 2>&1 || { echo "start-docker: no docker client on PATH" >&2; exit 1; }

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "start-docker: starting dockerd (log: $log)"
  nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    >"$log" 2>&1 &
fi

for _ in $(seq 1 "$wait_seconds"); do
  if docker info >/dev/null 2>&1; then
    echo "start-docker: engine ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "start-docker: dockerd did not answer within ${wait_seconds}s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
