"""compose services, heroku.yml, a Procfile and Kubernetes manifests that run the image with a toolchain
command or mount the sources over the app: the rewrite says so, naming the file, the service and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app
from dockrewrite.deployments import dev_override

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "go" / "seed-minimal"
runner = CliRunner()


def _notes(*args) -> list[str]:
    result = runner.invoke(app, ["convert", *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    notes = [line.split(": note", 1)[1] for line in result.stderr.splitlines() if ": note" in line]
    return [n.split("]: ", 1)[1] if n.startswith("[") else n.removeprefix(": ") for n in notes]


def _service(folder: Path) -> Path:
    shutil.copytree(SEED, folder, ignore=shutil.ignore_patterns("expected"))
    return folder / "Dockerfile"


def test_a_compose_dev_service_is_named_with_the_fix(tmp_path: Path):
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: .\n    command: go run main.go\n    volumes:\n      - .:/app\n"
        "  db:\n    image: postgres:16\n"
    )
    notes = [n for n in _notes(dockerfile) if "docker-compose.yml" in n]
    assert len(notes) == 1, notes
    assert "service api overrides command with `go run`" in notes[0]
    assert "mounts . over /app" in notes[0]
    assert "--targets develop --compose" in notes[0]


def test_a_monorepo_compose_above_the_service_is_read(tmp_path: Path):
    (tmp_path / "mono" / ".git").mkdir(parents=True)
    dockerfile = _service(tmp_path / "mono" / "services" / "api")
    (tmp_path / "mono" / "compose.yaml").write_text(
        'services:\n  api:\n    build:\n      context: ./services/api\n    command: ["npm", "run", "dev"]\n'
    )
    notes = [n for n in _notes(dockerfile) if "compose.yaml" in n]
    assert notes and "service api overrides command with `npm run dev`" in notes[0]


def test_a_production_compose_service_gets_no_note(tmp_path: Path):
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: .\n    ports: ['8080:8080']\n"
        "    volumes:\n      - data:/data\nvolumes:\n  data: {}\n"
    )
    assert not [n for n in _notes(dockerfile) if n.startswith("docker-compose.yml")]


def test_with_a_develop_target_the_note_points_at_it(tmp_path: Path):
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / "docker-compose.yml").write_text("services:\n  api:\n    build: .\n    command: go run .\n")
    notes = [n for n in _notes("--targets", "develop", dockerfile) if "docker-compose.yml" in n]
    assert notes and "`build.target: develop`" in notes[0]


def test_a_shell_command_on_a_runtime_without_a_shell(tmp_path: Path):
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / "docker-compose.yml").write_text(
        'services:\n  worker:\n    build: .\n    command: ["sh", "-c", "./myapp worker"]\n'
    )
    assert any("service worker runs `sh`" in n and "no shell" in n for n in _notes(dockerfile))
    assert not any("service worker" in n for n in _notes("--runtime", "alpine", dockerfile))


def test_heroku_procfile_and_manifests(tmp_path: Path):
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / "heroku.yml").write_text("build:\n  docker:\n    web: Dockerfile\nrun:\n  web: ./myapp\n")
    (tmp_path / "repo" / "Procfile").write_text("web: nodemon server.js\n")
    (tmp_path / "repo" / "k8s").mkdir()
    (tmp_path / "repo" / "k8s" / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
        "          containers:\n            - name: migrate\n              command: [go, run, ./cmd/migrate]\n"
    )
    notes = _notes(dockerfile)
    assert any(n.startswith("heroku.yml: process web is a string command") for n in notes), notes
    assert any(n.startswith("Procfile: process web runs `nodemon`") for n in notes), notes
    assert any(n.startswith("k8s/job.yaml: container migrate runs `go run`") for n in notes), notes


def test_unreadable_or_hostile_files_are_ignored(tmp_path: Path):
    outside = tmp_path / "outside.yml"
    outside.write_text("services:\n  api:\n    build: .\n    command: go run .\n")
    dockerfile = _service(tmp_path / "repo")
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / "docker-compose.yml").symlink_to(outside)
    (tmp_path / "repo" / "compose.yaml").write_bytes(b"services: [\x00\xff\n  - {{ broken")
    (tmp_path / "repo" / "heroku.yml").write_text("a: &a [*a, *a]\n")
    notes = _notes(dockerfile)
    assert not [n for n in notes if n.startswith(("docker-compose.yml", "compose.yaml", "heroku.yml"))]


def test_dev_override_reads_commands_as_a_user_means_them():
    assert dev_override(["go", "run", "."])
    assert dev_override(["sh", "-c", "cd /app && FOO=1 go run ."])
    assert dev_override(["yarn", "dev"]) and dev_override(["pnpm", "run", "start:dev"])
    assert dev_override(["uvicorn", "app:app", "--reload"])
    assert dev_override(["python", "manage.py", "runserver", "0.0.0.0:8000"])
    assert dev_override(["flask", "run", "--host=0.0.0.0"])
    assert not dev_override(["./server", "--port", "8080"])
    assert not dev_override(["npm", "start"]) and not dev_override(["node", "dist/main.js"])
    assert not dev_override(["gunicorn", "app:app", "-b", "0.0.0.0:8000"])


def test_a_live_reload_mount_over_the_original_folder_is_named_when_the_runtime_moves(tmp_path: Path):
    repo = tmp_path / "spa"
    (repo / "src").mkdir(parents=True)
    (repo / "package.json").write_text(
        '{"name": "spa", "version": "1.0.0", "scripts": {"start": "react-scripts start", "build": '
        '"react-scripts build"}, "dependencies": {"react": "^18.2.0", "react-scripts": "5.0.1"}}'
    )
    (repo / "src" / "index.js").write_text("console.log('hi')\n")
    (repo / "Dockerfile").write_text(
        "FROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCOPY . .\nEXPOSE 3000\n"
        'CMD ["npm", "start"]\n'
    )
    (repo / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n"
        "    volumes:\n      - .:/app\n      - /app/node_modules\n"
    )
    notes = [n for n in _notes(repo / "Dockerfile") if n.startswith("docker-compose.yml")]
    assert notes and "service web mounts . over /app for the original's live sources" in notes[0], notes
