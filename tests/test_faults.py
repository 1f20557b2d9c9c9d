"""One test per fault class of issue 18: each is a one-line SmallcapsError, never a traceback,
and leaves the store as it was. (Faulty payloads: tests/store/test_gate.py; damaged stores:
tests/store/test_verify_rebuild.py.)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from smallcaps import tomlfile
from smallcaps.backtest.rules import load_rules
from smallcaps.errors import ConfigError, FetchError, NetworkError, ParseError, StoreError
from smallcaps.report.html import link_url
from smallcaps.sources import _http, catalog, usercsv
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Archive, Store
from smallcaps.thesis import claims

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def tiny(series_id: str = "UNRATE") -> tuple[Payload, Tidy]:
    days = pd.date_range("2024-01-01", periods=3, freq="MS")
    frame = long_frame(series_id, days, np.array([3.7, 3.9, 3.8]))
    meta = {series_id: SeriesMeta(series_id, "fred", "t", "percent", "M")}
    return Payload("fred", "https://e.test/x", b"x", datetime(2024, 5, 1, tzinfo=UTC)), Tidy(
        frame, meta
    )


# ---- home, store and archive ----------------------------------------------------------------


def test_home_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    with pytest.raises(StoreError, match=r"store folder '.*home': .*SMALLCAPS_HOME"):
        Store.open(home / "store.duckdb", home / "archive")
    with pytest.raises(StoreError, match="cannot create the store folder"):
        Store.open(home / "deeper" / "store.duckdb", home / "deeper" / "archive")


def test_unwritable_archive_is_a_store_error_and_nothing_is_stored(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store.duckdb", tmp_path / "archive")
    (tmp_path / "archive").write_text("in the way")  # mkdir fails as for a read-only folder
    before = store.checksum()
    with pytest.raises(StoreError, match=r"cannot write to the archive .*Nothing in the store"):
        store.write(*tiny())
    assert store.checksum() == before


@pytest.mark.skipif(ROOT, reason="root may write a read-only folder")
def test_read_only_archive_folder(tmp_path: Path) -> None:  # pragma: no cover - not as root
    archive = Archive(tmp_path / "archive")
    archive.root.mkdir()
    archive.root.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot write to the archive"):
            archive.put(b"bytes")
    finally:
        archive.root.chmod(0o700)


def test_read_only_store_lists_but_refuses_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.duckdb"
    with Store.open(path, tmp_path / "archive") as store:
        store.write(*tiny())
    stamp = path.stat().st_mtime_ns
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)  # as for a chmod a-w file
    store = Store.open(path, tmp_path / "archive")
    assert store.read_only and store.series_ids() == ["UNRATE"]
    with pytest.raises(StoreError, match="open read-only"):
        store.write(*tiny("DFF"))
    assert path.stat().st_mtime_ns == stamp  # not even the schema was written
    with pytest.raises(StoreError, match="no store at"):
        Store.open(tmp_path / "none.duckdb", tmp_path / "archive", read_only=True)


# ---- TOML files: thesis, rules, mirror mapping -------------------------------------------------

DEEP = "a = " + "[" * 1000 + "]" * 1000 + "\n"
LOADERS = {
    "rules": lambda p: load_rules(p),
    "thesis": lambda p: claims.load(p),
    "mirror": lambda p: catalog.mirror_files(p),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("deep.toml", DEEP.encode(), "nested"),
        ("latin.toml", 'title = "caf\xe9"\n'.encode("latin-1"), "not UTF-8"),
        ("big.toml", b"# " + b"x" * (tomlfile.MAX_BYTES + 10), "the limit is"),
        ("broken.toml", b"title = [", "invalid TOML"),
    ],
)
def test_every_toml_loader_shares_the_guards(
    tmp_path: Path, loader: str, name: str, content: bytes, needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=needle) as info:
        LOADERS[loader](path)
    assert "\n" not in str(info.value) and (name in str(info.value))


@pytest.mark.parametrize("loader", ["rules", "mirror"])
def test_a_folder_or_missing_toml_file(tmp_path: Path, loader: str) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        LOADERS[loader](tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        LOADERS[loader](tmp_path / "nope.toml")


def test_a_grid_far_above_the_variant_limit_fails_before_expanding(tmp_path: Path) -> None:
    shipped = Path(claims.__file__).parents[1] / "rules" / "rotation.toml"
    text = shipped.read_text(encoding="utf-8")
    axis = "[" + ", ".join(str(i) for i in range(1, 1001)) + "]"
    text += (
        '\n[[rule]]\nname = "huge"\non = "small"\noff = "large"\n'
        f'when = [{{ signal = "size_momentum", lookback = {axis}, op = ">", threshold = {axis} }},'
        f' {{ signal = "size_momentum", lookback = {axis}, op = ">", threshold = {axis} }}]\n'
    )
    path = tmp_path / "huge.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"1,000,000,000,\d{3} variants"):
        load_rules(path).variants()


# ---- user CSV dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        (b"date,value\n2020-01-31,1\n1500-01-31,2\n", 3, "outside the range"),
        (b"date,value\n31/01/2020,1\n28/02/1066,2\n", 3, "outside the range"),
        (b"date,value\n2020-01-31,1\n2020-02,2\n2020-03-31,3\n", 3, "is a month"),
    ],
)
def test_user_csv_dates_out_of_range_or_a_bare_month(body: bytes, line: int, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        usercsv.parse(body, origin="pe.csv", name="pe")
    assert info.value.line == line and info.value.field == "date"
    months = usercsv.parse(b"date,value\n2020-01,1\n2020-02,2\n", origin="pe.csv", name="pe")
    assert list(months["date"]) == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]


# ---- HTTP -----------------------------------------------------------------------------------


def _client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_oversized_responses_are_refused() -> None:
    body = b"x" * 5000
    announced = _client(lambda r: httpx.Response(200, content=body))
    with pytest.raises(FetchError, match="larger than the 1,000-byte limit"):
        _http.get(announced, "fred", "https://e.test/a", max_bytes=1000, sleep=lambda s: None)

    def chunks():  # no Content-Length: counted as it arrives
        yield from (body[i : i + 512] for i in range(0, len(body), 512))

    streamed = _client(lambda r: httpx.Response(200, content=chunks()))
    with pytest.raises(FetchError, match="larger than"):
        _http.get(streamed, "fred", "https://e.test/b", max_bytes=1000, sleep=lambda s: None)
    small = _http.get(announced, "fred", "https://e.test/a", max_bytes=5000)
    assert small.data == body


def test_a_body_cut_short_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        def cut():
            yield b"observation_date,DFF\n2024-01-01,5.33\n"
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

        return httpx.Response(200, headers={"Content-Length": "9999"}, content=cut())

    with pytest.raises(NetworkError, match=r"e\.test/c.*Nothing in the store"):
        _http.get(_client(handler), "fred", "https://e.test/c", retries=1, sleep=lambda s: None)


# ---- output ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.com/article", True),
        ("HTTP://example.com", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("file:///etc/passwd", False),
        ("https://a b", False),
    ],
)
def test_only_http_urls_become_links(url: str, linked: bool) -> None:
    assert bool(link_url(url)) is linked


# ---- the CLI ----------------------------------------------------------------------------------


def test_as_of_in_the_future_names_the_latest_date(tmp_path: Path, cli) -> None:
    home = tmp_path / "home"
    with Store.open(home / "store.duckdb", home / "archive") as store:
        store.write(*tiny())
    done = cli("series", "show", "UNRATE", "--as-of", "2100-01-01", home=home)
    assert done.returncode == ConfigError.exit_code
    assert "latest date with data is 2024-03-01" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_that_judges_nothing_exits_non_zero(tmp_path: Path, cli) -> None:
    done = cli("check", home=tmp_path / "empty")
    assert done.returncode != 0 and "could be judged" in done.stderr
    assert "Traceback" not in done.stderr
