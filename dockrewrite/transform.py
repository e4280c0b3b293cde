"""convert_text: the pure core. Text and a build context in, a Result out; no writes, no printing."""

from __future__ import annotations

import re

from dockrewrite.context import BuildContext
from dockrewrite.parse import ParseError, parse
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, Result, Skip

SKIP_MARK = re.compile(r"^\s*#\s*dockrewrite\s*:\s*skip\b", re.IGNORECASE | re.MULTILINE)


def convert_text(text: str, context: BuildContext, options: Options, path: str = "<stdin>") -> Result:
    result = Result(path=path, status=UNCHANGED, original=text)
    m = SKIP_MARK.search(text)
    if m:
        result.status, result.reason = SKIPPED, "opted out with a `# dockrewrite: skip` comment"
        result.line = text.count("\n", 0, m.start()) + 1
        return result
    try:
        model = parse(text)
    except ParseError as exc:
        # An empty placeholder is nothing to convert, not a broken file.
        result.status = SKIPPED if exc.empty else FAILED
        result.reason, result.line = exc.message, exc.line
        return result

    from dockrewrite.providers import detect

    detection = detect(model, context)
    result.language = detection.language
    result.signals = detection.signals
    if model.is_multistage:
        result.reason = f"already multi-stage ({len(model.stages)} stages)"
        result.line = model.stages[1].from_.line
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
    except Skip as exc:
        result.status, result.reason, result.line = SKIPPED, exc.reason, exc.line
        return result

    from dockrewrite.render import render
    from dockrewrite.safety import UnsafeOutput, check

    output = render(plan)
    result.runtime = plan.runtime
    result.warnings = list(plan.warnings)
    try:
        check(model, output, frozenset(plan.rewritten))
    except UnsafeOutput as exc:
        result.status, result.reason = FAILED, f"safety check: {exc}"
        return result
    again = convert_text(output, context, options, path)
    if again.status != UNCHANGED:
        result.status, result.reason = FAILED, "safety check: converting the output again would change it"
        return result
    result.status, result.output = CHANGED, output
    return result
