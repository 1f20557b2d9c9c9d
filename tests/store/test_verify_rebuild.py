"""``store verify`` and ``store rebuild`` on a store whose blocks are corrupted on purpose."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from smallcaps.config import Config
from smallcaps.errors import StoreError
from smallcaps.sources.catalog import Spec
from smallcaps.store import Store
from smallcaps.store.repair import rebuild, verify
from smallcaps.update import update

SPECS = [Spec("fred", "DFF"), Spec("french", "F-F_Research_Data_Factors"), Spec("yahoo", "IWM")]


@pytest.fixture
def home(tmp_path: Path, data_dir: Path) -> Path:
    config = Config(home=tmp_path / "home", mirror=data_dir)
    outcomes = update(Store.from_config(config), config, SPECS)
    assert not any(o.failed for o in outcomes)
    return config.home


def vintages(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT series_id, fetched_at, content_hash, row_count, first_date, last_date, url "
            "FROM vintages ORDER BY series_id, fetched_at"
        ).fetchall()
    finally:
        con.close()


def corrupt(path: Path) -> None:
    """Overwrite a stretch of every 256 kB past the header: data blocks, not the catalogue."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        for offset in range(300_000, size - 4096, 262_144):
            fh.seek(offset)
            fh.write(b"\xff" * 512)


def test_a_sound_store_verifies(home: Path) -> None:
    result = verify(home / "store.duckdb", home / "archive")
    assert result.ok, result.problems
    assert result.vintages == len(vintages(home / "store.duckdb"))
    assert result.observations > 100_000 and result.payloads >= len(SPECS)


def test_rebuild_restores_a_store_with_corrupt_blocks(home: Path) -> None:
    path = home / "store.duckdb"
    before = vintages(path)
    corrupt(path)
    damaged = verify(path, home / "archive")
    assert not damaged.ok
    assert any("cannot be read" in p or "content hash" in p for p in damaged.problems)
    done = rebuild(path, home / "archive")
    assert vintages(path) == before  # same vintages, same fetch times, same rows
    assert verify(path, home / "archive").ok
    assert Path(done.backup).is_file() and done.vintages == len(before)
    with Store.open(path, home / "archive") as store:  # reads work again
        assert store.vintage_data(int(store.vintages("DFF")["vintage_id"].iat[-1])).values.size


def test_a_corrupt_archive_payload_is_reported_and_rebuild_refuses(home: Path) -> None:
    path, archive = home / "store.duckdb", home / "archive"
    victim = next(archive.glob("??/*.bin"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    result = verify(path, archive)
    assert any("is corrupt" in p and victim.name in p for p in result.problems)
    stamp = path.stat().st_mtime_ns, path.stat().st_size
    with pytest.raises(StoreError, match="is corrupt"):
        rebuild(path, archive)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == stamp  # left as it was
    assert not [p for p in home.iterdir() if ".rebuild-" in p.name]


def test_cli_store_verify_and_rebuild(home: Path, cli) -> None:
    corrupt(home / "store.duckdb")
    listing = cli("report", "--no-fetch", "--out", str(home / "r.html"), home=home)
    assert listing.returncode == StoreError.exit_code, listing.stderr
    assert "could not read the store" in listing.stderr and "Traceback" not in listing.stderr
    bad = cli("store", "verify", home=home)
    assert bad.returncode == StoreError.exit_code and "problem" in bad.stdout
    fixed = cli("store", "rebuild", home=home)
    assert fixed.returncode == 0, fixed.stderr
    assert cli("store", "verify", home=home).returncode == 0
    assert os.path.getsize(home / "store.duckdb") > 0
