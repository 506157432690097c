"""The layers: the non-UI ones never import Textual (the headless CLI runs on them alone), no
module of migtui imports one that imports it back, and widgets import no screen."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("layer", ["migtui.qapi", "migtui.qmp", "migtui.model", "migtui.lab", "migtui.params",
                                   "migtui.ops",
                                   "migtui.cli.watch", "migtui.cli.migrate", "migtui.cli.params",
                                   "migtui.cli.snapshot", "migtui.cli.control", "migtui.units",
                                   "migtui.record", "migtui.report", "migtui.metrics", "migtui.cli.record",
                                   "migtui.cli.report", "migtui.cli.export", "migtui.cli.replay",
                                   "migtui.alerts", "migtui.serve", "migtui.cli.serve"])
def test_layer_does_not_import_textual(layer):
    code = (f"import importlib, pkgutil, sys\n"
            f"package = importlib.import_module({layer!r})\n"
            f"for info in pkgutil.walk_packages(getattr(package, '__path__', []), {layer!r} + '.'):\n"
            f"    importlib.import_module(info.name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def import_graph() -> dict[str, set[str]]:
    """Module -> the migtui modules it imports, at run time or for types only (``TYPE_CHECKING``,
    inside functions): every ``import`` statement of the file counts."""
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
               for path in (ROOT / "migtui").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1], base]).strip(".")
                imported |= {f"{base}.{alias.name}" for alias in node.names} | {base}
        graph[name] = {target for target in imported if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_checks():
    graph = import_graph()
    assert "migtui.qmp.session" in graph["migtui.qmp.fleet"]  # from migtui.qmp.session import ...
    assert "migtui.model.controls" in graph["migtui.ops.verb"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_widgets_import_no_screen():
    graph = import_graph()
    wrong = {name: sorted(t for t in targets if t.startswith("migtui.screens"))
             for name, targets in graph.items() if name.startswith("migtui.widgets")}
    assert {name: targets for name, targets in wrong.items() if targets} == {}
