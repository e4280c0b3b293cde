"""The versions --pin writes: one table, newest first per image, gathered from the languages (their
official images, in each provider's hooks) and the runtime bases (in each runtime module). The first
version of an image is what `latest` or an untagged reference resolves to; a floating tag (`3.20`,
`20-slim`, `1.22-alpine`) resolves to the newest listed version it is a prefix of.

Digests cannot be looked up offline, so these are full version tags. The rows are a snapshot taken from
the official images' library files (docker-library/official-images, late 2025, Debian's from early 2026);
refresh them when a release line moves on. A team that needs digests or newer versions maps the image in
its configuration (`[images]`), which wins over this table.
"""

from __future__ import annotations

from dockrewrite.providers import all_hooks
from dockrewrite.runtimes import select

VERSIONS: dict[str, tuple[str, ...]] = {
    image: versions
    for rows in [*(h.pin_versions for h in all_hooks()), *(rt.pin_versions for rt in select.every())]
    for image, versions in rows.items()
}

# Debian tags name releases by codename; the pinned tag names the point release instead.
DEBIAN_RELEASES = {"trixie": "13", "bookworm": "12", "bullseye": "11"}

# Images that publish no version tags at all: only a digest pins them.
DIGEST_ONLY = ("gcr.io/distroless/",)
