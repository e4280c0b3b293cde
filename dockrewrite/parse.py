"""Text -> DockerfileModel.

Instruction boundaries come from BuildKit's own parser (PyPI `dockerfile`), so heredocs, blank lines
inside continuations, comments inside continuations and `# escape=` are read exactly as Docker reads
them. dockerfile-parse is used only to check that our output also reads cleanly for the many tools
built on it (see DESIGN.md for the cases where it disagrees with Docker).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

from dockrewrite.model import DIRECTIVE_RE, KNOWN_KEYWORDS, DockerfileModel, Instruction, Stage

# What BuildKit trims (Go's unicode.IsSpace). Python's str.strip() also takes \x1c-\x1f, which Docker keeps as
# part of a value: an `ENV A=x\x1c` lost its last character.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


class ParseError(Exception):
    def __init__(self, line: int, message: str, empty: bool = False, too_large: bool = False):
        super().__init__(message)
        self.line = line
        self.message = message
        self.empty = empty
        self.too_large = too_large  # read, but past the cost bounds: not converted rather than broken


@lru_cache(maxsize=64)
def parse(text: str) -> DockerfileModel:
    """The model of a Dockerfile's text (cached: the safety checks read each output more than once)."""
    import dockerfile  # BuildKit's parser; imported here so `--help` stays fast

    lines = text.split("\n")
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        raise ParseError(1, "no instructions (empty file or only comments)", empty=True)
    _check_cost(lines, MAX_PARSED_INSTRUCTIONS)
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        raise ParseError(_line_of(str(exc), lines), f"Docker cannot parse this file: {_unquoted(str(exc))}") from None
    except UnicodeDecodeError:
        # BuildKit's parser splits `HEALTHCHECK <word>` at bytes 0x85/0xa0 as if they were spaces, also inside a
        # character (à, NEL): what it returns is not UTF-8. Such a HEALTHCHECK has no CMD, which Docker rejects.
        line = next((n for n, t in enumerate(lines, 1) if t.strip().upper().startswith("HEALTHCHECK")), 1)
        raise ParseError(line, "Docker cannot parse this file: HEALTHCHECK without CMD or NONE") from None

    escape = "\\"
    header: list[str] = []
    first = commands[0].start_line if commands else len(lines) + 1
    for line in lines[: first - 1]:
        if line.strip():
            header.append(line.rstrip())
        m = re.match(r"^#\s*escape\s*=\s*(\S)", line.strip(), re.IGNORECASE)
        if m and all(DIRECTIVE_RE.match(h) for h in header):
            escape = m.group(1)

    instructions: list[Instruction] = []
    prev_end = first - 1
    for cmd in commands:
        if not cmd.cmd:
            continue  # a dangling continuation with nothing after it: Docker reads no instruction there
        keyword = cmd.cmd.upper()
        if keyword not in KNOWN_KEYWORDS:
            raise ParseError(cmd.start_line, f"unknown instruction {shown_keyword(cmd.cmd)}")
        comments = tuple(
            lines[n].strip() for n in range(prev_end, cmd.start_line - 1) if lines[n].lstrip().startswith("#")
        )
        raw = lines[cmd.start_line - 1 : cmd.end_line]
        end_line = cmd.end_line
        if not cmd.heredocs:
            # `RUN a && \` followed by nothing but comments and blank lines continues to the end of the file:
            # those comments are the file's footer, not part of the command (whose dangling escape goes below)
            while len(raw) > 1 and (not raw[-1].strip() or raw[-1].lstrip().startswith("#")):
                raw.pop()
                end_line -= 1
            # ` \` on lines of its own before the keyword carries nothing, nor do comments among them (Docker drops
            # comment lines inside a continuation): they go before the instruction, which starts at its keyword
            while len(raw) > 1 and (raw[0].strip(GO_SPACE) in (escape, "") or raw[0].lstrip().startswith("#")):
                if raw[0].lstrip().startswith("#"):
                    comments += (raw[0].strip(),)
                raw.pop(0)
        if len(raw) > 1 and not cmd.heredocs:
            # Docker skips blank lines inside a continuation; other parsers end the instruction there.
            raw = [raw[0]] + [r for r in raw[1:] if r.strip(GO_SPACE)]
        text_ = "\n".join(r.rstrip(GO_SPACE) for r in raw).strip(GO_SPACE)
        # A continuation before the keyword itself (` \` on a line of its own) carries nothing.
        text_ = re.sub(r"^(?:" + re.escape(escape) + r"[ \t]*\n[ \t]*)+", "", text_)
        if not cmd.heredocs and text_.endswith(escape) and not text_.endswith(escape * 2):
            # a continuation into the end of the file (or into blank lines) continues into nothing
            text_ = text_[: -len(escape)].rstrip(GO_SPACE)
        if text_[: len(cmd.cmd)].upper() == keyword:
            # What we write uses conventional upper-case keywords and one space after them.
            rest = text_[len(cmd.cmd) :]
            text_ = keyword + (" " + rest.lstrip(" \t") if rest[:1] in (" ", "\t") else rest)
        instructions.append(
            Instruction(
                keyword=keyword,
                text=text_,
                flags=tuple(cmd.flags),
                args=tuple(cmd.value),
                json=cmd.json,
                line=cmd.start_line,
                end_line=end_line,
                comments=comments,
                sub_keyword=cmd.sub_cmd.upper() if cmd.sub_cmd else None,
                heredocs=tuple(h.content for h in cmd.heredocs),
            )
        )
        prev_end = end_line
    footer = tuple(line.strip() for line in lines[prev_end:] if line.lstrip().startswith("#"))

    global_args: list[Instruction] = []
    stages: list[Stage] = []
    current: Instruction | None = None
    body: list[Instruction] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            if current is not None:
                stages.append(_stage(current, body))
            current, body = ins, []
        elif current is None:
            if ins.keyword != "ARG":
                raise ParseError(ins.line, f"{ins.keyword} before the first FROM (only ARG may come first)")
            global_args.append(ins)
        else:
            body.append(ins)
    if current is None:
        raise ParseError(instructions[-1].line if instructions else 1, "no FROM instruction")
    stages.append(_stage(current, body))
    return DockerfileModel(tuple(header), tuple(global_args), tuple(stages), footer, escape, tuple(lines))


