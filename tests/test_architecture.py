"""Rule 1 of the architecture: the core and the command line never load Qt."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import visualizer.core, visualizer.cli
for package in (visualizer.core, visualizer.cli):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
import visualizer.cli.parser
visualizer.cli.parser.build_parser()
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt', 'shiboken6'))
print(','.join(bad))
"""


def test_core_and_cli_do_not_import_qt():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"Qt modules loaded by core/cli: {out.stdout}"


def test_core_sources_have_no_qt_imports():
    from pathlib import Path

    core = Path(__file__).parents[1] / "visualizer" / "core"
    for path in core.rglob("*.py"):
        text = path.read_text()
        for name in ("PySide6", "pyqtgraph", "superqt"):
            assert f"import {name}" not in text and f"from {name}" not in text, f"{path} imports {name}"


def test_the_command_line_knows_the_evaluation_methods():
    from visualizer.cli.evaluate import METHODS
    from visualizer.core.evaluation.folds import METHODS as CORE_METHODS

    assert set(METHODS) == set(CORE_METHODS)


def test_building_the_parser_does_not_import_torch():
    code = "import sys, visualizer.cli.parser; visualizer.cli.parser.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_window_module_loads_without_torch():
    """The window paints first and imports torch after (first paint ~0.5 s instead of ~1.4 s): nothing the window
    module imports may pull torch in at import time."""
    code = ("import sys, visualizer.qt.app.main_window, visualizer.qt.app.start; "
            "print(sorted(m for m in ('torch', 'sklearn', 'OpenGL') if m in sys.modules))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


def _imports(path) -> set[str]:
    """Every visualizer module a file imports, at any depth (lazy imports inside functions too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("visualizer"):
            found.update(f"{node.module}.{a.name}" for a in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("visualizer"))
    return found


def test_no_import_circle():
    """No module reaches itself through the modules it imports (lazy imports included): the layers stay layers."""
    from pathlib import Path

    root = Path(__file__).parents[1]
    modules = {}
    for path in (root / "visualizer").rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {m: {d for d in _imports(p) if d in modules and d != m} for m, p in modules.items()}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = trail[trail.index(module):] + [module]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, trail + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_no_module_is_over_400_lines():
    """A module over ~400 lines is asking to be split (../shared/ARCHITECTURE.md, Style)."""
    from pathlib import Path

    root = Path(__file__).parents[1] / "visualizer"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"split these by meaning: {long}"
