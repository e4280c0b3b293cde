"""nginx: the official nginx:alpine image that serves a static site (alpine's tools, its own unprivileged user)."""

from __future__ import annotations

import dataclasses

from dockrewrite.runtimes import alpine
from dockrewrite.runtimes.base import register

IMAGE = "nginx:alpine"
ROOT = "/usr/share/nginx/html"
CONF = "/etc/nginx/conf.d/default.conf"
TEMPLATES = "/etc/nginx/templates"
TEMPLATE = TEMPLATES + "/default.conf.template"  # the image's entrypoint renders it at start
UID = "101:101"  # the nginx user

# nginx:alpine is alpine (its shell, busybox, apk, musl) with nginx, its own user and its entrypoint script.
NGINX = dataclasses.replace(
    alpine.ALPINE,
    name="nginx",
    variant="nginx",
    users={**alpine.USERS, "nginx": UID},
    images={"node": lambda: IMAGE},
    language_tools=False,
    entrypoint=("/docker-entrypoint.sh",),
    pin_versions={"nginx": ("1.29.3",), "nginxinc/nginx-unprivileged": ("1.29.3",)},
    rank=5,
    offered=False,
)
register(NGINX)
