"""The Sev-1 hotline.

``create_app`` (app/factory.py) builds the Flask app. Importing the package itself loads no Flask:
``hotline worker`` and the other commands that serve no HTTP import ``app.*`` modules without the
~20 MB of Flask, Werkzeug and Jinja.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from app.factory import create_app

        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
