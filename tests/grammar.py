"""One grammar of real-world Dockerfiles with their build contexts, options and encodings, and the behaviour
every CHANGED result must keep.

Shared by the property tests (driven by Hypothesis, which shrinks a failure to a small example) and by
bench/fuzz.py (driven by random.Random, for runs of 100,000 files). A generator takes a `Draw`: pick one of
a list, an integer, a boolean, free text.
"""

from __future__ import annotations

import codecs
import json
import posixpath
import random
import re
import shlex
from dataclasses import dataclass, field

from dockrewrite.model import Command
from dockrewrite.parse import ParseError, parse
from dockrewrite.plan import PYTHON_STRATEGIES, Options
from dockrewrite.results import CHANGED
from dockrewrite.runtimes.select import NAMES as RUNTIMES

# -- drivers ---------------------------------------------------------------------------------------------
# Free text: anything a person types, minus line breaks and NUL (which a Dockerfile line cannot hold);
# still includes the characters str.splitlines() treats as line ends (\x0b, \x1c, \x85, \u2028).
_ODD = "éüßçñ中文日本語🙂\u00a0\u2028\x85\x0b\x1c\t\\$\"'`{}[]#=:;|&<>*?~%@!"


class Draw:
    """The driver interface; subclasses supply the randomness."""

    def pick(self, seq):
        raise NotImplementedError

    def int(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def bool(self) -> bool:
        return self.int(0, 1) == 1

    def chance(self, n: int) -> bool:
        """True one time in n."""
        return self.int(1, n) == 1

    def text(self, max_size: int = 20) -> str:
        raise NotImplementedError

    def some(self, seq, lo: int = 0, hi: int = 3) -> list:
        return [self.pick(seq) for _ in range(self.int(lo, hi))]


class RandomDraw(Draw):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def text(self, max_size: int = 20) -> str:
        n = self.rng.randint(0, max_size)
        out = []
        for _ in range(n):
            r = self.rng.random()
            if r < 0.6:
                out.append(chr(self.rng.randint(0x20, 0x7E)))
            elif r < 0.85:
                out.append(self.rng.choice(_ODD))
            else:
                c = chr(self.rng.randint(0x80, 0x2FFFF))
                out.append(c if c.isprintable() or c in _ODD else "x")
        return "".join(out)


class HypothesisDraw(Draw):
    def __init__(self, draw):
        from hypothesis import strategies as st

        self._draw, self._st = draw, st

    def pick(self, seq):
        return self._draw(self._st.sampled_from(seq))

    def int(self, lo: int, hi: int) -> int:
        return self._draw(self._st.integers(lo, hi))

    def text(self, max_size: int = 20) -> str:
        st = self._st
        chars = st.one_of(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E),
            st.sampled_from(_ODD),
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"),
        )
        return self._draw(st.text(chars, max_size=max_size))


# -- vocabulary ------------------------------------------------------------------------------------------
GO_IMAGES = [
    "golang:1.22",
    "golang:1.12-alpine",
    "golang",
    "golang:latest",
    "golang:${GO_VERSION}-alpine",
    "docker.io/library/golang:1.22@sha256:" + "a" * 64,
    "golang:1.8",
]
PY_IMAGES = ["python:3.11", "python:3.7-alpine", "python:3.12-slim-bookworm", "python", "ubuntu:22.04"]
NODE_IMAGES = ["node:20", "node:18-alpine", "node:lts", "node", "node:20-slim", "node:11", "node:${NODE_VERSION}"]
OTHER_IMAGES = ["ubuntu:22.04", "scratch", "eclipse-temurin:21", "${BASE}", "alpine:3.20"]

# ENV names the property checks by value: settings, credential-looking names included (the runtime keeps every
# ENV of the original; toolchain variables such as GO*/CGO_*/CC are dropped by design, PATH is extended by the
# Python venv).
ENV_NAMES = [
    "APP_MODE",
    "GREETING",
    "LOG_LEVEL",
    "PORT",
    "LANG",
    "TZ",
    "PYTHONUNBUFFERED",
    "NODE_ENV",
    "APP_HOME",
    "FEATURE_X",
    "HOST",
    "WORKERS",
    "DEBUG",
    "message",
    "k",
    "TOKEN_TTL",
    "PASSWORD_MIN_LENGTH",
    "API_KEY",
    "JWT_SECRET_FILE",
]
_UNCHECKED_ENV = re.compile(r"^(GO|CGO_|CC|CXX|PATH$)")


