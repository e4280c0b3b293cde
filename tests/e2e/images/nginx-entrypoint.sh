#!/bin/sh
# Stand-in for the official nginx image's /docker-entrypoint.sh: when the command is nginx, run the
# scripts in /docker-entrypoint.d/ (here: the templates rendered with envsubst), then exec the command.
set -e
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    for script in /docker-entrypoint.d/*.sh; do
        [ -x "$script" ] || continue
        echo "$0: running $script"
        "$script"
    done
    echo "$0: configuration complete; ready for start up"
fi
exec "$@"
