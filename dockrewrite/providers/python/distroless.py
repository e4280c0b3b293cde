"""Python on distroless static: the builder steps that gather its own interpreter and every library it links."""

from __future__ import annotations

import re

from dockrewrite import ops
from dockrewrite.context import BuildContext
from dockrewrite.providers import linked
from dockrewrite.providers.linked import LIBS_TREE
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import VENV
from dockrewrite.providers.python.start import SCRIPT_PACKAGES
from dockrewrite.results import Skip

PYTHON_TREE = "/runtime-python"  # the builder's interpreter, at its own paths below this folder
OPENSSL_DIR = "/usr/lib/ssl"  # where Debian's OpenSSL looks for its default CA file (ssl.create_default_context)
# Parts of the standard library the runtime leaves out: the GUI toolkit and what is built on it, whose X11
# libraries slim python images do not have (their _tkinter module cannot load there either).
LEFT_OUT = ("tkinter", "idlelib", "turtledemo", "lib-dynload/_tkinter.*")


class KeepSlim(Skip):
    """Why `auto` keeps the slim image: a distroless rewrite could be written, but something the app does at run
    time may need what distroless lacks. Unlike the other refusals of the distroless plan it is told as a note."""


# App code that starts programs or opens libraries itself: what it runs may need a shell or tools, and what
# it opens is not linked, so the library scan cannot see it.
_STARTS_PROGRAMS = re.compile(
    r"^\s*(?:import|from)\s+(subprocess|ctypes|cffi)\b|\b(os\.(?:system|popen|exec\w*|spawn\w*)|pty\.spawn)\s*\(",
    re.MULTILINE,
)


def auto_refusal(ctx: BuildContext, workdir: str) -> str | None:
    """Why `auto` keeps the slim image although the rewrite could run on distroless, or None. On top of what
    --runtime distroless refuses: app code that starts programs or opens libraries, and deployment files that
    run the image with a command of their own."""
    from pathlib import Path

    from dockrewrite import deployments

    if not ctx.known:
        return "the build context is not known, so the app's code cannot be checked for programs it starts"
    for rel in ctx.walk((".py",), 500):
        m = _STARTS_PROGRAMS.search(ctx.read_text(rel) or "")
        if m:
            return f"{rel} uses {m.group(1) or m.group(2)}: what it starts or opens may need a shell or tools"
    found = deployments.notes(Path(ctx.root) / "Dockerfile", ctx.root, workdir, has_shell=False, develop_target=False)
    if found:
        return f"a deployment file runs the image differently: {found[0]}"
    return None


def declared_script(name: str, scripts: frozenset[str]) -> bool:
    """Whether a program is a console script of a declared package: the package's own name (gunicorn), one
    that starts with it (waitress-serve, huey_consumer), a script whose package is named otherwise, or one
    of the project's own."""
    if name in scripts:
        return True
    package = SCRIPT_PACKAGES.get(name, deps.normalize(name))
    return any(package == n or package.startswith(n + "-") for n in scripts)


def gather_steps(runtime_image: str) -> list[ops.Op]:
    """The two builder RUNs: the interpreter tree, then the libraries its ELF files and the virtualenv's link,
    glibc and its loader included, so the runtime needs no C library or Debian release of its own."""
    removed = " ".join(f'"$stdlib"/{path}' for path in ("site-packages/*", *LEFT_OUT))
    python = ops.step(
        "RUN set -eu; \\\n"
        "    version=$(/usr/local/bin/python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'); \\\n"
        f"    mkdir -p {PYTHON_TREE}/usr/local/bin {PYTHON_TREE}/usr/local/lib; \\\n"
        '    cp -a /usr/local/bin/python /usr/local/bin/python3 "/usr/local/bin/python$version" \\\n'
        f"        {PYTHON_TREE}/usr/local/bin/; \\\n"
        f'    cp -a /usr/local/lib/libpython3*.so* "/usr/local/lib/python$version" {PYTHON_TREE}/usr/local/lib/; \\\n'
        f'    stdlib="{PYTHON_TREE}/usr/local/lib/python$version"; \\\n'
        f"    rm -rf {removed}; \\\n"
        f"    mkdir -p {PYTHON_TREE}{OPENSSL_DIR}; \\\n"
        f"    ln -s /etc/ssl/certs/ca-certificates.crt {PYTHON_TREE}{OPENSSL_DIR}/cert.pem",
        (
            f"# The builder's own Python for the runtime, gathered under {PYTHON_TREE} at its own paths: the",
            "# python links, the interpreter, libpython and the standard library. Left out: the image's",
            f"# site-packages (pip, setuptools and build tools; the app's packages are in {VENV}) and tkinter",
            "# with idlelib and turtledemo, which need X11 libraries. Added: the CA file OpenSSL reads by",
            f"# default ({OPENSSL_DIR}/cert.pem, as Debian's openssl package links it), which distroless lacks",
        ),
    )
    python.context_free = True
    libraries = linked.gather(
        (PYTHON_TREE, VENV),
        "/usr/local/bin/python3",
        None,
        runtime_image,
        (),
        (
            f"# Every shared library the runtime's Python and the packages in {VENV} link, glibc and its loader",
            f"# included, copied from this builder under {LIBS_TREE} at their own paths, so the interpreter runs",
            "# on the very libraries it was built with and distroless static needs no Debian release of its own.",
            "# The loader lists what each ELF file needs (--verify: 0 a program, 2 a library) as the runtime will",
            "# look for it, with no ld.so.cache, and a library it cannot find fails the build. Added: what glibc",
            "# opens itself (libgcc_s for thread exit, the NSS modules). Left out: what the two folders hold already",
        ),
        keep_out=(PYTHON_TREE, VENV),
        present_in=(PYTHON_TREE,),
    )
    return [python, libraries]


def copy_steps(source: str) -> list[ops.Op]:
    """The runtime's COPY lines for what gather_steps made in the stage `source`."""
    return [
        ops.step(
            f"COPY --from={source} {PYTHON_TREE}/ /",
            ("# The builder's own Python, and the shared libraries it and the packages link, at their own paths",),
        ),
        linked.copy(source),
    ]
