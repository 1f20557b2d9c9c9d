"""Shared fixtures: the real-data mirror (files, parsed series, a loaded store) and the CLI.

- ``data_dir``: the mirror folder, found through SMALLCAPS_MIRROR (tests skip without it);
- ``mirror_series``: ``load(specs) -> {series_id: Series}`` parsed from the mirror, each spec
  parsed once per session (for :class:`smallcaps.registry.MemoryView`);
- ``mirror_home`` and ``open_mirror_store``: a SMALLCAPS_HOME whose store holds the whole mirror,
  loaded once per session, and a way to open it read-only in a ``with``;
- ``cli``: run ``smallcaps ARGS`` as a separate process (see :func:`run_smallcaps`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from smallcaps.store import Store

# Property and fuzz tests draw the same examples on every run: a CI run is never red because of
# a draw no earlier run made (new draws come from raising max_examples or the seeds, by hand).
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")

DEFAULT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = Path(os.environ.get("SMALLCAPS_MIRROR") or DEFAULT_MIRROR)


def run_smallcaps(
    *args: str, home: Path | None = None, mirror: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``smallcaps ARGS`` in a new process with text output; never raises on a non-zero exit.

    SMALLCAPS_HOME and SMALLCAPS_MIRROR of the calling environment are dropped, then set to
    ``home`` and ``mirror`` when given, so a test never touches the user's store by accident.
    ``COLUMNS=200`` keeps rich tables from wrapping.
    """
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SMALLCAPS_HOME", None)
    env.pop("SMALLCAPS_MIRROR", None)
    if home is not None:
        env["SMALLCAPS_HOME"] = str(home)
    if mirror is not None:
        env["SMALLCAPS_MIRROR"] = str(mirror)
    return subprocess.run(
        [sys.executable, "-m", "smallcaps.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """:func:`run_smallcaps`: ``cli("check", "--json", home=home)``."""
    return run_smallcaps


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The mirror of real publisher files; tests that need it skip when it is absent."""
    if not DATA.is_dir():
        pytest.skip(f"real-data mirror not found at {DATA}; set SMALLCAPS_MIRROR to shared/data")
    return DATA


@pytest.fixture(scope="session")
def mirror_series(data_dir: Path) -> Callable[[Iterable[str]], dict[str, pd.Series]]:
    """``load(specs)``: every series of ``specs`` parsed from the mirror, newest capture winning.

    Each spec is parsed once per session and shared; treat the series as read-only.
    """
    from smallcaps.sources import catalog

    cache: dict[str, dict[str, pd.Series]] = {}

    def load(specs: Iterable[str]) -> dict[str, pd.Series]:
        out: dict[str, pd.Series] = {}
        for spec in specs:
            if spec not in cache:
                cache[spec] = catalog.mirror_series(data_dir, [spec])
            out.update(cache[spec])
        return out

    return load


@pytest.fixture(scope="session")
def mirror_home(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A SMALLCAPS_HOME whose store holds every spec of the mirror (loaded once per session).

    Open it with ``open_mirror_store()`` inside a ``with`` and close it before a subprocess
    (DuckDB locks the file across processes). Never write to it.
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


@pytest.fixture(scope="session")
def open_mirror_store(mirror_home: Path) -> Callable[[], Store]:
    """``open_mirror_store()``: a new :class:`~smallcaps.store.Store` on ``mirror_home``."""
    from smallcaps.store import Store

    def open_store() -> Store:
        return Store.open(mirror_home / "store.duckdb", mirror_home / "archive")

    return open_store
