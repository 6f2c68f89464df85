"""``serve`` and ``worker`` run as ``python -OO`` once the install holds that bytecode (issue 12: memory).

A web worker holds the docstrings of every module it imported: SQLAlchemy's, Flask's,
redis-py's and ours. Without them, a gunicorn worker that has answered intakes and a manager's
pages holds 78.9 MB instead of 84.6 MB, and ``hotline worker`` 70.1 instead of 74.3 MB
(bench/memory.py, side by side in one run; README, "Where issue 12 stands"). Nothing the hotline
runs reads a docstring: help texts are the CLI's, and the CLI process that asks for them is never
restarted.

Python compiles docstring-free bytecode (``*.opt-2.pyc``) only when asked (``hotline compile``,
``compile_bytecode``); pip writes only the plain ``*.pyc``. Without it, ``-OO`` would
compile every module from source at each start: a slower start and more memory, not less. So
the restart happens only when the stack's packages and the hotline's own already hold it
(``-OO`` also drops ``assert`` statements: the hotline's are type narrowing only, never a check
it relies on). ``HOTLINE_KEEP_DOCSTRINGS=1`` (environment or ``.env``) turns the restart off.
"""

from __future__ import annotations

import compileall
import importlib.util
import logging
import os
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.settings import NO_WORDS, YES_WORDS

log = logging.getLogger(__name__)

# The packages whose bytecode must be docstring-free first: ours, and the stack that makes up a
# web worker's and a worker's memory. ``compileall`` compiles a whole tree, so the package's own
# ``__init__`` stands for the tree.
PACKAGES = ("app", "ivr_flows", "workers", "flask", "werkzeug", "jinja2", "sqlalchemy", "redis", "rq",
            "twilio", "phonenumbers", "gunicorn")
KEEP_VARIABLE = "HOTLINE_KEEP_DOCSTRINGS"


def keep_docstrings(env: Mapping[str, str]) -> bool:
    """HOTLINE_KEEP_DOCSTRINGS as a yes or no; ValueError for anything else (``hotline check`` names it)."""
    value = env.get(KEEP_VARIABLE, "").strip().lower()
    if value not in YES_WORDS | NO_WORDS:
        raise ValueError(f"{env[KEEP_VARIABLE]!r} is neither yes nor no")
    return value in YES_WORDS


def bytecode_state(env: Mapping[str, str], packages: Iterable[str] = PACKAGES) -> str:
    """How ``serve`` and ``worker`` will run, in words (a line of ``hotline check``)."""
    return _kept_because(env, packages) or \
        "docstrings: serve and worker restart as python -OO (docstring-free bytecode compiled)"


def _kept_because(env: Mapping[str, str], packages: Iterable[str]) -> str:
    """Why ``serve`` and ``worker`` keep their docstrings, or ``""`` when they restart as ``python -OO``."""
    if keep_docstrings(env):
        return f"docstrings: kept ({KEEP_VARIABLE}); serve and worker run as they are"
    missing = uncompiled(packages)
    if missing:
        return (f"docstrings: kept, no docstring-free bytecode for {', '.join(missing)}; "
                "`hotline compile` after installing saves about 6 MB per process")
    return ""


def uncompiled(packages: Iterable[str] = PACKAGES) -> list[str]:
    """The ``packages`` whose source has no docstring-free bytecode beside it (a package not installed is skipped)."""
    missing = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None or not origin.endswith(".py"):
            continue
        if not os.path.exists(importlib.util.cache_from_source(origin, optimization=2)):
            missing.append(name)
    return missing


def compile_bytecode(packages: Iterable[str] = (*PACKAGES, "hotline_sim")) -> list[Path]:
    """Write docstring-free bytecode for this interpreter's installed packages and ``packages`` wherever they live.

    Returns the trees in which some file did not compile (a package's test data written for another
    Python, a read-only directory): those files run from source, and ``uncompiled`` says whether the
    restart still happens. What ``hotline compile`` and ``bin/post_compile`` run after an install.
    """
    trees = list(dict.fromkeys(Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")))
    for name in packages:  # an editable install (or a checkout on sys.path) lives outside site-packages
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is not None and origin.endswith(".py"):
            package = Path(origin).parent
            if not any(package.is_relative_to(tree) for tree in trees):
                trees.append(package)
    return [tree for tree in trees if tree.is_dir() and not compile_tree(tree)]


def compile_tree(tree: Path) -> bool:
    """Compile every module below ``tree`` to docstring-free bytecode; False when any file failed (the rest are done)."""
    return bool(compileall.compile_dir(tree, optimize=2, quiet=2, workers=0))


def restart_without_docstrings(command: str, packages: Iterable[str] = PACKAGES) -> None:
    """Replace this process with itself under ``python -OO`` when that costs no compiling; else return.

    Only a process started as ``hotline … command`` restarts (``command`` among its arguments):
    a test or a program that calls the command in process is never replaced.
    """
    if sys.flags.optimize >= 2 or command not in sys.argv[1:]:
        return
    try:
        kept_because = _kept_because(os.environ, packages)
    except ValueError:
        return  # the start-up checks refuse the value with its fix
    if kept_because:
        log.info("%s", kept_because)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, [sys.executable, "-OO", *sys.orig_argv[1:]])
    except OSError as exc:  # e.g. the interpreter was replaced under us: start as we are
        log.warning("keeping docstrings: restarting as %s -OO failed: %s", sys.executable, exc)
