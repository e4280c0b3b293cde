"""A --templates override of node/nginx.conf.j2 reaches the output, and the RUN that writes it, run by a
real shell, writes exactly what the template rendered (quotes included)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from dockrewrite.context import BuildContext
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED
from dockrewrite.transform import convert_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "node" / "vite-serve"
OVERRIDE = """server {
    listen {{ port }};
    root /usr/share/nginx/html;
    add_header X-Frame-Options 'DENY';
    location / { try_files $uri /index.html; }
}
"""


def _convert(tmp_path: Path, template: str) -> tuple[str, object]:
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app, ignore=shutil.ignore_patterns("expected"))
    templates = tmp_path / "templates" / "node"
    templates.mkdir(parents=True)
    (templates / "nginx.conf.j2").write_text(template)
    options = Options(templates=str(tmp_path / "templates"))
    result = convert_text((app / "Dockerfile").read_text(), BuildContext(app), options, str(app / "Dockerfile"))
    return app, result


def test_nginx_conf_override_is_written_by_the_runtime_stage(tmp_path):
    _, result = _convert(tmp_path, OVERRIDE)
    assert result.status == CHANGED, result.reason
    run = next(i for i in parse(result.output).stages[-1].instructions if i.keyword == "RUN" and "printf" in i.shell)
    # the RUN line writes into the image's conf.d; point it at a scratch folder and let sh run it
    script = run.shell.split(" && sed -i")[0].replace("/etc/nginx/conf.d/default.conf", str(tmp_path / "out.conf"))
    subprocess.run(["sh", "-c", script], check=True)
    assert (tmp_path / "out.conf").read_text() == OVERRIDE.replace("{{ port }}", "3000")


def test_a_broken_override_fails_naming_the_template(tmp_path):
    _, result = _convert(tmp_path, "server { listen {{ port }; }\n")
    assert result.status == FAILED
    assert re.search(r"templates/node/nginx\.conf\.j2:1: template error", result.reason), result.reason
