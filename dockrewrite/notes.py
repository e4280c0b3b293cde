"""Notes with stable codes: the table users read in docs/notes.md and filter with `ignore` / `--ignore`.

A note is a `str` (every output mode prints its text as before) that also carries its code. Codes never
change meaning; a new kind of note gets a new code. Prefixes select groups (`DR7` is every feature note).
DR001–DR003 are the outcomes of a file in CI reports (convertible, failed, skipped) and are not notes;
DR004, a credential-like value, is both a CI finding and a note.
"""

from __future__ import annotations

# code -> (group, what the note tells)
CODES: dict[str, tuple[str, str]] = {
    "DR004": ("security", "an ENV or ARG value that reads like a credential stays in the image"),
    "DR010": ("files", "a file the run deleted, or would delete, beside the rewrite"),
    "DR011": ("files", "something about writing the file (attributes, links) the user should know"),
    "DR020": ("builder", "a builder-pattern pair merged: the builder stage, and what the build script needs now"),
    "DR021": ("builder", "--build-arg values the build script passed, which the merged build needs too"),
    "DR022": ("builder", "other files that run the same builder steps"),
    "DR101": ("command", "the command runs directly: exec form, a start script resolved to what it runs"),
    "DR102": ("command", "a program compiled or watched at every start is built once in the builder"),
    "DR103": ("command", "the command comes from outside the Dockerfile (compose, docker run, the base image)"),
    "DR104": ("command", "something the original builds or sources that the rewrite does not check or run"),
    "DR105": ("build", "how the builder builds the program (static flags, generated code, type checks)"),
    "DR106": ("build", "where the packages are installed in the builder and copied from (the Python strategy)"),
    "DR107": ("command", "the command still runs through a package manager or tool, and why"),
    "DR201": ("user", "the runtime runs as a non-root user the original did not name"),
    "DR202": ("user", "the original's USER maps to ids the runtime image has"),
    "DR203": ("user", "the runtime keeps root, and why"),
    "DR204": ("user", "folders made writable for the runtime user, or a write that cannot be made safe"),
    "DR205": ("user", "a port below 1024 bound by a non-root user"),
    "DR301": ("files", "env or config files the app loads at start, carried with their values baked in"),
    "DR302": ("files", "files the app reads at run time carried into the runtime stage"),
    "DR303": ("files", "the builder copies only what the build needs instead of the whole context"),
    "DR304": ("files", "files of the original left out of the runtime"),
    "DR401": ("install", "the install follows the lockfile (npm ci, --frozen-lockfile, --locked)"),
    "DR402": ("install", "the lockfile does not agree with the manifest: the resolving install stays"),
    "DR403": ("install", "no lockfile: builds are not reproducible"),
    "DR404": ("install", "dev dependencies kept in the runtime because the command needs them"),
    "DR405": ("install", "imports and requirements disagree (missing or unused packages)"),
    "DR406": ("install", "an install flag that no longer exists becomes its current form"),
    "DR407": ("install", "the install gets files the original's COPY left out"),
    "DR408": ("install", "a lifecycle script the production install skips"),
    "DR409": ("install", "the install leaves the dev dependencies out of the runtime"),
    "DR501": ("interpreter", "the interpreter or toolchain version the builder and runtime use"),
    "DR601": ("runtime", "what the runtime image lacks (shell, tools, users) and how the rewrite copes"),
    "DR602": ("runtime", "packages and shared libraries the runtime installs"),
    "DR603": ("runtime", "ENV the rewrite adds or changes in the runtime"),
    "DR604": ("runtime", "a static site built by Node and served by nginx"),
    "DR605": ("runtime", "what kept auto off a smaller runtime base: the first thing the program needs that it lacks"),
    "DR701": ("feature", "a .dockerignore would keep junk out of the context"),
    "DR702": ("feature", "cache mounts"),
    "DR703": ("feature", "bind mounts"),
    "DR704": ("feature", "pinned image versions"),
    "DR705": ("feature", "the # syntax line"),
    "DR706": ("feature", "--targets develop and test stages"),
    "DR801": ("deploy", "compose, Procfile, heroku.yml or manifests that run the image differently"),
}


class Note(str):
    """A note's text, with its code in `.code`."""

    code: str

    def __new__(cls, code: str, text: str) -> Note:
        if code not in CODES:
            raise ValueError(f"unknown note code {code}")
        made = super().__new__(cls, text)
        made.code = code
        return made

    def __reduce__(self):
        # worker processes send results back pickled; keep the code
        return (Note, (self.code, str(self)))


def note(code: str, text: str) -> Note:
    return Note(code, text)


def code_of(text: str) -> str | None:
    return getattr(text, "code", None)


def selector_problem(selector: str) -> str | None:
    """Why an `ignore` entry selects no code, or None: a whole code or a prefix of one (`DR7`)."""
    if not any(code.startswith(selector) for code in CODES):
        return f"{selector!r} is no note code or prefix of one (see docs/notes.md)"
    return None


def ignored(text: str, selectors: tuple[str, ...]) -> bool:
    code = code_of(text)
    return code is not None and any(code.startswith(s) for s in selectors)


def table_markdown() -> str:
    """The table docs/notes.md holds (a test keeps the two the same)."""
    rows = ["| code | group | the note tells |", "|---|---|---|"]
    rows += [f"| {code} | {group} | {what} |" for code, (group, what) in CODES.items()]
    return "\n".join(rows) + "\n"
