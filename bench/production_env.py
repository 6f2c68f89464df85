"""An interpreter with a production install's packages, for measuring the deployed processes' memory.

The test environment also holds what the tests need: Playwright brings ``greenlet``, which RQ then
imports in every process that loads it (1 MB of RSS, with libstdc++), so memory measured there is
not what a deployment carries. This builds, once per set of dependencies, a virtualenv with only the
dependencies ``pyproject.toml`` lists (no extras); the measured processes run the checkout's code
from it through ``PYTHONPATH``, and ``compile_install`` compiles both without docstrings as the
README's deployment does (``hotline compile``, app/docstring_free.py). It needs the package index,
as ``.ci/run`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL_SECONDS = 600


def dependencies() -> list[str]:
    """The project's runtime dependencies, as pyproject.toml gives them."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def production_python() -> Path:
    """The python of a virtualenv holding the runtime dependencies alone (built on first use, then reused)."""
    deps = dependencies()
    key = hashlib.sha256(json.dumps([sys.version, deps, "opt-2"]).encode()).hexdigest()[:12]
    venv = Path(tempfile.gettempdir()) / f"sev1-hotline-bench-production-{key}"
    python = venv / "bin" / "python"
    if (venv / "complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *deps],
                          capture_output=True, text=True, timeout=INSTALL_SECONDS)
    if done.returncode:
        shutil.rmtree(venv, ignore_errors=True)
        raise RuntimeError(f"installing the production dependencies failed: {done.stderr[-2000:]}")
    (venv / "complete").touch()
    return python


def compile_install(python: Path) -> None:
    """Docstring-free bytecode of that install and the checkout's packages, by the code ``hotline compile`` runs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([str(python), "-c", "from app.docstring_free import compile_bytecode; compile_bytecode()"],
                   env=env, check=True, capture_output=True, timeout=INSTALL_SECONDS)


def deployed_python(who: str) -> tuple[str, str]:
    """(interpreter, what it is): the production install with the checkout compiled as a deployment compiles it,
    else this interpreter (``who`` says so on stderr, e.g. where no package index answers)."""
    try:
        python = production_python()
        compile_install(python)
        return str(python), "a production install"
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"{who}: running the test environment: {exc}", file=sys.stderr)
        return sys.executable, "the test environment"
