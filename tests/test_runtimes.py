"""Runtime bases as values: what each provides, its exact RUN bodies, its images, and the one list of names."""

from __future__ import annotations

import importlib
import sys

import pytest

from dockrewrite import cli_common, config
from dockrewrite.runtimes import alpine, base, distroless, nginx, scratch, select, slim

APT = "apt-get update \\\n && apt-get install -y --no-install-recommends curl tini \\\n && rm -rf /var/lib/apt/lists/*"


@pytest.mark.parametrize(
    "rt, family, shell, manager, certs, tzdata, libc",
    [
        (scratch.SCRATCH, None, False, None, False, False, None),
        (distroless.STATIC, "debian", False, None, True, True, None),
        (distroless.BASE, "debian", False, None, True, True, "glibc"),
        (distroless.CC, "debian", False, None, True, True, "glibc"),
        (distroless.NODEJS, "debian", False, None, True, True, "glibc"),
        (alpine.ALPINE, "alpine", True, "apk", True, False, "musl"),
        (slim.SLIM, "debian", True, "apt-get", False, False, "glibc"),
        (nginx.NGINX, "alpine", True, "apk", True, False, "musl"),
    ],
)
def test_what_each_base_provides(rt, family, shell, manager, certs, tzdata, libc):
    assert (rt.family, rt.shell, rt.package_manager, rt.ca_certificates, rt.tzdata, rt.libc) == (
        family,
        shell,
        manager,
        certs,
        tzdata,
        libc,
    )


def test_users():
    assert scratch.SCRATCH.users == {}
    for rt in (distroless.STATIC, distroless.NODEJS):
        assert rt.users == {"root": "0:0", "nonroot": "65532:65532", "nobody": "65534:65534"}
    assert alpine.ALPINE.users == slim.SLIM.users == {"root": "0:0", "nobody": "65534:65534"}
    assert nginx.NGINX.users["nginx"] == "101:101"


@pytest.mark.parametrize(
    "rt, install, user",
    [
        (alpine.ALPINE, "# hadolint ignore=DL3018\nRUN apk add --no-cache curl tini", "RUN adduser -D -u 10001 app"),
        (nginx.NGINX, "# hadolint ignore=DL3018\nRUN apk add --no-cache curl tini", "RUN adduser -D -u 10001 app"),
        (slim.SLIM, "# hadolint ignore=DL3008\nRUN " + APT, "RUN useradd --create-home --uid 10001 app"),
    ],
)
def test_install_and_user_lines_come_from_the_bases_template(rt, install, user):
    """templates/runtimes/<base>.j2 writes them; the op's text is what the template writes."""
    assert rt.install(["curl", "tini"]).text == install
    assert rt.add_user("app", "10001").text == user
    assert rt.add_user("app", "10001", ["mkdir -p /app/data", "chown app:app /app/data"]).text == (
        user + " \\\n && mkdir -p /app/data \\\n && chown app:app /app/data"
    )


@pytest.mark.parametrize("rt", [distroless.STATIC, distroless.NODEJS, scratch.SCRATCH])
def test_a_base_without_package_manager_or_shell_refuses_to_install_or_add_users(rt):
    with pytest.raises(ValueError, match="cannot install"):
        rt.install(["curl"])
    with pytest.raises(ValueError, match="no shell"):
        rt.add_user("app", "10001")


def test_programs():
    assert alpine.ALPINE.provides("wget") == (True, None)
    assert alpine.ALPINE.provides("/usr/bin/curl") == (True, "curl")
    assert alpine.ALPINE.provides("envsubst") == (True, "gettext")
    assert slim.SLIM.provides("bash") == (True, None)
    assert slim.SLIM.provides("wget") == (True, "wget")
    assert slim.SLIM.provides("envsubst") == (True, "gettext-base")
    assert slim.SLIM.provides("su-exec") == (False, None)
    assert nginx.NGINX.provides("wget") == alpine.ALPINE.provides("wget")
    for rt in (distroless.STATIC, distroless.NODEJS, scratch.SCRATCH):
        assert rt.provides("sh") == (False, None)


