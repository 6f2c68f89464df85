"""Where Twilio's OpenAPI description lives for the tests: ``<repo root>/../shared``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline_sim.twilio_spec import default_spec_path

SPEC_PATH = default_spec_path()  # $TWILIO_OPENAPI_SPEC, else ../shared beside the repository


def twilio_spec_path() -> Path:
    """The spec file, or a test failure (never a skip) saying where it was expected."""
    if not SPEC_PATH.is_file():
        pytest.fail(
            f"Twilio OpenAPI description missing at {SPEC_PATH}: check out the shared/ directory beside the "
            "repository (it holds twilio/twilio_api_v2010.json)",
            pytrace=False,
        )
    return SPEC_PATH
