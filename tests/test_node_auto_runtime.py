"""`auto` on Node servers: distroless nodejs when nothing at run time needs a shell, npm or a program it lacks;
else the slim image, byte for byte what it was, with one DR601 note when the reason is worth telling."""

from __future__ import annotations

import pytest
from test_node_units import _context  # the same context builder as the other Node tests

from dockrewrite.notes import code_of
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

SERVER = """FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
EXPOSE 3000
CMD ["npm", "start"]
"""
FILES = {
    "package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"express": "4"}},
    "package-lock.json": "{}",
    "server.js": "const express = require('express');\nexpress().listen(process.env.PORT || 3000);\n",
}


K8S_WEB = "      - name: web\n        args: [server.js]\n"


def _convert(tmp_path, text=SERVER, files=None, **options):
    return convert_text(text, _context(tmp_path, {**FILES, **(files or {})}), Options(**options))


def _kept_slim(result) -> list[str]:
    """The DR601 notes that say why auto stayed on slim."""
    assert result.status == CHANGED, result.reason
    assert result.runtime == "slim"
    return [w for w in result.warnings if code_of(w) == "DR601" and w.startswith("auto keeps the slim image")]


def test_a_plain_node_server_goes_to_distroless(tmp_path):
    result = _convert(tmp_path)
    assert result.status == CHANGED and result.runtime == "distroless"
    out = result.output
    assert "# Runtime: distroless Node 20 (entrypoint node, no shell or npm, none of which the app needs)" in out
    assert "FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime" in out
    # npm start is resolved to node, and node is the image's entrypoint
    assert out.endswith('USER 65532:65532\nCMD ["server.js"]\n')
    assert "RUN " not in out.split("AS runtime", 1)[1]


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("node:20.11.1", "node:20.11.1 pins a Node release"),
        ("node:20.18.0-slim", "node:20.18.0-slim pins a Node release"),
        ("node:21", "no nodejs image of Node 21"),
        ("node:16", "no nodejs image of Node 16"),
    ],
)
def test_a_node_the_nodejs_image_cannot_serve_runs_on_static_as_the_builder_s_own(tmp_path, image, why):
    result = _convert(tmp_path, SERVER.replace("FROM node:20", f"FROM {image}"))
    assert result.status == CHANGED and result.runtime == "distroless", result.reason
    out = result.output
    assert "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in out
    assert "# Runtime: distroless static with the builder's own node (no shell or npm, none of which" in out
    runtime = out.split("AS runtime", 1)[1]
    assert "COPY --from=deps /usr/local/bin/node /usr/local/bin/node" in runtime
    assert "COPY --from=deps /runtime-libs/ /" in runtime
    # node is on PATH there, as in the node images: the command keeps it
    assert out.endswith('USER 65532:65532\nCMD ["node", "server.js"]\n')
    (note,) = [w for w in result.warnings if code_of(w) == "DR501"]
    assert "the Node version is the original's exactly" in note and why in note
    assert result.output == _convert(
        tmp_path, SERVER.replace("FROM node:20", f"FROM {image}"), runtime="distroless"
    ).output.replace("(no shell or npm)", "(no shell or npm, none of which the app needs)")


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        (
            ("EXPOSE 3000", "EXPOSE 3000\nHEALTHCHECK CMD node healthcheck.js"),
            'HEALTHCHECK CMD ["node", "healthcheck.js"]',
        ),
        (("EXPOSE 3000", 'EXPOSE 3000\nHEALTHCHECK CMD ["node", "check.js"]'), 'HEALTHCHECK CMD ["node", "check.js"]'),
        (('CMD ["npm", "start"]', 'ENTRYPOINT ["node", "server.js"]'), 'ENTRYPOINT ["node", "server.js"]'),
    ],
)
def test_on_static_node_stays_in_the_commands(tmp_path, change, kept):
    text = SERVER.replace("FROM node:20", "FROM node:20.18.0").replace(*change)
    result = _convert(tmp_path, text)
    assert result.status == CHANGED and "static-debian12" in result.output, result.warnings
    assert kept in result.output


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (('CMD ["npm", "start"]', "CMD node server.js"), "shell-form CMD"),
        (("CMD [", "USER node\nCMD ["), "USER node"),
        (("EXPOSE 3000", 'EXPOSE 3000\nHEALTHCHECK CMD ["/app/check.sh"]'), "other than node, or a shell"),
    ],
)
def test_what_the_nodejs_plan_refuses_static_refuses_too(tmp_path, change, why):
    text = SERVER.replace("FROM node:20", "FROM node:20.18.0").replace(*change)
    (note,) = _kept_slim(_convert(tmp_path, text))
    assert why in note and "rather than distroless static with the builder's own node" in note


