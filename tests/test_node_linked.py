"""Node addons that link system libraries on distroless nodejs: the builder gathers what they link and the
runtime copies it, when the addon needs nothing else and the builder is of the runtime's Debian release."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_node_units import _context  # the same context builder as the other Node tests

from dockrewrite.context import BuildContext
from dockrewrite.notes import code_of
from dockrewrite.plan import Options
from dockrewrite.providers.linked import LIBS_TREE
from dockrewrite.providers.node import distroless as ndistroless
from dockrewrite.providers.node import package as npkg
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

LIBPQ = """FROM node:20-bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends libpq-dev \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
EXPOSE 3000
CMD ["node", "server.js"]
"""
FILES = {
    "package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"libpq": "1.8.13"}},
    "package-lock.json": "{}",
    "server.js": "const Libpq = require('libpq');\nrequire('http').createServer().listen(3000);\n",
}
GATHER = f"mkdir {LIBS_TREE}"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "node"
COPY = f"COPY --from=deps {LIBS_TREE}/ /"


def _convert(tmp_path, text=LIBPQ, deps=None, **options):
    files = dict(FILES)
    if deps is not None:
        files["package.json"] = {"scripts": {"start": "node server.js"}, "dependencies": deps}
    return convert_text(text, _context(tmp_path, files), Options(**options))


def _kept_slim(result) -> str:
    """The one DR601 note that says why auto stayed on slim."""
    assert result.status == CHANGED, result.reason
    assert result.runtime == "slim", result.output
    (note,) = [w for w in result.warnings if code_of(w) == "DR601" and w.startswith("auto keeps the slim image")]
    return note


def test_an_addon_built_against_a_dev_package_goes_to_distroless_with_what_it_links(tmp_path):
    result = _convert(tmp_path)
    assert result.status == CHANGED and result.runtime == "distroless", result.reason
    deps, runtime = result.output.split("AS runtime", 1)
    # the stage with the production node_modules lists what its ELF files link with node's own loader
    assert "RUN npm ci --omit=dev" in deps and deps.index("RUN npm ci --omit=dev") < deps.index(GATHER)
    assert "grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release" in deps
    assert "ldd /usr/local/bin/node" in deps and "find /app/node_modules -type f" in deps
    assert 'case "$lib" in /app/node_modules/*) continue ;; esac' in deps  # they travel with node_modules
    # no package step in the runtime: the gathered libraries take the place of libpq5
    assert COPY in runtime and "RUN " not in runtime and "libpq5" not in result.output
    assert runtime.index(COPY) < runtime.index("/app/node_modules ./node_modules")
    assert any(code_of(w) == "DR602" and "libpq-dev" in w and "dlopen" in w for w in result.warnings)


def test_slim_still_installs_the_runtime_package(tmp_path):
    result = _convert(tmp_path, runtime="slim")
    assert "libpq5" in result.output and LIBS_TREE not in result.output


def test_a_bookworm_slim_tag_names_the_release_too(tmp_path):
    text = LIBPQ.replace("FROM node:20-bookworm", "FROM node:20-bookworm-slim").replace(
        "libpq-dev", "python3 make g++ libpq-dev"
    )
    result = _convert(tmp_path, text)
    assert result.runtime == "distroless" and COPY in result.output


def test_a_linked_addon_needs_no_dev_package_to_be_gathered(tmp_path):
    """The full node image has libpq-dev already (buildpack-deps): the addon alone says libraries are linked."""
    text = LIBPQ.replace(
        "RUN apt-get update \\\n && apt-get install -y --no-install-recommends libpq-dev \\\n"
        " && rm -rf /var/lib/apt/lists/*\n",
        "",
    )
    result = _convert(tmp_path, text)
    assert result.runtime == "distroless" and GATHER in result.output and COPY in result.output
    assert any(code_of(w) == "DR602" and "the native addon libpq links" in w for w in result.warnings)


@pytest.mark.parametrize("image", ["node:20", "node:20-slim", "node:20-bullseye"])
def test_a_tag_of_no_or_another_release_goes_to_static_with_the_builders_glibc(tmp_path, image):
    """The nodejs image's glibc would have to be the builder's; on static the builder's own glibc travels."""
    result = _convert(tmp_path, LIBPQ.replace("node:20-bookworm", image))
    assert result.status == CHANGED and result.runtime == "distroless", result.reason
    out = result.output
    assert "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in out
    deps = out.split("AS runtime", 1)[0]
    assert "VERSION_CODENAME" not in deps and "libpq5" not in out
    # the loader and glibc are gathered with what node and the addons link
    assert "find /usr/local/bin/node /app/node_modules -type f" in deps
    assert 'cp -L "$loader" "/runtime-libs$loader"' in deps
    runtime = out.split("AS runtime", 1)[1]
    assert "COPY --from=deps /usr/local/bin/node /usr/local/bin/node" in runtime and COPY in runtime
    assert runtime.endswith('CMD ["node", "server.js"]\n')
    assert any(code_of(w) == "DR501" and f"{image}), copied to the same path" in w for w in result.warnings)
    assert not [w for w in result.warnings if w.startswith("auto keeps")]


