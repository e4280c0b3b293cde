"""Reading TOML project files (pyproject.toml, uv.lock, Pipfile) without trusting their shape."""

from __future__ import annotations


def toml_list(value) -> list:
    return value if isinstance(value, list) else []


def toml_table(data, *keys: str) -> dict:
    """data[key][key]… when every level is a table, else {}: a pyproject.toml of the wrong shape (`tool = 1`,
    `[tool]` with `poetry = []`) is one that says nothing, not an AttributeError."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def read_toml(text: str | None) -> dict | None:
    """A TOML file's content; None when there is none or it is not valid TOML."""
    if not text:
        return None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def poetry_groups(pyproject: dict | None) -> set[str] | None:
    """Poetry dependency groups in a pyproject.toml ('dev' for the old dev-dependencies table)."""
    if pyproject is None:
        return None
    poetry = toml_table(pyproject, "tool", "poetry")
    groups = set(toml_table(poetry, "group"))
    return groups | {"dev"} if "dev-dependencies" in poetry else groups
