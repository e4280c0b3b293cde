"""Node pieces with inline cases: package managers, install commands, start scripts, static sites, runtimes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import lockfile as nlock
from dockrewrite.providers.node import outputs
from dockrewrite.providers.node import package as npkg
from dockrewrite.results import CHANGED, SKIPPED, UNCHANGED
from dockrewrite.runtimes.select import runtime
from dockrewrite.transform import convert_text


def _context(tmp_path: Path, files: dict[str, object]) -> BuildContext:
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return BuildContext(tmp_path)


# -- lockfiles and package managers ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "used", "major", "production", "full"),
    [
        ({"package-lock.json": "{}"}, "npm", 20, "npm ci --omit=dev", "npm ci"),
        ({"npm-shrinkwrap.json": "{}"}, "npm", 20, "npm ci --omit=dev", "npm ci"),
        ({}, "npm", 20, "npm install --omit=dev", "npm install"),
        ({"package-lock.json": "{}"}, "npm", 14, "npm ci --only=production", "npm ci"),
        ({"yarn.lock": "# yarn lockfile v1\n"}, "yarn", 18, "yarn install --frozen-lockfile --production", None),
        (
            {"yarn.lock": "__metadata:\n  version: 6\n", ".yarnrc.yml": "nodeLinker: node-modules\n"},
            "yarn",
            20,
            "yarn workspaces focus --all --production",
            "yarn install --immutable",
        ),
        ({"pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}, "pnpm", 20, "pnpm install --frozen-lockfile --prod", None),
        # the manager the original runs decides; another manager's lockfile is not used
        ({"yarn.lock": ""}, "npm", 20, "npm install --omit=dev", "npm install"),
    ],
)
def test_manager_and_install_commands(tmp_path, files, used, major, production, full):
    manager = npkg.manager_for(_context(tmp_path, files), used, major)
    assert manager.install(True, []) == production
    if full:
        assert manager.install(False, []) == full


def test_install_keeps_the_original_flags():
    [seg] = cmds.classify("npm install --legacy-peer-deps --production")
    assert seg.kind == cmds.INSTALL and seg.production and seg.extra == ["--legacy-peer-deps"]
    [seg] = cmds.classify("yarn install --frozen-lockfile --network-timeout 600000")
    assert seg.kind == cmds.INSTALL and seg.extra == ["--network-timeout", "600000"]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("npm ci && npm run build && npm prune --production", ["install", "build", "prune"]),
        ("npm i -g pnpm@8 serve && corepack enable", ["global", "global"]),
        ("apt-get update && apt-get install -y python3 make g++ && npm ci", ["system", "system", "install"]),
        ("yarn && yarn build && yarn cache clean", ["install", "build", "clean"]),
        ("pnpm install --frozen-lockfile && pnpm build", ["install", "build"]),
        ("npm install pm2", ["add"]),
        ("mkdir -p /app/logs && chown -R node:node /app", ["fs", "fs"]),
        ("npx prisma generate", ["build"]),
    ],
)
def test_classify(text, kinds):
    assert [s.kind for s in cmds.classify(text)] == kinds


def test_global_package_names():
    [seg] = cmds.classify("npm install -g @angular/cli@17 serve@14.2.0")
    assert seg.globals_ == ["@angular/cli", "serve"]


# -- start scripts ----------------------------------------------------------------------------------
def _pkg(scripts: dict[str, str], **deps: str) -> npkg.Package:
    return npkg.Package({"scripts": scripts, "dependencies": deps}, True)


@pytest.mark.parametrize(
    ("argv", "scripts", "resolved"),
    [
        (["npm", "start"], {"start": "node dist/index.js"}, ["node", "dist/index.js"]),
        (["npm", "run", "start:prod"], {"start:prod": "node --enable-source-maps dist/main"}, None),
        (["yarn", "start"], {"start": "node lib/server.js"}, ["node", "lib/server.js"]),
        (["npm", "start", "--", "--port", "8080"], {"start": "node app.js"}, ["node", "app.js", "--port", "8080"]),
        (["npm", "start"], {"start": "npm run serve", "serve": "node server.js"}, ["node", "server.js"]),
        (["npm", "start"], {"start": "NODE_ENV=production node app.js"}, None),
        (["npm", "start"], {"start": "tsc && node dist/app.js"}, None),
        (["npm", "start"], {"start": "next start"}, None),
        (["npm", "start"], {}, ["node", "server.js"]),  # npm's default start script
    ],
)
def test_start_script_resolution(argv, scripts, resolved):
    start = cmds.start_of(argv, _pkg(scripts))
    assert start.kind == "script"
    if argv[2:3] == ["start:prod"]:
        assert start.resolved == ["node", "--enable-source-maps", "dist/main"]
    else:
        assert start.resolved == resolved


def test_start_kinds():
    pkg = _pkg({})
    node = cmds.start_of(["node", "-r", "dotenv/config", "--max-old-space-size=512", "dist/main.js"], pkg)
    assert (node.kind, node.entry) == ("node", "dist/main.js")
    wrapped = cmds.start_of(["tini", "--", "node", "index.js"], pkg)
    assert (wrapped.kind, wrapped.wrapper, wrapped.entry) == ("node", ["tini", "--"], "index.js")
    assert cmds.start_of(["npx", "serve", "-s", "build"], pkg).bin == "serve"
    assert cmds.start_of(["./docker-entrypoint.sh"], pkg).kind == "other"


@pytest.mark.parametrize(
    ("scripts", "split"),
    [
        ({"start": "tsc && node ."}, ([["tsc"]], ["node", "."])),
        (
            {"start": "npm run build && npm run serve", "build": "tsc", "serve": "node dist/index.js"},
            ([["npm", "run", "build"]], ["node", "dist/index.js"]),
        ),
        (
            {"start": "yarn prod", "prod": "yarn build && yarn serve -- --port 80", "build": "tsc", "serve": "node ."},
            ([["yarn", "build"]], ["node", ".", "--port", "80"]),
        ),
        ({"start": "tsc && yarn serve --port 80", "serve": "node ."}, None),  # yarn passes --port 80 on
        (
            {"start": "pnpm run a", "a": "pnpm run b", "b": "tsc && pnpm run c", "c": "node dist/main"},
            ([["tsc"]], ["node", "dist/main"]),
        ),
        ({"start": "npm run a", "a": "npm run start"}, None),  # a cycle
        ({"start": "tsc && npm run a", "a": "npm run b", "b": "npm run a"}, None),
        ({"start": "tsc && npm run serve", "serve": "next start"}, None),
        (
            {
                "start": "npm run a",
                "a": "npm run b",
                "b": "npm run c",
                "c": "npm run d",
                "d": "npm run e",
                "e": "npm run f",
                "f": "tsc && node .",
            },
            None,
        ),  # deeper than followed
    ],
)
def test_start_script_build_prefix_through_runs(scripts, split):
    assert cmds.split_build_prefix(_pkg(scripts), "start") == split


def test_start_script_resolution_stops_at_cycles():
    pkg = _pkg({"start": "npm run a", "a": "yarn b", "b": "npm run a"})
    assert cmds.start_of(["npm", "start"], pkg).resolved is None


def test_script_commands_follow_runs_and_wrappers():
    pkg = _pkg({"build": "rimraf dist && npm run compile", "compile": "cross-env NODE_ENV=production tsc -p ."})
    assert [npkg.unwrap(w) for w in npkg.script_commands(pkg, "build")] == [["rimraf", "dist"], ["tsc", "-p", "."]]


# -- build outputs and static sites ---------------------------------------------------------------
def test_tsc_outdir_follows_extends(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "tsconfig.json": '{\n  // base\n  "compilerOptions": {"outDir": "./build",},\n}\n',
            "tsconfig.build.json": '{"extends": "./tsconfig.json"}',
        },
    )
    assert outputs.build_outputs(ctx, npkg.Package(), ["tsc", "-p", "tsconfig.build.json"]) == ["build"]
    assert outputs.build_outputs(ctx, npkg.Package(), ["tsc", "--outDir", "out"]) == ["out"]


def test_frontend_outputs(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "angular.json": {
                "projects": {
                    "shop": {
                        "architect": {
                            "build": {
                                "builder": "@angular-devkit/build-angular:application",
                                "options": {"outputPath": "dist/shop"},
                            }
                        }
                    }
                }
            },
            "vite.config.ts": "export default { build: { outDir: 'public/app' } }\n",
        },
    )
    pkg = npkg.Package()
    assert outputs.build_outputs(ctx, pkg, ["ng", "build"]) == ["dist/shop/browser"]
    assert outputs.build_outputs(ctx, pkg, ["vite", "build"]) == ["public/app"]
    assert outputs.build_outputs(ctx, pkg, ["react-scripts", "build"]) == ["build"]
    assert outputs.build_outputs(ctx, pkg, ["next", "build"]) == [".next"]


VITE_PREVIEW = """FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 4173
CMD ["npm", "run", "preview", "--", "--host"]
"""


def test_vite_preview_becomes_nginx(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "package.json": {
                "scripts": {"build": "vite build", "preview": "vite preview"},
                "devDependencies": {"vite": "^5"},
            },
            "package-lock.json": "{}",
        },
    )
    result = convert_text(VITE_PREVIEW, ctx, Options())
    assert result.status == CHANGED, result.reason
    assert result.runtime == "nginx"
    assert "FROM nginx:alpine AS runtime" in result.output
    assert "'    listen 4173;'" in result.output
    assert "COPY --from=builder /app/dist ." in result.output
    assert 'CMD ["nginx", "-g", "daemon off;"]' in result.output


def test_express_serving_its_build_stays_node(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "package.json": {
                "scripts": {"build": "vite build", "start": "node server.js"},
                "dependencies": {"express": "^4"},
                "devDependencies": {"vite": "^5"},
            },
            "package-lock.json": "{}",
            "server.js": "",
        },
    )
    text = VITE_PREVIEW.replace('CMD ["npm", "run", "preview", "--", "--host"]', 'CMD ["node", "server.js"]')
    result = convert_text(text, ctx, Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert result.runtime == "slim"
    assert "COPY --from=builder --chown=node:node /app/server.js ./" in result.output
    assert "COPY --from=builder --chown=node:node /app/dist ./dist" in result.output


def test_next_without_standalone_keeps_npm_start(tmp_path):
    ctx = _context(
        tmp_path,
        {
            "package.json": {"scripts": {"build": "next build", "start": "next start"}, "dependencies": {"next": "14"}},
            "package-lock.json": "{}",
            "next.config.js": "module.exports = {}\n",
            "public/robots.txt": "",
        },
    )
    text = VITE_PREVIEW.replace("EXPOSE 4173", "EXPOSE 3000").replace(
        'CMD ["npm", "run", "preview", "--", "--host"]', 'CMD ["npm", "start"]'
    )
    result = convert_text(text, ctx, Options())
    assert result.status == CHANGED, result.reason
    assert "COPY --from=builder --chown=node:node /app/.next ./.next" in result.output
    assert "COPY --from=builder --chown=node:node /app/next.config.js ./next.config.js" in result.output
    assert result.output.rstrip().endswith('CMD ["npm", "start"]')
    assert any("still runs through npm" in w for w in result.warnings)


# -- runtime choice ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image", "slim", "alpine"),
    [
        ("node:20", "node:20-slim", "node:20-alpine"),
        ("node:20-bookworm", "node:20-bookworm-slim", "node:20-alpine"),
        ("node:18.19.1-alpine3.19", "node:18.19.1-slim", "node:18.19.1-alpine3.19"),
        ("node", "node:slim", "node:alpine"),
        ("node:lts", "node:lts-slim", "node:lts-alpine"),
        ("node:${NODE_VERSION}", "node:${NODE_VERSION}-slim", "node:${NODE_VERSION}-alpine"),
        (
            "docker.io/library/node:22-bullseye-slim",
            "docker.io/library/node:22-bullseye-slim",
            "docker.io/library/node:22-alpine",
        ),
    ],
)
def test_runtime_images(image, slim, alpine):
    assert runtime("slim").image("node", image) == slim
    assert runtime("alpine").image("node", image) == alpine


TOOLCHAIN = "RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++\n"
NATIVE = (
    """FROM node:20
