"""Store.session: one connection for a command's reads, released when it ends."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store

DAYS = pd.bdate_range("2025-01-01", periods=30)
IDS = ("A", "B", "C")


def _fill(path: Path) -> None:
    with Store.open(path / "s.duckdb", path / "archive") as store:
        for i, sid in enumerate(IDS):
            values = np.arange(len(DAYS), dtype=float) * (i + 1)
            tidy = Tidy(
                long_frame(sid, DAYS, values),
                {sid: SeriesMeta(sid, "fred", sid, "percent", "D")},
            )
            store.write(Payload("fred", sid, sid.encode(), datetime(2026, 1, 5, tzinfo=UTC)), tidy)


def _counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real = store._open_connection

    def counting(doing: str) -> object:
        opened.append(doing)
        return real(doing)

    monkeypatch.setattr(store, "_open_connection", counting)
    return opened


def _read_all(store: Store) -> dict[str, np.ndarray]:
    return {
        sid: store.vintage_data(int(store.vintages(sid)["vintage_id"].iat[-1])).values
        for sid in IDS
    }


def test_a_session_reads_through_one_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(tmp_path)
    apart = Store.open(tmp_path / "s.duckdb", tmp_path / "archive")
    opened = _counting(apart, monkeypatch)
    plain = _read_all(apart)
    assert len(opened) == 1 + len(IDS)  # the catalogue, then one per vintage
    held = Store.open(tmp_path / "s.duckdb", tmp_path / "archive")
    opened = _counting(held, monkeypatch)
    with held.session(), held.session():  # nested: the outer connection serves both
        shared = _read_all(held)
    assert opened == ["read"]
    assert plain.keys() == shared.keys()
    for sid in IDS:
        np.testing.assert_array_equal(plain[sid], shared[sid])


def test_a_write_inside_a_session_is_read_back(tmp_path: Path) -> None:
    _fill(tmp_path)
    with Store.open(tmp_path / "s.duckdb", tmp_path / "archive") as store, store.session():
        tidy = Tidy(long_frame("D", DAYS, np.ones(len(DAYS))),
                    {"D": SeriesMeta("D", "fred", "D", "percent", "D")})  # fmt: skip
        result = store.write(Payload("fred", "D", b"D"), tidy)
        assert store.vintage_data(result.added["D"]).values.sum() == len(DAYS)
        assert "D" in store.series_ids()


def test_the_file_is_released_when_the_session_ends(tmp_path: Path) -> None:
    _fill(tmp_path)
    probe = (
        "import sys, duckdb\n"
        "try:\n    duckdb.connect(sys.argv[1]).close()\n"
        "except duckdb.IOException:\n    sys.exit(3)\n"
    )
    path = tmp_path / "s.duckdb"
    store = Store.open(path, tmp_path / "archive")

    def other_process() -> int:
        return subprocess.run([sys.executable, "-c", probe, str(path)], check=False).returncode

    with store.session():
        assert other_process() == 3  # held: another process is locked out meanwhile
    assert other_process() == 0
