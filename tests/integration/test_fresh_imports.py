"""Each module a CLI command imports when it runs (``app/cli.py`` imports them inside its commands) imports first in
a fresh interpreter, as each command's process does.

An outside probe found `hotline tickets import FILE.csv` failing with an ImportError in every new process: the
ticket modules import ``app.models``, whose flush hook's module (``app.reports.facts_sync``) built a statement at
import from the company rule, which imports the ticket modules again. The test suite never saw it: its processes
import ``app.models`` first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("app", "workers", "ivr_flows", "hotline_sim")


def _imported_by_commands() -> list[str]:
    """Our modules imported inside a function of app/cli.py (each is the first import of some command's process)."""
    found = set()
    for function in ast.walk(ast.parse((ROOT / "app" / "cli.py").read_text())):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return sorted(m for m in found if m.split(".")[0] in OURS)


def _import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    return module, done.returncode, (done.stderr.strip().splitlines() or [""])[-1]


def test_every_module_a_command_imports_imports_first_in_a_new_process():
    modules = _imported_by_commands()
    assert "app.services.ticket_import" in modules and len(modules) >= 10  # the walk found the commands' imports
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [(m, err) for m, rc, err in pool.map(_import_alone, modules) if rc != 0]
    assert failed == []