"""
    + TOOLCHAIN
    + """WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
CMD ["node", "index.js"]
"""
)


def test_runtime_choice_follows_native_addons(tmp_path):
    ctx = _context(
        tmp_path, {"package.json": {"dependencies": {"bcrypt": "5"}}, "package-lock.json": "{}", "index.js": ""}
    )
    # bcrypt links nothing distroless cc lacks (tests/test_node_auto_runtime.py has the addons that do)
    assert convert_text(NATIVE, ctx, Options()).runtime == "distroless"
    assert convert_text(NATIVE, ctx, Options(runtime="slim")).runtime == "slim"
    alpine = convert_text(NATIVE, ctx, Options(runtime="alpine"))
    assert alpine.status == SKIPPED and "glibc" in alpine.reason
    distroless = convert_text(NATIVE, ctx, Options(runtime="distroless"))
    assert distroless.status == CHANGED
    assert "FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime" in distroless.output
    assert distroless.output.rstrip().endswith('CMD ["index.js"]')
    plain = NATIVE.replace(TOOLCHAIN, "")
    ctx_plain = _context(tmp_path, {"package.json": {"dependencies": {"express": "4"}}})
    assert convert_text(plain, ctx_plain, Options(runtime="alpine")).runtime == "alpine"
    on_alpine = plain.replace("FROM node:20", "FROM node:20-alpine")
    assert convert_text(on_alpine, ctx_plain, Options()).runtime == "alpine"


def test_keep_root_and_existing_user(tmp_path):
    ctx = _context(tmp_path, {"package.json": {"dependencies": {}}, "package-lock.json": "{}", "index.js": ""})
    text = NATIVE.replace(TOOLCHAIN, "")
    assert "USER 1000:1000" in convert_text(text, ctx, Options(runtime="slim")).output
    assert "USER" not in convert_text(text, ctx, Options(keep_root=True)).output


@pytest.mark.parametrize(
    ("dockerfile", "files", "status", "reason"),
    [
        (
            'FROM ubuntu:22.04\nRUN apt-get install -y nodejs npm\nCOPY . .\nRUN npm ci\nCMD ["node", "a.js"]\n',
            {"package.json": {}, "package-lock.json": "{}"},
            SKIPPED,
            "not an official node image",
        ),
        (
            'FROM node:20\nCOPY . .\nRUN npm ci\nCMD ["node", "a.js"]\n',
            {"package.json": {}},
            SKIPPED,
            "`npm ci` needs package-lock.json",
        ),
        (
            'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["npx", "tsx", "watch", "a.ts"]\n',
            {"package.json": {"devDependencies": {"tsx": "^4"}}},
            SKIPPED,
            "compiles TypeScript",
        ),
        (
            'FROM node:20\nCOPY . .\nRUN yarn install\nCMD ["node", "a.js"]\n',
            {"package.json": {}, "yarn.lock": "__metadata:\n", ".yarnrc.yml": "yarnPath: x\n"},
            SKIPPED,
            "Plug'n'Play",
        ),
        (
            # no CMD converts (the node image's CMD is inherited), unless a global CLI hints at the outside command
            "FROM node:20\nCOPY . .\nRUN npm install\nRUN npm install -g nodemon\n",
            {"package.json": {}},
            SKIPPED,
            "no CMD or ENTRYPOINT, and `npm install -g nodemon` installs nodemon",
        ),
        (
            'FROM node:20 AS build\nRUN npm ci\nFROM node:20-slim\nCMD ["node", "a.js"]\n',
            {"package.json": {}},
            UNCHANGED,
            "already multi-stage",
        ),
    ],
)
def test_no_op_and_skip_cases(tmp_path, dockerfile, files, status, reason):
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == status
    assert reason in (result.reason or "")


# -- lockfile agreement: frozen installs only when the lockfile has every declared dependency ------------------
_DECLARED = {"dependencies": {"express": "^4.19.2"}, "devDependencies": {"jest": "^29.7.0"}}


@pytest.mark.parametrize(
    ("lockfile", "text", "missing"),
    [
        (
            "package-lock.json",
            {"lockfileVersion": 1, "dependencies": {"express": {"version": "4.19.2"}, "jest": {"version": "29.7.0"}}},
            None,
        ),
        ("package-lock.json", {"lockfileVersion": 1, "dependencies": {"express": {"version": "4.19.2"}}}, "jest"),
        (
            "package-lock.json",
            {
                "lockfileVersion": 3,
                "packages": {
                    "": {"dependencies": {"express": "^4.19.2"}, "devDependencies": {"jest": "^29.7.0"}},
                    "node_modules/express": {"version": "4.19.2"},
                    "node_modules/jest": {"version": "29.7.0", "dev": True},
                },
            },
            None,
        ),
        # the root record names it, but nothing was installed for it
        (
            "package-lock.json",
            {
                "lockfileVersion": 2,
                "packages": {
                    "": {"dependencies": {"express": "^4.19.2"}, "devDependencies": {"jest": "^29.7.0"}},
                    "node_modules/express": {"version": "4.19.2"},
                },
                "dependencies": {"express": {"version": "4.19.2"}},
            },
            "jest",
        ),
        ("package-lock.json", "{not json", "cannot be parsed"),
        (
            "yarn.lock",
            '# yarn lockfile v1\n\nexpress@^4.19.2, express@^4.17.0:\n  version "4.19.2"\n\n'
            'jest@^29.7.0:\n  version "29.7.0"\n',
            None,
        ),
        # a range changed in package.json after the lockfile was written
        (
            "yarn.lock",
            '# yarn lockfile v1\n\nexpress@^4.18.0:\n  version "4.19.2"\n\n"jest@^29.7.0":\n  version "1"\n',
            "express@^4.19.2",
        ),
        (
            "yarn.lock",
            '__metadata:\n  version: 8\n\n"express@npm:^4.19.2":\n  version: 4.19.2\n\n'
            '"jest@npm:^29.7.0":\n  version: 29.7.0\n',
            None,
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      express:\n"
            "        specifier: ^4.19.2\n        version: 4.19.2\n    devDependencies:\n      jest:\n"
            "        specifier: ^29.7.0\n        version: 29.7.0\n",
            None,
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '6.0'\ndependencies:\n  express:\n    specifier: ^4.19.2\n    version: 4.19.2\n",
            "jest@^29.7.0",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: 5.4\nspecifiers:\n  express: ^4.19.2\n  jest: ^29.0.0\n"
            "dependencies:\n  express: 4.19.2\ndevDependencies:\n  jest: 29.7.0\n",
            "jest@^29.7.0",
        ),
    ],
)
def test_lockfile_agreement(tmp_path, lockfile, text, missing):
    ctx = _context(tmp_path, {"package.json": _DECLARED, lockfile: text})
    problem = nlock.lock_disagreement(ctx, npkg.read_package(ctx), lockfile)
    if missing is None:
        assert problem is None
    else:
        assert problem is not None and missing in problem


def test_stale_lockfile_keeps_the_resolving_install(tmp_path):
    files = {"package.json": _DECLARED, "package-lock.json": {"lockfileVersion": 1, "dependencies": {}}, "a.js": ""}
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "a.js"]\n'
    result = convert_text(dockerfile, _context(tmp_path, files), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert "npm ci" not in result.output and "RUN npm install --omit=dev" in result.output
    assert any("stays a resolving `npm install`" in w for w in result.warnings)
    # an original that already ran `npm ci` keeps it: it decided, and its build fails the same way
    result = convert_text(dockerfile.replace("npm install", "npm ci"), _context(tmp_path, files), Options())
    assert "RUN npm ci --omit=dev" in result.output


@pytest.mark.parametrize(
    ("command", "listen", "env_port"),
    [
        # serve reads $PORT when no port is given: nginx gets a template rendered at start, ENV PORT the default
        ('["serve", "-s", "dist"]', "${PORT}", "ENV PORT=3000"),
        ('["http-server", "dist"]', "${PORT}", "ENV PORT=8080"),
        # a fixed port stays fixed whatever PORT says, as it did for serve
        ('["serve", "-s", "dist", "-l", "5000"]', "5000", None),
        ('["npx", "vite", "preview", "--host"]', "4173", None),
        # shell form handing $PORT over itself
        ("serve -s dist -l tcp://0.0.0.0:$PORT", "${PORT}", "ENV PORT=3000"),
        ("npx vite preview --host --port $PORT", "${PORT}", "ENV PORT=4173"),
    ],
)
def test_static_site_port_from_the_environment(tmp_path, command, listen, env_port):
    files = {"package.json": {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "^5"}}}
    dockerfile = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\nCMD {command}\n"
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    assert f"'    listen {listen};'" in result.output
    assert "pid /tmp/nginx.pid;" in result.output and "'client_body_temp_path /tmp/nginx_client_temp;'" in result.output
    if env_port:
        assert env_port in result.output and "> /etc/nginx/templates/default.conf.template" in result.output
    else:
        assert "ENV PORT" not in result.output and "templates" not in result.output


def test_static_site_of_a_named_user_runs_as_nginx(tmp_path):
    files = {"package.json": {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "^5"}}}
    dockerfile = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install && npm run build\nUSER node\n"
    dockerfile += 'CMD ["serve", "-s", "dist"]\n'
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    assert "FROM nginx:alpine AS runtime" in result.output and "USER 101:101" in result.output


# -- programs that compile or watch at every start ------------------------------------------------------------
_TS_APP = {
    "package.json": {"dependencies": {"express": "^4"}, "devDependencies": {"ts-node": "^10", "typescript": "^5"}},
    "src/index.ts": "import express from 'express';\n",
    "src/lib/db.ts": "export const db = 1;\n",
}


@pytest.mark.parametrize(
    ("cmd", "tsconfig", "expected_cmd", "dev_kept"),
    [
        # tsc writes the entry to <outDir>/<path below the common source folder>
        (
            '["npx", "ts-node", "src/index.ts", "--port", "80"]',
            {"compilerOptions": {"outDir": "dist"}},
            '["node", "dist/index.js", "--port", "80"]',
            False,
        ),
        (
            '["npx", "ts-node", "src/index.ts"]',
            {"compilerOptions": {"outDir": "build", "rootDir": "."}},
            '["node", "build/src/index.js"]',
            False,
        ),
        # no outDir, noEmit, or path aliases tsc leaves in its output: ts-node keeps running, with the dev dependencies
        ('["npx", "ts-node", "src/index.ts"]', {"compilerOptions": {}}, '["npx", "ts-node", "src/index.ts"]', True),
        (
            '["npx", "ts-node", "src/index.ts"]',
            {"compilerOptions": {"outDir": "dist", "paths": {"@/*": ["src/*"]}}},
            '["npx", "ts-node", "src/index.ts"]',
            True,
        ),
        (
            '["npx", "ts-node", "-r", "tsconfig-paths/register", "src/index.ts"]',
            {"compilerOptions": {"outDir": "d"}},
            '["npx", "ts-node", "-r", "tsconfig-paths/register", "src/index.ts"]',
            True,
        ),
    ],
)
def test_typescript_compiled_at_start(tmp_path, cmd, tsconfig, expected_cmd, dev_kept):
    files = {**_TS_APP, "tsconfig.json": tsconfig}
    dockerfile = f"FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\nCMD {cmd}\n"
    result = convert_text(dockerfile, _context(tmp_path, files), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert f"CMD {expected_cmd}" in result.output
    if dev_kept:
        assert "RUN npm install\n" in result.output.split("AS runtime")[0].split("AS deps")[1]
        assert "COPY --chown=node:node tsconfig.json ./" in result.output or "tsconfig.json" in result.output
        assert any("runs `ts-node`" in w and "devDependencies only" in w for w in result.warnings)
    else:
        assert "npx tsc" in result.output and "--omit=dev" in result.output
        assert any("compiled TypeScript at every start" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("cmd", "files", "expected_cmd", "dev_kept"),
    [
        ('["npx", "nodemon", "--watch", "src", "src/app.js"]', {}, '["node", "src/app.js"]', False),
        ('["npx", "nodemon", "src/app.js", "--", "--verbose"]', {}, '["node", "src/app.js", "--verbose"]', False),
        # a nodemon config can set exec, env or a script: nodemon stays, with the dev dependencies
        (
            '["npx", "nodemon", "src/app.js"]',
            {"nodemon.json": {"env": {"DEBUG": "1"}}},
            '["npx", "nodemon", "src/app.js"]',
            True,
        ),
        ('["npx", "nodemon", "--inspect", "src/app.js"]', {}, '["npx", "nodemon", "--inspect", "src/app.js"]', True),
    ],
)
def test_nodemon_at_start(tmp_path, cmd, files, expected_cmd, dev_kept):
    files = {
        "package.json": {"dependencies": {"express": "^4"}, "devDependencies": {"nodemon": "^3"}},
        "src/app.js": "require('express');\n",
        **files,
    }
    dockerfile = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD {cmd}\n"
    result = convert_text(dockerfile, _context(tmp_path, files), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert f"CMD {expected_cmd}" in result.output
    assert ("--omit=dev" not in result.output) == dev_kept
    if dev_kept and "nodemon.json" in files:
        assert "nodemon.json" in result.output


def test_verify_marks_a_resolved_start_intended():
    from dockrewrite.verify.compare import ImageFacts, compare

    def facts(command):
        return ImageFacts(
            image_id="x",
            size=0,
            layers=0,
            command=command,
            env={},
            exposed_ports=[],
            working_dir="/app",
            user="",
            labels={},
            healthcheck=None,
            stop_signal="",
            volumes=[],
        )

    from dockrewrite.intents import CommandChanged, Declared

    declared = Declared((CommandChanged("compiled-at-start", ("node", "dist/index.js")),))
    [diff] = compare(facts(["npx", "ts-node", "src/index.ts"]), facts(["node", "dist/index.js"]), declared=declared)
    assert diff.field == "command" and diff.intended
    [diff] = compare(facts(["npx", "ts-node", "src/index.ts"]), facts(["node", "other.js"]), declared=declared)
    assert not diff.intended


@pytest.mark.parametrize(
    ("builder", "output", "words", "expected"),
    [
        ("@angular-devkit/build-angular:application", "dist/shop", ["ng", "build"], "dist/shop/browser"),
        ("@angular-devkit/build-angular:application", {"base": "out", "browser": ""}, ["ng", "build"], "out"),
        (
            "@angular-devkit/build-angular:browser",
            "dist/shop",
            ["ng", "build", "--configuration", "production"],
            "dist/shop",
        ),
        ("@angular-devkit/build-angular:browser", "dist/shop", ["ng", "build", "--output-path", "www"], "www"),
        # a project named on the command line, not the first one in angular.json
        ("@angular-devkit/build-angular:browser", "dist/shop", ["ng", "build", "admin"], "dist/admin-app"),
    ],
)
def test_angular_outputs(tmp_path, builder, output, words, expected):
    angular = {
        "projects": {
            "shop": {"architect": {"build": {"builder": builder, "options": {"outputPath": output}}}},
            "admin": {"architect": {"build": {"builder": builder, "options": {"outputPath": "dist/admin-app"}}}},
        }
    }
    ctx = _context(tmp_path, {"angular.json": angular})
    assert outputs.build_outputs(ctx, npkg.Package(), words) == [expected]


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ("20", True),
        ("v20.11.1", True),
        ("lts/iron", True),
        ("lts/hydrogen", False),
        ("lts/*", None),
        ("node", None),
        (">=18 <21", True),
        (">= 18", True),
        (">=22.6", False),
        ("^20.9", True),
        ("~18.17.0", False),
        ("18.x || 20.x", True),
        ("^22 || ^24", False),
        ("16 - 20", True),
        ("<20", False),
        ("<20.1", True),
        ("*", True),
    ],
)
def test_node_major_against_version_files_and_engines(spec, allowed):
    assert npkg.node_major_allowed(20, spec) is allowed


def test_node_version_mismatch_is_said_loudly(tmp_path):
    files = {"package.json": {"engines": {"node": ">=22"}}, ".node-version": "20\n", "a.js": ""}
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "a.js"]\n'
    result = convert_text(dockerfile, _context(tmp_path, files), Options(runtime="slim"))
    assert result.status == CHANGED and "FROM node:20-slim AS runtime" in result.output
    mismatches = [w for w in result.warnings if w.startswith("NODE VERSION MISMATCH")]
    assert len(mismatches) == 1 and "engines.node asks for Node `>=22`" in mismatches[0]
    assert "both run Node 20" in mismatches[0]


def test_yarn_runs_a_dev_dependency_bin(tmp_path):
    """`yarn ts-node x.ts` runs node_modules/.bin/ts-node (no script of that name): it used to be taken for an
    unknown program, and the runtime lacked the dev dependency it runs."""
    files = {**_TS_APP, "yarn.lock": "", "tsconfig.json": {"compilerOptions": {"strict": True}}}
    files["package.json"] = {**files["package.json"], "scripts": {"build": "tsc"}}
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\nCMD ["yarn", "ts-node", "src/index.ts"]\n'
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    assert "--production" not in result.output and any("runs `ts-node`" in w for w in result.warnings)
    assert cmds.package_bin(["yarn", "ts-node", "x.ts"], npkg.Package({"scripts": {}}, True))
    assert not cmds.package_bin(["yarn", "build"], npkg.Package({"scripts": {"build": "tsc"}}, True))
    assert not cmds.package_bin(["yarn", "install"], npkg.Package({}, True))


def test_start_script_through_a_dev_dependency_wrapper(tmp_path):
    """`"start": "cross-env NODE_ENV=production node server.js"` keeps npm start, which runs cross-env."""
    files = {
        "package.json": {
            "scripts": {"start": "cross-env NODE_ENV=production node server.js"},
            "dependencies": {"express": "^4"},
            "devDependencies": {"cross-env": "^7"},
        },
        "server.js": "require('express');\n",
    }
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["npm", "start"]\n'
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    assert 'CMD ["npm", "start"]' in result.output and "--omit=dev" not in result.output
    assert any("runs `cross-env`" in w for w in result.warnings)


def test_vite_preview_reading_port_in_its_config(tmp_path):
    files = {
        "package.json": {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "^5"}},
        "vite.config.ts": "export default { preview: { port: Number(process.env.PORT) || 4173, host: true } };\n",
    }
    dockerfile = (
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install && npm run build\nCMD ["npx", "vite", "preview"]\n'
    )
    result = convert_text(dockerfile, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    assert "'    listen ${PORT};'" in result.output and "ENV PORT=4173" in result.output


# -- pnpm start: the script's own command, or pnpm in the runtime --------------------------------
def _pnpm_start(tmp_path, start: str, provision: str, **extra: str):
    files = {
        "package.json": {"scripts": {"start": start, **extra}, "dependencies": {"next": "14.2.3"}},
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        "index.js": "",
    }
    dockerfile = f'FROM node:20\n{provision}\nWORKDIR /app\nCOPY . .\nRUN pnpm install\nCMD ["pnpm", "start"]\n'
    return convert_text(dockerfile, _context(tmp_path, files), Options(runtime="slim"))


@pytest.mark.parametrize(
    ("start", "cmd"),
    [
        ("next start -p 4000", 'CMD ["node_modules/.bin/next", "start", "-p", "4000"]'),
        ("node index.js", 'CMD ["node", "index.js"]'),
        ("rm -f /tmp/*.lock && node index.js", 'CMD ["sh", "-c", "rm -f /tmp/*.lock && node index.js"]'),
        ("NODE_ENV=production node index.js", 'CMD ["sh", "-c", "NODE_ENV=production node index.js"]'),
    ],
)
def test_pnpm_start_runs_the_script_itself(tmp_path, start, cmd):
    for provision in ("RUN corepack enable", "RUN npm i -g pnpm@8"):
        result = _pnpm_start(tmp_path, start, provision)
        assert result.status == CHANGED, result.reason
        runtime = result.output.split("AS runtime", 1)[1]
        assert runtime.endswith(cmd + "\n") and "pnpm" not in runtime
        # verify reads the note and marks the new command intended
        new = json.loads(cmd.split(None, 1)[1])
        assert any(f"`{' '.join(new)}`" in w for w in result.warnings)


def test_pnpm_start_that_runs_pnpm_keeps_it(tmp_path):
    start = "pnpm run migrate && node index.js"
    result = _pnpm_start(tmp_path, start, "RUN npm i -g pnpm@8", migrate="node migrate.js")
    runtime = result.output.split("AS runtime", 1)[1]
    assert "RUN npm i -g pnpm@8\n" in runtime and runtime.endswith('CMD ["pnpm", "start"]\n')
    # with corepack the node user's pnpm would be downloaded when the container starts
    result = _pnpm_start(tmp_path, start, "RUN corepack enable", migrate="node migrate.js")
    assert result.status == SKIPPED and "needs pnpm at run time" in result.reason
    # a shell script that needs node_modules/.bin on PATH, and a prestart, keep pnpm too
    assert _pnpm_start(tmp_path, "next build && next start", "RUN corepack enable").status == SKIPPED
    assert _pnpm_start(tmp_path, "node index.js", "RUN corepack enable", prestart="x").status == CHANGED
    assert _pnpm_start(tmp_path, "next start", "RUN corepack enable", prestart="x").status == SKIPPED


@pytest.mark.parametrize(
    ("healthcheck", "skipped"),
    [
        ("HEALTHCHECK CMD npm run ping || exit 1", "the HEALTHCHECK runs npm, which the nginx image does not have"),
        ("HEALTHCHECK CMD yarn healthcheck", "the HEALTHCHECK runs yarn, which the nginx image does not have"),
        ("HEALTHCHECK CMD wget -qO- http://localhost:3000/ || exit 1", None),
    ],
)
def test_a_static_sites_healthcheck_must_run_on_nginx(tmp_path, healthcheck, skipped):
    import shutil

    from dockrewrite.results import CHANGED, SKIPPED

    app = tmp_path / "app"
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "node" / "vite-serve"
    shutil.copytree(fixture, app, ignore=shutil.ignore_patterns("expected"))
    text = (app / "Dockerfile").read_text().replace("EXPOSE 3000", f"EXPOSE 3000\n{healthcheck}")
    result = convert_text(text, BuildContext(app), Options(), str(app / "Dockerfile"))
    if skipped:
        assert (result.status, result.reason) == (SKIPPED, skipped)
    else:
        assert result.status == CHANGED, result.reason
        assert healthcheck in result.output


@pytest.mark.parametrize(
    "healthcheck, written",
    [
        (
            "HEALTHCHECK --interval=30s CMD node hc.js || exit 1",
            'HEALTHCHECK --interval=30s CMD ["/nodejs/bin/node", "hc.js"]',
        ),
        ('HEALTHCHECK CMD ["node", "hc.js"]', 'HEALTHCHECK CMD ["/nodejs/bin/node", "hc.js"]'),
        ('HEALTHCHECK CMD ["/app/healthcheck"]', 'HEALTHCHECK CMD ["/app/healthcheck"]'),
    ],
)
def test_a_node_healthcheck_on_distroless_names_the_images_node(tmp_path, healthcheck, written):
    """distroless nodejs has node at /nodejs/bin/node only, off PATH, and no shell: the check is written so."""
    ctx = _context(
        tmp_path,
        {
            "package.json": {"name": "hc", "version": "1.0.0", "dependencies": {"express": "^4.19.2"}},
            "package-lock.json": {"name": "hc", "lockfileVersion": 3, "packages": {"": {"name": "hc"}}},
            "server.js": "require('express')().listen(3000)\n",
            "hc.js": "process.exit(0)\n",
        },
    )
    text = (
        "FROM node:20-bookworm\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        f'{healthcheck}\nCMD ["node", "server.js"]\n'
    )
    result = convert_text(text, ctx, Options(runtime="distroless"))
    assert result.status == CHANGED, result.reason
    assert result.output.rstrip().endswith(f'{written}\nCMD ["server.js"]')


def test_a_shell_healthcheck_on_distroless_node_is_refused(tmp_path):
    ctx = _context(tmp_path, {"package.json": {"name": "hc", "version": "1.0.0"}, "server.js": ""})
    text = (
        "FROM node:20-bookworm\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
        'HEALTHCHECK CMD curl -f localhost:3000 && echo ok\nCMD ["node", "server.js"]\n'
    )
    result = convert_text(text, ctx, Options(runtime="distroless"))
    assert result.status == SKIPPED and "shell" in result.reason


def test_a_data_file_named_by_compose_environment_is_carried(tmp_path):
    """compose gives DATA_PATH=./db/db.json and the code reads process.env.DATA_PATH: the runtime keeps db/,
    owned by the user that runs the app (it writes the file back)."""
    files = {
        "package.json": {
            "name": "movies",
            "version": "1.0.0",
            "scripts": {"build": "tsc", "start": "node dist/main.js"},
            "dependencies": {"express": "^4.19.2"},
            "devDependencies": {"typescript": "^5.4.0"},
        },
        "package-lock.json": {"name": "movies", "lockfileVersion": 3, "packages": {"": {"name": "movies"}}},
        "tsconfig.json": {"compilerOptions": {"outDir": "dist"}},
        "src/main.ts": "import { readFileSync } from 'fs';\nexport const data = readFileSync(process.env.DATA_PATH);\n",
        "db/db.json": "[]\n",
        "docker-compose.yml": "services:\n  app:\n    build: .\n    environment:\n      - DATA_PATH=./db/db.json\n",
    }
    ctx = _context(tmp_path, files)
    text = 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD ["npm", "start"]\n'
    result = convert_text(text, ctx, Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    runtime = result.output.split(" AS runtime", 1)[1]
    assert "/app/db ./db" in runtime and "--chown=" in runtime.split("/app/db ./db")[0].rsplit("\n", 1)[1]
    assert any("DATA_PATH=./db/db.json" in w for w in result.warnings)
    # a host name that a folder of the context happens to share is not a path
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  app:\n    build: .\n    environment:\n      DATA_PATH: db\n"
    )
    host = convert_text(text, _context(tmp_path, {}), Options(runtime="slim"))
    assert "./db" not in host.output.split(" AS runtime", 1)[1]
    (tmp_path / "docker-compose.yml").unlink()
    plain = convert_text(text, _context(tmp_path, {}), Options(runtime="slim"))
    assert "./db" not in plain.output.split(" AS runtime", 1)[1]
