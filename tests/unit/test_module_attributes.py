"""Every ``module.name`` the code uses on one of the project's own modules exists.

A name removed from a module but still called through it (``page_text.taken_over_sms``: the
previous owner's taken-over SMS failed in the worker for every take-over) fails only when that
line runs; linters do not see attributes of modules. This reads every ``module.name`` of the
project's modules and looks each one up.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGES = ("app", "workers", "ivr_flows", "hotline_sim")


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _project_modules(tree: ast.AST) -> dict[str, object]:
    """Local name -> project module, for ``from app.x import module`` and ``import app.x as module``."""
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith(PACKAGES):
            for alias in node.names:
                module = _module(f"{node.module}.{alias.name}")
                if module is not None:
                    found[alias.asname or alias.name] = module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name.startswith(PACKAGES) and (module := _module(alias.name)):
                    found[alias.asname] = module
    return found


def _missing(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    modules = _project_modules(tree)
    return [f"{path}:{node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
            and not hasattr(modules[node.value.id], node.attr)
            and _module(f"{modules[node.value.id].__name__}.{node.attr}") is None]


FILES = sorted(p for package in PACKAGES for p in Path(package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_used_through_a_project_module_exists(package):
    assert [m for path in FILES if path.parts[0] == package for m in _missing(path)] == []


def test_the_check_finds_a_missing_name(tmp_path):
    used = tmp_path / "uses.py"
    used.write_text("from app.services import page_text\n\npage_text.hhmm\npage_text.no_such_function\n")
    assert _missing(used) == [f"{used}:4: page_text.no_such_function"]
