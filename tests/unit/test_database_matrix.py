"""The tests' database matrix (``tests/conftest.py``): a scenario runs on one database, a test of the database's own
behaviour on both, and HOTLINE_TEST_EVERY_DATABASE=1 runs every scenario on both."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import DATABASES, database_for

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "tests/paging/test_honest_end.py"  # scenarios only: each on one database
LOCKS = "tests/paging/test_incident_locks.py"  # every_database: row locks taken by threads at once
REPORT = "tests/updates/test_update_report_rounds.py"  # asks for database_url itself: the report's SQL


def _collected(*paths: str, every: bool = False) -> dict[str, set[str]]:
    """Each collected test function (``path::name``) and the databases it runs on."""
    env = {**os.environ, "HOTLINE_TEST_EVERY_DATABASE": "1" if every else "0"}
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", *paths], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    runs: dict[str, set[str]] = defaultdict(set)
    for line in out.stdout.splitlines():
        if "::" in line and "[" in line:
            name, params = line.split("[", 1)
            runs[name].update(p for p in params.rstrip("]").split("-") if p in DATABASES)
    return runs


def test_a_scenario_runs_on_the_one_database_its_name_picks_and_the_database_tests_on_both():
    runs = _collected(SCENARIOS, LOCKS, REPORT)
    scenarios = {name: dbs for name, dbs in runs.items() if name.startswith(SCENARIOS)}
    assert len(scenarios) >= 10
    for name, dbs in scenarios.items():
        assert dbs == {database_for(name.removeprefix("tests/"))}, name
    assert {db for dbs in scenarios.values() for db in dbs} == set(DATABASES)  # the file's scenarios share both
    for name, dbs in runs.items():
        if name.startswith((LOCKS, REPORT)):
            assert dbs == set(DATABASES), name
    assert any(name.startswith(LOCKS) for name in runs) and any(name.startswith(REPORT) for name in runs)


def test_every_scenario_runs_on_both_databases_when_asked():
    runs = _collected(SCENARIOS, every=True)
    assert len(runs) >= 10 and all(dbs == set(DATABASES) for dbs in runs.values())
