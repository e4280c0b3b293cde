"""Makefile targets whose recipes run docker cp, with the make variables they use expanded."""

from __future__ import annotations

import re
from pathlib import Path

from dockrewrite.shell.lexer import Command, Lexer

DOCKER_CP = re.compile(r"(?:docker|podman)[\w.${}()\"':-]*\s+(?:-\S+\s+)*(?:container\s+)?cp\b", re.IGNORECASE)


def make_targets(text: str, folder: Path) -> list[tuple[str, int, list[list[Command]], dict[str, str], str | None]]:
    """Makefile targets whose recipe runs docker cp: (name, line, one unit per recipe line, make names, problem)."""
    lines = text.split("\n")
    variables: dict[str, str | None] = {"CURDIR": str(folder)}
    opaque: dict[str, str] = {}
    out = []
    depth = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i
        while line.endswith("\\") and i + 1 < len(lines) and not lines[i + 1].startswith("\t"):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        i += 1
        stripped = line.strip()
        if line.startswith("\t") or not stripped or stripped.startswith("#"):
            continue
        if re.match(r"(ifeq|ifneq|ifdef|ifndef)\b", stripped):
            depth += 1
            continue
        if stripped == "endif" or stripped.startswith("endif "):
            depth = max(0, depth - 1)
            continue
        if stripped.startswith("define "):
            while i < len(lines) and lines[i].strip() != "endef":
                i += 1
            i += 1
            continue
        m = re.match(
            r"(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(::?=|:::=|\?=|\+=|=|!=)\s*(.*)$", stripped
        )
        if m:
            name, op, value = m.groups()
            simple = op in ("=", ":=", "::=", ":::=") and "$" not in value and depth == 0
            variables[name] = value.strip() if simple else None
            continue
        m = re.match(r"([^:#=\s][^:#=]*?)\s*::?(?!=)\s*([^;]*)(?:;(.*))?$", stripped)
        if not m or line.startswith(" "):
            continue
        names = m.group(1).split()
        recipe: list[tuple[int, str]] = []
        problem = "the target sits inside a Makefile conditional (ifeq/ifdef)" if depth else None
        if m.group(3):
            recipe.append((start + 1, m.group(3)))
        while i < len(lines) and (lines[i].startswith("\t") or not lines[i].strip() or lines[i].startswith("#")):
            if lines[i].startswith("\t"):
                first = i
                body = lines[i][1:]
                while body.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    nxt = lines[i][1:] if lines[i].startswith("\t") else lines[i]
                    body = body + "\n" + nxt
                recipe.append((first + 1, body))
            i += 1
        if i < len(lines) and re.match(r"\s*(ifeq|ifneq|ifdef|ifndef|else|endif)\b", lines[i]) and recipe:
            problem = problem or "the recipe continues across a Makefile conditional"
        joined = "\n".join(body for _, body in recipe)
        if not any("%" in n or n.startswith(".") for n in names) and DOCKER_CP.search(joined):
            units = []
            for number, body in recipe:
                body = body.lstrip("@-+ \t")
                shell_text = _make_expand(body, variables, opaque)
                cmds = Lexer(shell_text).lex()
                for cmd in cmds:
                    cmd.line += number - 1
                    cmd.end_line += number - 1
                units.append(cmds)
            out.append((names[0], start + 1, units, {v: k for k, v in opaque.items()}, problem))
    return out


def _make_expand(text: str, variables: dict[str, str | None], opaque: dict[str, str]) -> str:
    """Make's own `$(NAME)` and `$$` in a recipe line -> shell text; unknown make values become shell variables."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt in "({":
            close = ")" if nxt == "(" else "}"
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == nxt:
                    depth += 1
                elif text[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = text[i + 2 : j]
            i = j + 1
        else:
            inner = nxt
            i += 2
        value = variables.get(inner)
        if value is not None:
            out.append(value)
            continue
        name = opaque.setdefault(f"$({inner})", f"__make_{len(opaque)}")
        out.append("${" + name + "}")
    return "".join(out)
