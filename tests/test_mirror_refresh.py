"""Refreshing from a mirror skips the files already stored: unread while size and mtime hold,
hashed but not parsed when only touched, parsed (a new vintage) when their bytes changed."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from smallcaps import update as update_mod
from smallcaps.config import Config
from smallcaps.sources import catalog
from smallcaps.sources.catalog import Spec
from smallcaps.store import MirrorMark, Store
from smallcaps.update import UNCHANGED_MIRROR, update

SPECS = [Spec("fred", "DFF"), Spec("fred", "UNRATE")]  # three files: two DFF captures


@pytest.fixture
def mirror(tmp_path: Path, data_dir: Path) -> Path:
    """A private copy of the mirror files of SPECS (tests change them)."""
    root = tmp_path / "mirror"
    for f in catalog.mirror_files():
        if f.spec in SPECS:
            (root / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_dir / f.path, root / f.path)
    return root


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of mirror files read (``read``) and parsed (``parse``)."""
    counts: Counter[str] = Counter()
    read, parse = catalog.mirror_payload, catalog.parse_mirror

    def counting_read(*args: object, **kwargs: object) -> object:
        counts["read"] += 1
        return read(*args, **kwargs)  # type: ignore[arg-type]

    def counting_parse(*args: object, **kwargs: object) -> object:
        counts["parse"] += 1
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog, "mirror_payload", counting_read)
    monkeypatch.setattr(catalog, "parse_mirror", counting_parse)
    return counts


def _vintages(store: Store) -> dict[str, int]:
    return {s.name: len(store.vintages(s.name)) for s in SPECS}


def test_a_second_refresh_reads_no_file(tmp_path: Path, mirror: Path, calls: Counter[str]) -> None:
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        first = update(store, config, SPECS)
        assert calls == {"read": 3, "parse": 3}
        stored = _vintages(store)
        calls.clear()
        again = update(store, config, SPECS)
        assert calls == {}  # not one file opened
        assert _vintages(store) == stored
    assert [o.new_vintages for o in first] == [2, 1]
    assert all(o.skipped == UNCHANGED_MIRROR and not o.failed for o in again)
    assert [o.new_vintages for o in again] == [0, 0]
    # a skipped spec is described by what the store holds: the newest capture's rows
    assert [(o.series, o.rows, o.first, o.last) for o in again] == [
        (o.series, o.rows, o.first, o.last) for o in first
    ]


def test_a_touched_file_is_hashed_not_parsed(
    tmp_path: Path, mirror: Path, calls: Counter[str]
) -> None:
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        update(store, config, SPECS)
        stored = _vintages(store)
        path = mirror / "fred" / "DFF_fredgraph.csv"
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        calls.clear()
        touched = update(store, config, SPECS)
        assert calls == {"read": 1}  # hashed, equal to the record: not parsed
        assert _vintages(store) == stored
        assert touched[0].skipped == UNCHANGED_MIRROR
        calls.clear()
        update(store, config, SPECS)
        assert calls == {}  # the record took the new mtime


def test_changed_bytes_are_parsed_into_a_new_vintage(
    tmp_path: Path, mirror: Path, calls: Counter[str]
) -> None:
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        update(store, config, SPECS)
        before = store.vintages("DFF")
        path = mirror / "fred" / "DFF_fredgraph.csv"
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:-1]))  # the last observation withdrawn
        calls.clear()
        out = update(store, config, SPECS)
        after = store.vintages("DFF")
    assert calls == {"read": 1, "parse": 1}
    assert out[0].skipped is None and out[0].new_vintages == 1 and out[0].files == 1
    assert len(after) == len(before) + 1
    assert after["row_count"].iat[-1] == before["row_count"].iat[-1] - 1


def test_a_store_without_records_reads_every_file_as_before(
    tmp_path: Path, mirror: Path, calls: Counter[str]
) -> None:
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        update(store, config, SPECS)
        stored, checksum = _vintages(store), store.checksum()
        with store.connect(doing="write") as con:  # a store written before the records
            con.execute("DELETE FROM mirror_files")
        calls.clear()
        out = update(store, config, SPECS)
        assert calls == {"read": 3, "parse": 3}
        assert [o.new_vintages for o in out] == [0, 0] and not any(o.skipped for o in out)
        assert _vintages(store) == stored and store.checksum() == checksum
        assert len(store.mirror_marks()) == 3  # recorded again: the next refresh skips


def test_a_new_parser_reads_the_files_again(
    tmp_path: Path, mirror: Path, calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        update(store, config, SPECS)
        monkeypatch.setattr(update_mod, "_parser_version", lambda: "another parser")
        calls.clear()
        out = update(store, config, SPECS)
    assert calls == {"read": 3, "parse": 3}
    assert [o.new_vintages for o in out] == [0, 0]


def test_a_failed_spec_leaves_no_record(tmp_path: Path, mirror: Path) -> None:
    (mirror / "fred" / "UNRATE.csv").write_text("not,a\nfred,file\n")
    config = Config.resolve(home=tmp_path / "home", mirror=mirror, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        out = update(store, config, SPECS)
        assert [o.failed for o in out] == [False, True]
        paths = {Path(path).name for path, _ in store.mirror_marks()}
    assert paths == {"DFF_2024snapshot.csv", "DFF_fredgraph.csv"}


def test_mirror_marks_round_trip(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb", tmp_path / "a") as store:
        assert store.mirror_marks() == {}
        assert store.mirror_seen("/m/a.csv", "r", 10, 5) is None
        store.mark_mirror(
            [MirrorMark("/m/a.csv", "r", 10, 5, "ab"), MirrorMark("/m/b", "r", 1, 1, "c")]
        )
        assert store.mirror_seen("/m/a.csv", "r", 10, 5) == "ab"
        assert store.mirror_seen("/m/a.csv", "r", 10, 6) is None  # touched
        assert store.mirror_seen("/m/a.csv", "other reader", 10, 5) is None
        store.mark_mirror([MirrorMark("/m/a.csv", "r", 11, 7, "cd")])  # replaces
        assert store.mirror_seen("/m/a.csv", "r", 11, 7) == "cd"
        assert len(store.mirror_marks()) == 2
