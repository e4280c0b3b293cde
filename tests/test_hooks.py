"""The providers' hooks: the registry the features ask, and what each language answers for its tools."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.ops import Copy, Env, From, Op, Run, Verbatim, Workdir
from dockrewrite.plan import BuildPlan
from dockrewrite.providers import PROVIDERS, all_hooks, hooks_for
from dockrewrite.providers.base import Hooks, uses


class _Site:
    """A CacheSite as the cache mounts feature makes one, without the feature: root, nothing configured."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None, builder_reused: bool = False):
        self.env = dict(env or {})
        self.home = "/root"
        self.cache_home = self.env.get("XDG_CACHE_HOME") or "/root/.cache"
        self.root = True
        self.ctx = BuildContext(tmp_path)
        self.builder_reused = builder_reused
        self.notes: list[str] = []

    def cache(self, folder: str | None, **extra: str) -> dict[str, str] | None:
        resolved = shell.substitute(folder, self.env) if folder else None
        if resolved is None or not resolved.startswith("/"):
            return None
        return {"type": "cache", "target": posixpath.normpath(resolved), **extra}

    def note(self, text: str) -> None:
        self.notes.append(text)


def _caches(language: str, command: str, tmp_path: Path, **site) -> tuple[object, _Site]:
    where = _Site(tmp_path, **site)
    return hooks_for(language).caches(shell.split_words(command), command, where), where


def _plan(language: str, **parts) -> BuildPlan:
    parts.setdefault("builder", [From(image="img", name="builder")])
    return BuildPlan(
        language=language, runtime="slim", header=[], global_args=[], runtime_from=From(image="x"), **parts
    )


def _texts(ops: list[Op]) -> list[str]:
    return [op.text for op in ops]


# -- the registry ------------------------------------------------------------------------------------
def test_every_provider_has_its_hooks_in_the_providers_order():
    assert [h.language for h in all_hooks()] == [p.language for p in PROVIDERS]
    assert all(isinstance(h, Hooks) for h in all_hooks())
    for provider in PROVIDERS:
        assert hooks_for(provider.language) is next(h for h in all_hooks() if h.language == provider.language)


def test_a_language_without_a_folder_has_no_hooks():
    assert hooks_for("rust") is None
    assert hooks_for("") is None


def test_the_default_hooks_answer_nothing(tmp_path):
    hooks = Hooks()
    ctx = BuildContext(tmp_path)
    assert hooks.caches(["make"], "make", _Site(tmp_path)) is None
    assert hooks.runs_tools("make") == ()
    assert not hooks.reads_manifests(["make"], {"Makefile"}) and not hooks.writes_manifests(["make"])
    assert hooks.ignored(ctx, "make") == ([], set())
    contract = [Verbatim(line='CMD ["app"]')]
    assert hooks.develop(_plan("x"), ctx, "builder", contract) == ([], contract)
    assert hooks.test(_plan("x"), ctx, "builder") is None


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("go.mod", "go"),
        ("go.work.sum", "go"),
        ("package.json", "node"),
        ("pnpm-lock.yaml", "node"),
        (".npmrc", "node"),
        ("requirements-dev.txt", "python"),
        ("uv.lock", "python"),
        ("pyproject.toml", "python"),
        ("main.go", None),
        ("README.md", None),
        ("Pipfile", None),  # pipenv installs change Pipfile.lock: never bind-mounted
    ],
)
def test_each_manifest_belongs_to_one_language(name, language):
    owners = [h.language for h in all_hooks() if h.manifests is not None and h.manifests.match(name)]
    assert owners == ([language] if language else [])


def test_the_managers_of_the_languages_do_not_overlap():
    seen: set[str] = set()
    for hooks in all_hooks():
        assert not (hooks.managers & seen)
        seen |= hooks.managers


def test_image_env_and_users_come_from_the_language_of_the_image():
    assert hooks_for("go").image_env["golang"] == {"GOPATH": "/go"}
    assert hooks_for("node").image_users["node"]["node"] == ("1000", "1000", "/home/node")


# -- go ----------------------------------------------------------------------------------------------
def test_go_build_uses_the_module_and_build_caches(tmp_path):
    use, _ = _caches("go", "go build -o /app .", tmp_path, env={"GOPATH": "/go"})
    assert use.tool == "go"
    assert [c["target"] for c in use.caches] == ["/go/pkg/mod", "/root/.cache/go-build"]
    download, _ = _caches("go", "go mod download", tmp_path)
    assert [c["target"] for c in download.caches] == ["/root/go/pkg/mod"]
    assert _caches("go", "go version", tmp_path)[0] is None
    assert _caches("go", "npm ci", tmp_path)[0] is None


def test_go_keeps_its_modules_in_the_layer_when_targets_start_from_the_builder(tmp_path):
    use, site = _caches("go", "go build .", tmp_path, builder_reused=True)
    assert [c["target"] for c in use.caches] == ["/root/.cache/go-build"]
    assert any("Go module cache" in n for n in site.notes)


