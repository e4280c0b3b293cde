"""`--runtime distroless` for Python: distroless static with the builder's own interpreter and every library it
links, glibc included."""

from __future__ import annotations

from pathlib import Path

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, SKIPPED
from dockrewrite.transform import convert_text

_DEPS = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"


def _convert(text: str, tmp_path: Path, requirements: str = "flask\ngunicorn\n", **options) -> object:
    (tmp_path / "requirements.txt").write_text(requirements)
    return convert_text(text, BuildContext(tmp_path), Options(**options))


def _distroless(tmp_path: Path, tail: str, head: str = _DEPS, **options) -> object:
    return _convert(head + tail, tmp_path, runtime="distroless", **options)


def _stages(output: str) -> tuple[str, str]:
    builder, runtime = output.split("\nFROM gcr.io/distroless/", 1)
    return builder, "FROM gcr.io/distroless/" + runtime


def test_the_builder_is_the_original_image_and_the_runtime_gets_its_interpreter(tmp_path: Path):
    result = _distroless(tmp_path, 'CMD ["gunicorn", "app:app"]\n')
    assert result.status == CHANGED, result.reason
    builder, runtime = _stages(result.output)
    assert builder.startswith("FROM python:3.11-slim AS builder")
    assert "apt-get" not in result.output  # no Debian python3-venv: the image's own python makes the venv
    assert "RUN python -m venv --without-pip /opt/venv" in builder
    # the interpreter tree and the library scan come after the last install, so they see every package
    assert builder.index("pip install") < builder.index("mkdir -p /runtime-python") < builder.index("--inhibit-cache")
    assert runtime.startswith("FROM gcr.io/distroless/static-debian12:nonroot AS runtime")
    copies = [line for line in runtime.splitlines() if line.startswith("COPY --from=builder")]
    assert copies == [
        "COPY --from=builder --chown=65532:65532 /writable/app /app",
        "COPY --from=builder /runtime-python/ /",
        "COPY --from=builder /runtime-libs/ /",
        "COPY --from=builder /opt/venv /opt/venv",
    ]
    assert "ENTRYPOINT" not in runtime  # static has no entrypoint to clear
    assert runtime.rstrip().endswith('USER 65532:65532\nCMD ["gunicorn", "app:app"]')
    assert any("Python 3.11 (python:3.11-slim)" in w and "exactly" in w for w in result.warnings)


def test_the_interpreter_tree_leaves_out_site_packages_and_tkinter_and_adds_the_ca_file(tmp_path: Path):
    builder, _ = _stages(_distroless(tmp_path, 'CMD ["python", "a.py"]\n').output)
    assert 'cp -a /usr/local/bin/python /usr/local/bin/python3 "/usr/local/bin/python$version"' in builder
    assert '/usr/local/lib/libpython3*.so* "/usr/local/lib/python$version" /runtime-python/usr/local/lib/' in builder
    assert 'stdlib="/runtime-python/usr/local/lib/python$version"' in builder
    assert (
        'rm -rf "$stdlib"/site-packages/* "$stdlib"/tkinter "$stdlib"/idlelib "$stdlib"/turtledemo '
        '"$stdlib"/lib-dynload/_tkinter.*' in builder
    )
    # OpenSSL's default CA file, as Debian's openssl package links it: distroless has the bundle, not the link
    assert "ln -s /etc/ssl/certs/ca-certificates.crt /runtime-python/usr/lib/ssl/cert.pem" in builder


def test_the_library_scan_fails_the_build_on_a_missing_library_and_carries_glibc_too(tmp_path: Path):
    builder, _ = _stages(_distroless(tmp_path, 'CMD ["python", "a.py"]\n').output)
    scan = builder[builder.index("RUN set -eu; \\\n    mkdir /runtime-libs") :]
    assert "exit 1" in scan.split("done > /tmp/linked.txt")[0]  # a library ldd cannot find stops the build
    assert '*"not found"*) echo "$elf: $needs" >&2; exit 1' in scan
    assert "x86_64" not in scan and "aarch64" not in scan  # the loader is found from the interpreter, any arch
    # static has no C library: nothing is left out by name, the loader goes at the path the ELF files name,
    # and what glibc opens itself (libgcc_s for pthread_exit, the NSS modules) goes with it
    assert "libstdc++.so.*" not in scan and "libc.so.*" not in scan
    assert 'cp -L "$loader" "/runtime-libs$loader"' in scan
    assert '"${libc%/*}"/libgcc_s.so.1 "${libc%/*}"/libnss_files.so.2 "${libc%/*}"/libnss_dns.so.2' in scan
    assert 'cp -L "$lib" "/runtime-libs$dir/"' in scan


