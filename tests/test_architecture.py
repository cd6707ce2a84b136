"""The architecture, checked on the tree: no import cycles, the layers, the sizes, Slack-free storage.

Imports are read with `ast`, every kind counted: module-level, under `if TYPE_CHECKING:` and inside
functions. `from x import y` where `x.y` is one of our modules counts as importing `x.y`; otherwise as
importing `x`. Each rule is one test per area (a package, or a layer's rule), so that a failure names
the area and lists every violation in it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search", "bot", "handlers", "benchmarks")
MAX_MODULE_LINES = 700
MAX_FOLDER_MODULES = 15
# Test helpers (fakes, shared fixtures) take part in the cycle check; the test modules themselves do not.
HELPERS = ("tests.fakes", "tests.conftest", "tests.hang", "tests.polling", "tests.served", "tests.stopping")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (ours: the most specific one), or the name as written
    line: int
    kind: str  # "module-level", "TYPE_CHECKING" or "in-function"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({module_path(self.source)}:{self.line}, {self.kind})"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Our modules by dotted name: the packages' and the test helpers'."""
    found = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    for path in (ROOT / "tests").rglob("*.py"):
        name = module_name(path)
        if name.startswith(HELPERS):
            found[name] = path
    return found


def module_path(name: str) -> str:
    return str(modules()[name].relative_to(ROOT))


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(source: str, node: ast.ImportFrom) -> str:
    """The absolute module name of a `from ... import` (relative ones counted from `source`)."""
    if not node.level:
        return node.module or ""
    base = source.split(".")
    base = base if is_package(source) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(source: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    module = _resolve(source, node)
    for alias in node.names:
        submodule = f"{module}.{alias.name}"
        yield submodule if submodule in modules() else module


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, kind: str) -> Iterator[tuple[ast.AST, str]]:
    """Every node under `node` with the kind of import it would be: in a function wins over the rest."""
    for child in ast.iter_child_nodes(node):
        child_kind = kind
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            child_kind = "in-function"
        elif isinstance(child, ast.If) and _is_type_checking(child) and kind == "module-level":
            child_kind = "TYPE_CHECKING"
        yield child, child_kind
        yield from _walk(child, child_kind)


@cache
def imports(source: str) -> tuple[Import, ...]:
    tree = ast.parse(modules()[source].read_text("utf-8"))
    found = []
    for node, kind in _walk(tree, "module-level"):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(source, target, node.lineno, kind) for target in _targets(source, node))
    return tuple(found)


def our_imports(source: str) -> list[Import]:
    return [i for i in imports(source) if i.target in modules() and i.target != source]


def cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {name: sorted({i.target for i in our_imports(name)}) for name in modules()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for name in sorted(graph):
        if name not in order:
            visit(name)
    return found


def describe_cycle(component: list[str]) -> str:
    members = set(component)
    edges = dict.fromkeys(str(i) for name in component for i in our_imports(name) if i.target in members)
    return "a cycle of " + ", ".join(component) + ":\n    " + "\n    ".join(edges)


def area(name: str) -> str:
    """The area a module belongs to: its package one level down (`bot.stores`), or the top one."""
    parts = name.split(".")
    if parts[0] == "bot" and len(parts) > 1 and is_package(".".join(parts[:2])):
        return ".".join(parts[:2])
    return "tests" if parts[0] == "tests" else parts[0] if len(parts) > 1 or is_package(name) else name


# Violations in areas being redesigned by others at the same time, by (test, case): expected until
# their branch is merged; then `strict` turns the xfail into a failure, and the entry is removed.
IN_PROGRESS: dict[tuple[str, str], str] = {}  # (test, area) -> why it still fails, while being fixed
AREAS = ("search", "bot", "bot.news", "bot.server", "bot.cli", "bot.stores", "bot.posting", "handlers")


def cases(test: str, names) -> list:
    """Each case of `test`, marked xfail (strict) when its violation is another engineer's, in progress."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=IN_PROGRESS[test, name]))
        if (test, name) in IN_PROGRESS
        else name
        for name in names
    ]


@pytest.mark.parametrize("owner", cases("cycles", (*AREAS, "benchmarks", "tests")))
def test_no_import_cycles(owner):
    found = [c for c in cycles() if any(area(name) == owner for name in c)]
    assert not found, "\n".join(describe_cycle(c) for c in found)


# (the modules a rule applies to, what they must not import, who owns the modules)
LAYERS = {
    "search imports nothing of the app or Slack": (
        ("search",),
        ("bot", "handlers", "slack_bolt", "slack_sdk", "tests"),
        "search",
    ),
    "the stores know nothing of Slack or of who posts and serves": (
        ("bot.stores",),
        ("handlers", "bot.posting", "bot.server", "bot.app", "bot.cli", "slack_bolt", "slack_sdk"),
        "bot.stores",
    ),
    "the news know nothing of Slack or of who posts and serves": (
        ("bot.news",),
        ("handlers", "bot.posting", "bot.server", "bot.app", "bot.cli", "slack_bolt", "slack_sdk"),
        "bot.news",
    ),
    "the handlers do not reach up to posting, serving or starting": (
        ("handlers",),
        ("bot.posting", "bot.server", "bot.app", "bot.cli"),
        "handlers",
    ),
}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("rule", cases("layers", LAYERS))
def test_layers(rule):
    sources, forbidden, _ = LAYERS[rule]
    broken = [
        str(i)
        for name in sorted(modules())
        if within(name, sources)
        for i in imports(name)
        if within(i.target, forbidden)
    ]
    assert not broken, f"{rule}:\n" + "\n".join(broken)


# Calls that build a real part (the store, the index, a Slack app, client or connection): the bootstrap's
# job, and the command line's and the server's for their own starts.
BUILDERS = {"open_store", "new_index", "build_web_client", "App", "SocketModeHandler", "start_news_desk"}
MAY_BUILD = ("bot.app", "bot.cli", "bot.server")


def builds(name: str) -> list[str]:
    tree = ast.parse(modules()[name].read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called in BUILDERS:
                found.append(f"{module_path(name)}:{node.lineno}: {called}(...)")
    return found


@pytest.mark.parametrize("owner", cases("builds", AREAS))
def test_only_the_bootstrap_builds_the_real_parts(owner):
    found = [
        call
        for name in sorted(modules())
        if area(name) == owner
        and not name.startswith(("tests", "benchmarks"))
        and not within(name, MAY_BUILD)
        for call in builds(name)
    ]
    assert not found, "only bot/app.py (and bot/cli, bot/server) build real parts:\n" + "\n".join(found)


def folders() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found.setdefault(str(path.parent.relative_to(ROOT)), []).append(path)
    return found


@pytest.mark.parametrize("folder", cases("folders", sorted(folders())))
def test_no_folder_of_more_than_15_modules(folder):
    count = len(folders()[folder])
    assert count <= MAX_FOLDER_MODULES, f"{folder}/ holds {count} modules (at most {MAX_FOLDER_MODULES})"


def long_modules(owner: str) -> list[str]:
    found = []
    for name, path in sorted(modules().items()):
        lines = len(path.read_text("utf-8").splitlines())
        if area(name) == owner and lines > MAX_MODULE_LINES:
            found.append(f"{path.relative_to(ROOT)}: {lines} lines")
    return found


@pytest.mark.parametrize("owner", cases("sizes", (*AREAS, "benchmarks", "tests")))
def test_no_module_over_700_lines(owner):
    found = long_modules(owner)
    assert not found, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(found)


def loaded_by(module: str) -> set[str]:
    """The modules that importing `module` loads, in a fresh interpreter."""
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


STORAGE = sorted(name for name in modules() if within(name, ("bot.stores",)))


@pytest.mark.parametrize("store", STORAGE)
def test_opening_a_store_loads_no_slack(store):
    slack = sorted(m for m in loaded_by(store) if within(m, ("slack_bolt", "slack_sdk", "handlers")))
    assert not slack, f"importing {store} loads " + ", ".join(slack)


def test_the_listeners_types_load_no_listener():
    listeners = sorted(
        m for m in loaded_by("handlers.context") if within(m, ("handlers.listeners", "slack_bolt.listener"))
    )
    assert not listeners, "importing handlers.context loads " + ", ".join(listeners)


def test_the_checks_see_the_tree():
    """The rules above are only as good as the import reading: it must find known edges of every kind."""
    assert {"search", "bot", "handlers", "bot.stores", "tests.fakes"} <= set(modules())
    assert any(i.target == "search.models" for i in imports("search.index"))
    kinds = {i.kind for name in modules() for i in imports(name)}
    assert {"module-level", "in-function"} <= kinds <= {"module-level", "TYPE_CHECKING", "in-function"}
    guarded = ast.parse("if TYPE_CHECKING:\n    import bot.app\nif typing.TYPE_CHECKING:\n    pass\n").body
    assert all(_is_type_checking(node) for node in guarded)