def test_go_manifests_tools_run_by_others_and_test_stage(tmp_path):
    go = hooks_for("go")
    assert go.reads_manifests(["go", "mod", "download"], {"go.mod", "go.sum"})
    assert not go.reads_manifests(["go", "mod", "download"], {"go.sum"})
    assert go.writes_manifests(["go", "mod", "tidy"]) and not go.writes_manifests(["go", "build"])
    assert go.runs_tools("make") == ("go",) and go.runs_tools("./build.sh") == ("go",) and go.runs_tools("ls") == ()
    assert _texts(go.test(_plan("go"), BuildContext(tmp_path), "builder")) == ["RUN go test ./..."]


# -- node --------------------------------------------------------------------------------------------
def test_node_caches_npm_yarn_and_pnpm(tmp_path):
    npm, _ = _caches("node", "npm ci", tmp_path)
    assert [c["target"] for c in npm.caches] == ["/root/.npm"]
    yarn, _ = _caches("node", "yarn install --frozen-lockfile", tmp_path)
    assert yarn.caches == [{"type": "cache", "target": "/usr/local/share/.cache/yarn", "sharing": "locked"}]
    pnpm, _ = _caches("node", "pnpm install --frozen-lockfile", tmp_path)
    assert pnpm.text == "pnpm install --store-dir /pnpm/store --frozen-lockfile"
    assert [c["target"] for c in pnpm.caches] == ["/pnpm/store"]


def test_node_leaves_yarn_berry_without_a_cache_mount(tmp_path):
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    use, site = _caches("node", "yarn install --immutable", tmp_path)
    assert use is None and any("yarn 2+" in n for n in site.notes)


def test_node_manifests_and_dockerignore(tmp_path):
    node = hooks_for("node")
    assert node.reads_manifests(["npm", "ci"], {"package.json", "package-lock.json"})
    assert node.writes_manifests(["npm", "install"]) and not node.writes_manifests(["npm", "ci"])
    entries, generated = node.ignored(BuildContext(tmp_path), "npm ci && npm run build")
    assert "**/node_modules" in entries and "dist" in entries and "dist" in generated
    entries, generated = node.ignored(BuildContext(tmp_path), "echo")
    assert "**/node_modules" not in entries and not generated


def test_node_develop_and_test_stages_read_the_package_scripts(tmp_path):
    node = hooks_for("node")
    (tmp_path / "package.json").write_text('{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}')
    assert node.test(_plan("node"), BuildContext(tmp_path), "builder") == "package.json has no test script"
    (tmp_path / "package.json").write_text('{"scripts": {"dev": "vite", "test": "vitest run"}}')
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    ctx = BuildContext(tmp_path)  # a context reads its listing once
    assert _texts(node.test(_plan("node"), ctx, "develop")) == ["RUN pnpm test"]
    contract = [Env(body="PORT=3000"), Verbatim(line='CMD ["node", "server.js"]')]
    steps, contract = node.develop(_plan("node"), ctx, "builder", contract)
    assert _texts(steps) == ["ENV NODE_ENV=development"]
    assert _texts(contract) == ["ENV PORT=3000", 'CMD ["pnpm", "run", "dev"]']


# -- python ------------------------------------------------------------------------------------------
def test_python_pip_cache_drops_no_cache_dir(tmp_path):
    use, site = _caches("python", "pip install --no-cache-dir -r requirements.txt", tmp_path)
    assert use.tool == "pip" and use.text == "pip install -r requirements.txt"
    assert [c["target"] for c in use.caches] == ["/root/.cache/pip"]
    assert any("--no-cache-dir dropped" in n for n in site.notes)
    off, site = _caches("python", "pip install flask", tmp_path, env={"PIP_NO_CACHE_DIR": "1"})
    assert off is None and any("PIP_NO_CACHE_DIR" in n for n in site.notes)
    uv, _ = _caches("python", "uv sync --locked", tmp_path, env={"UV_CACHE_DIR": "/cache/uv"})
    assert [c["target"] for c in uv.caches] == ["/cache/uv"]


def test_python_manifests_and_dockerignore(tmp_path):
    python = hooks_for("python")
    assert python.reads_manifests(["pip", "install", "-r", "requirements.txt"], {"requirements.txt"})
    assert not python.reads_manifests(["pip", "install", "-r", "requirements.txt", "."], {"requirements.txt"})
    assert python.writes_manifests(["uv", "sync"]) and not python.writes_manifests(["uv", "sync", "--locked"])
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "tool.py").write_text("")
    entries, generated = python.ignored(BuildContext(tmp_path), "python -m build")
    assert "**/__pycache__" in entries and "dist" in entries and "build" not in entries
    assert generated == {"dist", "build"}