def test_no_debian_release_has_to_match_the_builders(tmp_path: Path):
    for tag in ("3.9-bullseye", "3.13-slim-trixie", "3.12", "3.8-buster"):
        result = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', head=_DEPS.replace("3.11-slim", tag))
        assert result.status == CHANGED, (tag, result.reason)
        assert "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in result.output
        assert "VERSION_CODENAME" not in result.output
        assert any("whatever Debian release the tag gives" in w for w in result.warnings)
    ubuntu = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', head=_DEPS.replace("python:3.11-slim", "ubuntu:24.04"))
    assert ubuntu.status == SKIPPED


def test_libraries_built_against_come_from_the_scan_not_a_package_table(tmp_path: Path):
    head = "FROM python:3.11\nRUN apt-get update && apt-get install -y libpq-dev libgsl-dev gcc\n"
    linked = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', head=head + _DEPS.split("\n", 1)[1])
    assert linked.status == CHANGED, linked.reason
    _, runtime = _stages(linked.output)
    assert "libpq5" not in linked.output and "apt-get install" not in runtime
    assert "COPY --from=builder /runtime-libs/ /" in runtime
    tool = _distroless(
        tmp_path,
        'CMD ["python", "a.py"]\n',
        head=head.replace("libpq-dev libgsl-dev gcc", "ffmpeg") + _DEPS.split("\n", 1)[1],
    )
    assert tool.status == SKIPPED and "ffmpeg" in tool.reason and "cannot install packages" in tool.reason


def test_without_a_shell(tmp_path: Path):
    shell_form = _distroless(
        tmp_path,
        "HEALTHCHECK CMD python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8000/')\"\n"
        "CMD gunicorn --bind 0.0.0.0:8000 app:app\n",
    )
    assert shell_form.status == CHANGED, shell_form.reason
    assert 'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]' in shell_form.output
    assert (
        'HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen(\'http://localhost:8000/\')"]'
        in shell_form.output
    )
    expands = _distroless(tmp_path, "CMD gunicorn --bind 0.0.0.0:$PORT app:app\n")
    assert expands.status == SKIPPED and "needs a shell" in expands.reason and expands.line == 5
    (tmp_path / "start.sh").write_text("#!/bin/sh\nexec gunicorn app:app\n")
    script = _distroless(tmp_path, 'CMD ["./start.sh"]\n')
    assert script.status == SKIPPED and "start.sh" in script.reason and script.line == 5
    (tmp_path / "main.py").write_text("#!/usr/bin/env python3\nprint('hi')\n")
    python_script = _distroless(tmp_path, 'CMD ["./main.py"]\n')
    assert python_script.status == CHANGED, python_script.reason
    step = _distroless(tmp_path, 'RUN python manage.py collectstatic --noinput\nCMD ["gunicorn", "app:app"]\n')
    assert step.status == SKIPPED and "no shell" in step.reason and step.line == 5
    tool = _distroless(tmp_path, 'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\nCMD ["gunicorn", "app:app"]\n')
    assert tool.status == SKIPPED and "curl" in tool.reason
    pip = _distroless(tmp_path, 'CMD ["pip", "list"]\n')
    assert pip.status == SKIPPED and "without pip" in pip.reason


def test_users_strategies_and_refusals(tmp_path: Path):
    named = _distroless(tmp_path, 'COPY --chown=app:app conf /conf\nUSER app\nCMD ["python", "a.py"]\n')
    assert named.status == CHANGED, named.reason
    assert "COPY --chown=65532:65532 conf /conf" in named.output and "USER 65532:65532" in named.output
    assert "static-debian12 AS runtime" in named.output  # the original's USER, not the :nonroot tag
    prefix = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', python_strategy="prefix")
    assert prefix.status == SKIPPED and "--python-strategy venv" in prefix.reason
    local = _distroless(tmp_path, 'CMD ["/usr/local/bin/python", "a.py"]\n')
    assert local.status == SKIPPED and local.line == 5 and "/opt/venv" in local.reason
    musl = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', head=_DEPS.replace("3.11-slim", "3.11-alpine"))
    assert musl.status == SKIPPED and "musl" in musl.reason
    two = _distroless(tmp_path, 'CMD ["python", "a.py"]\n', head=_DEPS.replace("3.11-slim", "2.7"))
    assert two.status == SKIPPED and "Python 2.7" in two.reason


