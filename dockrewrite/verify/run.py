"""verify_file: convert in memory, build the original and the rewrite, compare their contracts, smoke-test both.

Nothing is written next to the user's files: both Dockerfiles go to a temporary folder outside the
build context and are given with `-f`. Every image and container a verification creates is removed
again (images only unless `keep_images`). Progress goes to a callback; this package never prints.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from dockrewrite.intents import Declared
from dockrewrite.verify.compare import compare
from dockrewrite.verify.engine import (
    EngineError,
    base_facts,
    build_error,
    find_docker,
    from_images,
    inspect_image,
    log_tail,
    pull_failure,
)
from dockrewrite.verify.results import ERROR, FAILED, PASSED, SKIPPED, SmokeCheck, SmokeRun, VerifyResult
from dockrewrite.verify.smoke import (
    http_check,
    judge_http,
    judge_run,
    parse_http,
    run_both,
    side_effect_differences,
    smoke_run,
    smoke_side_effects,
)


def verify_file(
    path: Path | str,
    context: Path | str | None = None,
    options=None,
    *,
    builder: str | None = None,
    network: str | None = None,
    smoke_cmd: str | Sequence[str] | None = None,
    smoke_env: Iterable[tuple[str, str]] | dict[str, str] = (),
    smoke_http: str | None = None,
    http_env: Iterable[tuple[str, str]] | dict[str, str] = (),
    smoke_user: str | None = None,
    timeout: float = 20.0,
    build_timeout: float = 1200.0,
    keep_images: bool = False,
    progress: Callable[[str, str], None] | None = None,
    rewrite: str | None = None,
) -> VerifyResult:
    """Convert path in memory, build original and rewrite, compare their contract, smoke-test both.

    timeout bounds each smoke run and HTTP wait; build_timeout each build. smoke_env applies to the
    command run, http_env to the HTTP check (which starts the image's default command); smoke_user runs both
    checks of both images as that user (`docker run --user`). rewrite: a Dockerfile text to verify as the
    rewrite instead of converting (a hand-made one, or a test of verify itself). Never raises for a problem
    with the file or the engine: the result's status and message say what happened.
    """
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.plan import Options
    from dockrewrite.results import CHANGED, Result
    from dockrewrite.results import FAILED as CONVERT_FAILED
    from dockrewrite.transform import convert_text

    path = Path(path)
    ctx_dir = Path(context) if context is not None else path.parent
    options = options or Options()
    smoke_env = list(smoke_env.items()) if isinstance(smoke_env, dict) else list(smoke_env)
    http_env = list(http_env.items()) if isinstance(http_env, dict) else list(http_env)
    result = VerifyResult(path=str(path), context=str(ctx_dir))

    def say(message: str) -> None:
        if progress:
            progress(str(path), message)

    def stop(status: str, stage: str, message: str) -> VerifyResult:
        result.status, result.stage, result.message = status, stage, message
        return result

    # -- convert in memory ---------------------------------------------------------------------
    try:
        data = path.read_bytes()
        text, fmt = source.decode(data)
    except (OSError, source.SourceError) as exc:
        return stop(ERROR, "convert", f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    if not ctx_dir.is_dir():
        return stop(ERROR, "convert", f"build context {ctx_dir} is not a directory")
    try:
        if rewrite is not None:
            converted = Result(str(path), CHANGED, reason="a given rewrite", output=rewrite)
        else:
            converted = convert_text(text, BuildContext(ctx_dir), options, str(path))
    except Exception as exc:  # a converter bug is a failed rewrite, not a traceback
        return stop(FAILED, "convert", f"conversion crashed: {type(exc).__name__}: {exc}")
    result.runtime, result.warnings = converted.runtime, list(converted.warnings)
    if converted.status == CONVERT_FAILED:
        return stop(FAILED, "convert", f"conversion failed: {converted.reason}")
    if converted.status != CHANGED or converted.output is None:
        return stop(SKIPPED, "convert", f"nothing to verify: {converted.status}: {converted.reason}")
    result.dockerfile = converted.output

    # -- engine --------------------------------------------------------------------------------
    try:
        docker = find_docker(builder, network)
    except EngineError as exc:
        return stop(ERROR, "engine", str(exc))

    tmp = Path(tempfile.mkdtemp(prefix="dockrewrite-verify-"))
    if tmp.resolve().is_relative_to(ctx_dir.resolve()):
        shutil.rmtree(tmp, ignore_errors=True)
        return stop(ERROR, "convert", f"the temporary folder {tmp} would be inside the build context")
    slug = re.sub(r"[^a-z0-9]+", "-", str(path.resolve().parent.name + "-" + path.name).lower()).strip("-")[:40]
    run_id = uuid.uuid4().hex[:10]
    tags = {
        "original": f"dockrewrite-verify/{slug or 'image'}:original-{run_id}",
        "rewrite": f"dockrewrite-verify/{slug or 'image'}:rewrite-{run_id}",
    }
    built: list[str] = []
    try:
        files = {"original": tmp / "original.Dockerfile", "rewrite": tmp / "rewrite.Dockerfile"}
        files["original"].write_bytes(data)
        try:
            files["rewrite"].write_bytes(source.encode(converted.output, fmt))
        except source.SourceError:
            files["rewrite"].write_text(converted.output, encoding="utf-8")
        ignore = path.with_name(path.name + ".dockerignore")
        if ignore.is_file():
            for which in files.values():
                shutil.copyfile(ignore, which.with_name(which.name + ".dockerignore"))

        for which, dockerfile in files.items():
            say(f"building the {which}")
            ok, lines, seconds = docker.build(
                dockerfile, ctx_dir, tags[which], build_timeout, lambda step, w=which: say(f"{w}: {step}")
            )
            result.build_seconds[which] = round(seconds, 1)
            if not ok:
                result.build_log = log_tail(lines)
                text_of = data.decode("utf-8", "replace") if which == "original" else converted.output
                image = pull_failure(lines, from_images(text_of))
                if image:
                    return stop(ERROR, "pull", f"base image {image} cannot be pulled: {build_error(lines)}")
                if which == "original":
                    return stop(ERROR, "original-build", f"original does not build: {build_error(lines)}")
                return stop(FAILED, "rewrite-build", f"the rewrite does not build: {build_error(lines)}")
            built.append(tags[which])

        say("inspecting")
        result.original = inspect_image(docker, tags["original"])
        result.rewrite = inspect_image(docker, tags["rewrite"])
        if result.original is None or result.rewrite is None:
            return stop(ERROR, "engine", "the built images cannot be inspected (was --load honoured by the builder?)")
        orig_from = from_images(data.decode("utf-8", "replace"))
        new_from = from_images(converted.output)
        orig_base_name = orig_from[0] if orig_from else None
        new_base_name = new_from[-1] if new_from else None
        result.differences = compare(
            result.original,
            result.rewrite,
            base_facts(docker, orig_base_name),
            base_facts(docker, new_base_name),
            Declared(tuple(converted.intents)),
            orig_base_name or "the builder base image",
            new_base_name or "the runtime base image",
        )

        # -- smoke ---------------------------------------------------------------------------
        cmd = shlex.split(smoke_cmd) if isinstance(smoke_cmd, str) else list(smoke_cmd or [])
        checks: list[tuple[str, str, Callable[[str], SmokeRun]]] = []
        if cmd or smoke_env or not smoke_http:
            shown = " ".join(f"{k}={v}" for k, v in smoke_env)
            shown = (shown + " " if shown else "") + (shlex.join(cmd) if cmd else "default command")
            checks.append(("run", shown, lambda image: smoke_run(docker, image, cmd, smoke_env, timeout, smoke_user)))
        if smoke_http:
            port, url_path = parse_http(smoke_http)
            checks.append(
                (
                    "http",
                    f"GET :{port}{url_path}",
                    lambda image: http_check(docker, image, port, url_path, http_env, timeout, smoke_user),
                )
            )
        for kind, shown, runner in checks:
            say(f"smoke {kind}: {shown}")
            runs = run_both(runner, tags)
            status, detail = (
                judge_run(runs["original"], runs["rewrite"], timeout)
                if kind == "run"
                else (judge_http(runs["original"], runs["rewrite"]))
            )
            check = SmokeCheck(kind, shown, runs["original"], runs["rewrite"], status, detail)
            check.side_effects = smoke_side_effects(
                check,
                result.original.working_dir,
                result.rewrite.working_dir,
                {*result.original.volumes, *result.rewrite.volumes},
            )
            result.smoke.append(check)
            if check.side_effects:
                known = {d.field for d in result.differences}
                result.differences += [d for d in side_effect_differences(check.side_effects) if d.field not in known]

        # -- verdict -------------------------------------------------------------------------
        errors = [c for c in result.smoke if c.status == ERROR]
        failures = [c for c in result.smoke if c.status == FAILED]
        if errors:
            return stop(ERROR, "smoke", "; ".join(c.detail for c in errors))
        if result.unintended:
            return stop(FAILED, "contract", "contract changed: " + "; ".join(d.describe() for d in result.unintended))
        if failures:
            return stop(FAILED, "smoke", "; ".join(f"{c.kind}: {c.detail}" for c in failures))
        ratio = result.ratio
        return stop(PASSED, "", f"{ratio:.1f}x smaller" if ratio else "passed")
    except EngineError as exc:
        return stop(ERROR, "engine", str(exc))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if keep_images:
            result.images = {k: v for k, v in tags.items() if v in built}
        elif built:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run([docker.binary, "image", "rm", *built], capture_output=True, timeout=120)


def exit_code(results: Sequence[VerifyResult]) -> int:
    """0 all passed; 2 when the engine or an original is the problem; else 1 (a rewrite failed or was not made)."""
    if any(r.status == ERROR for r in results):
        return 2
    if all(r.status == PASSED for r in results):
        return 0
    return 1
