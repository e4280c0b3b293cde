"""Entrypoint scripts: the programs a container's start script runs must be in the runtime image."""

from __future__ import annotations

from pathlib import Path

from dockrewrite import scripts
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, SKIPPED
from dockrewrite.transform import convert_text

ENTRYPOINT = """#!/usr/bin/env bash
set -euo pipefail
until nc -z "$DB_HOST" 5432; do
  echo "waiting for the database"; sleep 1
done
if [ "$1" = "migrate" ]; then
  python manage.py migrate --noinput
fi
case "$MODE" in
  web) exec gunicorn app.wsgi --bind 0.0.0.0:8000 ;;
  worker) exec celery -A app worker ;;
esac
. /etc/app/env.sh
started=$(date +%s)
LOG_LEVEL=info exec "$@"
"""


def test_reads_the_programs_of_a_script():
    script = scripts.read(ENTRYPOINT)
    assert script is not None and script.interpreter == "bash"
    programs = [p for p, _ in script.programs]
    assert programs == ["set", "nc", "echo", "sleep", "[", "python", "gunicorn", "celery", "date"]
    assert dict(script.programs)["nc"] == 3
    assert script.sources == (13,)


def test_what_is_not_a_shell_script():
    assert scripts.read("#!/usr/bin/env python3\nprint('hi')\n") is None
    assert scripts.interpreter("#!/bin/sh -e\nexec x\n") == "sh"
    assert scripts.interpreter("echo no shebang\n") == "sh"


def _python_app(tmp_path: Path, script: str, cmd: str) -> object:
    (tmp_path / "requirements.txt").write_text("gunicorn\n")
    (tmp_path / "docker-entrypoint.sh").write_text(script)
    text = f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n{cmd}\n"
    return convert_text(text, BuildContext(tmp_path), Options())


def test_python_runtime_gets_what_the_entrypoint_script_calls(tmp_path: Path):
    result = _python_app(tmp_path, ENTRYPOINT, 'ENTRYPOINT ["./docker-entrypoint.sh"]')
    assert result.status == CHANGED, result.reason
    runtime = result.output.split("AS runtime", 1)[1]
    assert "apt-get install -y --no-install-recommends netcat-openbsd" in runtime
    assert any("sources other files (line 13)" in w for w in result.warnings)
    by_shell = _python_app(tmp_path, "exec curl -fsS http://localhost\n", 'CMD ["sh", "docker-entrypoint.sh"]')
    assert "install -y --no-install-recommends curl" in by_shell.output


def test_distroless_refuses_a_shell_entrypoint(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("gunicorn\n")
    (tmp_path / "run").write_text("#!/bin/sh\nexec gunicorn app:app\n")
    text = 'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["./run"]\n'
    result = convert_text(text, BuildContext(tmp_path), Options(runtime="distroless"))
    assert result.status == SKIPPED and "./run" in result.reason and result.line == 5


def test_node_runtime_gets_the_shell_and_tools_of_its_start_script(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0", "dependencies": {"express": "^4"}}')
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "server.js").write_text("")
    (tmp_path / "migrate.js").write_text("")
    (tmp_path / "docker-entrypoint.sh").write_text(
        '#!/bin/bash\nuntil nc -z db 5432; do sleep 1; done\nnode migrate.js\nexec "$@"\n'
    )
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["node", "server.js"]\n'
    )
    slim = convert_text(text, BuildContext(tmp_path), Options())
    assert slim.status == CHANGED, slim.reason
    assert "install -y --no-install-recommends netcat-openbsd" in slim.output
    assert "migrate.js" in slim.output.split("AS runtime", 1)[1]  # the file the script runs is carried
    alpine = convert_text(text, BuildContext(tmp_path), Options(runtime="alpine"))
    assert "RUN apk add --no-cache bash" in alpine.output  # busybox has nc, not bash


def test_a_context_file_the_build_overwrites_is_not_a_start_script(tmp_path: Path):
    (tmp_path / "go.mod").write_text("module example.com/web\n\ngo 1.20\n")
    (tmp_path / "web.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "web").write_text("")  # an old build left in the repository
    text = 'FROM golang:1.20\nWORKDIR /app\nCOPY . .\nRUN go build -o web\nENTRYPOINT ["/app/web"]\n'
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert "COPY --from=builder /app/web ./web" in result.output
