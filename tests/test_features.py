"""Inline before/after cases for the optional features (cache and bind mounts, --pin, the # syntax line) and
the .dockerignore they write, with explicit no-op cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.features import pin as pin_feature
from dockrewrite.features.dockerignore import dockerignore_for
from dockrewrite.features.runs import add_mounts
from dockrewrite.ops import step
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

GO_MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n'
GO_MOD = "module example.com/hi\n\ngo 1.22\n"


def _context(tmp_path: Path, files: dict[str, str]) -> BuildContext:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    return BuildContext(tmp_path)


def _convert(tmp_path: Path, dockerfile: str, files: dict[str, str], **options):
    ctx = _context(tmp_path, files)
    result = convert_text(dockerfile, ctx, Options(**options), "Dockerfile")
    assert result.status == CHANGED, result.reason
    return result


def _stages(output: str) -> list[str]:
    """The output split at its FROM lines; the last item is the runtime stage."""
    parts, current = [], []
    for line in output.split("\n"):
        if line.startswith("FROM ") and current:
            parts.append("\n".join(current))
            current = []
        current.append(line)
    parts.append("\n".join(current))
    return parts


GO_FILES = {"go.mod": GO_MOD, "main.go": GO_MAIN}
PIP_FILES = {"requirements.txt": "flask==3.0.0\n", "app.py": "import flask\n"}


# -- --cache-mounts -------------------------------------------------------------------------------
def test_go_cache_mounts_on_download_and_build_only(tmp_path):
    out = _convert(
        tmp_path,
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n',
        GO_FILES,
        cache_mounts=True,
    ).output
    builder, runtime = _stages(out)[0], _stages(out)[-1]
    assert "RUN --mount=type=cache,target=/go/pkg/mod \\\n    go mod download" in builder
    assert "--mount=type=cache,target=/root/.cache/go-build" in builder
    assert "--mount" not in runtime


def test_go_cache_paths_follow_the_stage_env(tmp_path):
    out = _convert(
        tmp_path,
        "FROM golang:1.22\nENV GOMODCACHE=/cache/mod GOCACHE=/cache/build\nWORKDIR /app\nCOPY . .\n"
        'RUN go build -o app .\nCMD ["./app"]\n',
        GO_FILES,
        cache_mounts=True,
    ).output
    assert "target=/cache/mod" in out and "target=/cache/build" in out
    assert "/go/pkg/mod" not in out and "/root/.cache/go-build" not in out


def test_go_gopath_without_golang_image(tmp_path):
    out = _convert(
        tmp_path,
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y golang-go\nWORKDIR /app\nCOPY . .\n"
        'RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .\nCMD ["app"]\n',
        GO_FILES,
        cache_mounts=True,
    ).output
    assert "target=/root/go/pkg/mod" in out
    assert "target=/var/cache/apt,sharing=locked" in out and "target=/var/lib/apt,sharing=locked" in out


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (
            "RUN pip install --no-cache-dir -r requirements.txt",
            "RUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install --prefix=/install -r requirements.txt",
        ),
        (
            "RUN pip install -r requirements.txt --no-cache-dir",
            "RUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install --prefix=/install -r requirements.txt",
        ),
        (
            "RUN python -m pip install \\\n    --no-cache-dir \\\n    -r requirements.txt",
            "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
            "    python -m pip install --prefix=/install \\\n    -r requirements.txt",
        ),
    ],
)
def test_pip_cache_mount_drops_no_cache_dir(tmp_path, run, expected):
    dockerfile = f'FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n{run}\nCOPY . .\nCMD ["python", "app.py"]\n'
    result = _convert(tmp_path, dockerfile, PIP_FILES, cache_mounts=True, runtime="slim")
    builder = _stages(result.output)[0]
    assert expected in builder
    assert "--no-cache-dir" not in builder
    assert any("--no-cache-dir dropped" in w for w in result.warnings)


def test_pip_cache_off_by_env_is_left_alone(tmp_path):
    dockerfile = (
        "FROM python:3.11\nENV PIP_NO_CACHE_DIR=1\nWORKDIR /app\nCOPY requirements.txt .\n"
        'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _convert(tmp_path, dockerfile, PIP_FILES, cache_mounts=True)
    assert "--mount" not in result.output
    assert any("PIP_NO_CACHE_DIR" in w for w in result.warnings)


def test_existing_mounts_are_merged_not_duplicated(tmp_path):
    dockerfile = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=token pip install -r requirements.txt\n"
        'COPY . .\nCMD ["python", "app.py"]\n'
    )
    out = _convert(tmp_path, dockerfile, PIP_FILES, cache_mounts=True).output
    assert out.count("target=/root/.cache/pip") == 1
    assert "--mount=type=secret,id=token" in out


def test_add_mounts_compares_targets_not_text():
    run = step("RUN --mount=type=cache,dst=/root/.npm/ npm ci")
    run, added = add_mounts(run, [{"type": "cache", "target": "/root/.npm"}, {"type": "cache", "target": "/x"}], "/app")
    assert [m["target"] for m in added] == ["/x"]
    assert run.text == "RUN --mount=type=cache,dst=/root/.npm/ \\\n    --mount=type=cache,target=/x \\\n    npm ci"


def test_runtime_stage_gets_no_mounts(tmp_path):
    # The Node runtime installs curl with apt; only build stages get cache mounts.
    files = {
        "package.json": {"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "index.js": "require('ms')\n",
    }
    dockerfile = (
        "FROM node:20-bookworm\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci --omit=dev\n"
        "COPY index.js ./\nHEALTHCHECK CMD curl -f http://localhost:3000/ || exit 1\n"
        'CMD ["node", "index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, files, cache_mounts=True, runtime="slim").output
    runtime = _stages(out)[-1]
    assert "apt-get install" in runtime and "--mount" not in runtime
    assert "--mount=type=cache,target=/root/.npm" in _stages(out)[0]


def test_non_root_builder_gets_uid_and_its_home(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0"},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "index.js": "\n",
    }
    dockerfile = (
        "FROM node:20\nUSER node\nWORKDIR /home/node/app\nCOPY --chown=node:node package*.json ./\n"
        'RUN npm ci\nCOPY --chown=node:node . .\nCMD ["node", "index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, files, cache_mounts=True).output
    assert "--mount=type=cache,target=/home/node/.npm,uid=1000,gid=1000" in out


def test_unknown_non_root_user_gets_no_mount(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0"},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "index.js": "\n",
    }
    dockerfile = (
        "FROM node:20\nUSER 1001\nWORKDIR /tmp/app\nCOPY package*.json ./\n"
        'RUN npm ci\nCOPY . .\nCMD ["node", "index.js"]\n'
    )
    result = _convert(tmp_path, dockerfile, files, cache_mounts=True)
    assert "--mount=type=cache" not in result.output
    assert any("USER 1001" in w and "not known" in w for w in result.warnings)


def test_pnpm_store_is_set_explicitly(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0", "scripts": {"build": "tsc"}},
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        "src/index.ts": "\n",
    }
    dockerfile = (
        "FROM node:20-slim\nRUN corepack enable\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\n"
        'RUN pnpm install --frozen-lockfile\nCOPY . .\nRUN pnpm run build\nCMD ["node", "dist/index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, files, cache_mounts=True).output
    installs = [line for line in out.split("\n") if "pnpm install" in line]
    assert installs and all("--store-dir /pnpm/store" in line for line in installs)
    assert out.count("--mount=type=cache,target=/pnpm/store") == len(installs)
    assert "pnpm run build" in out and "run build --store-dir" not in out


def test_pnpm_home_store_needs_no_flag(tmp_path):
    files = {"package.json": {"name": "a", "version": "1.0.0"}, "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}
    dockerfile = (
        'FROM node:20-slim\nENV PNPM_HOME=/pnpm PATH="/pnpm:$PATH"\nRUN corepack enable\nWORKDIR /app\n'
        'COPY package.json pnpm-lock.yaml ./\nRUN pnpm install --frozen-lockfile\nCOPY . .\nCMD ["node", "index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, {**files, "index.js": "\n"}, cache_mounts=True).output
    assert "--mount=type=cache,target=/pnpm/store" in out and "--store-dir" not in out


def test_yarn_berry_gets_no_cache_mount(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0"},
        "yarn.lock": "__metadata:\n  version: 8\n",
        ".yarnrc.yml": "nodeLinker: node-modules\n",
        "index.js": "\n",
    }
    dockerfile = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && yarn install --immutable\n"
        'CMD ["node", "index.js"]\n'
    )
    result = convert_text(dockerfile, _context(tmp_path, files), Options(cache_mounts=True), "Dockerfile")
    if result.status == CHANGED:
        assert "--mount=type=cache" not in result.output


def test_no_cache_mounts_unless_asked(tmp_path):
    out = _convert(
        tmp_path, 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n', GO_FILES
    ).output
    assert "--mount" not in out and "# syntax" not in out


# -- --bind-mounts --------------------------------------------------------------------------------
def test_bind_mounts_keep_the_copy_when_a_later_step_needs_the_files(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0", "scripts": {"build": "tsc"}},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "src/index.ts": "\n",
        "tsconfig.json": "{}",
    }
    # The builder copies only src/, so `npm run build` reads the package.json the manifest COPY left there.
    dockerfile = (
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY src ./src\n"
        'COPY tsconfig.json ./\nRUN npm run build\nCMD ["node", "dist/index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, files, bind_mounts=True).output
    builder = next(s for s in _stages(out) if " AS builder" in s)
    assert "COPY package.json package-lock.json ./" in builder and "type=bind" not in builder
    deps = next(s for s in _stages(out) if " AS deps" in s)
    assert "--mount=type=bind,source=package.json,target=package.json" in deps  # the deps stage ends there


def test_bind_mounts_not_for_installs_that_write_the_lockfile(tmp_path):
    files = {"package.json": {"name": "a", "version": "1.0.0"}, "index.js": "\n"}
    dockerfile = (
        'FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\nCMD ["node", "index.js"]\n'
    )
    out = _convert(tmp_path, dockerfile, files, bind_mounts=True).output
    assert "type=bind" not in out


def test_bind_mounts_need_the_files_in_the_context(tmp_path):
    # go.sum is named but missing: the COPY fails either way, so the rewrite leaves it as it is.
    dockerfile = (
        "FROM golang:1.22\nWORKDIR /app\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
        'RUN go build -o app .\nCMD ["./app"]\n'
    )
    out = _convert(tmp_path, dockerfile, GO_FILES, bind_mounts=True).output
    assert "type=bind" not in out and "COPY go.mod go.sum ./" in out


def test_bind_mount_targets_outside_the_workdir_are_absolute(tmp_path):
    dockerfile = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt /tmp/req/\n"
        "RUN pip install -r /tmp/req/requirements.txt\n"
        'COPY . .\nCMD ["python", "app.py"]\n'
    )
    out = _convert(tmp_path, dockerfile, PIP_FILES, bind_mounts=True, runtime="slim").output
    assert "--mount=type=bind,source=requirements.txt,target=/tmp/req/requirements.txt" in out
    assert "COPY requirements.txt" not in out


# -- --pin ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("alpine:3.20", "alpine:3.20.3"),
        ("alpine", "alpine:3.22.2"),
        ("alpine:latest", "alpine:3.22.2"),
        ("python:3.11-slim", "python:3.11.14-slim"),
        ("python:3.11-slim-bookworm", "python:3.11.14-slim-bookworm"),
        ("python:slim", "python:3.14.0-slim"),
        ("node:20-slim", "node:20.19.6-slim"),
        ("node:20-bookworm-slim", "node:20.19.6-bookworm-slim"),
        ("golang", "golang:1.25.3"),
        ("golang:latest", "golang:1.25.3"),
        ("golang:1.22-alpine3.20", "golang:1.22.12-alpine3.20"),
        ("docker.io/library/golang:1.22", "docker.io/library/golang:1.22.12"),
        ("nginx:alpine", "nginx:1.29.3-alpine"),
        ("nginxinc/nginx-unprivileged:alpine", "nginxinc/nginx-unprivileged:1.29.3-alpine"),
        ("debian:bookworm-slim", "debian:12.13-slim"),
        ("debian:trixie-slim", "debian:13.3-slim"),
        ("debian:12-slim", "debian:12.13-slim"),
    ],
)
def test_pin_table(image, pinned):
    assert pin_feature.pinned(image) == (pinned, "")


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("alpine:3.20.3", ""),
        ("golang:1.22.5", ""),
        ("debian:12.13-slim", ""),
        ("python:3.11@sha256:" + "0" * 64, ""),
        ("gcr.io/distroless/static-debian12:nonroot", "no version tags"),
        ("node:${NODE_VERSION}-alpine", "build argument"),
        ("node:lts-alpine", "no version line"),
        ("alpine:edge", "no version line"),
        ("golang:1.12", "no pinned golang 1.12"),
        ("ubuntu:22.04", "no pinned version of this image"),
    ],
)
def test_pin_leaves(image, why):
    new, reason = pin_feature.pinned(image)
    assert new is None
    assert why in reason if why else reason == ""


def test_pin_runtime_and_its_builder_sibling_together(tmp_path):
    dockerfile = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
        'CMD ["python", "app.py"]\n'
    )
    result = _convert(tmp_path, dockerfile, PIP_FILES, pin=True, runtime="slim")
    assert "FROM python:3.11.14 AS builder" in result.output
    assert "FROM python:3.11.14-slim AS runtime" in result.output
    assert "--pin: python:3.11-slim -> python:3.11.14-slim (runtime)" in result.warnings


def test_pin_keeps_a_tagged_go_builder_and_warns_about_distroless(tmp_path):
    result = _convert(
        tmp_path,
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n',
        GO_FILES,
        pin=True,
        runtime="distroless",
    )
    assert "FROM golang:1.22 AS builder" in result.output
    assert any("distroless" in w and "not pinned" in w for w in result.warnings)


def test_configured_images_win_over_pins(tmp_path):
    result = _convert(
        tmp_path,
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n',
        GO_FILES,
        pin=True,
        runtime="alpine",
        images=(("alpine:3.20", "mirror.example.com/alpine:3.20.3@sha256:" + "1" * 64),),
    )
    assert "FROM mirror.example.com/alpine:3.20.3@sha256:" in result.output
    assert not any("alpine:3.20 ->" in w for w in result.warnings)


# -- the # syntax line ----------------------------------------------------------------------------
def test_syntax_line_only_when_asked(tmp_path):
    dockerfile = '# Build\nFROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    plain = _convert(tmp_path, dockerfile, GO_FILES, cache_mounts=True, bind_mounts=True).output
    assert "# syntax" not in plain
    asked = _convert(tmp_path, dockerfile, GO_FILES, syntax_line=True).output
    assert asked.startswith("# syntax=docker/dockerfile:1\n# Build\n")


def test_syntax_line_of_the_original_is_kept_once(tmp_path):
    dockerfile = (
        "# syntax=docker/dockerfile:1.7\n"
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    )
    out = _convert(tmp_path, dockerfile, GO_FILES, syntax_line=True).output
    assert out.startswith("# syntax=docker/dockerfile:1.7\n")
    assert out.count("# syntax=") == 1


def test_heredocs_the_original_uses_need_no_syntax_line(tmp_path):
    dockerfile = (
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN <<EOT\nset -e\ngo build -o /app/tool .\nEOT\nCMD ["/app/tool"]\n'
    )
    out = _convert(tmp_path, dockerfile, GO_FILES, cache_mounts=True).output
    assert "# syntax" not in out
    assert "RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build <<EOT" in out


def test_a_feature_the_rewrite_brings_in_adds_the_line(tmp_path):
    from dockrewrite.features import syntax
    from dockrewrite.ops import step as Step
    from dockrewrite.plan import BuildPlan

    model = parse('FROM golang:1.22\nRUN go build -o /app .\nCMD ["/app"]\n')
    plan = BuildPlan(
        language="go",
        runtime="distroless",
        header=[],
        global_args=[],
        builder=[Step("FROM golang:1.22 AS builder"), Step("RUN go build -o /app .")],
        runtime_from=Step("FROM scratch AS runtime"),
        artifacts=[Step("COPY --link --from=builder /app /app")],
    )
    out = syntax.apply(plan, model, BuildContext(None), Options())
    assert out.header == ["# syntax=docker/dockerfile:1"]
    assert "COPY --link" in out.warnings[-1]


# -- .dockerignore --------------------------------------------------------------------------------
def _ignore(tmp_path: Path, dockerfile: str, files: dict[str, str], language: str, **options) -> str | None:
    result = _convert(tmp_path, dockerfile, files, **options)
    return dockerignore_for(parse(dockerfile), BuildContext(tmp_path), language, result.output)


def _patterns(text: str | None) -> list[str]:
    return [line for line in (text or "").split("\n") if line and not line.startswith("#")]


def test_dockerignore_go_keeps_carried_files(tmp_path):
    files = {**GO_FILES, "config.yaml": "port: 8080\n", "data/app.log": "seed\n", ".env": "X=1\n", ".git/HEAD": "x\n"}
    dockerfile = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    result = _convert(tmp_path, dockerfile, files)
    assert "COPY --from=builder /app/config.yaml" in result.output and "/app/data" in result.output
    patterns = _patterns(dockerignore_for(parse(dockerfile), BuildContext(tmp_path), "go", result.output))
    assert ".git" in patterns and ".env" in patterns and "Dockerfile*" in patterns
    assert "**/*.log" not in patterns and "*.log" in patterns  # data/app.log is carried into the runtime
    assert not any(p in ("config.yaml", "data", "vendor") for p in patterns)


def test_dockerignore_keeps_git_when_the_build_runs_it(tmp_path):
    dockerfile = (
        "FROM golang:1.22\nWORKDIR /app\nCOPY . .\n"
        'RUN go build -ldflags "-X main.v=$(git describe --tags)" -o app .\nCMD ["./app"]\n'
    )
    patterns = _patterns(_ignore(tmp_path, dockerfile, {**GO_FILES, ".git/HEAD": "x\n"}, "go"))
    assert ".git" not in patterns and ".env" in patterns


def test_dockerignore_node(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0", "scripts": {"build": "tsc", "start": "node dist/index.js"}},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "src/index.ts": "\n",
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}',
        "node_modules/x/index.js": "\n",
        "dist/index.js": "stale\n",
    }
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD ["npm", "start"]\n'
    patterns = _patterns(_ignore(tmp_path, dockerfile, files, "node"))
    assert "**/node_modules" in patterns and "coverage" in patterns
    assert "dist" in patterns  # rebuilt in the builder; the context's copy is stale
    assert "**/__pycache__" not in patterns


def test_dockerignore_python_keeps_a_copied_dist(tmp_path):
    files = {"dist/app-1.0-py3-none-any.whl": "", "main.py": "print(1)\n", "venv/bin/python": "", "build/lib/x": ""}
    dockerfile = (
        "FROM python:3.11\nWORKDIR /app\nCOPY dist/ /tmp/dist/\nRUN pip install /tmp/dist/*.whl\nCOPY . .\n"
        'CMD ["python", "main.py"]\n'
    )
    text = _ignore(tmp_path, dockerfile, files, "python", runtime="slim")
    patterns = _patterns(text)
    assert "dist" not in patterns
    assert "build" in patterns and "venv" in patterns and "**/__pycache__" in patterns
    assert text.startswith("# Written by dockrewrite")


def test_dockerignore_python_keeps_a_source_package_named_build(tmp_path):
    files = {**PIP_FILES, "build/__init__.py": "", "build/tasks.py": ""}
    dockerfile = (
        'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    assert "build" not in _patterns(_ignore(tmp_path, dockerfile, files, "python"))


def test_no_dockerignore_when_one_exists_or_nothing_copies_the_context(tmp_path):
    dockerfile = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    output = _convert(tmp_path, dockerfile, GO_FILES).output
    (tmp_path / ".dockerignore").write_text("*.md\n")
    assert dockerignore_for(parse(dockerfile), BuildContext(tmp_path), "go", output) is None
    (tmp_path / ".dockerignore").unlink()
    narrow = 'FROM golang:1.22\nWORKDIR /app\nCOPY go.mod main.go ./\nRUN go build -o app .\nCMD ["./app"]\n'
    narrow_out = _convert(tmp_path, narrow, GO_FILES).output
    assert dockerignore_for(parse(narrow), BuildContext(tmp_path), "go", narrow_out) is None
    assert dockerignore_for(parse(dockerfile), BuildContext(None), "go", output) is None


# -- together with --targets (applied after these features) ------------------------------------------
def test_targets_keep_go_modules_in_the_builder(tmp_path):
    dockerfile = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    result = _convert(tmp_path, dockerfile, GO_FILES, cache_mounts=True, targets=("test",))
    assert "/go/pkg/mod" not in result.output  # `go test` in the test stage needs them in the layer
    assert "--mount=type=cache,target=/root/.cache/go-build" in result.output
    assert "FROM builder AS test" in result.output


def test_targets_keep_the_python_manifest_copy(tmp_path):
    lines = ["FROM python:3.11", "WORKDIR /app", "COPY requirements.txt .", "RUN pip install -r requirements.txt"]
    dockerfile = "\n".join([*lines, "COPY . .", 'CMD ["python", "app.py"]', ""])
    files = {**PIP_FILES, "tests/test_a.py": ""}
    plain = _convert(tmp_path, dockerfile, files, bind_mounts=True, runtime="slim").output
    assert "COPY requirements.txt" not in plain
    with_targets = _convert(
        tmp_path, dockerfile, files, bind_mounts=True, targets=("develop", "test"), runtime="slim"
    ).output
    assert "FROM builder AS develop" in with_targets
    assert "COPY requirements.txt ." in with_targets and "type=bind" not in with_targets


def test_no_cache_mount_where_a_later_stage_copies_from(tmp_path):
    from dockrewrite.features import cache
    from dockrewrite.ops import step as Step
    from dockrewrite.plan import BuildPlan

    plan = BuildPlan(
        language="python",
        runtime="slim",
        header=[],
        global_args=[],
        builder=[
            Step("FROM python:3.11 AS builder"),
            Step("RUN pip wheel --no-cache-dir -w /wheels flask && pip install --no-cache-dir flask"),
        ],
        runtime_from=Step("FROM python:3.11-slim AS runtime"),
        artifacts=[Step("COPY --from=builder /root/.cache/pip/http /tmp/http")],
    )
    out = cache.apply(plan, parse("FROM python:3.11\nRUN true\n"), BuildContext(tmp_path), Options(cache_mounts=True))
    assert out.builder[1].text == plan.builder[1].text
    assert any("a later stage copies /root/.cache/pip/http" in w for w in out.warnings)


# -- never worse than without the features ---------------------------------------------------------
def _property_test():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from test_properties import dockerfile_text

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=dockerfile_text(), flags=st.lists(st.booleans(), min_size=4, max_size=4), with_context=st.booleans())
    def test(tmp_path_factory, text, flags, with_context):
        root = tmp_path_factory.getbasetemp() / "features-ctx"
        if not root.exists():
            _context(root, {**GO_FILES, **PIP_FILES, "go.sum": "", "templates/a.html": ""})
        ctx = BuildContext(root if with_context else None)
        cache_mounts, bind_mounts, pin, syntax_line = flags
        plain = convert_text(text, ctx, Options())
        result = convert_text(
            text, ctx, Options(cache_mounts=cache_mounts, bind_mounts=bind_mounts, pin=pin, syntax_line=syntax_line)
        )
        assert result.status == plain.status, result.reason
        assert not (result.reason or "").startswith("safety check"), result.reason
        if result.status == CHANGED:
            # The runtime stage is the same as without the features, but for a pinned FROM line.
            assert _stages(result.output)[-1].split("\n")[1:] == _stages(plain.output)[-1].split("\n")[1:]
            assert (dockerignore_for(parse(text), ctx, result.language, result.output) is None) or with_context

    return test


test_features_never_break_a_rewrite = _property_test()


def test_an_unknown_build_user_is_named_only_for_tools_with_a_cache(tmp_path):
    files = {
        "package.json": {"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}},
        "package-lock.json": {"name": "a", "lockfileVersion": 3, "packages": {}},
        "index.js": "require('ms')\n",
    }
    dockerfile = (
        "FROM node:20-bookworm\nWORKDIR /app\nRUN useradd builder\nUSER builder\n"
        "COPY package.json package-lock.json ./\nRUN echo hi && ls && npm ci --omit=dev\n"
        'COPY index.js ./\nCMD ["node", "index.js"]\n'
    )
    notes = [w for w in _convert(tmp_path, dockerfile, files, cache_mounts=True).warnings if "no cache mount" in w]
    assert notes == ["no cache mount for npm: the stage runs as USER builder, whose uid and home are not known"]