def checked_env(name: str) -> bool:
    return not _UNCHECKED_ENV.match(name)


WORDS = [
    "./app",
    "/app/server",
    "app",
    "--port",
    "8080",
    "$PORT",
    "${VERSION}",
    "'quoted arg'",
    '"dq"',
    "-v",
    "server.py",
    "main.go",
    "server.js",
    "requirements.txt",
    ".",
    "./...",
    "cmd/api",
    "&&",
    "||",
    ";",
    "|",
    ">",
    "2>&1",
    "\\\n  ",
    "café",
    "exit 1",
]
COMMANDS = [
    "go build -o app .",
    'go build -ldflags "-X main.v=${V}" -o /bin/svc ./cmd/svc',
    "CGO_ENABLED=1 go build",
    "go install ./...",
    "go get -d -v ./...",
    "go mod download",
    "pip install -r requirements.txt",
    "pip install --user -e .",
    "poetry install --no-root",
    "uv sync --frozen",
    "pipenv install --system",
    "apt-get update && apt-get install -y gcc libpq-dev",
    "apk add --no-cache --virtual .d gcc musl-dev",
    "npm ci",
    "npm install --production",
    "yarn install --frozen-lockfile",
    "pnpm install --frozen-lockfile",
    "npm run build",
    "npm i -g serve typescript",
    "python manage.py collectstatic --noinput",
    "useradd -u 1000 app",
    "adduser -D -u 10001 app",
    "cp app /usr/local/bin/",
    "cd cmd && go build -o ../app",
    "echo hi",
    "rm -rf /var/lib/apt/lists/*",
    "chmod +x entrypoint.sh",
]


def shell_text(d: Draw) -> str:
    parts = [d.pick(COMMANDS)]
    for _ in range(d.int(0, 3)):
        parts.append(d.pick(["&&", ";", "||", "|", "\\\n   &&", "\\\n\n &&", "\\\n# note\n &&"]))
        parts.append(d.pick(COMMANDS + WORDS) if not d.chance(5) else "echo " + shlex.quote(d.text()))
    return " ".join(parts)


def command_form(d: Draw, keyword: str) -> str:
    kind = d.pick(["exec", "exec", "shell", "badjson", "empty", "freetext"])
    words = d.some(WORDS, 1, 4)
    if kind == "exec":
        return keyword + " [" + ", ".join(f'"{w}"' for w in words if '"' not in w and "\\" not in w) + "]"
    if kind == "badjson":
        return keyword + " [" + " ".join(words) + " ]"
    if kind == "empty":
        return keyword + " []"
    if kind == "freetext":
        return keyword + " " + json.dumps(["./app", d.text()], ensure_ascii=d.bool())
    return keyword + " " + " ".join(words)


def env_line(d: Draw) -> str:
    def value() -> str:
        kind = d.int(0, 5)
        if kind == 0:
            return '"' + re.sub(r'["\\$`]', "", d.text()) + '"'
        if kind == 1:
            return "$" + d.pick(["PORT", "VERSION", "{HOME}"])
        if kind == 2:
            return "'" + d.text().replace("'", "") + "'"
        return d.pick(["1", "production", "development", "8080", "/app/data", "en_US.UTF-8", "a,b", "x=y", "-v"])

    form = d.int(0, 4)
    name = d.pick(ENV_NAMES) if not d.chance(4) else d.pick(["GOFLAGS", "CGO_ENABLED", "PATH", "GOPATH", "CC"])
    if form == 0:  # legacy `ENV k v w`
        return f"ENV {name} {d.pick(['8080', 'some words here', 'v'])}"
    pairs = [f"{d.pick(ENV_NAMES)}={value()}" for _ in range(d.int(0, 2))]
    return "ENV " + " ".join([f"{name}={value()}", *pairs])


