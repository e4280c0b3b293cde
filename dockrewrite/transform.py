"""convert_text: the pure core. Text and a build context in, a Result out; no writes, no printing."""

from __future__ import annotations

import re

from dockrewrite import intents
from dockrewrite.context import BuildContext
from dockrewrite.notes import note
from dockrewrite.parse import MAX_INSTRUCTIONS, ParseError, parse
from dockrewrite.plan import Options
from dockrewrite.render import TemplateProblem
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, Result, Skip

# [ \t], not \s: \s also matches newlines, and from every line start it then ran over all the blank lines after
# it (quadratic: 200,000 blank lines took 37 s)
SKIP_MARK = re.compile(r"^[ \t]*#[ \t]*dockrewrite[ \t]*:[ \t]*skip\b", re.IGNORECASE | re.MULTILINE)


def convert_text(
    text: str, context: BuildContext, options: Options, path: str = "<stdin>", *, explain: bool = True
) -> Result:
    """One Dockerfile's result. `explain=False` leaves out the language detection of files that are already
    multi-stage (the safety re-check of an output needs only the status)."""
    result = Result(path=path, status=UNCHANGED, original=text)
    m = SKIP_MARK.search(text)
    if m:
        result.status, result.reason = SKIPPED, "opted out with a `# dockrewrite: skip` comment"
        result.line = text.count("\n", 0, m.start()) + 1
        return result
    try:
        model = parse(text)
    except ParseError as exc:
        # An empty placeholder is nothing to convert, not a broken file; nor is one past the cost bounds.
        result.status = SKIPPED if exc.empty or exc.too_large else FAILED
        result.reason, result.line = exc.message, exc.line
        return result

    if model.is_multistage:
        result.reason = f"already multi-stage ({len(model.stages)} stages)"
        result.line = model.stages[1].from_.line
        if not explain:
            return result
    from dockrewrite.providers import detect

    detection = detect(model, context)
    result.language = detection.language
    result.signals = detection.signals
    if model.is_multistage:
        return result
    count = len(model.global_args) + sum(1 + len(stage.instructions) for stage in model.stages)
    if count > MAX_INSTRUCTIONS:
        # a conversion costs about half a millisecond an instruction, several times over with its checks
        result.status, result.line = SKIPPED, 1
        result.reason = f"{count} instructions: files with more than {MAX_INSTRUCTIONS} are not converted"
        return result
    if model.escape != "\\":
        result.status = SKIPPED
        result.line = next((n for n, line in enumerate(model.lines, 1) if "escape" in line.lower()), 1)
        result.reason = (
            f"`# escape={model.escape}` (a Windows-style escape character): the rewrites write "
            "backslash continuations; not supported"
        )
        return result
    odd = _control_after_escape(model)
    if odd is not None:
        result.status, result.line = SKIPPED, odd
        result.reason = (
            f"line {odd} ends in `{model.escape}` and a control or Unicode space character: Docker reads no "
            "continuation there, the rewrite (and dockerfile-parse, editors) would read one; remove the character"
        )
        return result
    clash = _stage_name_clash(model)
    if clash is not None:
        result.status, result.reason, result.line = SKIPPED, clash[1], clash[0]
        return result
    if detection.provider is None:
        result.status = SKIPPED
        result.line = model.stages[0].from_.line
        if detection.ambiguous:
            names = " and ".join(e.language for e in detection.candidates)
            result.reason = f"ambiguous: equal evidence for {names} ({'; '.join(detection.signals)})"
        elif detection.language == "unknown":
            result.reason = "no Go, Node or Python signals found (" + "; ".join(detection.signals) + ")"
        else:
            result.reason = f"language {detection.language} is not supported (" + "; ".join(detection.signals) + ")"
        return result
    if not detection.provider.supported:
        result.status = SKIPPED
        result.line = model.stages[0].from_.line
        result.reason = f"language {detection.language} is detected but not yet supported"
        return result
    try:
        plan = detection.provider.plan(model, context, options)
        from dockrewrite import features

        plan = features.apply(plan, model, context, options)
        from dockrewrite import targets

        plan = targets.apply(plan, model, context, options)
        from dockrewrite.features import images

        plan = images.apply(plan, model, options)
    except Skip as exc:
        result.status, result.reason, result.line = SKIPPED, exc.reason, exc.line
        return result
    except TemplateProblem as exc:  # a generated config file's template (nginx.conf.j2) may be the user's
        result.status, result.reason = FAILED, str(exc)
        return result

    from dockrewrite.contract import secret_warnings
    from dockrewrite.render import render
    from dockrewrite.safety import UnsafeOutput, check

    try:
        output = render(plan, options.templates)
    except TemplateProblem as exc:
        result.status, result.reason = FAILED, str(exc)
        return result
    result.runtime = plan.runtime
    result.loads = list(plan.loads)
    runtime_ops = [*plan.runtime_setup, *plan.artifacts, *plan.contract]
    result.intents = (*plan.intents, *intents.derived(runtime_ops, model.stages[-1]))
    result.secrets = secret_warnings(model.stages[0], model.global_args)
    result.warnings = list(plan.warnings) + [note("DR004", text) for _, text in result.secrets]
    try:
        check(model, output, frozenset(plan.rewritten))
    except UnsafeOutput as exc:
        result.status, result.reason = FAILED, f"safety check: {exc}"
        return result
    again = convert_text(output, context, options, path, explain=False)
    if again.status != UNCHANGED:
        result.status, result.reason = FAILED, "safety check: converting the output again would change it"
        return result
    result.status, result.output = CHANGED, output
    if options.notes and not options.dockerignore:
        _suggest_dockerignore(model, context, result)
    if options.notes:
        final = parse(output).stages[-1]  # the runtime stage as written, read once for both notes
        _low_port_note(model, final, result)
        _deployment_notes(path, context, final, options, result, model, plan.runtime)
    return result


