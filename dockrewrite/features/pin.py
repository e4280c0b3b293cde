"""--pin: full version tags, from the table in pins.py, for the floating images the rewrite writes.

- The runtime image (`alpine:3.20`, `python:3.11-slim`, `node:20-slim`, `nginx:alpine`,
  `debian:bookworm-slim`…) is pinned whenever its tag floats.
- A builder image is pinned when it is `latest` or untagged (hadolint DL3006/DL3007), and also when
  the runtime is the slim or alpine sibling of the same image (`python:3.11` + `python:3.11-slim`):
  both then move to the same version, so the builder never runs ahead of the runtime's interpreter
  and C library.
- Images that publish no version tags (distroless), references with a digest or a build argument, and
  images the configuration maps elsewhere (`[images]`, applied after this) are left as they are, with
  a warning where a pin was wanted but is not possible.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import From, Op
from dockrewrite.plan import BuildPlan, Options

from .pins import DEBIAN_RELEASES, DIGEST_ONLY, VERSIONS

_VARIANT_PART = re.compile(r"^(slim|alpine(\d+\.\d+)?|bookworm|bullseye|trixie|buster|perl|otel)$")
_REGISTRY_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "library/")


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    overridden = {source for source, _target in options.images}
    runtime = plan.runtime_from
    runtime_repo = _repo(runtime.image) if isinstance(runtime, From) else None
    stage_names: set[str] = set()
    notes: list[str] = []

    def pin_step(step: Op, role: str, always: bool) -> Op:
        if not isinstance(step, From):
            return step
        image = step.image
        if image in stage_names or image.lower() == "scratch" or image in overridden:
            return step
        floating_builder = role != "runtime" and _version_part(image) == ""
        pair = role != "runtime" and runtime_repo is not None and _repo(image) == runtime_repo
        if not (always or floating_builder or pair):
            return step
        new, why = pinned(image)
        if new is None:
            if why:
                notes.append(note("DR704", f"--pin: {image} ({role}) is not pinned: {why}"))
            return step
        notes.append(note("DR704", f"--pin: {image} -> {new} ({role})"))
        return step.edit(image=new)

    builder = list(plan.builder)
    if builder:
        builder[0] = pin_step(builder[0], "builder", False)
        if isinstance(builder[0], From) and builder[0].name:
            stage_names.add(builder[0].name)
    extra = []
    for stage in plan.extra_stages:
        stage = list(stage)
        if stage:
            stage[0] = pin_step(stage[0], "build stage", False)
            if isinstance(stage[0], From) and stage[0].name:
                stage_names.add(stage[0].name)
        extra.append(stage)
    runtime_from = pin_step(plan.runtime_from, "runtime", True)
    seen: set[str] = set()
    unique = [n for n in notes if not (n in seen or seen.add(n))]
    return replace(
        plan, builder=builder, extra_stages=extra, runtime_from=runtime_from, warnings=plan.warnings + unique
    )


def pinned(image: str) -> tuple[str | None, str]:
    """(the pinned reference, "") or (None, why not; "" when the reference is pinned already)."""
    if "@" in image:
        return None, ""
    if "$" in image:
        return None, "its tag comes from a build argument; pin the argument's default instead"
    repo, tag = _split(image)
    key = _repo(image)
    if any(key.startswith(p) for p in DIGEST_ONLY):
        return None, "the image publishes no version tags; map it to a digest in the configuration ([images])"
    versions = VERSIONS.get(key)
    if versions is None:
        return None, "no pinned version of this image is known; map it in the configuration ([images])"
    version, variant = _version_variant(tag)
    if key == "debian" and not version:
        m = re.match(r"^([a-z]+)(?:-(.+))?$", variant)
        if m and m.group(1) in DEBIAN_RELEASES:
            version, variant = DEBIAN_RELEASES[m.group(1)], m.group(2) or ""
    if variant and (key == "alpine" or not all(_VARIANT_PART.match(p) for p in _variant_parts(variant))):
        return None, f"the tag {tag} names no version line dockrewrite knows; map it in the configuration ([images])"
    if version in versions or version.count(".") >= versions[0].count("."):
        return None, ""  # a full version already
    choice = next((v for v in versions if not version or v.startswith(version + ".")), None)
    if choice is None:
        return None, f"no pinned {key} {version} is known; map it in the configuration ([images])"
    return f"{repo}:{choice}{'-' + variant if variant else ''}", ""


def _split(image: str) -> tuple[str, str]:
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = image.rpartition(":")
        return repo, tag
    return image, ""


def _repo(image: str) -> str:
    repo = _split(image.split("@", 1)[0])[0].lower()
    for prefix in _REGISTRY_PREFIXES:
        if repo.startswith(prefix):
            return repo[len(prefix) :]
    return repo


def _version_variant(tag: str) -> tuple[str, str]:
    if tag in ("", "latest"):
        return "", ""
    m = re.match(r"^v?(\d+(?:\.\d+)*)(?:-(.+))?$", tag)
    if m:
        return m.group(1), m.group(2) or ""
    return "", tag


def _version_part(image: str) -> str:
    return _version_variant(_split(image.split("@", 1)[0])[1])[0] if "@" not in image else "digest"


def _variant_parts(variant: str) -> list[str]:
    # `alpine3.20` is one part; `slim-bookworm`, `bookworm-slim`, `alpine-perl` are two.
    return variant.split("-")
