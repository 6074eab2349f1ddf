"""Qt stays in tuner_app/gui: the core, the CLI and the search spaces must run headless."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def qt_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        found += [
            f"{path.name}:{node.lineno} imports {n}"
            for n in names
            if n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "PySide2", "shiboken6")
        ]
    return found


def test_only_the_gui_package_imports_qt() -> None:
    sources = [p for pkg in ("tuner_app", "search_spaces") for p in (ROOT / pkg).rglob("*.py")]
    outside = [p for p in sources if (ROOT / "tuner_app" / "gui") not in p.parents]
    assert len(outside) > 5  # the walk really found the core modules
    offenders = [line for p in outside for line in qt_imports(p)]
    assert offenders == []


def test_the_check_catches_a_qt_import(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text("import os\nfrom PySide6.QtCore import QTimer\n")
    assert qt_imports(module) == ["sneaky.py:2 imports PySide6.QtCore"]