def test_nodejs_named_by_its_link_keeps_slim_on_static(tmp_path):
    text = SERVER.replace("FROM node:20", "FROM node:20.18.0").replace(
        'CMD ["npm", "start"]', 'CMD ["nodejs", "server.js"]'
    )
    result = _convert(tmp_path, text)
    assert result.runtime == "slim" and "static-debian12" not in result.output


def test_runtime_slim_is_what_auto_gave_before(tmp_path):
    slim = _convert(tmp_path, runtime="slim")
    assert slim.runtime == "slim" and "FROM node:20-slim AS runtime" in slim.output
    assert slim.output.endswith('USER 1000:1000\nCMD ["node", "server.js"]\n')
    assert not [w for w in slim.warnings if w.startswith("auto keeps")]


@pytest.mark.parametrize(
    ("change", "files", "options", "why"),
    [
        (("EXPOSE 3000", 'EXPOSE 3000\nHEALTHCHECK CMD ["/app/check.sh"]'), {}, {}, "other than node, or a shell"),
        (("CMD [", "USER node\nCMD ["), {}, {}, "USER node"),
        (("FROM node:20", "ARG BASE=node:20\nFROM ${BASE}"), {}, {}, "follows a build argument"),
        (('CMD ["npm", "start"]\n', ""), {}, {}, "no CMD"),
        (('CMD ["npm", "start"]', "CMD node server.js"), {}, {}, "shell-form CMD (line 7)"),
        (('CMD ["npm", "start"]', "ENTRYPOINT node server.js"), {}, {}, "shell-form ENTRYPOINT"),
        ((), {}, {"targets": ("develop",)}, "--targets develop"),
        ((), {"server.js": "const { execSync } = require('node:child_process');\n"}, {}, "server.js starts other"),
        ((), {"server.js": "require('./lib/git');\n", "lib/git.js": "require('child_process')"}, {}, "lib/git.js"),
        ((), {"server.js": "const sh = require('shelljs');\n"}, {}, "loads shelljs"),
        (
            (),
            {"package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"puppeteer": "24"}}},
            {},
            "depends on puppeteer",
        ),
        ((), {"docker-compose.yml": "services:\n  web:\n    build: .\n    command: node server.js\n"}, {}, "command"),
        (
            (),
            {"compose.yaml": "services:\n  web:\n    build: {context: .}\n    healthcheck: {test: [CMD, curl]}\n"},
            {},
            "healthcheck",
        ),
        ((), {"compose.yml": "services:\n  web:\n    build: .\n    user: node\n"}, {}, "runs as user node"),
        ((), {"Procfile": "web: node server.js\n"}, {}, "Procfile"),
        ((), {"heroku.yml": "build:\n  docker:\n    web: Dockerfile\nrun:\n  web: node server.js\n"}, {}, "heroku.yml"),
        (
            (),
            {"k8s/app.yaml": "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n" + K8S_WEB},
            {},
            "container web",
        ),
    ],
)
def test_what_keeps_slim_is_said_once(tmp_path, change, files, options, why):
    text = SERVER.replace(*change) if change else SERVER
    notes = _kept_slim(_convert(tmp_path, text, files, **options))
    assert len(notes) == 1 and why in notes[0], notes
    # and slim is what it was: the same output as --runtime slim
    assert (
        _convert(tmp_path, text, files, **options).output
        == _convert(tmp_path, text, files, **{**options, "runtime": "slim"}).output
    )


@pytest.mark.parametrize(
    ("change", "files"),
    [
        # what the distroless plan itself cannot carry: npm, a shell, RUN steps, packages, a global CLI
        ((), {"package.json": {"scripts": {"start": "npm run migrate && node server.js"}}}),
        (('CMD ["npm", "start"]', "CMD node server.js > /tmp/log"), {}),
        (("COPY . .", "COPY . .\nRUN mkdir -p /app/logs && chown node /app/logs"), {}),
        (("RUN npm ci", "RUN apt-get update && apt-get install -y curl\nRUN npm ci"), {}),
        (
            ("RUN npm ci", "RUN npm i -g pm2\nRUN npm ci"),
            {"package.json": {"scripts": {"start": "pm2-runtime server.js"}}},
        ),
        (('CMD ["npm", "start"]', 'ENTRYPOINT ["/usr/bin/tini", "--"]\nCMD ["node", "server.js"]'), {}),
        # a health check that needs curl: slim installs it
        (("EXPOSE 3000", "EXPOSE 3000\nHEALTHCHECK CMD curl -f http://localhost:3000/ || exit 1"), {}),
        # a tag that names no Node major: which node the runtime should have is not known
        (("FROM node:20", "FROM node:lts"), {}),
    ],
)
def test_what_distroless_cannot_do_keeps_slim_quietly(tmp_path, change, files):
    text = SERVER.replace(*change) if change else SERVER
    result = _convert(tmp_path, text, files)
    if result.status != CHANGED:
        pytest.fail(result.reason)
    assert result.runtime == "slim", result.output
    assert not [w for w in result.warnings if w.startswith("auto keeps")]


def test_an_alpine_builder_stays_on_alpine(tmp_path):
    result = _convert(tmp_path, SERVER.replace("FROM node:20", "FROM node:20-alpine"))
    assert result.runtime == "alpine"


NATIVE = SERVER.replace("RUN npm ci", "RUN apt-get update && apt-get install -y python3 make g++\nRUN npm ci")


@pytest.mark.parametrize(
    ("deps", "runtime"),
    [
        ({"bcrypt": "5", "better-sqlite3": "9"}, "distroless"),  # they bundle what they link
        ({"canvas": "2"}, "slim"),  # cairo, pango, libjpeg …
        ({"kerberos": "2"}, "slim"),  # libkrb5
        ({"node-pty": "1"}, "slim"),  # starts a shell
        ({"some-addon": "1"}, "slim"),  # compiled by node-gyp, links who knows what
    ],
)
def test_native_addons_go_to_distroless_only_when_they_link_nothing_it_lacks(tmp_path, deps, runtime):
    files = {"package.json": {"scripts": {"start": "node server.js"}, "dependencies": deps}}
    result = _convert(tmp_path, NATIVE, files)
    assert result.status == CHANGED, result.reason
    assert result.runtime == runtime
    if runtime == "slim":
        assert any(w.startswith("auto keeps") and "addon" in w for w in result.warnings)


def test_a_trixie_builder_with_addons_and_a_node_version_from_an_argument_run_the_builders_node(tmp_path):
    """On static the builder's glibc and node travel with the app: addons built on trixie load, and the
    runtime follows a --build-arg that changes the Node version. A whole image from an argument keeps slim."""
    files = {"package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"bcrypt": "5"}}}
    trixie = _convert(tmp_path, NATIVE.replace("FROM node:20", "FROM node:20-trixie"), files)
    assert trixie.runtime == "distroless" and "FROM gcr.io/distroless/static-debian12" in trixie.output
    assert any("trixie" in w for w in trixie.warnings if code_of(w) == "DR501")
    arg = _convert(tmp_path, SERVER.replace("FROM node:20", "ARG NODE=20\nFROM node:${NODE}"))
    assert arg.runtime == "distroless" and "FROM gcr.io/distroless/static-debian12" in arg.output
    assert "COPY --from=deps /usr/local/bin/node /usr/local/bin/node" in arg.output


def test_compose_services_of_other_contexts_do_not_count(tmp_path):
    compose = "services:\n  db:\n    image: postgres\n    command: postgres -c fsync=off\n"
    compose += "  web:\n    build: .\n    user: '1000:1000'\n    ports: ['3000:3000']\n"
    assert _convert(tmp_path, files={"docker-compose.yml": compose}).runtime == "distroless"


def test_a_skip_is_the_slim_plan_s_own(tmp_path):
    """A file no runtime can take is skipped with the reason it had before, not a distroless one."""
    text = SERVER.replace('CMD ["npm", "start"]', 'CMD ["npx", "ts-node", "--watch", "src/index.ts"]')
    result = _convert(tmp_path, text)
    slim = _convert(tmp_path, text, runtime="slim")
    assert (result.status, result.reason) == (slim.status, slim.reason)


def test_a_test_target_alone_keeps_distroless(tmp_path):
    """The test stage runs at build time off the builder; only a develop stage copies the runtime's command."""
    files = {"package.json": {"scripts": {"start": "node server.js", "test": "node --test"}}}
    assert _convert(tmp_path, files=files, targets=("test",)).runtime == "distroless"
    assert _convert(tmp_path, files=files, targets=("test", "develop")).runtime == "slim"