def instruction(d: Draw) -> str:
    kind = d.pick(
        [
            "RUN",
            "COPY",
            "ENV",
            "ENV",
            "ENV",
            "ARG",
            "WORKDIR",
            "EXPOSE",
            "EXPOSE",
            "CMD",
            "ENTRYPOINT",
            "HEALTHCHECK",
            "USER",
            "LABEL",
            "COMMENT",
            "COMMENT",
            "BLANK",
            "VOLUME",
            "STOPSIGNAL",
            "MAINTAINER",
            "LONGCOPY",
        ]
    )
    if d.chance(8):  # what most often makes a file skip: rarer, so that more files convert
        kind = d.pick(["RUNX", "HEREDOC", "ADD", "ONBUILD", "SHELL"])
    if d.chance(7):  # any instruction with free text after it
        keyword = d.pick(
            [
                "RUN",
                "COPY",
                "ADD",
                "ENV",
                "ARG",
                "WORKDIR",
                "EXPOSE",
                "CMD",
                "ENTRYPOINT",
                "USER",
                "LABEL",
                "HEALTHCHECK",
                "VOLUME",
                "STOPSIGNAL",
                "RUN --mount=type=cache,target=",
                "COPY --from=",
            ]
        )
        return keyword + d.pick([" ", "  ", "\t"]) + d.text(30)
    case = d.int(0, 2)

    def kw(k: str) -> str:
        return k if case == 0 else k.lower() if case == 1 else "  " + k

    if kind == "RUN":
        flag = d.pick(["", "--mount=type=cache,target=/root/.cache "])
        return kw("RUN") + " " + flag + shell_text(d)
    if kind == "RUNX":
        return kw("RUN") + ' ["go", "build", "-o", "/app", "."]'
    if kind == "HEREDOC":
        return kw("RUN") + " <<EOT\n" + shell_text(d) + "\nEOT"
    if kind in ("COPY", "ADD"):
        flags = d.pick(["", "", "", "--chown=1000:1000 ", "--from=golang:1.22 ", "--chmod=755 "])
        if d.chance(10):
            flags = "--from=builder "
        src = d.pick(
            [
                ". .",
                "go.mod go.sum ./",
                "requirements.txt /app/",
                "templates/ templates/",
                "app /usr/bin/app",
                '["a b", "c"]',
                "*.go ./",
                "package*.json ./",
                "entrypoint.sh /",
                "src ./src",
                "weird\\ name.txt ./",
            ]
        )
        return kw(kind) + " " + flags + src
    if kind == "LONGCOPY":  # names longer than a file system allows
        return kw("COPY") + " " + "a" * d.int(200, 300) + " " + d.pick([".", "/" + "b" * 300, "./x/"])
    if kind == "ENV":
        return kw("") + env_line(d) if case == 2 else env_line(d)
    if kind == "ARG":
        return kw("ARG") + " " + d.pick(["VERSION", "VERSION=dev", "GO_VERSION=1.22", "BASE", "NODE_VERSION=20"])
    if kind == "WORKDIR":
        return kw("WORKDIR") + " " + d.pick(["/app", "src", "/go/src/github.com/x/y", "$HOME/app", "/", "/usr/src/app"])
    if kind == "EXPOSE":
        return kw("EXPOSE") + " " + d.pick(["8080", "80/tcp 443", "$PORT", "3000", "5000/udp", "9000-9002"])
    if kind in ("CMD", "ENTRYPOINT"):
        return command_form(d, kw(kind))
    if kind == "HEALTHCHECK":
        return (
            kw("HEALTHCHECK")
            + " "
            + d.pick(
                [
                    "NONE",
                    "--interval=5s CMD wget -qO- localhost || exit 1",
                    'CMD ["/app/server", "-health"]',
                    "CMD curl -f x",
                    'CMD ["node", "healthcheck.js"]',
                ]
            )
        )
    if kind == "USER":
        return kw("USER") + " " + d.pick(["app", "1000", "nobody", "root", "app:app", "$UID", "node", "10001:10001"])
    if kind == "LABEL":
        return kw("LABEL") + " " + d.pick(['version="1.0" maintainer=me', "description=" + json.dumps(d.text())])
    if kind == "COMMENT":
        return d.pick(["# a comment", "#", "# dockrewrite: maybe", "   # indented café", "# " + d.text(40)])
    if kind == "BLANK":
        return d.pick(["", " ", "\t"])
    if kind == "VOLUME":
        return kw("VOLUME") + ' ["/data"]'
    if kind == "STOPSIGNAL":
        return kw("STOPSIGNAL") + " SIGTERM"
    if kind == "MAINTAINER":
        return kw("MAINTAINER") + " " + d.pick(["someone", "Zoë <z@example.com>"])
    if kind == "ONBUILD":
        return kw("ONBUILD") + " RUN echo"
    return kw("SHELL") + ' ["/bin/bash", "-c"]'


