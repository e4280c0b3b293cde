"""nginx: the official nginx:alpine image that serves a static site (alpine's tools, its own unprivileged user)."""

from __future__ import annotations

from dockrewrite.runtimes import alpine
from dockrewrite.runtimes.base import Runtime, register

IMAGE = "nginx:alpine"
ROOT = "/usr/share/nginx/html"
CONF = "/etc/nginx/conf.d/default.conf"
TEMPLATES = "/etc/nginx/templates"
TEMPLATE = TEMPLATES + "/default.conf.template"  # the image's entrypoint renders it at start
UID = "101:101"  # the nginx user

NGINX = Runtime(
    name="nginx",
    variant="nginx",
    family="alpine",
    shell=True,
    package_manager="apk",
    ca_certificates=True,
    tzdata=False,
    libc="musl",
    users={**alpine.USERS, "nginx": UID},
    images={"node": lambda: IMAGE},
    programs=alpine.BUSYBOX,
    installable=alpine.INSTALLABLE,
    entrypoint=("/docker-entrypoint.sh",),
    unpinned_rule=alpine.ALPINE.unpinned_rule,
    rank=5,
    offered=False,
    installer=alpine.install,
    user_adder=alpine.add_user,
)
register(NGINX)
