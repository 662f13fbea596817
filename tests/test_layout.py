"""The code's shape the brief asks for: no import cycles, in Python or in the viewer, and no
module over about 400 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "sitegen"
JS_IMPORT = re.compile(
    r"""(?:^|\s)(?:import|export)\b[^'"]*?from\s*["'](\./[^"']+)["']|import\(\s*["'](\./[^"']+)["']\s*\)"""
)


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` (as a path that ends where it starts), or []."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_viewer_modules_import_one_way() -> None:
    """Static imports and dynamic import() alike: boot.js hands main.js what it started."""
    folder = ROOT / "viewer/static"
    graph = {
        js.name: {a or b for a, b in JS_IMPORT.findall(js.read_text(encoding="utf-8"))}
        for js in folder.glob("*.js")
    }
    graph = {k: {Path(v).name for v in vs} for k, vs in graph.items()}
    assert graph["boot.js"] == {"main.js"} and "main.js" in graph
    assert _cycle(graph) == []


def test_the_page_preloads_every_module_the_viewer_imports() -> None:
    """index.html's modulepreload links are every module main.js reaches, no more: one
    missing is fetched a round trip late (packs.js was, 70 ms after the others)."""
    folder = ROOT / "viewer/static"
    graph = {
        js.name: {Path(a or b).name for a, b in JS_IMPORT.findall(js.read_text(encoding="utf-8"))}
        for js in folder.glob("*.js")
    }
    reached, todo = set(), ["main.js"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += graph[name]
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'<link rel="modulepreload" href="([a-z-]+\.js)">', page)) == reached


def _module_imports(path: Path) -> set[str]:
    """The sitegen modules a module imports at its top level (not inside functions: those
    are the deliberate lazy imports, made when called)."""
    name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("sitegen"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sitegen"))
    return found


def test_the_python_package_has_no_import_cycle_at_module_level() -> None:
    modules = {
        ".".join(p.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in ROOT.rglob("*.py")
    }
    graph = {
        name: {m for m in _module_imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    # a package's __init__ is imported with any of its modules: not a cycle of its own
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    assert _cycle(graph) == []


MAX_LINES = 425  # "no module over about 400 lines": split by concern past this


def test_no_module_is_over_about_400_lines() -> None:
    """sitegen's Python modules and its browser scripts (viewer, pages, OHIF host) alike."""
    files = [*ROOT.rglob("*.py"), *ROOT.rglob("*.js")]
    assert len(files) > 50
    long = {
        str(p.relative_to(ROOT)): n
        for p in files
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