# -- skeletons per language ------------------------------------------------------------------------------
GO_SKELETONS = [
    ["FROM {go}", "WORKDIR /app", "COPY . .", "RUN go build -o {out} {pkg}", "CMD {cmd}"],
    [
        "FROM {go}",
        "WORKDIR /src",
        "COPY go.mod go.sum ./",
        "RUN go mod download",
        "COPY . .",
        'RUN CGO_ENABLED=0 go build -ldflags "-X main.v=1" -o /usr/local/bin/app .',
        'ENTRYPOINT ["app"]',
    ],
    ["FROM {go}", "WORKDIR /go/src/app", "COPY . .", "RUN go get -d -v ./... && go install -v ./...", 'CMD ["app"]'],
    [
        "FROM {go}",
        "WORKDIR /app",
        "COPY . .",
        "RUN go build -o server .",
        'ENTRYPOINT ["/app/entrypoint.sh"]',
        'CMD ["./server"]',
    ],
    ["FROM {go}", "WORKDIR /app", "COPY . .", 'CMD ["go", "run", ".", "--port", "8080"]'],
    [
        "FROM {go}",
        "RUN apt-get update && apt-get install -y libsqlite3-dev",
        "WORKDIR /app",
        "COPY . .",
        "RUN CGO_ENABLED=1 go build -o app .",
        "CMD ./app",
    ],
]
PY_SKELETONS = [
    [
        "FROM {py}",
        "WORKDIR /app",
        "COPY requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "COPY . .",
        "CMD {pycmd}",
    ],
    [
        "FROM {py}",
        "RUN apt-get update && apt-get install -y gcc libpq-dev",
        "WORKDIR /srv",
        "COPY . .",
        "RUN pip install -r requirements.txt && python manage.py collectstatic --noinput",
        "CMD {pycmd}",
    ],
    [
        "FROM {py}",
        "WORKDIR /app",
        "COPY pyproject.toml poetry.lock ./",
        "RUN pip install poetry && poetry config virtualenvs.create false && poetry install --no-root",
        "COPY . .",
        "CMD {pycmd}",
    ],
    ["FROM {py}", "WORKDIR /app", "COPY . .", "RUN pip install .", 'ENTRYPOINT ["myapp"]'],
    ["FROM {py}", "COPY . /app", "WORKDIR /app", "RUN pip install -r requirements.txt", 'CMD ["/app/start.sh"]'],
]
NODE_SKELETONS = [
    ["FROM {node}", "WORKDIR /app", "COPY package*.json ./", "RUN {install}", "COPY . .", "EXPOSE 3000", "{nodecmd}"],
    ["FROM {node}", "WORKDIR /app", "COPY . .", "RUN {install} && npm run build", "{nodecmd}"],
    [
        "FROM {node}",
        "WORKDIR /usr/src/app",
        "COPY package.json yarn.lock ./",
        "RUN yarn install --frozen-lockfile",
        "COPY . .",
        "RUN yarn build",
        "{nodecmd}",
    ],
    [
        "FROM {node}",
        "WORKDIR /app",
        "COPY . .",
        "RUN {install}",
        "RUN npm run build",
        "EXPOSE 8080",
        "ENTRYPOINT node server.js",
    ],
]
NODE_CMDS = [
    'CMD ["node", "server.js"]',
    "ENTRYPOINT node server.js",
    'CMD ["npm", "start"]',
    "CMD npm run start",
    'CMD ["yarn", "start"]',
    'CMD ["node", "dist/index.js"]',
    'ENTRYPOINT ["docker-entrypoint.sh", "server.js"]',
    'CMD ["npx", "serve", "-s", "build"]',
    "CMD node server.js --port $PORT",
    'CMD ["npm", "run", "dev"]',
    'ENTRYPOINT ["/sbin/tini", "--"]\nCMD ["node", "server.js"]',
]
NODE_INSTALLS = [
    "npm ci",
    "npm install",
    "npm ci --omit=dev",
    "yarn",
    "pnpm i --frozen-lockfile",
    "npm install --production",
]


