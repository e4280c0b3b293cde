"""Checks every rewrite must pass before anyone sees it; a failure turns the result into `failed`."""

from __future__ import annotations

import re

from dockrewrite.model import Command, DockerfileModel
from dockrewrite.parse import ParseError, parse, reparse_check


class UnsafeOutput(Exception):
    pass


def check(original: DockerfileModel, output: str, rewritten: frozenset[str] = frozenset()) -> DockerfileModel:
    try:
        model = parse(output)
    except ParseError as exc:
        raise UnsafeOutput(f"BuildKit's parser rejects the output (line {exc.line}): {exc.message}") from None
    problem = reparse_check(output, model)
    if problem:
        raise UnsafeOutput(problem)
    if len(model.stages) < 2:
        raise UnsafeOutput("the output has fewer than two stages")
    names: set[str] = set()
    for index, stage in enumerate(model.stages):
        for ins in stage.instructions:
            ref = ins.flag("from")
            if ins.keyword == "COPY" and ref is not None and ref not in names and not _external(ref, index):
                raise UnsafeOutput(f"COPY --from={ref} (line {ins.line}) names no earlier stage")
        if stage.name:
            names.add(stage.name)
        names.add(str(index))
    _contract(original, model, rewritten)
    return model


def _external(ref: str, index: int) -> bool:
    # `COPY --from=image:tag` pulls from an image; only bare names can refer to stages.
    return bool(re.search(r"[:/@.]", ref)) or (ref.isdigit() and int(ref) < index)


def _contract(original: DockerfileModel, output: DockerfileModel, rewritten: frozenset[str]) -> None:
    before, after = original.stages[-1], output.stages[-1]
    for keyword in ("EXPOSE", "LABEL", "VOLUME", "STOPSIGNAL", "MAINTAINER"):
        want = [" ".join(i.args) for i in before.find(keyword)]
        got = [" ".join(i.args) for i in after.find(keyword)]
        if keyword in ("STOPSIGNAL",):
            want, got = want[-1:], got[-1:]
        if want != got:
            raise UnsafeOutput(f"the final stage lost or changed {keyword}: {want} became {got}")
    keys_before = {i.args[k] for i in before.find("ENV") for k in range(0, len(i.args), 2)}
    keys_after = {i.args[k] for i in after.find("ENV") for k in range(0, len(i.args), 2)}
    if bool(before.find("HEALTHCHECK")) != bool(after.find("HEALTHCHECK")):
        raise UnsafeOutput("the final stage lost its HEALTHCHECK")
    for keyword in ("CMD", "ENTRYPOINT"):
        want, got = before.last(keyword), after.last(keyword)
        cleared = want is None and got is not None and keyword in rewritten and Command.of(got).argv == ()
        if (want is None) != (got is None) and not cleared:  # `ENTRYPOINT []` undoes a runtime image's own
            raise UnsafeOutput(f"the final stage lost or gained {keyword}")
        if want is not None and got is not None:
            a, b = Command.of(want), Command.of(got)
            if keyword not in rewritten and a.exec_form and b.exec_form and len(a.argv) != len(b.argv):
                raise UnsafeOutput(f"{keyword} changed its arguments: {list(a.argv)} became {list(b.argv)}")
    lost = {k for k in keys_before - keys_after if not k.startswith(("GO", "CGO_", "CC", "CXX"))}
    if lost:
        raise UnsafeOutput(f"the final stage lost ENV {', '.join(sorted(lost))}")
    wd_before = [i.args[0] for i in before.find("WORKDIR")]
    if wd_before and not after.find("WORKDIR"):
        raise UnsafeOutput("the final stage lost its WORKDIR")
