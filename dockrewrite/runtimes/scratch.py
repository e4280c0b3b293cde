"""scratch: an empty image, for a static binary and the files it reads (no shell, users, certificates or libc)."""

from __future__ import annotations

from dockrewrite.runtimes.base import Runtime, register

IMAGE = "scratch"


def go_image(builder: str, codename: str) -> str:
    return IMAGE


SCRATCH = Runtime(
    name="scratch",
    variant="scratch",
    family=None,
    shell=False,
    package_manager=None,
    ca_certificates=False,
    tzdata=False,
    libc=None,
    users={},
    images={"go": go_image},
    system_files=False,
    rank=1,
)
register(SCRATCH)