def dockerfile_text(d: Draw, language: str | None = None) -> tuple[str, str]:
    """(text with '\\n' line ends, language of the skeleton) for a plausible single-stage file, roughed up."""
    language = language or d.pick(["go", "python", "node"])
    skeleton = d.pick({"go": GO_SKELETONS, "python": PY_SKELETONS, "node": NODE_SKELETONS}[language])
    values = {
        "go": d.pick(GO_IMAGES),
        "py": d.pick(PY_IMAGES),
        "node": d.pick(NODE_IMAGES),
        "out": d.pick(["app", "/app/app", "bin/", "/usr/local/bin/app"]),
        "pkg": d.pick([".", "./cmd/app", "main.go", ""]),
        "cmd": d.pick(['["./app"]', "./app --port $PORT", '["/app/app"]', '["app"]', "[./app ]"]),
        "pycmd": d.pick(
            [
                '["python", "app.py"]',
                "gunicorn app:app -b 0.0.0.0:$PORT",
                '["uv", "run", "app.py"]',
                "python -u app.py",
                '["python", "manage.py", "runserver", "0.0.0.0:8000"]',
            ]
        ),
        "install": d.pick(NODE_INSTALLS),
        "nodecmd": d.pick(NODE_CMDS),
    }
    lines = [line.format(**values) for line in skeleton]
    for _ in range(d.int(0, 6)):
        lines.insert(d.int(1, len(lines)), instruction(d))
    if d.bool():
        lines.insert(
            0,
            d.pick(
                [
                    "# syntax=docker/dockerfile:1",
                    "# escape=`",
                    "# header comment",
                    "ARG GO_VERSION=1.22",
                    "ARG BASE=golang:1.22",
                    "ARG NODE_VERSION=20",
                    "",
                    "# " + d.text(),
                ]
            ),
        )
    if d.chance(10):
        lines += [f"FROM {d.pick(GO_IMAGES + OTHER_IMAGES)}", "COPY --from=0 /app /app"]
    if d.chance(15):
        lines.insert(d.int(0, len(lines)), d.pick(["garbage here", "FROM", "RUN <<EOF", d.text(30)]))
    if d.chance(12):  # a continuation that runs into trailing comments or the end of the file
        lines.append(d.pick(["RUN echo done && \\", "RUN echo done && \\\n# final comment", "RUN a \\\n\n"]))
    if d.bool():
        lines = [line.replace(" ", " \\\n    ", 1) if d.chance(6) else line for line in lines]
    return "\n".join(lines) + d.pick(["", "\n", "\n\n"]), language


# -- build contexts --------------------------------------------------------------------------------------
def _package_json(d: Draw) -> bytes:
    scripts = {}
    for name in ("start", "build", "dev", "test", "prestart", "postinstall"):
        if d.bool():
            scripts[name] = d.pick(
                [
                    "node server.js",
                    "node dist/index.js",
                    "tsc",
                    "tsc && node dist/index.js",
                    "vite build",
                    "react-scripts build",
                    "nest start",
                    "ts-node src/index.ts",
                    "next start",
                    "jest",
                    "vite",
                    "npm run build && node .",
                    "node " + d.text(10),
                    "prisma migrate deploy && node server.js",
                ]
            )
    pkg: dict = {"name": d.pick(["app", "@scope/app", "x"]), "version": "1.0.0", "scripts": scripts}
    if d.bool():
        pkg["dependencies"] = {
            k: "^1.0.0"
            for k in d.some(["express", "serve", "next", "@prisma/client", "dockerode", "sharp", "react"], 0, 3)
        }
    if d.bool():
        pkg["devDependencies"] = {k: "^5.0.0" for k in d.some(["typescript", "vite", "jest", "ts-node"], 0, 3)}
    if d.bool():
        pkg["main"] = d.pick(["server.js", "dist/index.js", "index.js"])
    if d.chance(6):
        pkg["description"] = d.text(30)
    text = json.dumps(pkg, ensure_ascii=d.bool(), indent=d.pick([None, 2]))
    if d.chance(15):
        text = text[: d.int(0, len(text))]  # truncated: not valid JSON
    return text.encode("utf-8")


