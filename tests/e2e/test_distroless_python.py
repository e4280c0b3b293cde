"""Python apps rewritten with `--runtime distroless`: built on the engine, they keep the original's contract.

The rewrite runs on gcr.io/distroless/static-debian12 (no shell, no package manager, no Python, no C library)
with the builder's own interpreter copied from /usr/local and every shared library the build linked, glibc
and its loader included, so the interpreter must be the original's to the patch release and its glibc the
builder's. Each app gets the smoke comparison test_apps.py
gives it on the default runtime: exit code, output, HTTP answer and file-system side effects (verify_file
judges them), size ratio and a non-root user; the image must be smaller than the slim rewrite, and
Python's default TLS context must find the CA roots.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from app_checks import APPS, check_verified, explain, verify_app

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

pytestmark = pytest.mark.e2e

# Every Python app: each runs without a shell once its command is in exec form (none starts a script).
DISTROLESS_APPS = [
    "py-cli-tool",
    "py-distroless",
    "py-dotenv",
    "py-flask",
    "py-linked-libs",
    "py-poe-task",
    "py-poetry",
    "py-psycopg2",
    "py-split-reqs",
]
RUNTIME = "gcr.io/distroless/static-debian12"
VERSION = ["python", "-c", "import sys; print(sys.version)"]
# CA roots Python's default TLS context loads (urllib, aiohttp): OpenSSL's default CA file must be there
CA_ROOTS = ["python", "-c", "import ssl; print(ssl.create_default_context().cert_store_stats()['x509_ca'])"]
GLIBC = ["python", "-c", "import os; print(os.confstr('CS_GNU_LIBC_VERSION'))"]
# Daemon threads still running Python when the interpreter exits end through pthread_exit, which unwinds with
# libgcc_s, a library glibc opens itself: without it the process aborts instead of exiting 0.
DAEMON_EXIT = [
    "python",
    "-c",
    "import threading, time\n"
    "def spin():\n    while True: sum(range(1000))\n"
    "[threading.Thread(target=spin, daemon=True).start() for _ in range(4)]\ntime.sleep(0.2); print('exited')",
]


def _rewrite(name: str, runtime: str) -> str:
    app = APPS / name
    text, _ = source.read(app / "Dockerfile")
    result = convert_text(text, BuildContext(app), Options(runtime=runtime), "Dockerfile")
    assert result.status == CHANGED, result.reason
    return result.output


def _build(docker, name: str, runtime: str) -> str:
    """The app's rewrite for runtime built under a fresh tag (the layers verify built are cached)."""
    tag = f"dockrewrite-e2e-{name}-{runtime}:{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(_rewrite(name, runtime), encoding="utf-8")
        ok, lines, _ = docker.build(dockerfile, APPS / name, tag, timeout=1200)
    assert ok, "\n".join(lines[-20:])
    return tag


def _size(docker, image: str) -> int:
    return int(docker.cmd(["image", "inspect", "-f", "{{.Size}}", image], check=True).stdout)


def _python(docker, image: str, argv: list[str]) -> str:
    proc = docker.cmd(["run", "--rm", "--entrypoint", "", image, *argv], timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize("name", DISTROLESS_APPS)
def test_python_app_on_distroless(name: str, docker_engine):
    spec, result = verify_app(name, docker_engine.network, runtime="distroless")
    runtime_from = [line for line in (result.dockerfile or "").splitlines() if line.startswith("FROM ")][-1]
    assert runtime_from.split()[1].split(":")[0] == RUNTIME, runtime_from
    check_verified(name, spec, result)

    builder = (result.dockerfile or "").split("\n", 1)[0].split()[1]  # the original's image, kept as the builder
    tags = [_build(docker_engine, name, "distroless"), _build(docker_engine, name, "slim")]
    try:
        distroless, slim = (_size(docker_engine, t) for t in tags)
        ratio = distroless / slim
        print(f"\n{name}: slim rewrite {slim / 1e6:.1f} MB, distroless {distroless / 1e6:.1f} MB ({ratio:.2f}x)")
        assert distroless < slim, explain(result)
        assert _python(docker_engine, tags[0], VERSION) == _python(docker_engine, builder, VERSION)
        assert int(_python(docker_engine, tags[0], CA_ROOTS)) > 0
        assert _python(docker_engine, tags[0], GLIBC) == _python(docker_engine, builder, GLIBC)
        assert _python(docker_engine, tags[0], DAEMON_EXIT) == "exited"
    finally:
        docker_engine.cmd(["rmi", "-f", *tags], timeout=120)


def test_the_library_scan_fails_the_build_on_a_library_the_runtime_would_not_find(docker_engine, tmp_path):
    """A module in the virtualenv linking a library that only the builder's ld.so.cache finds (in /usr/local/lib,
    where the runtime's loader does not look): the build stops at the scan and names the module."""
    from dockrewrite.providers.python import distroless

    steps = "\n".join(step.text for step in distroless.gather_steps(RUNTIME))
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\nRUN python -m venv /opt/venv\n"
        "RUN echo 'int g(void){return 1;}' > /tmp/g.c && gcc -shared -fPIC -o /usr/local/lib/libg.so /tmp/g.c \\\n"
        " && ldconfig && echo 'int g(void); int h(void){return g();}' > /tmp/h.c \\\n"
        " && gcc -shared -fPIC -o /opt/venv/lib/libh.so /tmp/h.c -L/usr/local/lib -lg\n" + steps + "\n",
        encoding="utf-8",
    )
    tag = f"dockrewrite-e2e-scan:{uuid.uuid4().hex[:8]}"
    ok, lines, _ = docker_engine.build(tmp_path / "Dockerfile", tmp_path, tag, timeout=600)
    if ok:
        docker_engine.cmd(["rmi", "-f", tag], timeout=120)
    assert not ok
    assert any(
        "/opt/venv/lib/libh.so: a library it links is found only through ld.so.cache" in line for line in lines
    ), lines[-20:]


def test_a_wheel_whose_bundled_libraries_need_each_other_runs_on_distroless(docker_engine, tmp_path):
    """numpy 1.26's wheel bundles libopenblas, which needs the libgfortran beside it and has no search path of its
    own: the scan finds it there (as numpy's extension does at run time), and the app computes as the original."""
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "app.py").write_text(
        "import numpy\n\nprint(numpy.linalg.inv(numpy.array([[2.0, 0.0], [0.0, 4.0]])).sum())\n"
    )
    original = (
        'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    result = convert_text(original, BuildContext(tmp_path), Options(), "Dockerfile")
    assert result.status == CHANGED and result.runtime == "distroless", result.reason
    tags = []
    try:
        for kind, text in (("original", original), ("rewrite", result.output)):
            (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
            tag = f"dockrewrite-e2e-numpy-{kind}:{uuid.uuid4().hex[:8]}"
            ok, lines, _ = docker_engine.build(tmp_path / "Dockerfile", tmp_path, tag, timeout=1200)
            assert ok, "\n".join(lines[-20:])
            tags.append(tag)
        outputs = [docker_engine.cmd(["run", "--rm", tag], timeout=60) for tag in tags]
        assert [p.returncode for p in outputs] == [0, 0], outputs[1].stderr
        assert outputs[1].stdout == outputs[0].stdout == "0.75\n"
    finally:
        if tags:
            docker_engine.cmd(["rmi", "-f", *tags], timeout=120)
