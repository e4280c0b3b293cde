#!/usr/bin/env bash
# Makes sure a Docker engine answers (starts dockerd when none does) and the stand-in base images
# are current (build.sh: seconds when nothing changed). Used by CI and tests/e2e/conftest.py.
# Exit 3: no engine answers and none can be started here (not root, or dockerd missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STANDINS_CACHE:-/var/cache/dockrewrite-standins}
DOCKER=/usr/bin/docker
mkdir -p "$cache" 2>/dev/null || cache=${TMPDIR:-/tmp}
exec 9>"$cache/ensure.lock"
# One builder at a time; the others wait and then find the images fresh. Anything long-lived started
# below (dockerd) must not inherit fd 9, or it holds the lock for as long as it runs.
flock -w 1800 9 || { echo "another ensure.sh has held $cache/ensure.lock for 30 minutes" >&2; exit 4; }

if ! "$DOCKER" info >/dev/null 2>&1; then
  if [[ -n ${DOCKER_HOST:-} && ${DOCKER_HOST} != unix:///var/run/docker.sock ]]; then
    echo "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST (not starting a local dockerd)" >&2; exit 3
  fi
  if [[ $(id -u) != 0 ]]; then echo "no Docker engine answers and starting dockerd needs root" >&2; exit 3; fi
  if command -v dockerd >/dev/null; then
    (setsid dockerd >"$cache/dockerd.log" 2>&1 </dev/null 9>&- &)
    for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
if [[ -x $DOCKER ]] && ! "$DOCKER" info >/dev/null 2>&1 && command -v dockerd >/dev/null; then
  echo "dockerd did not answer within 60s, see $cache/dockerd.log" >&2; exit 3
fi
exec bash "$here/build.sh" "$@"   # installs docker.io first when it is missing
