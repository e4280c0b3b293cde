"""`--targets develop,test`: named stages for development and for running the tests at build time.

Both stages come off the stage that has the toolchain and every dependency (the `builder`), so
`docker build --target develop` gives a dev image and `docker build --target test` runs the tests;
the production runtime stays the last stage, the default target.
"""

from __future__ import annotations

import json
import re

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options, Step

KNOWN = ("develop", "test")
_NPM_PLACEHOLDER = re.compile(r"no test specified", re.IGNORECASE)
_DEV_REQUIREMENTS = (
    "requirements-dev.txt",
    "requirements.dev.txt",
    "dev-requirements.txt",
    "requirements_dev.txt",
    "requirements/dev.txt",
    "requirements/development.txt",
    "requirements/test.txt",
    "requirements-test.txt",
    "test-requirements.txt",
)


def stage_names(plan: BuildPlan) -> list[str]:
    names = []
    for stage in [plan.builder, *plan.extra_stages]:
        m = re.search(r"\bAS\s+(\S+)\s*$", stage[0].text, re.IGNORECASE)
        if m:
            names.append(m.group(1))
    return names


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    if not options.targets:
        return plan
    unknown = [t for t in options.targets if t not in KNOWN]
    if unknown:
        raise ValueError(f"unknown target {unknown[0]!r} (known: {', '.join(KNOWN)})")
    names = stage_names(plan)
    source = next((n for n in ("builder", "base") if n in names), None)
    if source is None:
        plan.warnings.append(
            "--targets: this rewrite has no builder stage with the toolchain and dev dependencies to develop "
            "or test in; no extra stages"
        )
        return plan
    dev_base = source
    if "develop" in options.targets and "develop" not in names:
        plan.extra_stages.append(_develop(plan, ctx, source))
        dev_base = "develop"
    elif "develop" in names:
        dev_base = "develop"
    if "test" in options.targets and "test" not in names:
        test = _test(plan, ctx, dev_base)
        if isinstance(test, str):
            plan.warnings.append(f"--targets test: {test}; no test stage")
        else:
            plan.extra_stages.append(test)
    return plan


def _contract_for_dev(plan: BuildPlan) -> list[Step]:
    """The runtime's ENV, EXPOSE and command, without the switch to an unprivileged user."""
    keep = ("ENV", "EXPOSE", "ENTRYPOINT", "CMD")
    return [Step(s.text) for s in plan.contract if s.text.split(None, 1)[0].upper() in keep]


def _python_packages(plan: BuildPlan, source: str) -> list[Step]:
    """With the prefix strategy the packages sit in /install; copy them where the interpreter looks."""
    if any(" /install /usr/local" in a.text for a in plan.artifacts):
        return [Step(f"COPY --from={source} /install /usr/local")]
    return []


def _develop(plan: BuildPlan, ctx: BuildContext, source: str) -> list[Step]:
    note = ("# Development image: docker build --target develop (compose: build.target: develop)",)
    steps = [Step(f"FROM {source} AS develop", note)]
    if plan.workdir:
        steps.append(Step(f"WORKDIR {plan.workdir}"))
    contract = _contract_for_dev(plan)
    if plan.language == "python":
        steps += _python_packages(plan, source)
        dev = next((f for f in _DEV_REQUIREMENTS if ctx.exists(f)), None)
        if dev:
            steps += [Step(f"COPY {dev} ./{dev}"), Step(f"RUN pip install --no-cache-dir -r {dev}")]
        steps.append(Step("COPY . ."))
    if plan.language == "node":
        steps.append(Step("ENV NODE_ENV=development"))
        if "dev" in _scripts(ctx):
            contract = [s for s in contract if s.text.split(None, 1)[0].upper() not in ("CMD", "ENTRYPOINT")]
            contract.append(Step(f"CMD {json.dumps([_manager(ctx), 'run', 'dev'])}"))
    return steps + contract


def _test(plan: BuildPlan, ctx: BuildContext, base: str) -> list[Step] | str:
    """The test stage, or why there is none."""
    note = ("# Runs the tests at build time: docker build --target test",)
    steps = [Step(f"FROM {base} AS test", note)]
    if plan.language == "go":
        return steps + [Step("RUN go test ./...")]
    if plan.language == "node":
        test = _scripts(ctx).get("test")
        if not test or _NPM_PLACEHOLDER.search(test):
            return "package.json has no test script"
        return steps + [Step(f"RUN {_manager(ctx)} test")]
    if plan.language == "python":
        if not _has_python_tests(ctx):
            return "no tests found (tests/, test_*.py or *_test.py)"
        if base != "develop":
            if plan.workdir:
                steps.append(Step(f"WORKDIR {plan.workdir}"))
            steps += _python_packages(plan, base)
            steps.append(Step("COPY . ."))
        if not any(ctx.exists(f) for f in _DEV_REQUIREMENTS):
            # no dev requirements name a test runner: bring one just for this stage
            return steps + [Step('RUN pip install --no-cache-dir "pytest>=7" && python -m pytest')]
        return steps + [Step("RUN python -m pytest")]
    return f"no test command is known for {plan.language}"


def _has_python_tests(ctx: BuildContext) -> bool:
    if ctx.is_dir("tests") or ctx.is_dir("test"):
        return True
    return any(p.rsplit("/", 1)[-1].startswith("test_") or p.endswith("_test.py") for p in ctx.walk((".py",), 500))


def _scripts(ctx: BuildContext) -> dict[str, str]:
    try:
        data = json.loads(ctx.read_text("package.json") or "{}")
    except ValueError:
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):  # `"scripts": ["start"]` names no script
        return {}
    return {k: v for k, v in scripts.items() if isinstance(v, str)}


def _manager(ctx: BuildContext) -> str:
    if ctx.exists("pnpm-lock.yaml"):
        return "pnpm"
    if ctx.exists("yarn.lock"):
        return "yarn"
    return "npm"