def context_files(d: Draw, language: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if language == "go" or d.chance(6):
        files["go.mod"] = f"module {d.pick(['example.com/app', 'app', 'github.com/x/y'])}\n\ngo 1.22\n".encode()
        main = 'package main\n\nimport "net/http"\n\nfunc main() { _ = http.ListenAndServe(":8080", nil) }\n'
        if d.chance(4):
            main = main.replace('import "net/http"', 'import (\n\t"C"\n\t"net/http"\n)')
        if d.chance(3):
            main += f'\nvar _ = "templates/index.html" // {d.text()}\n'
        files["main.go"] = main.encode()
        if d.bool():
            files["templates/index.html"] = b"<p>hi</p>\n"
    if language == "python" or d.chance(6):
        req = "\n".join(d.some(["flask", "gunicorn", "psycopg2", "django", "docker", "# " + d.text(), ""], 0, 4)) + "\n"
        enc = d.pick(["utf-8", "utf-8", "utf-16", "latin-1"])
        files["requirements.txt"] = req.encode(enc, errors="replace")
        files["app.py"] = b"print('hi')\n"
        if d.chance(3):
            files["pyproject.toml"] = d.pick(
                [
                    b'[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.11"\n',
                    b'[project]\nname = "myapp"\nversion = "1"\n[project.scripts]\nmyapp = "app:main"\n',
                    b"[project\nbroken",
                ]
            )
            files["poetry.lock"] = b""
        if d.chance(4):
            files["manage.py"] = b"import django\n"
    if language == "node" or d.chance(6):
        files["package.json"] = _package_json(d)
        lock = d.pick(["package-lock.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", None])
        if lock:
            files[lock] = b"{}\n" if lock.endswith("json") else b"# lock\n"
        files["server.js"] = b"require('http').createServer(() => {}).listen(3000)\n"
        if d.bool():
            files["tsconfig.json"] = b'{"compilerOptions": {"outDir": "dist"}}\n'
            files["src/index.ts"] = b"console.log(1)\n"
        if d.chance(4):
            files["healthcheck.js"] = b"process.exit(0)\n"
    if d.chance(3):
        body = d.pick(
            [
                '#!/bin/sh\nexec "$@"\n',
                "#!/bin/bash\nset -e\nnginx\nexec ./server\n",
                '#!/bin/sh\nwhile ! nc -z db 5432; do sleep 1; done\nexec "$@"\n',
                "#!/bin/sh\n" + d.text(),
            ]
        )
        name = d.pick(["entrypoint.sh", "start.sh", "docker-entrypoint.sh"])
        files[name] = body.encode("utf-8", errors="replace")
    if d.chance(4):
        files[".dockerignore"] = "\n".join(
            d.some(["node_modules", ".git", "*.md", "!README.md", "**/*.log", "templates", d.text(10)], 1, 4)
        ).encode("utf-8", "replace")
    if d.chance(8):
        files["action.yml"] = b"runs:\n  using: docker\n"
    if d.chance(6):
        files[d.pick(["weird name.txt", "café.txt", "-dash", "a" * 200])] = b"x"
    if d.chance(5):
        _confuse(d, files)
    return files


# Manifests of the right name with the wrong shape, folders where files are expected, links that loop.
DIR = b"<dir>"
LOOP = b"<symlink loop>"
_CONFUSED = {
    "package.json": [
        b'{"scripts": ["start"]}',
        b'{"scripts": {"start": 1, "build": null}}',
        b'{"dependencies": "x"}',
        b"[]",
        b'"text"',
        b"null",
        b'{"workspaces": {"packages": ["a"]}, "private": true}',
        b'{"packageManager": "pnpm@8", "engines": {"node": 18}}',
        b'{"main": 3, "bin": {"x": 1}}',
        b'{"scripts": {"start": "' + "ü".encode() * 3 + b'"}}',
        b"\xff\xfe{",
        b"",
    ],
    "pyproject.toml": [
        b"tool = 1\n",
        b'[tool.poetry]\ndependencies = "x"\n',
        b'[project]\ndependencies = "x"\n',
        b"[project.scripts]\nx = 1\n",
        b"[tool]\npoetry = []\n",
        b"\x00\x01",
    ],
    "requirements.txt": [
        b"-r other.txt\n",
        b"-e .\n",
        b"git+https://example.com/x.git#egg=x\n",
        b"--index-url http://x\nflask\n",
        b"./local.whl\n",
        b"\xff\xfeb\x00",
        b"-r requirements.txt\n",
    ],
    "go.mod": [b"module\n", b"", b"module a b c\n", b"go x\n", b"module example.com/x\nrequire (\n"],
    "yarn.lock": [DIR],
    "package-lock.json": [DIR, b"[]"],
    "main.go": [DIR, b"package\n", b"\xff"],
    ".dockerignore": [b"[\n", b"**\n!**\n", b"!\n", b"\\\n", b"/\n", b"../\n"],
    "templates": [LOOP],
    "src": [LOOP],
    "entrypoint.sh": [DIR, LOOP, b"#!/bin/sh\n. ./entrypoint.sh\n"],
    "action.yml": [b"runs: [\n", b"\xff"],
}


def _confuse(d: Draw, files: dict[str, bytes]) -> None:
    for _ in range(d.int(1, 3)):
        name = d.pick(sorted(_CONFUSED))
        for rel in [r for r in files if r == name or r.startswith(name + "/")]:
            del files[rel]
        files[name] = d.pick(_CONFUSED[name])


# -- options ---------------------------------------------------------------------------------------------
MIRRORED = [
    "alpine:3.20",
    "gcr.io/distroless/static-debian12:nonroot",
    "gcr.io/distroless/static-debian12",
    "node:20-slim",
    "nginx:alpine",
    "python:3.11-slim",
    "debian:bookworm-slim",
    "gcr.io/distroless/base-debian12:nonroot",
    "gcr.io/distroless/nodejs20-debian12:nonroot",
]


def options(d: Draw) -> Options:
    images = tuple(
        (name, d.pick(["registry.example.com/mirror/" + name.split("/")[-1], name + "@sha256:" + "b" * 64]))
        for name in d.some(MIRRORED, 0, 3)
    )
    return Options(
        runtime=d.pick(list(RUNTIMES)),
        keep_root=d.chance(4),
        python_strategy=d.pick(list(PYTHON_STRATEGIES)),
        images=tuple(dict(images).items()),
        cache_mounts=d.bool(),
        bind_mounts=d.chance(3),
        syntax_line=d.chance(4),
        pin=d.chance(3),
        targets=tuple(t for t in ("develop", "test") if d.chance(3)),
        dockerignore=d.chance(4),
        notes=not d.chance(4),
    )


# -- encodings -------------------------------------------------------------------------------------------
ENCODINGS = ["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "latin-1", "crlf", "cr-only", "no-final-newline"]
_WEIGHTED = (
    ["utf-8"] * 4
    + ["utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "latin-1", "latin-1", "crlf", "crlf"]
    + ["no-final-newline"] * 3
    + ["cr-only"]
)


def encode(text: str, how: str) -> bytes | None:
    """The file's bytes in the given layout; None when the text cannot be written that way (Latin-1)."""
    if how == "no-final-newline":
        return text.rstrip("\n").encode("utf-8")
    if how == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8")
    if how == "cr-only":
        return text.replace("\n", "\r").encode("utf-8")
    if how == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if how == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", errors="surrogatepass")
    if how == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be", errors="surrogatepass")
    if how == "latin-1":
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            return None
    return text.encode("utf-8")


@dataclass
class Project:
    dockerfile: str
    language: str
    files: dict[str, bytes]
    options: Options
    encoding: str = "utf-8"
    extra: dict = field(default_factory=dict)


def project(d: Draw) -> Project:
    text, language = dockerfile_text(d)
    files = context_files(d, language) if not d.chance(10) else {}
    return Project(text, language, files, options(d), d.pick(_WEIGHTED))


def write_context(root, files: dict[str, bytes]) -> None:
    import os

    for rel, data in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if data == DIR:
                path.mkdir()
                (path / "x").write_bytes(b"x")
            elif data == LOOP:
                os.symlink(rel, path)  # a link to itself
            else:
                path.write_bytes(data)
        except OSError:
            pass  # a name the file system refuses is a file the context does not have


# -- behaviour -------------------------------------------------------------------------------------------
UNPRIVILEGED = {
    "65532",
    "65532:65532",
    "nonroot",
    "nonroot:nonroot",
    "10001",
    "10001:10001",
    "1000",
    "1000:1000",
    "node",
    "node:node",
}


def _env(stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage.find("ENV"):
        args = list(ins.args)
        for i in range(0, len(args), 2):
            env[args[i]] = args[i + 1] if i + 1 < len(args) else ""
    return env


def _parts(stage) -> list[list[str]]:
    out: list[list[str]] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        ins = stage.last(keyword)
        if ins is None:
            continue
        c = Command.of(ins)
        argv = c.as_simple_argv()
        if argv is None:
            out.append(["/bin/sh", "-c", c.shell])
        elif argv:  # `ENTRYPOINT []` clears the base image's: no words of its own
            out.append(list(argv))
    return out


def _effective(stage) -> list[str]:
    return [w for part in _parts(stage) for w in part]


def _ports(stage) -> set[str]:
    return {a for ins in stage.find("EXPOSE") for a in ins.args}


def _user(stage) -> str | None:
    ins = stage.last("USER")
    return ins.args[0] if ins is not None and ins.args else None


def behaviour_problems(original: str, result, opts: Options) -> list[str]:
    """What a CHANGED result lost of the original's runtime behaviour (empty when nothing)."""
    if result.status != CHANGED:
        return []
    problems: list[str] = []
    try:
        before, after = parse(original).stages[-1], parse(result.output).stages[-1]
    except ParseError as exc:
        return [f"output does not parse: {exc.message}"]
    env_before, env_after = _env(before), _env(after)
    for key, value in env_before.items():
        if checked_env(key) and env_after.get(key) != value:
            problems.append(f"ENV {key}={value!r} became {env_after.get(key)!r}")
    if not _ports(before) <= _ports(after):
        problems.append(f"EXPOSE {sorted(_ports(before))} became {sorted(_ports(after))}")
    cmd_before, cmd_after = _effective(before), _effective(after)
    notes = " ".join(result.warnings)
    if not _same_command(cmd_before, cmd_after):
        # the first words of ENTRYPOINT and of CMD (`npx serve`: the note names serve; `uv run`: uv)
        programs = [posixpath.basename(w) for part in _parts(before) for w in part[:2]]
        said = any(p and p in notes for p in programs) or "start script" in notes or "exec form" in notes
        if not said and not (cmd_after[:1] == ["nginx"] and "served by nginx" in notes):  # a static site
            problems.append(
                f"command {cmd_before} became {cmd_after} with no note naming {programs[0] if programs else 'it'}"
            )
    user_before, user_after = _user(before), _user(after)
    served = cmd_after[:1] == ["nginx"]  # nginx starts as root and runs its workers as its own user
    if user_before is not None:
        # a static site served by nginx runs as nginx's own unprivileged user (101), as the README says
        nginx_user = served and user_after == "101:101" and user_before.split(":")[0] not in ("root", "0")
        if user_after != user_before and not nginx_user and not _same_user(user_before, user_after, original, notes):
            problems.append(f"USER {user_before} became {user_after}")
    elif user_after is not None and user_after.split(":")[0] not in ("root", "0"):
        if user_after not in UNPRIVILEGED:
            problems.append(f"no USER in the original, but the rewrite runs as {user_after}")
        elif opts.keep_root:
            problems.append(f"--keep-root, but the rewrite runs as {user_after}")
    elif not opts.keep_root and not served and "root" not in notes:
        problems.append("no USER in the original and the rewrite keeps root without saying why")
    return problems


def _same_command(a: list[str], b: list[str]) -> bool:
    """Equal, or the same program found at another path (distroless nodejs keeps node in /nodejs/bin)."""
    if a == b:
        return True
    return len(a) == len(b) and bool(a) and a[1:] == b[1:] and posixpath.basename(a[0]) == posixpath.basename(b[0])


_KNOWN_UIDS = {"root": "0", "nobody": "65534", "node": "1000", "nonroot": "65532"}


def _same_user(before: str, after: str | None, original: str, notes: str) -> bool:
    """A named user became its uid (well-known, or created with -u/--uid in the file), or the documented
    unprivileged user with a note that says so."""
    if after is None:  # a runtime image with its own unprivileged user (nginx-unprivileged), said so
        return before in notes and "unprivileged" in notes
    name, uid = before.split(":")[0], after.split(":")[0]
    if _KNOWN_UIDS.get(name) == uid or re.search(rf"(-u|--uid)[ =]?{re.escape(uid)}\b", original):
        return True
    return after in UNPRIVILEGED and before in notes