def test_build_tools_stay_in_the_images_site_packages_which_the_runtime_does_not_get(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'x'\n")
    (tmp_path / "poetry.lock").write_text("")
    result = _convert(
        "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install --upgrade pip && pip install poetry\n"
        "COPY pyproject.toml poetry.lock ./\nRUN poetry install --only main --no-root\nCOPY . .\n"
        'CMD ["python", "a.py"]\n',
        tmp_path,
        runtime="distroless",
    )
    assert result.status == CHANGED, result.reason
    builder, _ = _stages(result.output)
    assert builder.index("pip install poetry") < builder.index("RUN python -m venv /opt/venv")
    assert 'rm -rf "$stdlib"/site-packages/*' in builder


def test_keeps_root_for_an_app_in_root_as_slim_does(tmp_path: Path):
    text = 'FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n'
    result = _convert(text, tmp_path, runtime="distroless")
    assert "FROM gcr.io/distroless/static-debian12 AS runtime" in result.output  # not :nonroot: user 65532
    assert "USER" not in result.output


# -- auto: distroless only when nothing suggests a shell, a tool or a package at run time -------------------
_BOOKWORM = _DEPS.replace("3.11-slim", "3.12-slim-bookworm")


def test_auto_picks_distroless_and_says_why(tmp_path: Path):
    result = _convert(_DEPS + 'CMD ["gunicorn", "app:app"]\n', tmp_path)
    assert result.status == CHANGED, result.reason
    assert result.runtime == "distroless"
    assert "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in result.output
    assert "; auto: nothing at run time needs a shell or a package\n" in result.output


def test_auto_keeps_slim_when_anything_may_need_a_shell_or_a_package(tmp_path: Path):
    def runtime(text: str) -> str:
        result = _convert(text, tmp_path)
        assert result.status == CHANGED, result.reason
        return result.output.split("\nFROM ", 2)[-1].split()[0]

    assert runtime(_BOOKWORM + 'CMD ["gunicorn", "app:app"]\n') == "gcr.io/distroless/static-debian12:nonroot"
    # a floating tag too: the runtime carries the builder's own glibc, so no release has to match
    assert runtime(_DEPS + 'CMD ["gunicorn", "app:app"]\n') == "gcr.io/distroless/static-debian12:nonroot"
    assert runtime(_BOOKWORM + "CMD gunicorn --bind 0.0.0.0:$PORT app:app\n") == "python:3.12-slim-bookworm"
    assert runtime(
        _BOOKWORM + 'HEALTHCHECK CMD curl -f http://localhost/ || exit 1\nCMD ["gunicorn", "app:app"]\n'
    ) == ("python:3.12-slim-bookworm")
    assert runtime(_BOOKWORM + 'RUN apt-get update && apt-get install -y ffmpeg\nCMD ["python", "a.py"]\n') == (
        "python:3.12-slim-bookworm"
    )
    (tmp_path / "jobs.py").write_text("import subprocess\n\nsubprocess.run(['convert', 'a.png', 'a.jpg'])\n")
    assert runtime(_BOOKWORM + 'CMD ["python", "jobs.py"]\n') == "python:3.12-slim-bookworm"
    (tmp_path / "jobs.py").write_text("import os\n\nos.system('date')\n")
    assert runtime(_BOOKWORM + 'CMD ["python", "jobs.py"]\n') == "python:3.12-slim-bookworm"
    (tmp_path / "jobs.py").unlink()
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  app:\n    build: .\n    command: sh -c 'python migrate.py && gunicorn app:app'\n"
    )
    assert runtime(_BOOKWORM + 'CMD ["gunicorn", "app:app"]\n') == "python:3.12-slim-bookworm"


def test_auto_keeps_slim_for_a_program_it_cannot_place_and_says_why(tmp_path: Path):
    def auto(text: str, requirements: str = "flask\n") -> object:
        result = _convert(text, tmp_path, requirements)
        assert result.status == CHANGED, result.reason
        return result

    # a bare name no declared package provides, or a path the context does not hold, may be a program or a
    # shell script the build makes: `auto` keeps slim and the note says which
    undeclared = auto(_DEPS + 'CMD ["gunicorn", "app:app"]\n')
    assert undeclared.runtime == "slim"
    assert any(
        w.code == "DR601" and "`gunicorn` is not a script of a package the app declares" in w
        for w in undeclared.warnings
    )
    made = auto(_DEPS + 'CMD ["./server"]\n')
    assert made.runtime == "slim" and any("`./server` is not a file of the build context" in w for w in made.warnings)
    # the declared package's own script, one that starts with its name, and the project's own scripts run there
    assert auto(_DEPS + 'CMD ["waitress-serve", "app:app"]\n', "waitress\n").runtime == "distroless"
    assert auto(_DEPS + 'CMD ["django-admin", "runserver"]\n', "Django>=5\n").runtime == "distroless"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "svc"\n\n[project.scripts]\nserve = "svc:main"\n')
    text = _DEPS.replace("pip install -r requirements.txt", "pip install .") + 'CMD ["serve"]\n'
    assert auto(text).runtime == "distroless"
    # what the runtime runs counts: the interpreter's arguments after a python ENTRYPOINT, the command once
    # `poetry run` is taken off
    (tmp_path / "manage.py").write_text("print(1)\n")
    entry = _DEPS + 'ENTRYPOINT ["python3"]\nCMD ["manage.py", "runserver", "0.0.0.0:8000"]\n'
    assert auto(entry, "django\n").runtime == "distroless"
    runner = _DEPS + 'CMD ["poetry", "run", "gunicorn", "app:app"]\n'
    assert auto(runner, "gunicorn\n").runtime == "distroless"
    script = _DEPS + 'ENTRYPOINT ["celery"]\nCMD ["-A", "tasks", "worker"]\n'
    assert auto(script, "celery\n").runtime == "distroless"  # options of a declared package's script
    # tini runs its arguments: the CMD stays a program to place, and distroless has no tini
    tini = auto(_DEPS + 'ENTRYPOINT ["tini", "--"]\nCMD ["gunicorn", "app:app"]\n', "gunicorn\n")
    assert tini.runtime == "slim"
    # --runtime distroless, asked for, does not second-guess a name
    assert _distroless(tmp_path, 'CMD ["./server"]\n').status == CHANGED


