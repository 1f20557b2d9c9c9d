"""Ken French Data Library: real files from the mirror, faults over HTTP, synthetic layouts."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from smallcaps.errors import ConfigError, ParseError, UnknownSeriesError
from smallcaps.sources import _http, french
from smallcaps.sources.base import Tidy

ZIP = "F-F_Research_Data_Factors_CSV.zip"
DAILY_ISO = "F-F_Research_Data_Factors_daily.csv"
DAILY_CLASSIC = "F-F_Research_Data_Factors_daily_202503.csv"
ME = "Portfolios_Formed_on_ME.csv"
BE_ME = "Portfolios_Formed_on_BE-ME.csv"
E_P = "Portfolios_Formed_on_E-P.csv"
P25 = "25_Portfolios_5x5.csv"
P6 = "6_Portfolios_2x3.CSV"
F5 = "F-F_Research_Data_5_Factors_2x3.csv"
DATA_ROW = re.compile(rb"^[ \t]*\d", re.MULTILINE)


@functools.cache
def _parsed(path: Path) -> french.FrenchFile:
    return french.parse(path.read_bytes(), origin=path.name)


@pytest.fixture
def load(data_dir: Path):
    return lambda name: _parsed(data_dir / "french" / name)


@pytest.fixture
def client() -> httpx.Client:
    with _http.make_client(timeout=2.0) as c:
        yield c


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


# --- every real file ---------------------------------------------------------------------------


def test_every_file_in_the_mirror_parses_with_sound_tables(data_dir: Path) -> None:
    paths = sorted((data_dir / "french").iterdir())
    assert len(paths) >= 9
    for path in paths:
        parsed = _parsed(path)
        raw = path.read_bytes()
        if raw[:2] == b"PK":
            raw = zipfile.ZipFile(io.BytesIO(raw)).read(ZIP.replace("_CSV.zip", ".csv"))
        # every data row of the file lands in exactly one table: nothing lost, nothing mixed
        assert sum(len(t.frame) for t in parsed.tables.values()) == len(DATA_ROW.findall(raw))
        assert parsed.crsp_vintage is not None and re.fullmatch(r"20\d{4}", parsed.crsp_vintage)
        for title, table in parsed.tables.items():
            frame = table.frame
            assert title == table.title and title == " ".join(title.split())
            assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "date"
            assert frame.index.is_monotonic_increasing and frame.index.is_unique
            assert all(dtype == np.float64 for dtype in frame.dtypes)
            assert not frame.isin([-99.99, -999.0, -0.9999, -9.99]).any().any()  # markers gone
            assert table.units in ("decimal return", "count", "USD millions", "ratio")
            if table.frequency == "M":
                assert frame.index.is_month_end.all()
            if table.frequency == "A":
                assert ((frame.index.month == 12) & (frame.index.day == 31)).all()
            if table.units == "decimal return":
                assert table.publisher_units == "percent"
                assert frame.abs().max().max() < 10  # 1000 % in a period: not a decimal return
            if table.units == "count":
                assert (frame.dropna() == frame.dropna().round()).all().all()
        slugs = [t.slug for t in parsed.tables.values()]
        assert len(set(slugs)) == len(slugs)


def test_portfolios_formed_on_me_known_values(load) -> None:
    parsed = load(ME)
    assert parsed.crsp_vintage == "202602"
    assert list(parsed.tables) == [
        "Average Value Weight Returns -- Monthly",
        "Average Equal Weighted Returns -- Monthly",
        "Value Weight Returns -- Annual from January to December",
        "Equal Weight Returns -- Annual from January to December",
        "Number of Firms in Portfolios",
        "Average Firm Size",
    ]
    vw = parsed.table("Average Value Weight Returns -- Monthly")
    assert (vw.frequency, vw.units, vw.publisher_units, vw.line) == (
        "M",
        "decimal return",
        "percent",
        13,
    )
    frame = vw.frame
    assert len(frame) == 1196 and frame.shape[1] == 19
    assert (frame.index[0], frame.index[-1]) == (ts("1926-07-31"), ts("2026-02-28"))
    assert frame.loc["1926-07-31", "Lo 30"] == 0.06 / 100
    assert frame.loc["2026-02-28", "Hi 10"] == -1.90 / 100
    assert frame["<= 0"].isna().all()  # -99.99 throughout
    assert frame.columns[0] == "<= 0" and frame.columns[-1] == "Hi 10"

    annual = parsed.table("Equal Weight Returns -- Annual from January to December").frame
    assert len(annual) == 99 and annual.index[0] == ts("1927-12-31")
    assert annual.loc["2025-12-31", "Hi 10"] == 16.09 / 100
    firms = parsed.table("Number of Firms in Portfolios")
    assert firms.units == "count" and firms.frame.loc["1926-07-31", "Lo 30"] == 153
    assert firms.frame.loc["2026-02-28", "Hi 10"] == 176 and (firms.frame["<= 0"] == 0).all()
    size = parsed.table("Average Firm Size")
    assert (size.units, size.publisher_units) == ("USD millions", "USD millions")
    assert size.frame.loc["2026-02-28", "Hi 10"] == 295019.94
    assert size.frame["<= 0"].isna().all()


def test_section_boundaries_do_not_leak(load) -> None:
    parsed = load(ME)
    vw = parsed.table("Average Value Weight Returns -- Monthly").frame
    ew = parsed.table("Average Equal Weighted Returns -- Monthly").frame
    # last row of one section (line 1209) and first of the next (line 1214), as in the file
    assert vw.iloc[-1]["Lo 30"] == 0.97 / 100 and vw.iloc[-1]["Med 40"] == 1.71 / 100
    assert ew.iloc[0]["Lo 30"] == -0.53 / 100 and ew.iloc[-1]["Lo 30"] == -1.93 / 100
    assert len(ew) == 1196 and ew.index[0] == ts("1926-07-31")
    va = parsed.table("Value Weight Returns -- Annual from January to December").frame
    assert va.loc["1927-12-31", "Lo 30"] == 35.71 / 100
    assert va.iloc[-1]["Lo 30"] == 15.12 / 100 and va.index[-1] == ts("2025-12-31")
    ea = parsed.table("Equal Weight Returns -- Annual from January to December").frame
    assert ea.iloc[0]["Lo 30"] == 31.97 / 100  # 1927 of the next section, not 2025 above
    firms = parsed.table("Number of Firms in Portfolios").frame
    assert firms.index[0] == ts("1926-07-31") and firms.iloc[0]["Med 40"] == 205


def test_book_to_market_sections(load) -> None:
    parsed = load(BE_ME)
    assert parsed.crsp_vintage == "202602"
    assert "Sum of BE / Sum of ME" in parsed.tables
    assert list(parsed.tables)[:2] == [
        "Value Weight Returns -- Monthly",
        "Equal Weight Returns -- Monthly",
    ]
    vw = parsed.table("Value Weight Returns -- Monthly").frame
    assert len(vw) == 1196 and vw.loc["1926-07-31", "<= 0"] == 12.07 / 100
    assert np.isnan(vw.loc["1944-11-30", "<= 0"])  # "-99.99" on line 245
    ew = parsed.table("Equal Weight Returns -- Monthly").frame
    assert ew.loc["1927-01-31", "<= 0"] == 40.10 / 100
    sums = parsed.table("Sum of BE / Sum of ME")
    assert (sums.units, sums.publisher_units, sums.frequency) == ("ratio", "ratio", "A")
    assert len(sums.frame) == 99 and sums.frame.loc["1927-12-31", "Lo 30"] == 0.4815
    assert sums.frame.loc["2025-12-31", "Hi 10"] == 1.2859
    avg = parsed.table("Value Weight Average of BE / ME")
    assert avg.slug == "value-weight-average-of-be-me"
    assert avg.frame.loc["1927-12-31", "Hi 10"] == 5.6841
    assert avg.frame.loc["2025-12-31", "Lo 30"] == 0.0930
    assert np.isnan(avg.frame.loc["1962-12-31", "<= 0"])  # "-99.9900" on line 5169
    firms = parsed.table("Number of Firms in Portfolios").frame
    assert firms.loc["1926-07-31", "<= 0"] == 3
    size = parsed.table("Average Firm Size").frame  # rows indented: "  192607,"
    assert size.loc["1926-07-31", "Lo 30"] == 76.14


def test_earnings_price_sections_are_decimal_ratios(load) -> None:
    parsed = load(E_P)
    vw = parsed.table("Value Weight Returns -- Monthly").frame
    assert len(vw) == 896 and (vw.index[0], vw.index[-1]) == (ts("1951-07-31"), ts("2026-02-28"))
    assert vw.iloc[0]["<= 0"] == 3.01 / 100
    assert parsed.table("Equal Weight Returns -- Monthly").frame.iloc[0]["Lo 30"] == 7.41 / 100
    # the publisher writes E/P as a fraction: 0.085 is an 8.5 % earnings yield, kept as is
    ep = parsed.table("Sum of E / Sum of ME")
    assert ep.units == "ratio" and ep.slug == "sum-of-e-sum-of-me"
    assert len(ep.frame) == 75 and ep.frame.loc["1951-12-31", "Lo 30"] == 0.085
    assert ep.frame.loc["2025-12-31", "Hi 30"] == 0.085
    avg = parsed.table("Value Weight Average of E / ME").frame
    assert avg.loc["1951-12-31", "Hi 10"] != avg.loc["1951-12-31", "Lo 30"]
    assert avg.loc["2025-12-31", "<= 0"] == -0.096
    annual = parsed.table("Value Weight Returns -- Annual from January to December").frame
    assert len(annual) == 74 and annual.loc["1952-12-31", "<= 0"] == 8.99 / 100
    assert parsed.table("Average Firm Size").frame.loc["1951-07-31", "Lo 30"] == 240.44


def test_25_portfolios_multi_line_titles(load) -> None:
    parsed = load(P25)
    assert parsed.crsp_vintage == "202602"
    assert "Sum of BE / Sum of ME" not in parsed.tables
    assert list(parsed.tables) == [
        "Average Value Weighted Returns -- Monthly",
        "Average Equal Weighted Returns -- Monthly",
        "Average Value Weighted Returns -- Annual",
        "Average Equal Weighted Returns -- Annual",
        "Number of Firms in Portfolios",
        "Average Market Cap",
        "Value Weight Average of BE/ME Calculated for June of t to June of t+1 as:",
        "Value Weight Average of BE_FYt-1/ME_June t Calculated for June of t to June of t+1 as:",
        "Value Weight Average of OP Calculated as:",
        "Value Weight Average of investment (rate of growth of assets) Calculated as:",
    ]
    vw = parsed.table("Average Value Weighted Returns -- Monthly").frame
    assert vw.shape == (1196, 25) and vw.columns[0] == "SMALL LoBM" and vw.columns[-1] == "BIG HiBM"
    assert vw.iloc[0]["SMALL LoBM"] == 5.8276 / 100 and vw.iloc[-1]["BIG HiBM"] == -0.5265 / 100
    assert (
        parsed.table("Average Equal Weighted Returns -- Monthly").frame.iloc[0, 0] == 6.6093 / 100
    )
    annual = parsed.table("Average Value Weighted Returns -- Annual").frame
    assert annual.iloc[0, 0] == 52.2736 / 100 and len(annual) == 99
    firms = parsed.table("Number of Firms in Portfolios").frame
    assert firms.iloc[0, 0] == 7 and firms.iloc[-1]["BIG HiBM"] == 13
    cap = parsed.table("Average Market Cap")
    assert cap.units == "USD millions" and cap.frame.iloc[-1]["BIG HiBM"] == 75611.82
    bm = parsed.tables["Value Weight Average of BE/ME Calculated for June of t to June of t+1 as:"]
    assert bm.slug == "value-weight-average-of-be-me" and bm.units == "ratio"
    assert bm.note.startswith("For portfolios formed in June of year t\nValue Weight Average")
    assert "Sum[ME(Mth) * BE(Fiscal Year t-1) / ME(Dec t-1)] / Sum[ME(Mth)]" in bm.note
    assert bm.frame.iloc[0]["SMALL LoBM"] == 0.3023 and bm.line == 5026
    op = parsed.table("Value Weight Average of OP Calculated as:")
    assert op.slug == "value-weight-average-of-op" and len(op.frame) == 752
    assert op.frame.index[0] == ts("1963-07-31") and op.frame.iloc[0, 0] == -0.8240
    inv = parsed.table(
        "Value Weight Average of investment (rate of growth of assets) Calculated as:"
    )
    assert inv.slug == "value-weight-average-of-investment-rate-of-growth-of-assets"
    assert inv.frame.iloc[-1]["SMALL LoBM"] == 0.1503 and inv.frame.index[-1] == ts("2026-02-28")


def test_6_portfolios_older_vintage_has_no_sum_of_be_section(load) -> None:
    parsed = load(P6)
    assert parsed.crsp_vintage == "202412"  # "created by CMPT_ME_BEME_OP_INV_RETS using the ..."
    assert "Sum of BE / Sum of ME" not in parsed.tables and len(parsed.tables) == 10
    vw = parsed.table("Average Value Weighted Returns -- Monthly").frame
    assert list(vw.columns) == [
        "SMALL LoBM",
        "ME1 BM2",
        "SMALL HiBM",
        "BIG LoBM",
        "ME2 BM2",
        "BIG HiBM",
    ]
    assert len(vw) == 1182 and vw.index[-1] == ts("2024-12-31")
    assert vw.iloc[0]["BIG LoBM"] == 5.7168 / 100 and vw.iloc[-1]["SMALL LoBM"] == -7.0067 / 100
    ew = parsed.table("Average Equal Weighted Returns -- Monthly").frame
    assert ew.iloc[0]["SMALL LoBM"] == 1.5521 / 100
    assert (
        parsed.table("Average Value Weighted Returns -- Annual").frame.iloc[-1, 0] == 17.8686 / 100
    )
    assert parsed.table("Number of Firms in Portfolios").frame.iloc[-1].tolist() == [
        459,
        784,
        1047,
        423,
        326,
        127,
    ]
    op = parsed.table("Value Weight Average of OP Calculated as:").frame
    assert len(op) == 738 and op.iloc[-1]["BIG HiBM"] == 0.2024  # line 8085
    inv = parsed.table(
        "Value Weight Average of investment (rate of growth of assets) Calculated as:"
    ).frame
    assert inv.index[0] == ts("1963-07-31") and inv.iloc[-1]["BIG HiBM"] == 0.0654  # line 8830


def test_factor_files_untitled_first_table(load) -> None:
    three = load(ZIP)  # the zip as downloaded
    assert three.crsp_vintage == "202602"
    assert list(three.tables) == ["Monthly", "Annual Factors: January-December"]
    assert three.description.startswith("This file was created using the 202602 CRSP database.")
    monthly = three.table("Monthly")
    assert monthly.slug == "monthly" and monthly.units == "decimal return"
    assert list(monthly.frame.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert len(monthly.frame) == 1196
    assert monthly.frame.iloc[0].tolist() == [2.89 / 100, -2.55 / 100, -2.39 / 100, 0.22 / 100]
    assert monthly.frame.iloc[-1].tolist() == [-1.17 / 100, 0.14 / 100, 2.83 / 100, 0.28 / 100]
    annual = three.table("Annual Factors: January-December")
    assert annual.slug == "annual-factors-january-december" and annual.frequency == "A"
    assert len(annual.frame) == 99 and annual.frame.loc["1927-12-31", "Mkt-RF"] == 29.44 / 100
    assert annual.frame.loc["2025-12-31", "SMB"] == -10.57 / 100

    five = load(F5)
    assert five.crsp_vintage == "202604"
    frame = five.table("Monthly").frame
    assert len(frame) == 754 and (frame.index[0], frame.index[-1]) == (
        ts("1963-07-31"),
        ts("2026-04-30"),
    )
    assert (
        frame.loc["1963-07-31", "RMW"] == 0.64 / 100
        and frame.loc["2026-04-30", "Mkt-RF"] == 9.94 / 100
    )
    annual = five.table("Annual Factors: January-December").frame
    assert len(annual) == 62 and annual.loc["1964-12-31", "HML"] == 9.82 / 100
    assert annual.loc["2025-12-31", "CMA"] == -5.38 / 100


def test_daily_files_both_layouts(load) -> None:
    iso, classic = load(DAILY_ISO), load(DAILY_CLASSIC)
    assert (iso.crsp_vintage, classic.crsp_vintage) == ("202604", "202503")
    a, b = classic.table("Daily"), iso.table("Daily")
    assert a.frequency == b.frequency == "D" and a.units == b.units == "decimal return"
    assert len(a.frame) == 25961 and len(b.frame) == 26233
    assert a.frame.index[0] == b.frame.index[0] == ts("1926-07-01")
    assert a.frame.index[-1] == ts("2025-03-31") and b.frame.index[-1] == ts("2026-04-30")
    assert a.frame.iloc[0].tolist() == [0.09 / 100, -0.25 / 100, -0.27 / 100, 0.009 / 100]
    assert b.frame.iloc[-1].tolist() == [1.13 / 100, 0.98 / 100, -0.71 / 100, 0.01 / 100]


def test_daily_layouts_agree_on_overlapping_dates(load) -> None:
    """The two files are different CRSP vintages (202503, 202604), not just two layouts.

    Between vintages CRSP revises history: about 5-6 % of daily Mkt-RF/SMB/HML values moved by
    up to 0.23 percentage points, so exact equality does not hold. The re-saved file also
    rounds RF to 2 decimals (0.009 -> 0.01), so RF agrees to 0.005 percentage points. The exact
    layout equivalence is tested on one vintage in the next test.
    """
    old, new = load(DAILY_CLASSIC).table("Daily").frame, load(DAILY_ISO).table("Daily").frame
    assert old.index.isin(new.index).all()  # every classic date is in the newer file
    both = new.loc[old.index]
    for column in ["Mkt-RF", "SMB", "HML"]:
        same = (both[column] == old[column]).mean()
        assert same > 0.93, column
        assert (both[column] - old[column]).abs().max() < 0.25 / 100
    assert ((both["RF"] - old["RF"]).abs() <= 0.005 / 100 + 1e-12).all()
    assert (both["RF"] != old["RF"]).sum() > 10_000  # the rounding really happened


def test_iso_layout_of_the_same_bytes_gives_the_same_frame(data_dir: Path) -> None:
    data = (data_dir / "french" / DAILY_CLASSIC).read_bytes()
    resaved = re.sub(rb"(?m)^(\d{4})(\d{2})(\d{2}),", rb"\1-\2-\3,", data)
    resaved = resaved.replace(b"\n,Mkt-RF,", b"\nDate,Mkt-RF,")
    assert resaved.count(b"1926-07-01,") == 1 and b"Date,Mkt-RF" in resaved
    a = french.parse(data, origin="classic").table("Daily").frame
    b = french.parse(resaved, origin="iso").table("Daily").frame
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("name", [ME, P6, ZIP, DAILY_ISO, DAILY_CLASSIC, BE_ME, E_P, P25, F5])
def test_fixed_width_reader_equals_pandas_reader(
    data_dir: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _parsed(data_dir / "french" / name)
    monkeypatch.setattr(french, "_read_fixed", lambda lines, run: None)
    other = french.parse((data_dir / "french" / name).read_bytes(), origin=name)
    assert list(fast.tables) == list(other.tables)
    for title, table in fast.tables.items():
        pd.testing.assert_frame_equal(table.frame, other.tables[title].frame, check_exact=True)


@pytest.mark.parametrize("name", [ZIP, P6, F5])
def test_cell_by_cell_reader_equals_fast_readers(
    data_dir: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _parsed(data_dir / "french" / name)
    monkeypatch.setattr(french, "_read_fixed", lambda lines, run: None)
    monkeypatch.setattr(french, "_read_csv", lambda blob, ncols: None)
    slow = french.parse((data_dir / "french" / name).read_bytes(), origin=name)
    for title, table in fast.tables.items():
        pd.testing.assert_frame_equal(table.frame, slow.tables[title].frame, check_exact=True)


# --- errors on real bytes ------------------------------------------------------------------------


def test_bad_cell_names_file_line_and_field(data_dir: Path) -> None:
    lines = (data_dir / "french" / ME).read_bytes().split(b"\r\n")
    assert lines[1208].startswith(b"202602,  -99.99,    0.97,")
    lines[1208] = lines[1208].replace(b"    0.97,", b"   0.97x,", 1)
    with pytest.raises(ParseError) as info:
        french.parse(b"\r\n".join(lines), origin=ME)
    assert str(info.value) == (
        "Portfolios_Formed_on_ME.csv, line 1209, field 'Lo 30': cannot read '0.97x' as a number"
    )
    assert (info.value.line, info.value.field) == (1209, "Lo 30")


def test_changed_header_names_the_line(data_dir: Path) -> None:
    data = (data_dir / "french" / ME).read_bytes()
    changed = data.replace(b",<= 0,Lo 30,", b",Lo 30,", 1)  # first header lost a column
    with pytest.raises(
        ParseError, match=r"line 14: expected 19 fields like the column header on line 13, found 20"
    ):
        french.parse(changed, origin=ME)


def test_short_and_long_rows_are_errors(data_dir: Path) -> None:
    text = zipfile.ZipFile(io.BytesIO((data_dir / "french" / ZIP).read_bytes())).read(
        "F-F_Research_Data_Factors.csv"
    )
    rows = text.split(b"\r\n")
    assert rows[9] == b"192611,   2.54,  -0.11,  -0.61,   0.31"
    for broken, found in [(b"192611,   2.54,  -0.11,  -0.61", 4), (rows[9] + b",   0.5", 6)]:
        copy = list(rows)
        copy[9] = broken
        with pytest.raises(ParseError, match=rf"line 10: expected 5 fields .* found {found}"):
            french.parse(b"\r\n".join(copy), origin="F-F_Research_Data_Factors.csv")


# --- fetch and faults over HTTP ---------------------------------------------------------------


def test_zip_served_round_trips_to_local_frames(
    httpserver: HTTPServer, client, data_dir: Path
) -> None:
    body = (data_dir / "french" / ZIP).read_bytes()
    httpserver.expect_request("/ftp/F-F_Research_Data_Factors_CSV.zip").respond_with_data(
        body, content_type="application/x-zip-compressed"
    )
    url = httpserver.url_for("/ftp/") + "{name}_CSV.zip"
    payload = french.fetch("F-F_Research_Data_Factors", client=client, url=url)
    assert payload.source == "french" and payload.data == body
    assert payload.url.endswith("/ftp/F-F_Research_Data_Factors_CSV.zip")
    served = french.parse(payload.data, origin=payload.url)
    local = _parsed(data_dir / "french" / ZIP)
    assert served.crsp_vintage == local.crsp_vintage and list(served.tables) == list(local.tables)
    for title, table in local.tables.items():
        pd.testing.assert_frame_equal(served.tables[title].frame, table.frame, check_exact=True)


def test_html_login_page_is_parse_error(httpserver: HTTPServer, client) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Dartmouth Login</title></head>"
        b"<body>Sign in</body></html>"
    )
    httpserver.expect_request("/ftp/X_CSV.zip").respond_with_data(page, content_type="text/html")
    url = httpserver.url_for("/ftp/") + "{name}_CSV.zip"
    payload = french.fetch("X", client=client, url=url)
    with pytest.raises(ParseError, match="HTML page titled 'Dartmouth Login'") as info:
        french.parse(payload.data, origin=payload.url)
    assert payload.url in str(info.value)


def test_truncated_zip_is_parse_error_naming_url(
    httpserver: HTTPServer, client, data_dir: Path
) -> None:
    body = (data_dir / "french" / ZIP).read_bytes()
    httpserver.expect_request("/ftp/F-F_Research_Data_Factors_CSV.zip").respond_with_data(
        body[: len(body) // 2]
    )
    url = httpserver.url_for("/ftp/") + "{name}_CSV.zip"
    payload = french.fetch("F-F_Research_Data_Factors", client=client, url=url)
    with pytest.raises(ParseError, match="truncated") as info:
        french.parse(payload.data, origin=payload.url)
    assert str(info.value).startswith(payload.url)


def test_http_500_then_success(httpserver: HTTPServer, client, data_dir: Path) -> None:
    body = (data_dir / "french" / ZIP).read_bytes()
    httpserver.expect_ordered_request("/ftp/F_CSV.zip").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/ftp/F_CSV.zip").respond_with_data(body)
    waits: list[float] = []
    url = httpserver.url_for("/ftp/") + "{name}_CSV.zip"
    payload = french.fetch("F", client=client, url=url, backoff=0.25, sleep=waits.append)
    assert payload.data == body and waits == [0.25]
    assert list(french.parse(payload.data, origin=payload.url).tables) == [
        "Monthly",
        "Annual Factors: January-December",
    ]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty file"),
        (b"  \r\n \r\n", "empty file"),
        (b"PK\x03\x04garbage", "not a readable zip archive"),
        (
            b"This file was created using the 202602 CRSP database.\r\nno table\r\n",
            "no table found",
        ),
    ],
)
def test_unreadable_bodies(data: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle):
        french.parse(data, origin="https://example.org/x_CSV.zip")


# --- synthetic layouts ------------------------------------------------------------------------

HEAD = "This file was created using the 202601 CRSP database.\r\n\r\n"


def synthetic(*sections: str, head: str = HEAD) -> bytes:
    return (
        head + "".join(sections) + "\r\nCopyright 2026 Eugene F. Fama and Kenneth R. French\r\n"
    ).encode()


def test_duplicate_titles_get_numbered_and_slugs_stay_unique() -> None:
    block = (
        "  Average Value Weight Returns -- Monthly\r\n,A,B\r\n"
        "192607,  1.00,  2.00\r\n192608,  3.00,  4.00\r\n\r\n"
    )
    parsed = french.parse(synthetic(block, block, block), origin="dup.csv")
    assert list(parsed.tables) == [
        "Average Value Weight Returns -- Monthly",
        "Average Value Weight Returns -- Monthly (2)",
        "Average Value Weight Returns -- Monthly (3)",
    ]
    assert [t.slug for t in parsed.tables.values()] == [
        "average-value-weight-returns-monthly",
        "average-value-weight-returns-monthly-2",
        "average-value-weight-returns-monthly-3",
    ]


def test_missing_markers_empty_and_dot_cells_are_nan() -> None:
    block = (
        "  Number of Firms in Portfolios\r\n,A,B,C\r\n"
        "192607,  -99.99,  -999,  1\r\n192608,  ,  .,  2\r\n"
    )
    frame = (
        french.parse(synthetic(block), origin="m.csv").table("Number of Firms in Portfolios").frame
    )
    assert frame["A"].isna().all() and frame["B"].isna().all() and frame["C"].tolist() == [1.0, 2.0]


def test_weekly_daily_and_unknown_units() -> None:
    weekly = ",Mkt-RF\r\n" + "".join(
        f"{d:%Y%m%d},  0.10\r\n" for d in pd.date_range("2024-01-05", periods=6, freq="7D")
    )
    parsed = french.parse(synthetic(weekly), origin="w.csv")
    assert list(parsed.tables) == ["Weekly"] and parsed.table("Weekly").frequency == "W"
    odd = "  Some New Statistic\r\n,A\r\n2020,  5.5\r\n2021,  6.5\r\n"
    table = french.parse(synthetic(odd), origin="u.csv").table("Some New Statistic")
    assert (table.units, table.publisher_units, table.frequency) == ("unknown", "unknown", "A")
    assert table.frame["A"].tolist() == [5.5, 6.5]  # kept as published
    breakpoints = "This file was created using the 202601 CRSP database.\r\nME breakpoints\r\n\r\n"
    table = french.parse(
        synthetic(",Count,(0-5)\r\n192606,  100,  1.5\r\n", head=breakpoints), origin="b"
    ).table("Monthly")
    assert table.units == "unknown" and table.frame.iloc[0].tolist() == [100.0, 1.5]


def test_cp1252_lone_cr_and_tab_layouts() -> None:
    data = (
        synthetic("  Caf\xe9 Returns -- Monthly\r\n,A\r\n192607,  1.5\r\n")
        .decode()
        .encode("cp1252")
    )
    assert "Café Returns -- Monthly" in french.parse(data, origin="c.csv").tables
    mac = synthetic(",A\r\n192607,  1.5\r\n192608,  2.5\r\n").replace(b"\r\n", b"\r")
    assert french.parse(mac, origin="mac.csv").table("Monthly").frame["A"].tolist() == [
        0.015,
        0.025,
    ]
    ragged = synthetic(",A,B\r\n192607,1.5,-2\r\n192608,  10.25,3\r\n")  # not fixed-width
    frame = french.parse(ragged, origin="r.csv").table("Monthly").frame
    assert frame.to_numpy().tolist() == [[1.5 / 100, -2 / 100], [10.25 / 100, 3 / 100]]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (",A\r\n192607,  1.0\r\n192607,  2.0\r\n", 5, "dates must increase"),
        (",A\r\n192607,  1.0\r\n192613,  2.0\r\n", 5, "cannot read '192613' as a date"),
        (",A\r\n20250228,  1.0\r\n20250231,  2.0\r\n", 5, "no such day: '20250231'"),
        (",A\r\n192607,  1.0\r\n1927,  2.0\r\n", 5, "like the first row's '192607'"),
        (",A\r\n192607,  1.0\r\n19x608,  2.0\r\n", 5, "cannot read '19x608' as a date"),
        (",A\r\n192607,  1.0\r\n192608,  1 0\r\n", 5, "cannot read '1 0' as a number"),
        (",A\r\n192607,  1.0\r\n192608,  inf\r\n", 5, "cannot read 'inf' as a number"),
        (",A\r\n192607,  1.0\r\n192608,  1_0\r\n", 5, "cannot read '1_0' as a number"),
        (",A,A\r\n192607,  1.0,  2.0\r\n", 3, "column 'A' appears twice"),
        (",A,\r\n192607,  1.0,  2.0\r\n", 3, "empty name"),
        ("  Title only\r\n192607,  1.0\r\n", 3, "expected a column header line"),
        (
            ",A\r\n192607,  1.0\r\nstray text\r\n192608,  2.0\r\n",
            5,
            "expected a column header line",
        ),
        (",A\r\n192607,  1.0\r\n,A\r\n192608,  2.0\r\n", 5, "interrupts a table"),
        (",A\r\n192607,  1.0\r\n\r\n192608,  2.0\r\n", 5, "expected a column header line"),
    ],
)
def test_layout_errors_name_the_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(ParseError, match=re.escape(needle)) as info:
        french.parse(synthetic(text), origin="s.csv")
    assert info.value.line == line and str(info.value).startswith(f"s.csv, line {line}")


# --- tidy -------------------------------------------------------------------------------------


def test_tidy_series_ids_and_metadata(data_dir: Path) -> None:
    result = french.tidy(
        (data_dir / "french" / ME).read_bytes(), origin=ME, dataset="Portfolios_Formed_on_ME"
    )
    assert isinstance(result, Tidy) and len(result.meta) == 6 * 19
    sid = "french/Portfolios_Formed_on_ME/average-value-weight-returns-monthly/Lo 30"
    meta = result.meta[sid]
    assert meta.title == "Portfolios_Formed_on_ME: Average Value Weight Returns -- Monthly: Lo 30"
    assert (meta.source, meta.units, meta.publisher_units, meta.frequency) == (
        "french",
        "decimal return",
        "percent",
        "M",
    )
    assert meta.publisher_vintage == "202602" and meta.notes is None
    series = result.series(sid)
    assert (
        len(series) == 1196
        and series.iloc[0] == 0.06 / 100
        and series.index[-1] == ts("2026-02-28")
    )
    assert (
        result.series("french/Portfolios_Formed_on_ME/average-value-weight-returns-monthly/<= 0")
        .isna()
        .all()
    )
    firms = result.meta["french/Portfolios_Formed_on_ME/number-of-firms-in-portfolios/Hi 10"]
    assert (firms.units, firms.frequency) == ("count", "M")
    assert result.frame["series_id"].nunique() == len(result.meta)
    assert len(result.frame) == sum(
        len(t.frame) * 19 for t in _parsed(data_dir / "french" / ME).tables.values()
    )


def test_tidy_multi_line_title_notes(data_dir: Path) -> None:
    result = french.tidy(
        (data_dir / "french" / P6).read_bytes(), origin=P6, dataset="6_Portfolios_2x3"
    )
    meta = result.meta["french/6_Portfolios_2x3/value-weight-average-of-op/SMALL LoBM"]
    assert meta.units == "ratio" and meta.publisher_vintage == "202412"
    assert meta.notes is not None and "Sum[ME(Mth) * OP(fiscal year t-1)" in meta.notes
    assert meta.title == "6_Portfolios_2x3: Value Weight Average of OP Calculated as:: SMALL LoBM"


@pytest.mark.parametrize("dataset", ["", "a/b", " padded"])
def test_tidy_rejects_bad_dataset_names(dataset: str) -> None:
    with pytest.raises(ConfigError):
        french.tidy(synthetic(",A\r\n192607,  1.0\r\n"), origin="x", dataset=dataset)


def test_unknown_section_suggests_close_titles(load) -> None:
    with pytest.raises(UnknownSeriesError, match="did you mean 'Average Firm Size'"):
        load(ME).table("Average Firm Sizes")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Average Value Weight Returns -- Monthly", "average-value-weight-returns-monthly"),
        ("Sum of E / Sum of ME", "sum-of-e-sum-of-me"),
        (
            "Value Weight Average of BE/ME Calculated for June of t to June of t+1 as:",
            "value-weight-average-of-be-me",
        ),
        ("Value Weight Average of BE / ME", "value-weight-average-of-be-me"),
        ("Annual Factors: January-December", "annual-factors-january-december"),
    ],
)
def test_slug_rule(title: str, expected: str) -> None:
    assert french.slug(title) == expected


# --- round trip -------------------------------------------------------------------------------


def serialize(
    frame: pd.DataFrame, *, frequency: str, title: str | None, decimals: int, padded: bool, eol: str
) -> bytes:
    """Write `frame` (percent values, NaN as missing) in the publisher's layout."""
    stamp = {"M": "%Y%m", "A": "%Y", "D": "%Y%m%d"}[frequency]
    width = 8 + decimals
    lines = ["This file was created using the 202601 CRSP database.", ""]
    if title is not None:
        lines += ["", f"  {title}"]
    lines.append("," + ",".join(frame.columns))
    for day, row in frame.iterrows():
        cells = [f"{day:{stamp}}".rjust(6 if frequency != "D" else 8)]
        for value in row:
            text = "-99.99" if np.isnan(value) else f"{value:.{decimals}f}"
            cells.append(text.rjust(width) if padded else text)
        lines.append(",".join(cells))
    lines += ["", "Copyright 2026 Eugene F. Fama and Kenneth R. French", ""]
    return eol.join(lines).encode()


