"""Issue 12 (memory): ``serve`` and ``worker`` restart as ``python -OO`` only when that costs no compiling.

The restart replaces the process (``os.execv``), so it is shown in a child interpreter: a small
package stands for the stack, with or without its docstring-free bytecode.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from app.docstring_free import KEEP_VARIABLE, uncompiled

ROOT = Path(__file__).resolve().parents[2]
# What the child prints: its optimisation level, whether the package's docstring survived, and its argv.
PROGRAM = """
import sys
from app.docstring_free import restart_without_docstrings
restart_without_docstrings("serve", packages=("tinystack",))
import tinystack
print(sys.flags.optimize, tinystack.__doc__, sys.argv[1:])
"""


def _package(tmp_path: Path, compiled: bool) -> Path:
    package = tmp_path / "tinystack"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""the docstring"""\n')
    if compiled:
        assert compileall.compile_dir(package, optimize=2, quiet=1)
    return tmp_path


def _child(path: Path, *args: str, keep: str = "") -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)]), KEEP_VARIABLE: keep}
    env.pop("PYTHONOPTIMIZE", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.split(" ", 2)


def test_a_package_without_its_docstring_free_bytecode_is_named(tmp_path):
    compiled = _package(tmp_path / "a", compiled=True)
    bare = _package(tmp_path / "b", compiled=False)
    sys.path[:0] = [str(compiled)]
    try:
        assert uncompiled(("tinystack", "no_such_package_here")) == []
    finally:
        sys.path.remove(str(compiled))
        sys.modules.pop("tinystack", None)
    sys.path[:0] = [str(bare)]
    try:
        assert uncompiled(("tinystack",)) == ["tinystack"]
    finally:
        sys.path.remove(str(bare))
        sys.modules.pop("tinystack", None)


def test_serve_restarts_as_python_oo_with_its_arguments_once_the_bytecode_is_there(tmp_path):
    level, doc, argv = _child(_package(tmp_path, compiled=True), "serve", "--port", "8123")
    assert (level, doc) == ("2", "None")
    assert argv.strip() == "['serve', '--port', '8123']"


def test_without_the_bytecode_or_when_told_to_keep_docstrings_it_does_not_restart(tmp_path):
    assert _child(_package(tmp_path / "a", compiled=False), "serve")[:2] == ["0", "the"]
    assert _child(_package(tmp_path / "b", compiled=True), "serve", keep="1")[:2] == ["0", "the"]
    assert _child(_package(tmp_path / "c", compiled=True), "serve", keep="0")[:2] == ["2", "None"]
    # a value that is neither: no restart, and the start-up checks refuse it (the next test)
    assert _child(_package(tmp_path / "d", compiled=True), "serve", keep="perhaps")[:2] == ["0", "the"]


def test_a_process_not_started_as_that_command_is_never_replaced(tmp_path):
    # e.g. a test runner calling the command in process: its own arguments do not name it
    assert _child(_package(tmp_path, compiled=True), "--something-else")[:2] == ["0", "the"]


def test_hotline_check_says_how_serve_will_run_and_refuses_a_value_that_is_neither_yes_nor_no(tmp_path):
    from app.config_report import CheckReport
    from app.config_rules import settings_problems
    from app.docstring_free import bytecode_state, keep_docstrings
    from app.settings import Settings

    assert [keep_docstrings({KEEP_VARIABLE: v}) for v in ("", "0", "off", "1", "Yes")] == [False] * 3 + [True] * 2
    sys.path[:0] = [str(_package(tmp_path, compiled=False))]
    try:
        assert "no docstring-free bytecode for tinystack" in bytecode_state({}, packages=("tinystack",))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tinystack", None)
    assert bytecode_state({KEEP_VARIABLE: "1"}).startswith("docstrings: kept (HOTLINE_KEEP_DOCSTRINGS)")

    report = CheckReport()
    settings_problems(Settings.from_env({}), {KEEP_VARIABLE: "perhaps"}, report)
    assert [p.where for p in report.errors] == [KEEP_VARIABLE]
    assert "'perhaps' is neither yes nor no" in report.errors[0].message
    report = CheckReport()
    settings_problems(Settings.from_env({}), {}, report)
    assert not report.errors and any(line.startswith("docstrings: ") for line in report.passed)


def test_a_file_that_does_not_compile_is_reported_and_the_rest_of_its_tree_is_compiled(tmp_path):
    from app.docstring_free import compile_tree

    package = _package(tmp_path, compiled=False) / "tinystack"
    (package / "broken.py").write_text("def (:\n")  # e.g. a package's test data written for another Python
    assert compile_tree(tmp_path) is False
    assert os.path.exists(importlib.util.cache_from_source(str(package / "__init__.py"), optimization=2))
    assert not os.path.exists(importlib.util.cache_from_source(str(package / "broken.py"), optimization=2))


def test_hotline_compile_compiles_a_package_outside_site_packages_as_an_editable_install_has_it(tmp_path):
    from app.docstring_free import compile_bytecode

    sys.path[:0] = [str(_package(tmp_path, compiled=False))]
    try:
        assert uncompiled(("tinystack",)) == ["tinystack"]
        assert compile_bytecode(packages=("tinystack",)) == []
        assert uncompiled(("tinystack",)) == []
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tinystack", None)


def test_the_platform_build_hook_compiles_the_install_so_serve_and_worker_run_without_docstrings():
    # Heroku's and Scalingo's Python buildpacks run bin/post_compile with the install's bin first on PATH.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    done = subprocess.run([str(ROOT / "bin" / "post_compile")], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    assert "docstring-free bytecode compiled: serve and worker restart as python -OO" in done.stdout, done.stdout
    assert uncompiled() == []
