"""Every row lock in the app's source is on a table named at the lock, and never an incident's but in ``incident_lock``.

An incident is locked ``FOR NO KEY UPDATE`` (``app.services.row_locks.incident_lock``): a lock of its own kind
(``with_for_update()``, ``session.get(Incident, …, with_for_update=True)``, a raw ``FOR UPDATE``) would again make
every log line, page or callback written about the incident wait for it, and deadlock. A lock whose table cannot be
read off the source (a statement held in a variable from elsewhere) fails here until it is listed below, with why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.models import Base

APP = Path(__file__).resolve().parents[2] / "app"
THE_INCIDENT_LOCK = ("services/row_locks.py", "incident_lock")
# (file, function) -> why its lock is not an incident's though its table is not named where it is taken
NOT_AN_INCIDENT = {
    ("services/row_locks.py", "lock_with_incident"): "the callback's or the waiting caller's row (Callback, LiveWait)",
}
MODELS = {mapper.class_.__name__ for mapper in Base.registry.mappers}
RAW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _assigned(scope: ast.AST, name: str) -> list[ast.AST]:
    """What ``name`` is assigned in the function (or module) holding the lock."""
    return [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]


def _models(expr: ast.AST, scope: ast.AST, seen: frozenset[str] = frozenset()) -> set[str]:
    """The models an expression names, following the local assignments of the names it uses."""
    names = _names(expr)
    models = names & MODELS
    for name in names - MODELS - seen:
        for value in _assigned(scope, name):
            models |= _models(value, scope, seen | {name})
    return models


def _tables(expr: ast.AST, scope: ast.AST) -> set[str] | None:
    """The models a locking statement reads; None when the source does not tell."""
    return _models(expr, scope) or None


class _Locks(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path, self.module, self.stack, self.found = path, tree, [], []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.stack.append(node)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        function = self.stack[-1] if self.stack else None
        where = (self.path, function.name if function else "<module>")
        scope = function or self.module
        if isinstance(node.func, ast.Attribute) and node.func.attr == "with_for_update":
            self.found.append((where, node.lineno, _tables(node.func.value, scope)))
        for keyword in node.keywords:
            if keyword.arg == "with_for_update":  # session.get(Model, id, with_for_update=...)
                first = node.args[0] if node.args else None
                self.found.append((where, node.lineno, {first.id} if isinstance(first, ast.Name)
                                   and first.id in MODELS else None))
        self.generic_visit(node)


def _sources() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(APP).as_posix(), ast.parse(path.read_text(), str(path)))
            for path in sorted(APP.rglob("*.py")) if "migrations" not in path.parts]


def _locks() -> list[tuple[tuple[str, str], int, set[str] | None]]:
    found = []
    for path, tree in _sources():
        visitor = _Locks(path, tree)
        visitor.visit(tree)
        found += visitor.found
    return found


def test_the_scan_sees_the_app_s_row_locks():
    """Not vacuous: it finds the incident lock, the page claims' and the callback's."""
    locks = _locks()
    assert any(where == THE_INCIDENT_LOCK for where, _, _ in locks)
    assert any(tables == {"Page"} for _, _, tables in locks)
    assert any(where in NOT_AN_INCIDENT for where, _, _ in locks)


def _raw_locks() -> list[str]:
    """Row locks written in SQL text (they would bypass the rule); docstrings, which explain it, are not SQL."""
    found = []
    for path, tree in _sources():
        docstrings = {id(node.value) for node in ast.walk(tree)
                      if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
        found += [f"app/{path}:{node.lineno} locks in SQL text" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and RAW_LOCK.search(node.value)]
    return found


def test_no_code_locks_an_incident_but_incident_lock():
    wrong = [f"app/{path}:{line} ({function}) locks {sorted(tables) if tables else 'a table it does not name'}"
             for (path, function), line, tables in _locks() if (path, function) != THE_INCIDENT_LOCK
             and ("Incident" in tables if tables else (path, function) not in NOT_AN_INCIDENT)]
    assert wrong + _raw_locks() == []
