"""The package's import graph: no cycles, and the layering rules hold.

The graph is read with ``ast`` from every module under ``dashapp/``, counting
every import: at module level, inside functions, and under
``if TYPE_CHECKING:`` (a type-only import is still an arrow a reader follows).
Importing ``a.b.c`` is an arrow to ``a.b.c`` only, not to the packages above
it, so ``dashapp/__init__.py`` (which builds the app from everything) is not
on every path.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "dashapp"

# Third-party top-level packages that mean "Dash" or "Flask" (web frameworks).
DASH = ("dash", "dash_bootstrap_components")
FLASK = ("flask",)


@dataclass(frozen=True)
class Import:
    """One import statement's arrow: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str  # a dashapp module, or a third-party top-level package
    where: str  # file:line, from the repository's root
    text: str  # the statement

    def __str__(self) -> str:
        return f"{self.where}: {self.source} -> {self.target} ({self.text})"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module under ``root/package``, by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def _owner(name: str, modules: dict[str, Path]) -> str:
    """The longest module name that ``name`` starts with (``a.b.Thing`` -> ``a.b``)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts) or name


def imports_of(module: str, path: Path, root: Path, modules: dict[str, Path], package: str) -> list[Import]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    lines = text.splitlines()
    found: list[Import] = []

    def add(target: str, node: ast.stmt) -> None:
        where = f"{path.relative_to(root).as_posix()}:{node.lineno}"
        edge = Import(module, target, where, lines[node.lineno - 1].strip())
        if edge not in found:  # one arrow per statement, however many names it imports
            found.append(edge)

    for node in ast.walk(tree):  # every level: module, function, TYPE_CHECKING blocks
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                add(_owner(alias.name, modules) if top == package else top, node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, path.name == "__init__.py", node.level, node.module)
            else:
                base = node.module or ""
            if base.split(".")[0] != package:
                add(base.split(".")[0], node)
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else _owner(base, modules), node)
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> list[Import]:
    modules = module_names(root, package)
    return [edge for name, path in modules.items() for edge in imports_of(name, path, root, modules, package)]


def cycles(edges: Iterable[Import], package: str = PACKAGE) -> list[list[Import]]:
    """The arrows inside each strongly connected group of modules (Tarjan), one list per cycle found."""
    inner = [e for e in edges if e.target == package or e.target.startswith(package + ".")]
    graph: dict[str, set[str]] = {}
    for edge in inner:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursive: the graph is a few hundred modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [[e for e in inner if e.source in group and e.target in group] for group in groups]


def _inside(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


# (who, what they must never import, why). A "what" without a dot is a third-party package.
RULES: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("dashapp.service",), ("dashapp.pages", "dashapp.web", "dashapp.ui", *DASH, *FLASK),
     "the service knows nothing about pages, HTTP or Dash"),
    (("dashapp.store",), ("dashapp.service",), "the store never calls the service above it"),
    (("dashapp.state", "dashapp.config", "dashapp.i18n", "dashapp.errors"),
     ("dashapp.ui", "dashapp.pages", "dashapp.web"), "state, settings, translations and errors sit below every screen"),
    (("dashapp.wording",), DASH, "wording makes sentences, not components"),
]


def violations(edges: Iterable[Import]) -> list[str]:
    found = []
    for edge in edges:
        if _inside(edge.source, "dashapp.analysis") and _inside(edge.target, PACKAGE) \
                and not _inside(edge.target, "dashapp.analysis"):
            found.append(f"{edge}: dashapp.analysis imports nothing else from dashapp (torch, numpy, scipy only)")
        for sources, forbidden, why in RULES:
            if _inside(edge.source, *sources) and _inside(edge.target, *forbidden):
                found.append(f"{edge}: {why}")
    return found


def _report(title: str, lines: list[str]) -> str:
    return "\n".join([title, *(f"  {line}" for line in lines)])


# -- the package


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    lines = []
    for group in found:
        lines.append("between " + ", ".join(sorted({edge.source for edge in group})) + ":")
        lines.extend(f"  {edge}" for edge in group)
    if found:
        pytest.fail(_report(f"{len(found)} import cycle(s) (none is allowed; break one arrow of each):", lines),
                    pytrace=False)


def test_the_layering_rules_hold() -> None:
    found = violations(import_graph())
    if found:
        pytest.fail(_report("imports that break the layering:", found), pytrace=False)


def test_the_graph_sees_the_package() -> None:
    """A graph that read nothing would pass both tests above."""
    edges = import_graph()
    targets = {(e.source, e.target) for e in edges}
    assert ("dashapp.service", "dashapp.service.view") in targets  # relative: from .view import ...
    assert ("dashapp.service.view", "dashapp.analysis.maps.geometry") in targets  # absolute, a module's name
    assert any(e.source.startswith("dashapp.pages.") and e.target == "dash" for e in edges)  # third party


# -- the checker itself, on a small made-up package


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    _tree(tmp_path, {
        "dashapp/__init__.py": "",
        "dashapp/service/__init__.py": "from .view import View\n",
        "dashapp/service/view.py": "def later():\n    from . import evidence\n",
        "dashapp/service/evidence.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                       "    from dashapp.service.view import View\n",
        "dashapp/store/__init__.py": "",
        "dashapp/store/cache.py": "import dashapp.service.view\n",
        "dashapp/analysis/__init__.py": "from ..store import cache\nimport numpy\n",
        "dashapp/wording/__init__.py": "from dash import html\n",
    })
    return tmp_path


def test_cycles_count_function_level_and_type_only_imports(tiny: Path) -> None:
    found = cycles(import_graph(tiny))
    assert [sorted({(e.source, e.target) for e in group}) for group in found] == [[
        ("dashapp.service.evidence", "dashapp.service.view"),
        ("dashapp.service.view", "dashapp.service.evidence"),
    ]]
    message = _report("cycles:", [str(e) for e in found[0]])
    assert "dashapp/service/view.py:2: dashapp.service.view -> dashapp.service.evidence (from . import evidence)" \
        in message


def test_each_broken_rule_is_named_with_its_line(tiny: Path) -> None:
    found = violations(import_graph(tiny))
    assert found == [
        "dashapp/analysis/__init__.py:1: dashapp.analysis -> dashapp.store.cache (from ..store import cache): "
        "dashapp.analysis imports nothing else from dashapp (torch, numpy, scipy only)",
        "dashapp/store/cache.py:1: dashapp.store.cache -> dashapp.service.view (import dashapp.service.view): "
        "the store never calls the service above it",
        "dashapp/wording/__init__.py:1: dashapp.wording -> dash (from dash import html): "
        "wording makes sentences, not components",
    ]
