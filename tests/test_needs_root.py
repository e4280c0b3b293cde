"""Images that only work as root keep root, with the reason; the rest run as an unprivileged user."""

from __future__ import annotations

from pathlib import Path

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

HEAD = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"


def _convert(tmp_path: Path, tail: str, requirements: str = "flask\n") -> object:
    (tmp_path / "requirements.txt").write_text(requirements)
    result = convert_text(HEAD + tail, BuildContext(tmp_path), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    return result


def _root_note(result) -> str:
    return next((w for w in result.warnings if w.startswith("the runtime runs as root")), "")


def test_a_plain_app_runs_unprivileged(tmp_path: Path):
    result = _convert(tmp_path, 'CMD ["python", "app.py"]\n')
    assert "USER 10001:10001" in result.output and _root_note(result) == ""


def test_system_services_docker_sdk_and_github_actions_keep_root(tmp_path: Path):
    service = _convert(tmp_path, "CMD service nginx start && python app.py\n")
    assert "USER" not in service.output and "starts `service`" in _root_note(service)
    docker = _convert(tmp_path, 'CMD ["python", "app.py"]\n', requirements="docker==7.1.0\n")
    assert "USER" not in docker.output and "Docker SDK" in _root_note(docker)
    (tmp_path / "action.yml").write_text("name: x\nruns:\n  using: 'docker'\n  image: Dockerfile\n")
    action = _convert(tmp_path, 'CMD ["python", "app.py"]\n')
    assert "USER" not in action.output and "GitHub Docker action" in _root_note(action)


def test_an_app_binary_named_like_a_daemon_is_not_one(tmp_path: Path):
    result = _convert(tmp_path, 'CMD ["/app/httpd"]\n')
    assert "USER 10001:10001" in result.output


def test_a_low_port_under_the_new_user_is_noted(tmp_path: Path):
    low = _convert(tmp_path, 'EXPOSE 80\nCMD ["python", "app.py"]\n')
    assert any(w.startswith("port 80 is below 1024") for w in low.warnings)
    high = _convert(tmp_path, 'EXPOSE 8000\nCMD ["python", "app.py"]\n')
    assert not any("below 1024" in w for w in high.warnings)
