from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smallcaps.sources.base import Payload
from smallcaps.store import Archive, StoreError


def payload(data: bytes) -> Payload:
    return Payload("fred", "https://example.test/x.csv", data, datetime(2026, 1, 2, tzinfo=UTC))


def test_put_get_round_trip_and_layout(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    p = payload(b"observation_date,DFF\n2026-01-02,3.64\n")
    path = archive.put(p)
    assert path == tmp_path / "archive" / p.sha256[:2] / f"{p.sha256}.bin"
    assert archive.has(p.sha256)
    assert archive.get(p.sha256) == p.data
    assert not list(path.parent.glob("*.part"))


def test_identical_bytes_are_stored_once(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    first = archive.put(payload(b"same bytes"))
    stamp = first.stat().st_mtime_ns
    second = archive.put(b"same bytes")  # bytes work as well as a Payload
    assert first == second
    assert first.stat().st_mtime_ns == stamp  # not rewritten
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.name]


def test_get_detects_a_corrupt_file(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    p = payload(b"good bytes")
    archive.put(p).write_bytes(b"flipped bytes")
    with pytest.raises(StoreError, match="corrupt"):
        archive.get(p.sha256)


def test_missing_payload_and_bad_digest_are_clear_errors(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not archive.has(digest)
    with pytest.raises(StoreError, match="not in the archive"):
        archive.get(digest)
    with pytest.raises(StoreError, match="sha256"):
        archive.get("../../etc/passwd")


def test_failed_rename_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive(tmp_path)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    p = payload(b"bytes that never land")
    with pytest.raises(StoreError, match="disk full"):  # an OSError becomes a one-line StoreError
        archive.put(p)
    assert not archive.has(p.sha256)
    assert not [f for f in tmp_path.rglob("*") if f.is_file()]
