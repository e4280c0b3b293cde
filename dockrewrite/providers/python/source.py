"""What a Python project's files say, read with libcst and never executed: setup.py metadata, imports."""

from __future__ import annotations

import functools
import posixpath
import re
import sys
from dataclasses import dataclass, field

from dockrewrite.context import BuildContext
from dockrewrite.providers.python.deps import normalize, spec_name

# Import name -> distribution name, where the two differ.
IMPORT_TO_DIST = {
    "yaml": "pyyaml",
    "pil": "pillow",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "jwt": "pyjwt",
    "dotenv": "python-dotenv",
    "mysqldb": "mysqlclient",
    "attr": "attrs",
    "magic": "python-magic",
    "serial": "pyserial",
    "crypto": "pycryptodome",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "slugify": "python-slugify",
    "telegram": "python-telegram-bot",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "git": "gitpython",
    "zmq": "pyzmq",
    "openssl": "pyopenssl",
    "fitz": "pymupdf",
    "skimage": "scikit-image",
    "ldap": "python-ldap",
    "websocket": "websocket-client",
    "google": "google-api-core",
    "sentry_sdk": "sentry-sdk",
    "psycopg2": "psycopg2",
    "psycopg": "psycopg",
    "rest_framework": "djangorestframework",
    "corsheaders": "django-cors-headers",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "faiss": "faiss-cpu",
    "grpc": "grpcio",
    "pkg_resources": "setuptools",
    "dns": "dnspython",
    "nacl": "pynacl",
    "usb": "pyusb",
    "gi": "pygobject",
    "cairo": "pycairo",
    "django_filters": "django-filter",
    "mysql": "mysql-connector-python",
    "faust": "faust-streaming",
    "kafka": "kafka-python",
    "confluent_kafka": "confluent-kafka",
    "telebot": "pytelegrambotapi",
    "discord": "discord-py",
    "environ": "django-environ",
    "decouple": "python-decouple",
    "storages": "django-storages",
    "debug_toolbar": "django-debug-toolbar",
    "rest_framework_simplejwt": "djangorestframework-simplejwt",
    "drf_yasg": "drf-yasg",
    "jinja2": "jinja2",
    "markdown": "markdown",
    "win32api": "pywin32",
    "openai": "openai",
    "pydantic_settings": "pydantic-settings",
    "jwt_auth": "django-jwt-auth",
}
# Distributions that provide more than one import name or none at all worth matching.
_ALSO_PROVIDES = {
    "psycopg2-binary": "psycopg2",
    "opencv-python-headless": "cv2",
    "opencv-contrib-python": "cv2",
    "pillow-simd": "pil",
    "pymysql": "pymysql",
    "uvicorn": "uvicorn",
    "protobuf": "google",
    "googleapis-common-protos": "google",
    "mysql-connector": "mysql",
    "faust-streaming": "faust",
}
# Packages a framework always brings, which apps import directly without listing them.
_BRINGS = {
    "fastapi": ("starlette", "pydantic", "anyio", "typing_extensions"),
    "flask": ("werkzeug", "jinja2", "click", "itsdangerous", "markupsafe", "blinker"),
    "django": ("asgiref", "sqlparse"),
    "motor": ("pymongo", "bson", "gridfs"),
    "pymongo": ("bson", "gridfs"),
    "requests": ("urllib3", "idna", "certifi", "charset_normalizer"),
    "httpx": ("httpcore", "anyio", "sniffio", "idna", "certifi"),
    "celery": ("kombu", "billiard", "vine", "click"),
    "uvicorn": ("click", "h11"),
    "aiohttp": ("yarl", "multidict", "aiosignal", "frozenlist", "attr"),
    "boto3": ("botocore", "s3transfer", "jmespath"),
    "pandas": ("numpy", "dateutil", "pytz"),
    "sqlalchemy": ("greenlet", "typing_extensions"),
    "scikit-learn": ("numpy", "scipy", "joblib"),
    "matplotlib": ("numpy", "pil", "dateutil"),
    "djangorestframework": ("django",),
    "pydantic": ("typing_extensions", "annotated_types", "pydantic_core"),
    "python-telegram-bot": ("httpx",),
    "aiogram": ("aiohttp", "pydantic", "magic_filter"),
    "langchain": ("langchain_core", "pydantic", "yaml", "requests", "sqlalchemy"),
    "openai": ("httpx", "pydantic", "anyio"),
    "transformers": ("huggingface_hub", "numpy", "yaml", "requests", "tokenizers"),
    "google-api-python-client": ("google", "googleapiclient", "httplib2"),
    "opentelemetry-sdk": ("opentelemetry",),
    "opentelemetry-api": ("opentelemetry",),
    "opentelemetry-distro": ("opentelemetry",),
}
# Installed for their command-line programs or loaded by name, not imported.
_NOT_IMPORTED = frozenset(
    {
        "gunicorn",
        "uvicorn",
        "celery",
        "alembic",
        "supervisor",
        "honcho",
        "newrelic",
        "ddtrace",
        "whitenoise",
        "psycopg2",
        "psycopg2-binary",
        "mysqlclient",
        "pymysql",
        "gevent",
        "eventlet",
        "uvloop",
        "httptools",
        "daphne",
        "hypercorn",
        "waitress",
        "setuptools",
        "wheel",
        "pip",
        "python-dotenv",
        "django-environ",
    }
)