def test_a_library_that_opens_plugins_keeps_slim_and_a_wheel_without_its_openmp_gets_it(tmp_path: Path):
    mysql = _convert(_DEPS + 'CMD ["python", "-m", "app"]\n', tmp_path, "django\nmysqlclient==2.2.4\n")
    assert mysql.runtime == "slim" and "libmariadb3" in mysql.output
    assert any(w.code == "DR601" and "authentication plugins" in w for w in mysql.warnings)
    asked = _distroless(tmp_path, 'CMD ["python", "-m", "app"]\n')
    assert asked.status == CHANGED  # the requirements file was rewritten to flask and gunicorn by _convert
    (tmp_path / "requirements.txt").write_text("mysqlclient\n")
    refused = convert_text(
        _DEPS + 'CMD ["python", "-m", "app"]\n', BuildContext(tmp_path), Options(runtime="distroless")
    )
    assert refused.status == SKIPPED and "--runtime slim" in refused.reason
    for opener in ("weasyprint\n", "cairocffi\n", "pyodbc\n"):  # cffi/ctypes opens, or ODBC drivers
        assert _convert(_DEPS + 'CMD ["python", "-m", "app"]\n', tmp_path, opener).runtime == "slim", opener
    # lightgbm's wheel links libgomp without bundling it: the full image has it through gcc, slim does not
    gbm = _convert(_DEPS + 'CMD ["python", "-m", "app"]\n', tmp_path, "lightgbm\n", runtime="slim")
    assert "libgomp1" in gbm.output


def test_the_scan_finds_a_wheels_bundled_libraries_beside_each_other_and_passes_what_never_loaded(tmp_path: Path):
    builder, _ = _stages(_distroless(tmp_path, 'CMD ["python", "a.py"]\n').output)
    # numpy's libopenblas needs the libgfortran beside it, with no search path of its own, and tensorflow's
    # plugins the libtensorflow_framework that tensorflow loaded first, from another folder of the virtualenv
    assert (
        "own=$(find /runtime-python /opt/venv -type f -name '*.so*' -printf '%h\\n' | sort -u | paste -sd:)" in builder
    )
    assert 'path="${elf%/*}${own:+:$own}"' in builder
    # the file's own folder first: a vendored libssl.so.3 elsewhere in the virtualenv must not stand in for the
    # system's when _ssl is listed
    narrow = builder.index('--inhibit-cache --library-path "${elf%/*}" --list "$elf"')
    assert narrow < builder.index('--inhibit-cache --library-path "$path" --list "$elf"')
    # a module whose library the builder lacks too (numba's optional tbbpool) could not load in the original
    assert 'cannot load in the original either: $needs" >&2; continue' in builder


def test_gitpython_gets_the_git_the_full_image_had(tmp_path: Path):
    full = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    result = _convert(full + 'CMD ["python", "app.py"]\n', tmp_path, "flask\nGitPython==3.1.43\n")
    assert result.runtime == "slim" and "apt-get install -y --no-install-recommends git" in result.output
    assert any(w.code == "DR601" and "gitpython runs `git`" in w for w in result.warnings)
    # a slim original had no git either: nothing to keep, the rewrite may go distroless
    slim = _convert(_DEPS + 'CMD ["python", "app.py"]\n', tmp_path, "flask\nGitPython==3.1.43\n")
    assert slim.runtime == "distroless"
