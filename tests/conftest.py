"""Shared fixtures: the real-data mirror folder, found through SMALLCAPS_MIRROR."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = Path(os.environ.get("SMALLCAPS_MIRROR") or DEFAULT_MIRROR)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The mirror of real publisher files; tests that need it skip when it is absent."""
    if not DATA.is_dir():
        pytest.skip(f"real-data mirror not found at {DATA}; set SMALLCAPS_MIRROR to shared/data")
    return DATA
