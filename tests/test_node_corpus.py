"""Node cases found on public Dockerfiles (the corpus evaluation): ownership of the app folder, user flags,
dev dependencies the app loads, config files the start command reads, odd file names, workspace and
package.json errors. The golden fixtures under fixtures/node/ hold the full rewrites."""

from __future__ import annotations

import pytest
from test_node_units import _context  # the same context builder as the other Node tests

from dockrewrite.plan import Options
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import lockfile as nlock
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import sources
from dockrewrite.results import CHANGED, SKIPPED
from dockrewrite.transform import convert_text

SERVER = """FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
CMD ["node", "server.js"]
"""
SERVER_FILES = {"package.json": {"dependencies": {"express": "4"}}, "package-lock.json": "{}", "server.js": ""}


# -- 1. the node user owns the app folder and files the original's root could write -------------------
def test_new_user_owns_the_app_folder_and_files(tmp_path):
    out = convert_text(SERVER, _context(tmp_path, SERVER_FILES), Options(runtime="slim")).output
    assert "RUN mkdir -p /app && chown node:node /app\nWORKDIR /app\n" in out
    assert "COPY --from=deps --chown=node:node /app/node_modules ./node_modules" in out
    assert "COPY --chown=node:node server.js ./" in out
    assert out.index("chown node:node /app") < out.index("USER 1000:1000")


def test_distroless_owner_is_the_numeric_nonroot_user(tmp_path):
    out = convert_text(SERVER, _context(tmp_path, SERVER_FILES), Options(runtime="distroless")).output
    assert "COPY --chown=65532:65532 server.js ./" in out
    # no shell there: the deps stage makes the folder and the runtime copies it in owned (WORKDIR alone makes it
    # root's on the legacy builder), rather than relying on BuildKit creating WORKDIR as the image's user
    runtime = out[out.index("AS runtime") :]
    assert "mkdir" not in runtime
    assert "COPY --from=deps --chown=65532:65532 /writable/app /app\nWORKDIR /app\n" in runtime
    assert "RUN mkdir -p /writable/app" in out[: out.index("AS runtime")]


@pytest.mark.parametrize(
    ("dockerfile", "options"),
    [
        (SERVER.replace('CMD ["node"', 'USER node\nCMD ["node"'), Options()),  # the original chose its user
        (SERVER, Options(keep_root=True)),
    ],
)
def test_no_ownership_change_without_a_new_user(tmp_path, dockerfile, options):
    out = convert_text(dockerfile, _context(tmp_path, SERVER_FILES), options).output
    assert "--chown" not in out and "mkdir" not in out


def test_app_in_the_root_folder_keeps_root(tmp_path):
    result = convert_text(SERVER.replace("WORKDIR /app\n", ""), _context(tmp_path, SERVER_FILES), Options())
    assert result.status == CHANGED, result.reason
    assert "USER" not in result.output and "--chown" not in result.output
    assert any("no WORKDIR" in w and "keeps root" in w for w in result.warnings)


def test_folder_with_a_space_is_quoted(tmp_path):
    text = SERVER.replace("WORKDIR /app", 'WORKDIR "/srv/my app"')
    out = convert_text(text, _context(tmp_path, SERVER_FILES), Options(runtime="slim")).output
    assert "RUN mkdir -p '/srv/my app' && chown node:node '/srv/my app'" in out
    assert 'COPY --from=deps --chown=node:node ["/srv/my app/node_modules", "./node_modules"]' in out


# -- 2. the user's install flags survive in every install ---------------------------------------------
@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("npm i --force", ["--force"]),
        ("npm install --legacy-peer-deps", ["--legacy-peer-deps"]),
        ("yarn install --ignore-engines --force", ["--ignore-engines", "--force"]),
        ("pnpm install --force --no-strict-peer-dependencies", ["--force", "--no-strict-peer-dependencies"]),
    ],
)
def test_install_flags_are_kept(command, extra):
    [seg] = cmds.classify(command)
    assert seg.kind == cmds.INSTALL and seg.extra == extra


def test_force_reaches_both_installs(tmp_path):
    files = {**SERVER_FILES, "package.json": {"dependencies": {"express": "4"}, "scripts": {"build": "tsc"}}}
    text = SERVER.replace("RUN npm ci", "RUN npm ci --force && npm run build")
    out = convert_text(text, _context(tmp_path, files), Options()).output
    assert "RUN npm ci --omit=dev --force" in out and "RUN npm ci --force\n" in out


# -- 3. dev dependencies the runtime's own code loads -------------------------------------------------
DEV_FILES = {
    "package.json": {"dependencies": {"express": "4"}, "devDependencies": {"cors": "2", "jest": "29"}},
    "package-lock.json": "{}",
    "server.js": 'const app = require("express")();\nrequire("./lib/mw")(app);\n',
    "lib/mw.js": '// require("jest")\nmodule.exports = (app) => app.use(require("cors")());\n',
}


