"""The versions --pin writes: one table, newest first per image. The first version of an image is what
`latest` or an untagged reference resolves to; a floating tag (`3.20`, `20-slim`, `1.22-alpine`) resolves
to the newest listed version it is a prefix of.

Digests cannot be looked up offline, so these are full version tags. The table is a snapshot taken from
the official images' library files (docker-library/official-images, late 2025, Debian's from early 2026);
refresh it when a release line moves on. A team that needs digests or newer versions maps the image in
its configuration (`[images]`), which wins over this table.
"""

from __future__ import annotations

VERSIONS: dict[str, tuple[str, ...]] = {
    "golang": ("1.25.3", "1.24.9", "1.23.12", "1.22.12", "1.21.13", "1.20.14", "1.19.13", "1.18.10"),
    "python": ("3.14.0", "3.13.9", "3.12.12", "3.11.14", "3.10.19", "3.9.24", "3.8.20", "3.7.17"),
    "node": ("24.11.1", "22.20.0", "20.19.6", "18.20.8", "16.20.2"),
    "alpine": ("3.22.2", "3.21.5", "3.20.3", "3.19.6", "3.18.9"),
    "nginx": ("1.29.3",),
    "nginxinc/nginx-unprivileged": ("1.29.3",),
    "debian": ("13.3", "12.13", "11.11"),
}

# Debian tags name releases by codename; the pinned tag names the point release instead.
DEBIAN_RELEASES = {"trixie": "13", "bookworm": "12", "bullseye": "11"}

# Images that publish no version tags at all: only a digest pins them.
DIGEST_ONLY = ("gcr.io/distroless/",)