def test_runtime_distroless_on_a_floating_tag_is_static_too(tmp_path):
    text = LIBPQ.replace("node:20-bookworm", "node:20")
    result = _convert(tmp_path, text, runtime="distroless")
    assert result.status == CHANGED and "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in result.output
    assert "none of which the app needs" not in result.output


def test_an_addon_that_needs_more_than_it_links_keeps_slim_on_a_floating_tag_too(tmp_path):
    text = LIBPQ.replace("node:20-bookworm", "node:20").replace("libpq-dev", "libcairo2-dev")
    note = _kept_slim(_convert(tmp_path, text, deps={"canvas": "2"}))
    assert "fontconfig" in note


def test_runtime_distroless_gathers_on_a_bookworm_tag(tmp_path):
    result = _convert(tmp_path, runtime="distroless")
    assert result.status == CHANGED and GATHER in result.output and COPY in result.output


@pytest.mark.parametrize(
    ("deps", "dev", "says"),
    [
        ({"canvas": "2"}, "libcairo2-dev libpango1.0-dev", "fontconfig"),
        ({"kerberos": "2"}, "libkrb5-dev", "preauthentication plugins"),
        ({"node-pty": "1"}, "", "shell"),
        ({"odbc": "2"}, "unixodbc-dev", "dlopen"),
        ({"node-rdkafka": "3"}, "libsasl2-dev", "dlopen"),
        ({"oracledb": "6"}, "libaio-dev", "dlopen"),
        ({"some-addon": "1"}, "libxml2-dev", "what it links is not known"),
        # sharp bundles libvips, but builds against the system's when there is one, and libvips opens modules
        ({"sharp": "0.33"}, "libvips-dev", "not known to need only the libraries it links"),
    ],
)
def test_addons_that_need_more_than_linked_libraries_keep_slim(tmp_path, deps, dev, says):
    text = LIBPQ.replace("libpq-dev", f"python3 make g++ {dev}".strip())
    note = _kept_slim(_convert(tmp_path, text, deps))
    assert says in note


def test_zeromq_links_only_libraries(tmp_path):
    result = _convert(tmp_path, LIBPQ.replace("libpq-dev", "python3 make g++"), {"zeromq": "6"})
    assert result.runtime == "distroless" and COPY in result.output


def test_a_self_contained_addon_with_no_dev_package_gathers_nothing(tmp_path):
    text = LIBPQ.replace("libpq-dev", "python3 make g++")
    result = _convert(tmp_path, text, {"bcrypt": "5"})
    assert result.runtime == "distroless" and LIBS_TREE not in result.output


def test_every_known_addon_is_judged():
    """Each compiled package the analysis knows is self-contained, linked only, or needs more (with why)."""
    kinds = (ndistroless.SELF_CONTAINED_ADDONS, ndistroless.LINKED_ADDONS, frozenset(ndistroless.NEEDS_MORE))
    for name in npkg.NATIVE_PACKAGES:
        assert sum(name in kind for kind in kinds) == 1, name
    assert frozenset().union(*kinds) == npkg.NATIVE_PACKAGES


def test_a_standalone_next_server_gathers_from_its_own_folder(tmp_path):
    """The standalone server carries its own node_modules: the builder lists what that folder links."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "next-standalone", app, ignore=shutil.ignore_patterns("expected"))
    package = json.loads((app / "package.json").read_text())
    package["dependencies"]["libpq"] = "1.8.13"
    (app / "package.json").write_text(json.dumps(package))
    text = (app / "Dockerfile").read_text().replace("node:20-alpine", "node:20-bookworm")
    text = text.replace("apk add --no-cache libc6-compat", "apt-get update && apt-get install -y libpq-dev")
    result = convert_text(text, BuildContext(app), Options())
    assert result.runtime == "distroless", result.reason
    builder, runtime = result.output.split("AS runtime", 1)
    assert "find /app/.next/standalone -type f" in builder
    assert builder.index("RUN npm run build") < builder.index(GATHER)
    assert f"COPY --from=builder {LIBS_TREE}/ /" in runtime