DATES = {
    "M": lambda n: pd.date_range("1990-01-31", periods=n, freq="ME"),
    "A": lambda n: pd.date_range("1990-12-31", periods=n, freq="YE"),
    "D": lambda n: pd.bdate_range("2020-01-01", periods=n),
}


@settings(max_examples=60, deadline=None)
@given(
    frequency=st.sampled_from(["M", "A", "D"]),
    rows=st.integers(1, 25),
    columns=st.lists(
        st.sampled_from(["Lo 30", "Med 40", "Hi 30", "SMB", "HML", "<= 0", "ME1 BM2"]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    decimals=st.integers(0, 4),
    padded=st.booleans(),
    eol=st.sampled_from(["\r\n", "\n"]),
    titled=st.booleans(),
    data=st.data(),
)
def test_round_trip_through_the_publisher_layout(
    frequency, rows, columns, decimals, padded, eol, titled, data
) -> None:
    mantissas = data.draw(
        st.lists(
            st.lists(
                st.one_of(st.none(), st.integers(-(10**6), 10**6)),
                min_size=len(columns),
                max_size=len(columns),
            ),
            min_size=rows,
            max_size=rows,
        )
    )
    values = np.array(
        [[np.nan if m is None else m / 10**decimals for m in row] for row in mantissas], dtype=float
    ).reshape(rows, len(columns))
    frame = pd.DataFrame(values, index=DATES[frequency](rows), columns=columns)
    title = "Average Value Weight Returns -- Monthly" if titled else None
    parsed = french.parse(
        serialize(
            frame, frequency=frequency, title=title, decimals=decimals, padded=padded, eol=eol
        ),
        origin="h.csv",
    )
    (table,) = parsed.tables.values()
    assert table.title == (title or {"M": "Monthly", "A": "Annual", "D": "Daily"}[frequency])
    assert table.frequency == frequency and parsed.crsp_vintage == "202601"
    texts = [[None if np.isnan(v) else f"{v:.{decimals}f}" for v in row] for row in values]
    published = [
        [np.nan if t is None or float(t) in (-99.99, -999.0) else float(t) for t in row]
        for row in texts
    ]
    expected = (np.array(published, dtype=float) / 100).reshape(rows, len(columns))
    np.testing.assert_array_equal(table.frame.to_numpy(), expected)
    assert list(table.frame.columns) == columns
    assert table.frame.index.equals(pd.DatetimeIndex(frame.index.as_unit("ns"), name="date"))


def _decimal_text(m: int, d: int) -> str:
    whole, frac = divmod(abs(m), 10**d)
    return ("-" if m < 0 else "") + str(whole) + (f".{frac:0{d}d}" if d else "")


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    ncols=st.integers(1, 6),
    rows=st.integers(2, 30),
    width=st.integers(3, 15),
    annual=st.booleans(),
)
def test_fixed_width_reader_matches_pandas_on_random_blocks(
    data, ncols, rows, width, annual
) -> None:
    columns = []
    for _ in range(ncols):
        d = data.draw(st.integers(0, min(6, width - 3)), label="decimals")
        limit = 10 ** (width - 1 - (d > 0))  # the longest text still fits the width
        ms = data.draw(st.lists(st.integers(1 - limit, limit - 1), min_size=rows, max_size=rows))
        columns.append([_decimal_text(m, d).rjust(width) for m in ms])
    body = []
    for i in range(rows):
        stamp = f"  {1950 + i}" if annual else f"{1950 + i // 12}{i % 12 + 1:02d}"
        body.append(",".join([stamp, *(column[i] for column in columns)]))
    text = (
        "x\r\n\r\n," + ",".join(f"C{j}" for j in range(ncols)) + "\r\n" + "\r\n".join(body) + "\r\n"
    )
    lines = french._index_lines(text.encode())
    run = french._find_run(lines, 3, 3 + rows, "r.csv")
    fixed = french._read_fixed(lines, run)
    assert fixed is not None  # the publisher's layout: the fast reader must take it
    ((stamps, values),) = french._read_csv_runs(lines, [run], "r.csv")
    np.testing.assert_array_equal(fixed[0], stamps)
    np.testing.assert_array_equal(fixed[1], values)