def _deployment_notes(
    path: str, context: BuildContext, final, options: Options, result: Result, model, runtime: str
) -> None:
    """compose services, heroku.yml, Procfile and manifests that run this image with a toolchain command."""
    from pathlib import Path

    from dockrewrite import deployments
    from dockrewrite.runtimes import select

    dockerfile = Path(path)
    if path == "<stdin>" or not dockerfile.parent.is_dir():
        return
    workdir = final.last("WORKDIR")
    has_shell = select.runtime(runtime).shell
    before = model.stages[-1].last("WORKDIR")
    result.warnings += [
        note("DR801", text)
        for text in deployments.notes(
            dockerfile,
            context.root if context.known else None,
            workdir.args[0] if workdir is not None and workdir.args else "/",
            has_shell,
            "develop" in options.targets,
            original_workdir=before.args[0] if before is not None and before.args else None,
        )
    ]


def _low_port_note(model, final, result: Result) -> None:
    """A port below 1024 bound by the unprivileged user the rewrite added: fine on Docker, not everywhere."""
    if model.stages[-1].last("USER") is not None:
        return  # the original chose its user; nothing changed here
    user = final.last("USER")
    if user is None or not user.args or user.args[0].split(":")[0] in ("0", "root"):
        return
    ports = sorted({int(m.group(1)) for ins in final.find("EXPOSE") for a in ins.args if (m := re.match(r"(\d+)", a))})
    low = [p for p in ports if p < 1024]
    if low:
        result.warnings.append(
            note(
                "DR205",
                f"port {low[0]} is below 1024 and the runtime is not root: Docker 20.10+ lets any user bind it "
                "(net.ipv4.ip_unprivileged_port_start=0), but some Kubernetes and host-network setups do not; "
                "--keep-root keeps root",
            )
        )


def _suggest_dockerignore(model, context: BuildContext, result: Result) -> None:
    """When the whole context is copied and nothing keeps junk out of it, say what would."""
    from dockrewrite.features.dockerignore import dockerignore_for

    content = dockerignore_for(model, context, result.language or "", result.output, keep=result.loads)
    if content:
        entries = [line for line in content.splitlines() if line and not line.startswith("#")]
        result.warnings.append(
            note(
                "DR701",
                "no .dockerignore, and the Dockerfile copies the whole context: --dockerignore writes one with "
                + ", ".join(entries),
            )
        )


# Stage names the rewrites give; a single-stage file that already uses one for an image would change meaning.
OUR_STAGE_NAMES = frozenset({"builder", "runtime", "base", "develop", "production", "deps", "build"})


def _control_after_escape(model) -> int | None:
    """A line ending in the escape character and then \\x1c-\\x1f, which Go does not count as space and
    Python's str.strip() does: the rewrite would be read one way by Docker and another by dockerfile-parse."""
    odd = "\x1c-\x1f\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # also what Go trims as space
    pattern = re.compile(re.escape(model.escape) + rf"[ \t]*[{odd}][{odd} \t]*$")
    return next((n for n, line in enumerate(model.lines, 1) if pattern.search(line)), None)


def _stage_name_clash(model) -> tuple[int, str] | None:
    for ins in model.stages[0].instructions:
        ref = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
        if ref == "":
            # Docker reads an empty --from as the build context; the rewrites would treat it as an image
            return ins.line, f"{ins.keyword} --from= names no stage or image; drop the flag to copy from the context"
        if ref is not None and ref.isdigit():
            return ins.line, f"{ins.keyword} --from={ref} names a stage this single-stage file has not got before it"
        if ref is not None and ref.lower() in OUR_STAGE_NAMES:
            return ins.line, (
                f"{ins.keyword} --from={ref} names an image called {ref!r}, and the rewrite would name a stage "
                "that way; rename the image reference first"
            )
    last = model.stages[-1].instructions[-1:] or (model.stages[-1].from_,)
    if last[0].keyword != "RUN" and last[0].args and last[0].args[-1].endswith(model.escape):
        # `EXPOSE 80 \` at the end of the file: Docker keeps the escape in the value; a rewrite, where more
        # lines follow, cannot
        return last[0].line, f"the last instruction ({last[0].keyword}) ends in `{model.escape}` at the end of the file"
    return None
