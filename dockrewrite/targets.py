"""`--targets develop,test`: named stages for development and for running the tests at build time.

Both stages come off the stage that has the toolchain and every dependency (the `builder`), so
`docker build --target develop` gives a dev image and `docker build --target test` runs the tests;
the production runtime stays the last stage, the default target.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import Copy, Env, From, Op, Run, Verbatim, Workdir, keyword
from dockrewrite.plan import BuildPlan, Options

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
        if stage and isinstance(stage[0], From) and stage[0].name:
            names.append(stage[0].name)
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
            note(
                "DR706",
                "--targets: this rewrite has no builder stage with the toolchain and dev dependencies to develop "
                "or test in; no extra stages",
            )
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
            plan.warnings.append(note("DR706", f"--targets test: {test}; no test stage"))
        else:
            plan.extra_stages.append(test)
    return plan


def _contract_for_dev(plan: BuildPlan) -> list[Op]:
    """The runtime's ENV, EXPOSE and command, without the switch to an unprivileged user."""
    keep = ("ENV", "EXPOSE", "ENTRYPOINT", "CMD")
    return [replace(s, comments=()) for s in plan.contract if keyword(s) in keep]


def _python_packages(plan: BuildPlan, source: str) -> list[Op]:
    """With the prefix strategy the packages sit in /install; copy them where the interpreter looks."""
    if any(isinstance(a, Copy) and a.sources == ["/install"] and a.dest == "/usr/local" for a in plan.artifacts):
        return [Copy(flags=(f"--from={source}",), args="/install /usr/local")]
    return []


def _develop(plan: BuildPlan, ctx: BuildContext, source: str) -> list[Op]:
    note = ("# Development image: docker build --target develop (compose: build.target: develop)",)
    steps: list[Op] = [From(image=source, name="develop", comments=note)]
    if plan.workdir:
        steps.append(Workdir(path=plan.workdir))
    contract = _contract_for_dev(plan)
    if plan.language == "python":
        steps += _python_packages(plan, source)
        dev = next((f for f in _DEV_REQUIREMENTS if ctx.exists(f)), None)
        if dev:
            steps += [Copy(args=f"{dev} ./{dev}"), Run(body=f"pip install --no-cache-dir -r {dev}")]
        steps.append(Copy(args=". ."))
    if plan.language == "node":
        steps.append(Env(body="NODE_ENV=development"))
        if "dev" in _scripts(ctx):
            contract = [s for s in contract if keyword(s) not in ("CMD", "ENTRYPOINT")]
            contract.append(Verbatim(line=f"CMD {json.dumps([_manager(ctx), 'run', 'dev'])}"))
    return steps + contract


def _test(plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str:
    """The test stage, or why there is none."""
    note = ("# Runs the tests at build time: docker build --target test",)
    steps: list[Op] = [From(image=base, name="test", comments=note)]
    if plan.language == "go":
        return steps + [Run(body="go test ./...")]
    if plan.language == "node":
        test = _scripts(ctx).get("test")
        if not test or _NPM_PLACEHOLDER.search(test):
            return "package.json has no test script"
        return steps + [Run(body=f"{_manager(ctx)} test")]
    if plan.language == "python":
        if not _has_python_tests(ctx):
            return "no tests found (tests/, test_*.py or *_test.py)"
        if base != "develop":
            if plan.workdir:
                steps.append(Workdir(path=plan.workdir))
            steps += _python_packages(plan, base)
            steps.append(Copy(args=". ."))
        if not any(ctx.exists(f) for f in _DEV_REQUIREMENTS):
            # no dev requirements name a test runner: bring one just for this stage
            return steps + [Run(body='pip install --no-cache-dir "pytest>=7" && python -m pytest')]
        return steps + [Run(body="python -m pytest")]
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
