"""verify's comparison, without an engine: which differences a rewrite means, and what output counts as the same."""

from __future__ import annotations

from dockrewrite.verify import ImageFacts, compare, without_npm_banner


def _facts(command: list[str]) -> ImageFacts:
    return ImageFacts("sha256:x", 1, 1, command, {}, [], "/app", "", {}, None, "", [])


def test_a_start_script_run_directly_is_intended_in_either_form():
    notes = ["`yarn start` (line 7) runs `node dist/index.js` directly: no package manager in front of node"]
    for original in (["yarn", "start"], ["/bin/sh", "-c", "yarn start"]):
        diffs = compare(_facts(original), _facts(["node", "dist/index.js"]), warnings=notes)
        command = next(d for d in diffs if d.field == "command")
        assert command.intended, original


def test_a_changed_program_is_not_intended():
    diffs = compare(_facts(["/bin/sh", "-c", "yarn start"]), _facts(["node", "other.js"]), warnings=[])
    assert not next(d for d in diffs if d.field == "command").intended


def test_package_manager_banners_are_not_the_apps_output():
    npm = "\n> app@1.0.0 start\n> node server.js\n\nlistening on 3000\n"
    yarn = "yarn run v1.22.22\n$ node server.js\nlistening on 3000\nDone in 0.52s.\n"
    assert without_npm_banner(npm) == without_npm_banner(yarn) == "listening on 3000\n"