def test_images_per_language():
    assert alpine.ALPINE.image("node", "node:20-bookworm-slim") == "node:20-alpine"
    assert alpine.ALPINE.image("python", "python:3.12-alpine") == "python:3.12-alpine"
    assert alpine.ALPINE.image("go", "golang:1.22-alpine3.19", "alpine") == "alpine:3.19"
    assert alpine.ALPINE.image("go", "golang:1.22", "bookworm") == "alpine:3.20"
    assert slim.SLIM.image("node", "node:20-alpine3.19") == "node:20-slim"
    assert slim.SLIM.image("go", "golang:1.22", "bookworm") == "debian:bookworm-slim"
    assert slim.SLIM.image("python", "python:3.11-bookworm") == "python:3.11-slim-bookworm"
    assert slim.SLIM.image("python", "python:3.12-slim") == "python:3.12-slim"
    assert distroless.STATIC.image("go", "golang:1.22", "bookworm") == "gcr.io/distroless/static-debian12"
    assert distroless.BASE.image("go", "golang:1.22", "bookworm") == "gcr.io/distroless/base-debian12"
    assert distroless.BASE.image("go", "golang:1.15", "buster") is None
    assert distroless.CC.image("go", "golang:1.24", "trixie") == "gcr.io/distroless/cc-debian13"
    # Python's interpreter travels with every library it links, glibc included: one image for every release
    assert distroless.STATIC.image("python", "python:3.12") == "gcr.io/distroless/static-debian12"
    assert distroless.STATIC.image("python", "python:3.9-bullseye") == "gcr.io/distroless/static-debian12"
    assert distroless.STATIC.image("python", "python:3.12-alpine") is None
    assert distroless.CC.image("python", "python:3.12") is None
    assert distroless.NODEJS.image("node", "node:22", 22) == "gcr.io/distroless/nodejs22-debian12"
    assert distroless.NODEJS.image("node", "node:21", 21) is None
    assert distroless.NODEJS.nonroot_tag == ":nonroot" and slim.SLIM.nonroot_tag == ""
    assert scratch.SCRATCH.image("go", "golang:1.22", "bookworm") == "scratch"
    assert scratch.SCRATCH.image("node", "node:20") is None
    assert nginx.NGINX.image("node") == "nginx:alpine"
    assert distroless.NODEJS.entrypoint == ("/nodejs/bin/node",)
    assert nginx.NGINX.entrypoint == ("/docker-entrypoint.sh",)


def test_lookup_and_language_neutral_choices():
    assert len({*base.registered()}) == len(base.registered())  # hashable values, one per base and variant
    assert select.runtime("alpine") is alpine.ALPINE
    assert select.runtime("distroless", "nodejs") is distroless.NODEJS
    assert select.for_language("distroless", "node") is distroless.NODEJS
    assert select.for_language("distroless", "python") is distroless.STATIC
    assert select.for_language("scratch", "node") is None
    assert select.for_language("scratch", "python") is None
    assert select.for_language("slim", "python") is slim.SLIM
    assert select.variants("distroless") == (
        distroless.STATIC,
        distroless.BASE,
        distroless.CC,
        distroless.NODEJS,
    )
    assert select.variant("distroless", "go", "glibc") is distroless.BASE
    assert select.variant("distroless", "go", None) is distroless.STATIC
    assert select.variant("scratch", "go", "glibc") is None
    assert select.like_builder(musl=True) is alpine.ALPINE
    assert select.like_builder(musl=False) is slim.SLIM
    assert select.with_programs(["wget", "curl"]) is alpine.ALPINE
    assert select.with_programs(["gosu"]) is slim.SLIM
    assert select.with_programs(["no-such-tool"]) is None
    with pytest.raises(KeyError):
        select.runtime("busybox")


def test_the_one_list_of_names():
    assert select.NAMES == ("auto", "scratch", "distroless", "alpine", "slim")
    assert [member.value for member in cli_common.Runtime] == list(select.NAMES)
    assert config._SETTINGS["runtime"] is select.NAMES
    offered = {rt.name for rt in base.registered() if rt.offered}
    assert set(select.NAMES) == {"auto"} | offered
    assert "nginx" not in select.NAMES  # picked for static sites, not offered


def test_config_validates_against_the_list(tmp_path):
    path = tmp_path / ".dockrewrite.toml"
    for name in select.NAMES:
        path.write_text(f'runtime = "{name}"\n')
        assert config.load(path).settings["runtime"] == name
    path.write_text('runtime = "nginx"\n')
    with pytest.raises(config.ConfigError, match="must be one of auto, scratch, distroless, alpine, slim"):
        config.load(path)


def test_adding_a_runtime_is_one_module(tmp_path, monkeypatch):
    """A module dropped into the package registers itself, and the list --runtime and the config offer grows."""
    (tmp_path / "busybox.py").write_text(
        "from dockrewrite.runtimes.base import Runtime, register\n"
        "register(Runtime(name='busybox', variant='busybox', family=None, shell=True, package_manager=None,\n"
        "    ca_certificates=False, tzdata=False, libc='musl', users={'root': '0:0'}, rank=3))\n"
    )
    import dockrewrite.runtimes as package

    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    before = list(base._REGISTRY)
    try:
        fresh = importlib.reload(select)
        assert fresh.NAMES == ("auto", "scratch", "distroless", "alpine", "busybox", "slim")
        assert fresh.runtime("busybox").shell
    finally:
        base._REGISTRY[:] = before
        sys.modules.pop("dockrewrite.runtimes.busybox", None)
        monkeypatch.undo()
        importlib.reload(select)
    assert select.NAMES == ("auto", "scratch", "distroless", "alpine", "slim")


def test_only_scratch_lacks_a_file_system_of_its_own():
    """/tmp, /etc/passwd, /etc/mime.types: what a static Go binary may need that only scratch goes without."""
    lacking = {rt.name for rt in select.every() if not rt.system_files}
    assert lacking == {"scratch"}