def test_python_develop_and_test_stages(tmp_path):
    python = hooks_for("python")
    plan = _plan("python", workdir="/app", artifacts=[Copy(flags=("--from=builder",), args="/install /usr/local")])
    assert python.test(plan, BuildContext(tmp_path), "builder") == "no tests found (tests/, test_*.py or *_test.py)"
    (tmp_path / "tests").mkdir()
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    ctx = BuildContext(tmp_path)  # a context reads its listing once
    steps, _ = python.develop(plan, ctx, "builder", [])
    assert _texts(steps) == [
        "COPY --from=builder /install /usr/local",
        "COPY requirements-dev.txt ./requirements-dev.txt",
        "RUN pip install --no-cache-dir -r requirements-dev.txt",
        "COPY . .",
    ]
    assert _texts(python.test(plan, ctx, "develop")) == ["RUN python -m pytest"]
    assert isinstance(python.test(plan, ctx, "builder")[0], Workdir)
    assert isinstance(python.test(plan, ctx, "builder")[-1], Run)


# -- a new language: its hooks are all the features need ----------------------------------------------
class _RustHooks(Hooks):
    language = "rust"
    image_env = {"rust": {"CARGO_HOME": "/usr/local/cargo"}}
    managers = frozenset({"cargo"})

    def caches(self, words, text, site):
        if words[:2] != ["cargo", "build"]:
            return None
        return uses("cargo", site.cache(f"{site.env.get('CARGO_HOME', site.home + '/.cargo')}/registry"))

    def test(self, plan, ctx, base):
        return [Run(body="cargo test")]


def test_the_features_ask_a_registered_language(tmp_path, monkeypatch):
    import dockrewrite.providers as providers
    from dockrewrite import targets
    from dockrewrite.features import cache
    from dockrewrite.parse import parse
    from dockrewrite.plan import Options

    monkeypatch.setattr(providers, "HOOKS", (*providers.HOOKS, _RustHooks()))
    assert hooks_for("rust").language == "rust"
    plan = _plan("rust", builder=[From(image="rust:1.80", name="builder"), Run(body="cargo build --release")])
    out = cache.apply(plan, parse("FROM rust:1.80\nRUN true\n"), BuildContext(tmp_path), Options(cache_mounts=True))
    assert out.builder[1].mounts() == [{"type": "cache", "target": "/usr/local/cargo/registry"}]
    out = targets.apply(out, parse("FROM rust:1.80\n"), BuildContext(tmp_path), Options(targets=("test",)))
    assert _texts(out.extra_stages[-1])[-1] == "RUN cargo test"


def test_the_languages_are_the_provider_folders():
    """The registry finds each folder of providers/ by itself, in name order; nothing else lists them."""
    from dockrewrite import providers

    root = Path(providers.__file__).parent
    folders = sorted(d.name for d in root.iterdir() if (d / "__init__.py").is_file())
    assert [p.language for p in PROVIDERS] == folders == [h.language for h in all_hooks()]


def test_adding_a_language_is_one_folder(tmp_path, monkeypatch):
    """A new folder with PROVIDER and hooks.HOOKS joins the registry, and its --pin row joins the table."""
    from dockrewrite import providers

    folder = tmp_path / "zz_lang"
    folder.mkdir()
    (folder / "__init__.py").write_text(
        "from dockrewrite.providers.base import Provider\n\n"
        "class ZzProvider(Provider):\n    language = 'zz_lang'\n\nPROVIDER = ZzProvider()\n"
    )
    (folder / "hooks.py").write_text(
        "from dockrewrite.providers.base import Hooks\n\n"
        "class ZzHooks(Hooks):\n    language = 'zz_lang'\n    pin_versions = {'zz': ('2.0.1', '1.9.9')}\n\n"
        "HOOKS = ZzHooks()\n"
    )
    monkeypatch.setattr(providers, "__path__", [*providers.__path__, str(tmp_path)])
    try:
        found = providers._languages()
        assert [p.language for p, _ in found][-1] == "zz_lang"
        assert found[-1][1].pin_versions == {"zz": ("2.0.1", "1.9.9")}
    finally:
        import sys

        for name in [n for n in sys.modules if n.startswith("dockrewrite.providers.zz_lang")]:
            del sys.modules[name]


def test_pin_rows_come_from_the_languages_and_the_runtime_bases():
    from dockrewrite.features.pins import VERSIONS
    from dockrewrite.runtimes import select

    for hooks in all_hooks():
        assert hooks.pin_versions, f"{hooks.language} has no --pin row for its official image"
    expected = {image for h in all_hooks() for image in h.pin_versions}
    expected |= {image for rt in select.every() for image in rt.pin_versions}
    assert set(VERSIONS) == expected >= {"golang", "node", "python", "alpine", "debian", "nginx"}
    assert VERSIONS["golang"][0] == "1.25.3" and VERSIONS["debian"] == ("13.3", "12.13", "11.11")
