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


@pytest.fixture(scope="session")
def mirror_home(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A SMALLCAPS_HOME whose store holds every spec of the mirror (loaded once per session).

    Open it with ``Store.open(home / "store.duckdb", home / "archive")`` inside a ``with`` and
    close it before a subprocess (DuckDB locks the file across processes). Never write to it.
    """
    from smallcaps.config import Config
    from smallcaps.store import Store
    from smallcaps.update import update

    home = tmp_path_factory.mktemp("mirror-home")
    config = Config.resolve(home=home, mirror=data_dir, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        failed = [o for o in update(store, config) if o.failed]
    assert not failed, [(str(o.spec), o.error) for o in failed]
    return home