def test_dev_dependency_loaded_at_run_time_is_installed(tmp_path):
    result = convert_text(SERVER, _context(tmp_path, DEV_FILES), Options())
    assert "# All dependencies: the app loads cors from devDependencies\nRUN npm ci\n" in result.output
    assert "--omit=dev" not in result.output
    assert any("lib/mw.js loads cors" in w for w in result.warnings)


@pytest.mark.parametrize(
    "change",
    [
        ("RUN npm ci", "RUN npm ci --omit=dev"),  # the original left them out too
        ("COPY . .", "ENV NODE_ENV=production\nCOPY . ."),
        ('require("cors")()', "(req, res, next) => next()"),  # nothing loads a dev dependency
    ],
)
def test_dev_dependencies_stay_out_otherwise(tmp_path, change):
    files = dict(DEV_FILES)
    if change[0].startswith("require"):
        files["lib/mw.js"] = files["lib/mw.js"].replace(*change)
        text = SERVER
    else:
        text = SERVER.replace(*change)
    out = convert_text(text, _context(tmp_path, files), Options()).output
    assert "--omit=dev" in out


def test_loaded_packages_resolve_local_modules(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "src/index.mjs": 'import a from "./a";\nimport("@scope/pkg/sub");\nimport fs from "node:fs";\n',
            "src/a/index.js": "const os = require('os');\nexport * from 'lodash/fp';\n",
        },
    )
    assert sources.loaded_packages(ctx, ["src/index.mjs"]) == {
        "@scope/pkg": "src/index.mjs",
        "lodash": "src/a/index.js",
    }


