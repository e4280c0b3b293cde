"""The one shell lexer (dockrewrite.shell.lexer) and the RUN-line helpers built on it."""

from __future__ import annotations

import pytest

from dockrewrite import shell
from dockrewrite.providers.node import commands as node_cmds
from dockrewrite.shell.lexer import Unreadable, commands


def _segments(text: str) -> list[str]:
    return [s.text.strip() for s in shell.segments(text)]


def _words(text: str) -> list[list[str]]:
    return [s.words() for s in shell.segments(text)]


# -- segments: what the old lexer got right ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apt-get update && apt-get install -y curl", ["apt-get update", "apt-get install -y curl"]),
        ("a || b; c | d & e", ["a", "b", "c", "d", "e"]),
        ("a \\\n  && b", ["a \\", "b"]),
        ("echo 'a && b' \"c; d\"", ["echo 'a && b' \"c; d\""]),
        ("echo a\\;b", ["echo a\\;b"]),
        ("a\nb\n\n", ["a", "b"]),
        ("  ", []),
        ("cmd 2>&1 && next", ["cmd 2>&1", "next"]),
        ("cmd >/dev/null 2>&1", ["cmd >/dev/null 2>&1"]),
    ],
)
def test_segments_kept(text, expected):
    assert _segments(text) == expected


def test_segments_are_spans_of_the_text():
    text = "cd /app &&  go build -o x . ; echo done"
    segs = shell.segments(text)
    assert [text[s.start : s.end] for s in segs] == [s.text for s in segs]
    assert segs[1].text == "  go build -o x . "


# -- segments: constructs the old lexer split wrongly --------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(npm ci || npm install)", [["npm", "ci"], ["npm", "install"]]),
        ("( x || y ) && z", [["x"], ["y"], ["z"]]),
        ("{ a; b; } && c", [["a"], ["b"], ["c"]]),
        ("x=$(a && b) && c", [["x=$(a && b)"], ["a"], ["b"], ["c"]]),
        ("echo `date` && c", [["echo", "`date`"], ["date"], ["c"]]),
        ("echo $(cat $(ls x)) ok", [["echo", "$(cat $(ls x))", "ok"], ["cat", "$(ls x)"], ["ls", "x"]]),
        ("make &> /dev/null && b", [["make"], ["b"]]),
        ("make >& log && b", [["make"], ["b"]]),
        ("a # comment && not\nb", [["a"], ["b"]]),
        ("cat <<EOF > f\nx && y\nEOF\nnext", [["cat"], ["next"]]),
        ("cat <<-EOF\n\tx\n\tEOF\nnext", [["cat"], ["next"]]),
        ("<<EOT\nset -e\ngo build .\nEOT", [["set", "-e"], ["go", "build", "."]]),
        ("bash -e <<EOT\nnpm ci\nEOT", [["bash", "-e"], ["npm", "ci"]]),
        ("sh <<EOT script\nnpm ci\nEOT", [["sh", "script"]]),
        ('echo "$(a || b)"', [["echo", "$(a || b)"], ["a"], ["b"]]),
    ],
)
def test_segments_new_constructs(text, expected):
    assert _words(text) == expected


def test_subshell_segment_spans_edit_in_place():
    text = "(npm ci || npm install)"
    seg = shell.segments(text)[1]
    assert text[: seg.start] + " yarn" + text[seg.end :] == "(npm ci || yarn)"


def test_command_substitution_segment_points_into_the_text():
    text = "v=$(go env GOPATH) && go build"
    inner = shell.segments(text)[1]
    assert text[inner.start : inner.end] == "go env GOPATH"


# -- words ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a 'b c' \"d $X\" e\\ f", ["a", "b c", "d $X", "e f"]),
        ('echo "${A:-x}" $B', ["echo", "${A:-x}", "$B"]),
        ("a \\\n b", ["a", "b"]),
        ("echo hi # a comment", ["echo", "hi"]),
        ("cmd 2>/dev/null arg", ["cmd", "arg"]),
        ("echo ''", ["echo", ""]),
        ("echo 'unterminated", ["echo", "unterminated"]),
    ],
)
def test_split_words(text, expected):
    assert shell.split_words(text) == expected


def test_env_prefix_and_export():
    assert shell.env_prefix(["env", "A=1", "B=2", "go", "build"]) == ({"A": "1", "B": "2"}, ["go", "build"])
    assert shell.exported(["export", "A=1", "B"]) == {"A": "1"}
    assert shell.exported(["echo"]) is None


# -- the strict lexer (build scripts) ---------------------------------------------------------------
def test_commands_carry_operators_and_lines():
    cmds = commands("a && b\n( c )\nd | e")
    assert [(c.before, c.after, c.paren, c.line) for c in cmds] == [
        ("", "&&", "", 1),
        ("&&", "\n", "", 1),
        ("(", "", "(", 2),
        ("(", ")", "", 2),
        (")", "", ")", 2),
        ("\n", "|", "", 3),
        ("|", "\n", "", 3),
    ]


def test_word_parts():
    (cmd,) = commands('echo "$HOME"/x $(date) `id` $((1+2)) ${A:-b}')
    kinds = [[(p.kind, p.text) for p in w.parts] for w in cmd.words[1:]]
    assert kinds == [
        [("var", "HOME"), ("lit", "/x")],
        [("cmd", "date")],
        [("cmd", "id")],
        [("arith", "1+2")],
        [("var", "A:-b")],
    ]


def test_heredoc_body_is_skipped_and_recorded():
    text = "cat <<EOF >out\nhello\nEOF\necho done"
    cmds = commands(text)
    assert [c.words[0].value for c in cmds] == ["cat", "echo"]
    (a, z) = cmds[0].bodies[0]
    assert text[a:z] == "hello\n"


@pytest.mark.parametrize(
    "text",
    ["echo 'x", 'echo "x', "echo `x", "echo $(x", "cat <<"],
)
def test_strict_refuses_unterminated(text):
    with pytest.raises(Unreadable):
        commands(text)


# -- a RUN line as the Node provider reads it ------------------------------------------------------
def test_node_install_in_a_subshell_is_found():
    kinds = [(seg.kind, seg.words) for seg in node_cmds.classify("(npm ci || npm install)")]
    assert kinds == [(node_cmds.INSTALL, ["npm", "ci"]), (node_cmds.INSTALL, ["npm", "install"])]
