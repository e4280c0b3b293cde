"""Python on distroless cc: the builder steps that gather its own interpreter and the libraries the build linked."""

from __future__ import annotations

import re

from dockrewrite import images, ops
from dockrewrite.context import BuildContext
from dockrewrite.providers import linked
from dockrewrite.providers.linked import LIBS_TREE
from dockrewrite.providers.python.layout import VENV
from dockrewrite.runtimes import distroless

PYTHON_TREE = "/runtime-python"  # the builder's interpreter, at its own paths below this folder
OPENSSL_DIR = "/usr/lib/ssl"  # where Debian's OpenSSL looks for its default CA file (ssl.create_default_context)
# Parts of the standard library the runtime leaves out: the GUI toolkit and what is built on it, whose X11
# libraries slim python images do not have (their _tkinter module cannot load there either).
LEFT_OUT = ("tkinter", "idlelib", "turtledemo", "lib-dynload/_tkinter.*")


# App code that starts programs or opens libraries itself: what it runs may need a shell or tools, and what
# it opens is not linked, so the library scan cannot see it.
_STARTS_PROGRAMS = re.compile(
    r"^\s*(?:import|from)\s+(subprocess|ctypes|cffi)\b|\b(os\.(?:system|popen|exec\w*|spawn\w*)|pty\.spawn)\s*\(",
    re.MULTILINE,
)


def auto_refusal(image: str, ctx: BuildContext, workdir: str) -> str | None:
    """Why `auto` keeps the slim image although the rewrite could run on distroless cc, or None. On top of
    what --runtime distroless refuses: a tag that names no Debian release (the cc image must be the
    builder's), app code that starts programs or opens libraries, and deployment files that run the image
    with a command of their own."""
    from pathlib import Path

    from dockrewrite import deployments

    if images.family(image) not in images.DEBIAN_CODENAMES:
        return f"the tag of {image} names no Debian release, which distroless cc must match (a -bookworm tag would)"
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


def gather_steps(codename: str, runtime_image: str) -> list[ops.Op]:
    """The two builder RUNs: the interpreter tree, then the libraries its ELF files and the virtualenv's link."""
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
            f"# default ({OPENSSL_DIR}/cert.pem, as Debian's openssl package links it), which cc lacks",
        ),
    )
    libraries = linked.gather(
        (PYTHON_TREE, VENV),
        "/usr/local/bin/python3",
        codename,
        runtime_image,
        distroless.CC.libraries,
        (
            f"# The shared libraries the runtime's Python and the packages in {VENV} link that distroless cc",
            f"# lacks, copied under {LIBS_TREE} at their own paths. The loader lists what each ELF file needs",
            "# (--verify: 0 a program, 2 a library) as the runtime will look for it, with no ld.so.cache, and a",
            "# library it cannot find fails the build. Left out: what the two folders hold already, and what cc",
            "# has (glibc, libgcc_s, libstdc++, libgomp, OpenSSL), of the builder's Debian release",
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