# -- 4. config files the start command reads; compiling at start ---------------------------------------
def test_tsconfig_paths_register_keeps_tsconfig(tmp_path):
    files = {
        "package.json": {"scripts": {"build": "tsc"}, "dependencies": {"tsconfig-paths": "4"}},
        "package-lock.json": "{}",
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist", "paths": {"@/*": ["src/*"]}}}',
        "src/index.ts": "",
    }
    text = SERVER.replace("RUN npm ci", "RUN npm ci && npm run build").replace(
        '["node", "server.js"]', '["node", "-r", "tsconfig-paths/register", "dist/index.js"]'
    )
    out = convert_text(text, _context(tmp_path, files), Options(runtime="slim")).output
    assert "COPY --from=builder --chown=node:node /app/tsconfig.json ./tsconfig.json" in out


def test_babel_node_from_dev_dependencies_keeps_them(tmp_path):
    """The start command runs a dev dependency's program: the runtime installs the dev dependencies, as the
    original did, and the note says so (it used to be a skip)."""
    files = {
        "package.json": {"scripts": {"start": "babel-node src/index.js"}, "devDependencies": {"@babel/node": "7"}},
        "package-lock.json": "{}",
        "src/index.js": "",
        ".babelrc": "{}",
    }
    result = convert_text(
        SERVER.replace('["node", "server.js"]', '["npm", "start"]'), _context(tmp_path, files), Options()
    )
    assert result.status == CHANGED, result.reason
    assert "RUN npm ci\n" in result.output.split("AS runtime")[0] and "--omit=dev" not in result.output
    assert ".babelrc" in result.output
    assert any("runs `babel-node`" in w and "@babel/node" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("prisma migrate deploy && tsc && node dist/index.js", "`tsc` in the start command compiles"),
        ("tsc; node dist/index.js", "`tsc` in the start command compiles"),
    ],
)
def test_compile_at_start_that_cannot_move_is_skipped(tmp_path, start, reason):
    files = {
        "package.json": {"scripts": {"start": start}, "dependencies": {"typescript": "5", "prisma": "5"}},
        "package-lock.json": "{}",
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}',
    }
    text = SERVER.replace('["node", "server.js"]', '["npm", "start"]')
    result = convert_text(text, _context(tmp_path, files), Options())
    assert result.status == SKIPPED and reason in result.reason and result.line == 5


def test_compile_at_start_without_a_script_runs_the_bin(tmp_path):
    files = {
        "package.json": {"main": "out/main.js", "scripts": {"start": "tsc -p . && node ."}, "dependencies": {}},
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        "tsconfig.json": '{"compilerOptions": {"outDir": "out"}}',
    }
    text = SERVER.replace("npm ci", "pnpm install --frozen-lockfile").replace(
        '["node", "server.js"]', '["pnpm", "start"]'
    )
    out = convert_text(text, _context(tmp_path, files), Options(runtime="slim")).output
    assert "RUN pnpm exec tsc -p .\n" in out
    assert "COPY --from=builder --chown=node:node /app/out ./out" in out and out.endswith('CMD ["node", "."]\n')


# -- 5. front-end dev servers -------------------------------------------------------------------------
def test_craco_start_is_a_static_site(tmp_path):
    files = {
        "package.json": {"scripts": {"start": "craco start", "build": "craco build"}, "devDependencies": {}},
        "package-lock.json": "{}",
    }
    text = SERVER.replace("RUN npm ci", "RUN npm ci && npm run build").replace(
        '["node", "server.js"]', '["npm", "start"]'
    )
    result = convert_text(text, _context(tmp_path, files), Options())
    assert result.runtime == "nginx" and "COPY --from=builder /app/build ." in result.output


# -- 9. no CMD --------------------------------------------------------------------------------------
def test_no_cmd_on_distroless_keeps_no_cmd(tmp_path):
    result = convert_text(
        SERVER.replace('CMD ["node", "server.js"]\n', ""),
        _context(tmp_path, SERVER_FILES),
        Options(runtime="distroless"),
    )
    assert result.status == CHANGED, result.reason
    assert "CMD" not in result.output.split("AS runtime", 1)[1]


def test_no_cmd_next_standalone_is_skipped(tmp_path):
    files = {
        "package.json": {"scripts": {"build": "next build"}, "dependencies": {"next": "14"}},
        "package-lock.json": "{}",
        "next.config.js": 'module.exports = { output: "standalone" };\n',
    }
    text = SERVER.replace("RUN npm ci", "RUN npm ci && npm run build").replace('CMD ["node", "server.js"]\n', "")
    result = convert_text(text, _context(tmp_path, files), Options())
    assert result.status == SKIPPED and "node server.js" in result.reason and result.line == 1


# -- 10, 11. workspace files and unreadable package.json ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "workspace"),
    [
        ("packages:\n  - '.'\n\nonlyBuiltDependencies:\n  - esbuild\n", False),
        ('packages: ["."]\n', False),
        ("minimumReleaseAge: 4320\n", False),
        ("packages:\n  - 'apps/*'\n  - packages/*  # libraries\n", True),
        ("packages:\n  - '.'\n  - tools/cli\n", True),
    ],
)
def test_pnpm_workspace_with_only_the_root_is_one_package(tmp_path, text, workspace):
    ctx = _context(tmp_path, {"pnpm-workspace.yaml": text})
    assert bool(nlock.workspace_reason(ctx, npkg.Package({"name": "x"}, True))) is workspace


def test_invalid_package_json_names_the_json_error(tmp_path):
    ctx = _context(tmp_path, {"package.json": '{\n  "name": "x",\n  "scripts": {"start": "node a.js",}\n}\n'})
    result = convert_text(
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["npm", "start"]\n', ctx, Options()
    )
    assert result.status == SKIPPED and result.line == 3
    assert result.reason.startswith("package.json is not valid JSON (line 3, column")


# -- 12. names that need the JSON form ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("sources", "dest", "line"),
    [
        (["src"], "./src", "COPY src ./src"),
        (["my assets"], "./my assets", 'COPY ["my assets", "./my assets"]'),
        (['"quoted', "it's"], "./", 'COPY ["\\\\\\"quoted", "it\\\\\'s", "./"]'),
        (["$HOME"], "./$HOME", 'COPY ["\\\\$HOME", "./\\\\$HOME"]'),
        (["menu[1].json", "a*b"], "./", 'COPY ["menu[[]1].json", "a[*]b", "./"]'),
    ],
)
def test_copy_line_forms(sources, dest, line):
    assert cmds.copy_line("", sources, dest) == line


def test_copy_line_with_backtick_escape():
    assert cmds.copy_line("", ["$X"], "./", escape="`") == 'COPY ["`$X", "./"]'


def test_backslash_in_a_name_is_skipped(tmp_path):
    result = convert_text(SERVER, _context(tmp_path, {**SERVER_FILES, "back\\slash.txt": ""}), Options())
    assert result.status == SKIPPED and "backslash" in result.reason and result.line == 3


def test_no_production_dependencies_still_gives_the_runtime_a_node_modules_to_copy(tmp_path):
    files = {"package.json": {"name": "demo", "scripts": {"start": "node app.js"}}, "app.js": ""}
    text = (
        'FROM node:20\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nCMD ["npm", "start"]\n'
    )
    out = convert_text(text, _context(tmp_path, files), Options(runtime="slim")).output
    assert "RUN mkdir -p node_modules && npm install --omit=dev" in out
    assert "COPY --from=deps --chown=node:node /usr/src/app/node_modules ./node_modules" in out
