"""The one POSIX shell lexer: words (quoting and expansions kept apart), commands and the operators between them."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field


class Unreadable(Exception):
    """Text the lexer (or a reader built on it) cannot read with certainty."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass
class Part:
    kind: str  # "lit", "var" (text inside ${} or the name), "cmd" (text inside $() or ``), "arith"
    text: str
    quoted: bool
    raw: str = ""  # the source of a var, cmd or arith part: `${A:-x}`, `$(date)`
    offset: int = -1  # where a cmd part's text starts in the lexed text (-1: not a slice of it)


@dataclass
class Word:
    parts: list[Part]
    raw: str
    start: int = 0

    @property
    def keyword(self) -> str | None:
        """The word when it is plain unquoted text (how shell keywords are recognised)."""
        if len(self.parts) == 1 and self.parts[0].kind == "lit" and not self.parts[0].quoted:
            return self.parts[0].text
        return None

    @property
    def value(self) -> str:
        """The word with its quotes removed and its expansions left as written."""
        return "".join(p.text if p.kind == "lit" else p.raw for p in self.parts)


@dataclass
class Command:
    words: list[Word]
    redirects: list[tuple[str, Word | None]]
    line: int
    before: str = ""  # operator before it: "", "\n", ";", "&&", "||", "|", "&", ";;", "(", ")"
    after: str = ""
    paren: str = ""  # "(" or ")" for a subshell or case-pattern parenthesis
    end_line: int = 0
    # text[start:end] runs from the end of the operator before it to the operator after it, blanks
    # included, so a caller can replace a command in place
    start: int = 0
    end: int = 0
    bodies: list[tuple[int, int]] = field(default_factory=list)  # text[a:b] of each here-document it reads


OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&")
REDIRECTS = ("&>>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">")


class Lexer:
    """strict: raise Unreadable on unterminated quotes, expansions and here-documents; otherwise read them
    to the end of the text (a RUN line is edited as best it can be, a build script is trusted only when read)."""

    def __init__(self, text: str, strict: bool = True):
        self.s = text
        self.n = len(text)
        self.strict = strict
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]

    def line_at(self, index: int) -> int:
        return bisect.bisect_left(self._newlines, index) + 1

    def _fail(self, reason: str, index: int | None = None) -> None:
        if self.strict:
            raise Unreadable(reason, None if index is None else self.line_at(index))

    def lex(self) -> list[Command]:
        s, n = self.s, self.n
        cmds: list[Command] = []
        words: list[Word] = []
        redirects: list[tuple[str, Word | None]] = []
        start = 0
        span = 0  # end of the last operator
        pending = ""
        heredocs: list[tuple[str, bool, list[tuple[int, int]]]] = []
        bodies: list[tuple[int, int]] = []
        last_word_end = -1
        i = 0

        def flush(op: str) -> None:
            nonlocal words, redirects, pending, bodies
            if words or redirects:
                line, end_line = self.line_at(start), self.line_at(i)
                cmd = Command(words, redirects, line, pending, op, end_line=end_line, start=span, end=i, bodies=bodies)
                cmds.append(cmd)
                pending = op
            elif not (op == "\n" and pending in ("&&", "||", "|")):
                pending = op  # a newline after && || | continues the list
            words, redirects, bodies = [], [], []

        while i < n:
            c = s[i]
            if c in " \t\r":
                i += 1
                continue
            if c == "\\" and i + 1 < n and s[i + 1] == "\n":
                i += 2
                continue
            if c == "#":
                end = s.find("\n", i)
                i = n if end < 0 else end
                continue
            if c == "\n":
                flush("\n")
                i += 1
                for delim, strip, into in heredocs:
                    first = last = i
                    while i < n:
                        end = s.find("\n", i)
                        body = s[i : n if end < 0 else end].rstrip("\r")
                        last, i = i, n if end < 0 else end + 1
                        if (body.lstrip("\t") if strip else body) == delim:
                            break
                        last = i
                    into.append((first, last))
                heredocs = []
                span = i
                continue
            if c in "<>" or (c == "&" and s.startswith("&>", i)):
                if words and last_word_end == i and re.fullmatch(r"\d+|\{\w+\}", words[-1].raw):
                    words.pop()  # an fd number: `2>/dev/null`
                if not words and not redirects:
                    start = i
                op = next(o for o in REDIRECTS if s.startswith(o, i))
                i += len(op)
                while i < n and s[i] in " \t":
                    i += 1
                target = None
                if i < n and s[i] not in "\n;&|()<>":
                    target, i = self._word(i)
                if op in ("<<", "<<-"):
                    if target is None:
                        self._fail("a here-document without a delimiter", i)
                    else:
                        heredocs.append(("".join(p.text for p in target.parts), op == "<<-", bodies))
                redirects.append((op, target))
                continue
            if c in "()":
                flush(c)
                cmds.append(Command([], [], self.line_at(i), pending, "", paren=c, start=i, end=i + 1))
                pending = c
                i += 1
                span = i
                continue
            op = next((o for o in OPERATORS if s.startswith(o, i)), None)
            if op is not None:
                flush(op)
                i += len(op)
                span = i
                continue
            if not words and not redirects:
                start = i
            word, i = self._word(i)
            words.append(word)
            last_word_end = i
        flush("\n")
        if heredocs:
            self._fail("an unterminated here-document")
        return cmds

    def _word(self, i: int) -> tuple[Word, int]:
        s, n = self.s, self.n
        begin = i
        parts: list[Part] = []

        def lit(text: str, quoted: bool) -> None:
            if parts and parts[-1].kind == "lit" and parts[-1].quoted == quoted:
                parts[-1].text += text
            else:
                parts.append(Part("lit", text, quoted))

        while i < n:
            c = s[i]
            if c in " \t\r\n;&|()<>":
                break
            if c == "\\":
                if i + 1 < n and s[i + 1] == "\n":
                    i += 2
                    continue
                if i + 1 < n:
                    lit(s[i + 1], True)
                i += 2
                continue
            if c == "'":
                end = s.find("'", i + 1)
                if end < 0:
                    self._fail("an unterminated single quote", i)
                    end = n
                lit(s[i + 1 : end], True)
                i = end + 1
                continue
            if c == '"':
                i += 1
                while True:
                    if i >= n:
                        self._fail("an unterminated double quote", begin)
                        break
                    d = s[i]
                    if d == '"':
                        i += 1
                        break
                    if d == "\\" and i + 1 < n:
                        if s[i + 1] == "\n":
                            i += 2
                        elif s[i + 1] in '$`"\\':
                            lit(s[i + 1], True)
                            i += 2
                        else:
                            lit("\\", True)
                            i += 1
                        continue
                    if d == "$" or d == "`":
                        part, i = self._dollar(i, quoted=True)
                        if part.kind == "lit":
                            lit(part.text, True)
                        else:
                            parts.append(part)
                        continue
                    lit(d, True)
                    i += 1
                if not parts:
                    lit("", True)
                continue
            if c == "$" or c == "`":
                part, i = self._dollar(i, quoted=False)
                if part.kind == "lit":
                    lit(part.text, part.quoted)
                else:
                    parts.append(part)
                continue
            lit(c, False)
            i += 1
        i = min(i, n)
        return Word(parts, s[begin:i], begin), i

    def _dollar(self, i: int, quoted: bool) -> tuple[Part, int]:
        s, n = self.s, self.n
        if s[i] == "`":
            j = i + 1
            while j < n and s[j] != "`":
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                self._fail("an unterminated backquote", i)
                j = n
            inner = s[i + 1 : j]
            offset = i + 1 if "\\`" not in inner else -1
            return Part("cmd", inner.replace("\\`", "`"), quoted, s[i : j + 1], offset), j + 1
        nxt = s[i + 1] if i + 1 < n else ""
        if s.startswith("$((", i):
            end = self._match(i + 1, "(", ")")
            return Part("arith", s[i + 3 : end - 1], quoted, s[i : end + 1]), end + 1
        if nxt == "(":
            end = self._match(i + 1, "(", ")")
            return Part("cmd", s[i + 2 : end], quoted, s[i : end + 1], i + 2), end + 1
        if nxt == "{":
            end = self._match(i + 1, "{", "}")
            return Part("var", s[i + 2 : end], quoted, s[i : end + 1]), end + 1
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]", s[i + 1 :])
        if m:
            return Part("var", m.group(0), quoted, s[i : i + 1 + m.end()]), i + 1 + m.end()
        if nxt == "'" and not quoted:
            end = s.find("'", i + 2)
            if end < 0:
                self._fail("an unterminated $'…' string", i)
                end = n
            return Part("var", s[i : end + 1], quoted, s[i : end + 1]), end + 1  # ANSI-C quoting: not read
        return Part("lit", "$", quoted), i + 1

    def _match(self, i: int, open_: str, close: str) -> int:
        """Index of the bracket that closes s[i] (== open_), skipping quoted text; n when none does (not strict)."""
        s, n = self.s, self.n
        depth, j = 0, i
        while j < n:
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'" and open_ == "(":
                end = s.find("'", j + 1)
                j = n if end < 0 else end + 1
                continue
            if c == '"':
                j += 1
                while j < n and s[j] != '"':
                    j += 2 if s[j] == "\\" else 1
                j += 1
                continue
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        self._fail(f"an unterminated ${open_}", i)
        return n


def commands(text: str, strict: bool = True) -> list[Command]:
    """The commands of shell text in order, subshell and case parentheses as Commands of their own."""
    return Lexer(text, strict).lex()