@dataclass
class SetupInfo:
    install_requires: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)
    console_scripts: list[str] = field(default_factory=list)
    python_requires: str | None = None


@functools.lru_cache(maxsize=16)
def read_setup_py(text: str) -> SetupInfo | None:
    """The literal arguments of the setup() call; None when the file does not parse. One parse per text, as a
    plan asks for the requirements and the console scripts several times: the result is shared, read it only."""
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except Exception:  # libcst raises ParserSyntaxError and friends for broken files
        return None
    info = SetupInfo()

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = node.func.value if isinstance(node.func, cst.Name) else getattr(node.func, "attr", None)
            name = name.value if isinstance(name, cst.Name) else name
            if name != "setup":
                return
            for arg in node.args:
                key = arg.keyword.value if arg.keyword else None
                if key == "install_requires":
                    info.install_requires = _strings(arg.value)
                elif key == "extras_require" and isinstance(arg.value, cst.Dict):
                    for element in arg.value.elements:
                        k = _string(getattr(element, "key", None))
                        if k is not None:
                            info.extras[k] = _strings(element.value)
                elif key == "entry_points" and isinstance(arg.value, cst.Dict):
                    for element in arg.value.elements:
                        if _string(getattr(element, "key", None)) == "console_scripts":
                            info.console_scripts = [s.split("=", 1)[0].strip() for s in _strings(element.value)]
                elif key == "python_requires":
                    info.python_requires = _string(arg.value)

    module.visit(Visitor())
    return info


def _string(node) -> str | None:
    import libcst as cst

    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    return None


def _strings(node) -> list[str]:
    import libcst as cst

    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [v for v in (_string(e.value) for e in node.elements) if v is not None]
    return []


# Libraries that read env files at start, with the files they read when none is named: python-dotenv's
# load_dotenv() finds .env; django-environ's read_env() reads .env beside the calling module; python-decouple
# reads .env or settings.ini; pydantic-settings reads only what env_file names.
ENV_LOADERS = {
    "dotenv": ("python-dotenv", (".env",)),
    "environ": ("django-environ", (".env",)),
    "decouple": ("python-decouple", (".env", "settings.ini")),
    "pydantic_settings": ("pydantic-settings env_file", ()),
}
_ENV_FILE = re.compile(r"^(?:[\w.-]+/)*\.env(?:\.[\w-]+)*$|^(?:[\w.-]+/)*[\w-]+\.env$")
_IMPORTS_LOADER = re.compile(r"^\s*(?:from|import)\s+(?:dotenv|environ|decouple|pydantic_settings)\b", re.MULTILINE)
_ENV_READ = re.compile(
    r"\bos\.(?:environ\.get|getenv|environ\.setdefault)\(\s*[\"']([A-Za-z_]\w*)[\"']"
    r"|\bos\.environ\[\s*[\"']([A-Za-z_]\w*)[\"']\s*\]"
)


@dataclass
class StartFiles:
    """What the app's modules say about files read at start and variables read from the environment."""

    loader: str | None = None  # e.g. "python-dotenv, app.py"
    env_files: list[str] = field(default_factory=list)  # context-relative candidates, in order
    env_reads: dict[str, str] = field(default_factory=dict)  # variable -> the first module that reads it


def start_files(ctx: BuildContext, limit: int = 300) -> StartFiles:
    """Env files the app loads and the variables it reads, from its modules' imports, calls and string
    literals (read with libcst, never run)."""
    import libcst as cst

    out = StartFiles()
    for rel in _app_modules(ctx, limit):
        text = ctx.read_text(rel, limit=300_000)
        if text is None:
            continue
        for a, b in _ENV_READ.findall(text):
            out.env_reads.setdefault(a or b, rel)
        if not _IMPORTS_LOADER.search(text):
            continue  # libcst only for the modules that may import a loader
        try:
            module = cst.parse_module(text)
        except Exception:
            continue
        tops = {name.split(".", 1)[0] for name in _imported_names(module)}
        loaders = [name for name in ENV_LOADERS if name in tops]
        if not loaders:
            continue
        if out.loader is None:
            out.loader = f"{ENV_LOADERS[loaders[0]][0]}, {rel}"
        here = posixpath.dirname(rel)
        named = [s for s in _literals(module) if _ENV_FILE.match(s)]
        defaults = [n for name in loaders for n in ENV_LOADERS[name][1]]
        if "environ" in loaders and here:
            defaults.insert(0, posixpath.join(here, ".env"))
        for name in [*named, *(posixpath.normpath(posixpath.join(here, n)) for n in named), *defaults]:
            name = name[2:] if name.startswith("./") else name
            if name not in out.env_files:
                out.env_files.append(name)
    return out