# Bounds far above any real Dockerfile (the largest seen: a few hundred instructions, continuations of a few
# hundred lines) that keep a 1 MiB file to seconds: BuildKit's parser takes quadratic time in the length of one
# continuation (150,000 continued lines: about a minute), and a conversion costs about half a millisecond per
# instruction (87,000 ENV lines: 46 s). A rewrite may hold each instruction a few times (builder and runtime),
# so any text parses up to MAX_PARSED_INSTRUCTIONS (more is a ParseError) while a single-stage input converts
# up to MAX_INSTRUCTIONS (more is skipped, in transform).
MAX_CONTINUED_LINES = 5_000
MAX_INSTRUCTIONS = 10_000
MAX_PARSED_INSTRUCTIONS = 50_000


def _check_cost(lines: list[str], max_instructions: int) -> None:
    """ParseError when the text is too large to read in reasonable time; linear in the text's length."""
    run = instructions = 0
    for n, line in enumerate(lines, 1):
        stripped = line.rstrip()
        if stripped.endswith(("\\", "`")):
            run += 1
            if run > MAX_CONTINUED_LINES:
                raise ParseError(
                    n - run + 1,
                    f"an instruction continues over more than {MAX_CONTINUED_LINES} lines; not read",
                    too_large=True,
                )
        elif stripped and not stripped.lstrip().startswith("#"):
            if run == 0:
                instructions += 1
                if instructions > max_instructions:
                    raise ParseError(n, f"more than {max_instructions} instructions; not read", too_large=True)
            run = 0


def _stage(from_: Instruction, body: list[Instruction]) -> Stage:
    args = list(from_.args)
    if not args or not args[0]:
        raise ParseError(from_.line, "FROM without an image")
    name = None
    if len(args) == 3 and args[1].upper() == "AS":
        name = args[2]
    elif len(args) != 1:
        raise ParseError(from_.line, f"FROM expects 'image [AS name]', got {len(args)} words")
    return Stage(from_, args[0], name, from_.flag("platform"), tuple(body))


def shown_keyword(word: str) -> str:
    """What an error may echo of a line that is not an instruction: a short word (a typo such as RUNN), never
    more. A file that is not a Dockerfile at all (a planted link to a credentials file, a .env) must not
    reach a public CI log through our messages."""
    return repr(word) if re.fullmatch(r"[A-Za-z]{1,16}", word) else "(a line that does not start with a keyword)"


def _unquoted(message: str) -> str:
    """BuildKit's message with the file's own words (quoted in it) left out."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)[:200]


def _line_of(message: str, lines: list[str]) -> int:
    m = re.search(r"line (\d+)", message)
    if m:
        return int(m.group(1))
    if "heredoc" in message:
        for n, line in enumerate(lines, 1):
            if "<<" in line:
                return n
    return 1


def reparse_check(text: str, model: DockerfileModel) -> str | None:
    """Read text with dockerfile-parse too; return a problem, or None when it agrees with BuildKit's reading
    (the model)."""
    from dockerfile_parse import DockerfileParser

    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        structure = parser.structure
    except Exception as exc:  # the library raises bare exceptions of several kinds
        return f"dockerfile-parse rejects the output: {exc}"
    instructions = [*model.global_args, *(i for stage in model.stages for i in (stage.from_, *stage.instructions))]
    if any(i.heredocs for i in instructions):
        # dockerfile-parse splits heredocs into fake instructions; compare stages only.
        theirs = sum(1 for s in structure if s["instruction"] == "FROM")
        return None if len(model.stages) == theirs else "dockerfile-parse sees a different number of stages"
    ours = [i.keyword for i in instructions]
    theirs_kw = [s["instruction"].upper() for s in structure if s["instruction"] != "COMMENT"]
    if ours != theirs_kw:
        return "dockerfile-parse reads the output differently from BuildKit"
    return None
