"""What `pip install .` ships: every template and migration the running app reads."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_package_data_covers_every_non_python_file_of_the_app():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["app"]
    shipped_or_not = [path.relative_to(ROOT / "app").as_posix() for path in (ROOT / "app").rglob("*")
                      if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts]
    assert shipped_or_not, "the app has templates"
    missing = [name for name in shipped_or_not if not any(fnmatch(name, pattern) for pattern in patterns)]
    assert missing == []
