"""Shiller ie_data.xls: known values from the real workbook, dates, header checks, fetch."""

from __future__ import annotations

import io
import math
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import xlrd

from smallcaps.errors import FetchError, ParseError
from smallcaps.sources import shiller

NO_WAIT = {"sleep": lambda _s: None}


@pytest.fixture(scope="module")
def xls(data_dir: Path) -> bytes:
    return (data_dir / "valuation" / "ie_data.xls").read_bytes()


@pytest.fixture(scope="module")
def wide(xls: bytes) -> pd.DataFrame:
    return shiller.parse(xls, origin="ie_data.xls")


def test_first_and_last_rows(wide: pd.DataFrame) -> None:
    # values read with xlrd from sheet Data: row 9 is 1871.01, row 1873 is 2026.05
    assert len(wide) == 1865
    first = wide.iloc[0]
    assert wide.index[0] == pd.Timestamp("1871-01-01")
    assert (first["price"], first["dividend"], first["earnings"], first["gs10"]) == (
        4.44,
        0.26,
        0.4,
        5.32,
    )
    assert first["cpi"] == pytest.approx(12.46406116)
    assert math.isnan(first["cape"])  # "NA" until ten years of earnings exist
    assert wide.index[-1] == pd.Timestamp("2026-05-01")
    assert wide["price"].iloc[-1] == 7259.22
    assert wide["cape"].iloc[-1] == pytest.approx(39.583505867263725)


def test_dividends_and_earnings_end_earlier_with_nan_not_zero(wide: pd.DataFrame) -> None:
    for col in ("dividend", "earnings", "real_earnings"):
        assert wide[col].last_valid_index() == pd.Timestamp("2026-03-01")
        assert wide.loc["2026-04-01":, col].isna().all()
    assert wide.loc["2026-03-01", "earnings"] == 277.1
    assert wide.loc["2026-03-01", "dividend"] == 79.97
    assert wide["price"].notna().all() and wide["cpi"].notna().all()


def test_cape_known_values(wide: pd.DataFrame) -> None:
    assert wide["cape"].first_valid_index() == pd.Timestamp("1881-01-01")
    assert wide.loc["1881-01-01", "cape"] == pytest.approx(18.473952301404942)
    assert wide.loc["1929-09-01", "cape"] == pytest.approx(32.563788598776696)
    assert wide.loc["2000-01-01", "cape"] == pytest.approx(43.772578146937995)
    assert wide["cape"].idxmax() == pd.Timestamp("1999-12-01")  # the dot-com peak
    assert wide.loc["2000-01-01", "tr_cape"] == pytest.approx(47.587687272921485)


def test_october_is_dot_one_not_january(wide: pd.DataFrame) -> None:
    # 1871.1 and 2025.1 are floats: October, read by rounding (x - year) * 100
    assert wide.loc["1871-10-01", "price"] == 4.59
    assert wide.loc["1871-11-01", "price"] == 4.64
    assert wide.loc["2025-10-01", "cape"] == pytest.approx(39.20569217112651)
    assert wide.index.equals(pd.date_range("1871-01-01", "2026-05-01", freq="MS", name="date"))


def test_dates_agree_with_shillers_fraction_column(xls: bytes, wide: pd.DataFrame) -> None:
    # Shiller's "Date Fraction" column is year + (month - 0.5) / 12: an independent check
    sheet = xlrd.open_workbook(file_contents=xls, logfile=io.StringIO()).sheet_by_name("Data")
    fraction = np.array(sheet.col_values(5, 8, 8 + len(wide)), dtype=float)
    ours = wide.index.year + (wide.index.month - 0.5) / 12
    np.testing.assert_allclose(ours, fraction, atol=1e-6)