def _literals(module) -> list[str]:
    import libcst as cst

    found: list[str] = []

    class Visitor(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            value = node.evaluated_value
            if isinstance(value, str) and len(value) < 200:
                found.append(value)

    module.visit(Visitor())
    return found


def _app_modules(ctx: BuildContext, limit: int):
    """The project's own modules, tests, migrations, docs and build scripts aside."""
    for rel in ctx.walk((".py",), limit=limit):
        parts = rel.split("/")
        if (
            any(p in ("tests", "test", "migrations", "docs", "scripts") for p in parts[:-1])
            or parts[-1].startswith("test_")
            or parts[-1] in ("setup.py", "conftest.py", "noxfile.py")
        ):
            continue
        yield rel


def imports(ctx: BuildContext, limit: int = 300) -> dict[str, str]:
    """Top-level modules the project's own code imports -> the first file that does."""
    import libcst as cst

    local = _local_modules(ctx)
    found: dict[str, str] = {}
    for rel in _app_modules(ctx, limit):
        text = ctx.read_text(rel, limit=300_000)
        if text is None:
            continue
        try:
            module = cst.parse_module(text)
        except Exception:
            continue
        for name in _imported_names(module):
            top = name.split(".", 1)[0]
            if top and top not in local and top not in sys.stdlib_module_names and top != "__future__":
                found.setdefault(top, rel)
    return found


def _imported_names(module) -> list[str]:
    import libcst as cst

    names: list[str] = []

    class Visitor(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                names.append(_dotted(alias.name))

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if node.relative or node.module is None:
                return
            names.append(_dotted(node.module))

    module.visit(Visitor())
    return names


def _dotted(node) -> str:
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _local_modules(ctx: BuildContext) -> set[str]:
    """Names the app's own files and packages give: any folder or .py file of the context can be on sys.path
    (scripts run from their own folder, PYTHONPATH, WORKDIR inside the tree)."""
    local: set[str] = set()
    for rel in ctx.walk((".py",), limit=2000):
        parts = rel.split("/")
        local.update(parts[:-1])
        local.add(posixpath.splitext(parts[-1])[0])
    return local


def import_warnings(imported: dict[str, str], requirements: list[str]) -> list[str]:
    """Imports no requirement provides, and requirements nothing imports."""
    provided = {normalize(spec_name(r) or r) for r in requirements if r and spec_name(r)}
    names_provided = set()
    for dist in provided:
        names_provided.add(dist.replace("-", "_"))
        if dist in _ALSO_PROVIDES:
            names_provided.add(_ALSO_PROVIDES[dist])
    for module, dist in IMPORT_TO_DIST.items():
        if dist in provided:
            names_provided.add(module)
    for dist in provided:
        names_provided.update(_BRINGS.get(dist, ()))
        if dist.startswith(("opentelemetry-", "google-cloud-", "google-")):
            names_provided.update(("opentelemetry", "google"))
    warnings = []
    missing = sorted(
        m
        for m in imported
        if m.lower() not in names_provided and normalize(IMPORT_TO_DIST.get(m.lower(), m)) not in provided
    )
    if missing:
        shown = ", ".join(f"{m} ({imported[m]})" for m in missing[:5])
        warnings.append(
            f"the code imports {shown} but no requirement provides "
            f"{'it' if len(missing) == 1 else 'them'}: the runtime would lack "
            f"{'it' if len(missing) == 1 else 'them'} unless a dependency pulls "
            f"{'it' if len(missing) == 1 else 'them'} in"
        )
    imported_lower = {m.lower() for m in imported}
    unused = sorted(
        d
        for d in provided
        if d not in _NOT_IMPORTED
        and d.replace("-", "_") not in imported_lower
        and not any(IMPORT_TO_DIST.get(m) == d or _ALSO_PROVIDES.get(d) == m for m in imported_lower)
    )
    if unused and imported:
        warnings.append(
            f"the runtime carries {', '.join(unused[:6])}, which no module of the app imports "
            "(fine for plugins and servers; otherwise drop them from the requirements)"
        )
    return warnings