def test_tidy_ids_units_and_no_nan(xls: bytes) -> None:
    tidy = shiller.tidy(xls, origin="ie_data.xls")
    assert {"shiller/price", "shiller/cape", "shiller/gs10", "shiller/tr_cape"} <= set(tidy.meta)
    assert not tidy.frame["value"].isna().any()
    assert tidy.series("shiller/earnings").index[-1] == pd.Timestamp("2026-03-01")
    assert tidy.series("shiller/price").index[-1] == pd.Timestamp("2026-05-01")
    assert len(tidy.series("shiller/cape")) == 1865 - 120  # 1871-1880 have no CAPE
    meta = tidy.meta
    assert meta["shiller/gs10"].units == "percent"
    assert meta["shiller/cape"].units == "ratio"
    assert meta["shiller/price"].units == "index points"
    assert meta["shiller/price"].publisher_vintage == "2026-05"
    assert "forward-looking" in (meta["shiller/stock_real_return_10y"].notes or "")
    assert {m.frequency for m in meta.values()} == {"M"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"<!DOCTYPE html><html><title>Page not found</title></html>", "HTML page"),
        (b"Date,P,D,E\n1871.01,4.44,0.26,0.4\n", "expected an Excel 97 workbook"),
        (b"PK\x03\x04rest-of-an-xlsx", r"\.xlsx \(zip\) workbook"),
        (b"   \n", "empty file"),
    ],
)
def test_not_a_workbook(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        shiller.parse(body, origin="ie_data.xls")
    assert info.value.origin == "ie_data.xls"


def test_truncated_workbook(xls: bytes) -> None:
    for cut in (100, 5000, len(xls) // 2):
        with pytest.raises(ParseError, match=r"truncated download\?"):
            shiller.parse(xls[:cut], origin="ie_data.xls")


def test_missing_sheet_is_named(xls: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shiller, "SHEET", "Daten")
    with pytest.raises(ParseError, match=r"no sheet 'Daten'.*found \['Disclaimer', 'Data'\]"):
        shiller.parse(xls, origin="ie_data.xls")


def _grid(xls: bytes) -> list[list[shiller.Cell]]:
    return shiller._read_grid(xls, "ie_data.xls")


def test_header_row_is_found_by_content(xls: bytes, wide: pd.DataFrame) -> None:
    grid = _grid(xls)
    moved = [[None] * 22, [None] * 22, *grid]  # two rows more above: same frame
    pd.testing.assert_frame_equal(shiller._frame(moved, "x"), wide)
    code_row = 7
    assert grid[code_row][0] == "Date"
    no_codes = [row for r, row in enumerate(grid) if r != code_row]
    with pytest.raises(ParseError, match=r"no column-code row.*'Date'.*'CAPE'"):
        shiller._frame(no_codes, "ie_data.xls")


def test_renamed_column_is_reported(xls: bytes) -> None:
    grid = _grid(xls)
    grid[7] = ["E10" if c == "E" else c for c in grid[7]]
    with pytest.raises(ParseError, match=r"line 8: no column 'E' for earnings") as info:
        shiller._frame(grid, "ie_data.xls")
    assert "'E10'" in str(info.value)  # the codes found are listed


def test_bad_cell_and_bad_date_name_line_and_field(xls: bytes) -> None:
    grid = _grid(xls)
    grid[8] = [grid[8][0], "4.44x", *grid[8][2:]]
    with pytest.raises(ParseError, match=r"line 9, field 'price': cannot read '4.44x'"):
        shiller._frame(grid, "ie_data.xls")
    grid = _grid(xls)
    grid[9] = [1871.13, *grid[9][1:]]
    with pytest.raises(ParseError, match=r"line 10, field 'Date': cannot read 1871.13"):
        shiller._frame(grid, "ie_data.xls")
    grid = _grid(xls)
    grid[9] = [1871.01, *grid[9][1:]]
    with pytest.raises(ParseError, match=r"line 10.*does not follow 1871-01"):
        shiller._frame(grid, "ie_data.xls")


def test_fetch_serves_the_same_frame(httpserver, xls: bytes, wide: pd.DataFrame) -> None:
    httpserver.expect_oneshot_request("/ie_data.xls").respond_with_data("oops", status=500)
    httpserver.expect_request("/ie_data.xls").respond_with_data(
        xls, content_type="application/vnd.ms-excel"
    )
    url = httpserver.url_for("/ie_data.xls")
    with httpx.Client() as client:
        payload = shiller.fetch(client=client, url=url, **NO_WAIT)
    assert payload.source == "shiller" and payload.data == xls
    pd.testing.assert_frame_equal(shiller.parse(payload.data, origin=payload.url), wide)


def test_fetch_html_with_200_is_a_parse_error(httpserver) -> None:
    page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
    httpserver.expect_request("/ie_data.xls").respond_with_data(page, content_type="text/html")
    url = httpserver.url_for("/ie_data.xls")
    with httpx.Client() as client:
        payload = shiller.fetch(client=client, url=url, **NO_WAIT)
    with pytest.raises(ParseError, match=r"HTML page titled 'Just a moment...'") as info:
        shiller.parse(payload.data, origin=payload.url)
    assert info.value.origin == url


def test_fetch_gives_up_after_retries(httpserver) -> None:
    httpserver.expect_request("/ie_data.xls").respond_with_data("down", status=503)
    url = httpserver.url_for("/ie_data.xls")
    with httpx.Client() as client, pytest.raises(FetchError, match="HTTP 503") as info:
        shiller.fetch(client=client, url=url, retries=2, **NO_WAIT)
    assert url in str(info.value)
    assert len(httpserver.log) == 3


def test_url_is_the_shillerdata_download() -> None:
    assert shiller.URL.startswith("https://img1.wsimg.com/") and "/ie_data.xls" in shiller.URL


def test_fetch_follows_the_current_link_on_the_data_page(httpserver, xls: bytes) -> None:
    # the workbook's address changes with every upload; the page names the current one
    page = (
        b'<html><body><a href="/other.pdf">x</a> <a class="btn" '
        b'href="/blobby/downloads/abc/ie_data.xls?ver=1&amp;x=2">Download</a></body></html>'
    )
    httpserver.expect_request("/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/blobby/downloads/abc/ie_data.xls").respond_with_data(xls)
    with httpx.Client() as client:
        payload = shiller.fetch(client=client, page_url=httpserver.url_for("/"), **NO_WAIT)
    assert payload.data == xls
    assert payload.url.endswith("/blobby/downloads/abc/ie_data.xls?ver=1&x=2")
    assert shiller.find_download(b"<html>no link here</html>") is None


def test_fetch_falls_back_to_the_last_known_address(httpserver, monkeypatch, xls: bytes) -> None:
    httpserver.expect_request("/page").respond_with_data("down", status=503)
    httpserver.expect_request("/known/ie_data.xls").respond_with_data(xls)
    monkeypatch.setattr(shiller, "URL", httpserver.url_for("/known/ie_data.xls"))
    with httpx.Client() as client:
        payload = shiller.fetch(client=client, page_url=httpserver.url_for("/page"), **NO_WAIT)
    assert payload.data == xls
