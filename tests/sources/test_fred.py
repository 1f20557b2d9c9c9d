"""FRED: every CSV layout in the mirror, the API JSON, the HTTP routes and their errors."""

from __future__ import annotations

import json
import math
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from smallcaps.errors import AuthError, ConfigError, FetchError, ParseError, UnknownSeriesError
from smallcaps.sources import fred
from smallcaps.sources.base import long_frame

KEY = "abcdefghijklmnopqrstuvwxyz012345"
NO_WAIT = {"sleep": lambda _s: None}

# file -> (pass the id?, rows, first date, first value, last date, last value, NaNs); the id
# is the file name up to "_" or ".csv"; values read from the files with head/tail/grep.
FILES: dict[str, tuple[bool, int, str, float, str, float, int]] = {
    "BAMLH0A0HYM2.csv": (True, 787, "2023-08-22", 3.93, "2026-08-20", 2.75, 0),
    "CPIAUCSL.csv": (True, 951, "1947-01-01", 21.48, "2026-04-01", 332.407, 0),
    "CPIAUCSL_fredgraph.csv": (False, 945, "1947-01-01", 21.48, "2025-09-01", 324.368, 0),
    "DFEDTARL.csv": (True, 6381, "2008-12-16", 0.0, "2026-06-05", 3.5, 0),
    "DFEDTARL_2024snapshot.csv": (False, 5525, "2008-12-16", 0.0, "2024-01-31", 5.25, 0),
    "DFEDTARU.csv": (True, 6381, "2008-12-16", 0.25, "2026-06-05", 3.75, 0),
    "DFEDTARU_2024snapshot.csv": (False, 5525, "2008-12-16", 0.25, "2024-01-31", 5.5, 0),
    "DFEDTAR_2024snapshot.csv": (False, 9577, "1982-09-27", 10.25, "2008-12-15", 1.0, 0),
    "DFF_2024snapshot.csv": (False, 25411, "1954-07-01", 1.13, "2024-01-25", 5.33, 0),
    "DFF_fredgraph.csv": (False, 26034, "1954-07-01", 1.13, "2025-10-09", 4.10, 0),
    "DGS10.csv": (True, 16144, "1962-01-02", 4.06, "2026-08-20", 4.69, 0),
    "DGS2.csv": (True, 12552, "1976-06-01", 7.26, "2026-08-20", 4.19, 0),
    "EFFR.csv": (True, 6508, "2000-07-03", 7.03, "2026-06-04", 3.62, 0),
    "FEDFUNDS.csv": (True, 865, "1954-07-01", 0.80, "2026-07-01", 3.63, 0),
    "FEDFUNDS_fredgraph.csv": (False, 856, "1954-07-01", 0.80, "2025-10-01", 4.09, 0),
    "GDPC1.csv": (False, 314, "1947-01-01", 2182.681, "2025-04-01", 23770.976, 0),
    "NFCI.csv": (True, 2891, "1971-01-08", 0.596, "2026-05-29", -0.494, 0),
    "T10Y2Y.csv": (True, 12553, "1976-06-01", 0.68, "2026-08-21", 0.50, 0),
    "T10Y2Y_fredgraph.csv": (False, 12884, "1976-06-01", 0.68, "2025-10-17", 0.56, 542),
    "UNRATE.csv": (True, 942, "1948-01-01", 3.4, "2026-07-01", 4.1, 0),
    "USRECP.csv": (False, 2049, "1854-12-01", 0.0, "2025-08-01", 0.0, 0),
}


def ids(name: str) -> tuple[str | None, str]:
    """The id to pass for a mirror file (None: it is in the header) and the id expected."""
    sid = name.removesuffix(".csv").split("_")[0]
    return (sid if FILES[name][0] else None), sid


def read(data_dir: Path, name: str) -> pd.Series:
    """One mirror file as a Series indexed by date."""
    given, _ = ids(name)
    frame = fred.parse((data_dir / "fred" / name).read_bytes(), origin=name, series_id=given)
    return frame.set_index("date")["value"]


# --- the real files -------------------------------------------------------------------------


def test_every_mirror_file_is_known(data_dir: Path) -> None:
    assert sorted(p.name for p in (data_dir / "fred").glob("*.csv")) == sorted(FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_mirror_file_known_values(data_dir: Path, name: str) -> None:
    _, rows, first, v0, last, v1, nans = FILES[name]
    given, sid = ids(name)
    result = fred.tidy((data_dir / "fred" / name).read_bytes(), origin=name, series_id=given)
    frame = result.frame
    assert list(frame.columns) == ["series_id", "date", "value"]
    assert (frame["series_id"] == sid).all() and result.series_ids == [sid]
    assert len(frame) == rows and int(frame["value"].isna().sum()) == nans
    assert frame["date"].iat[0] == pd.Timestamp(first) and frame["value"].iat[0] == v0
    assert frame["date"].iat[-1] == pd.Timestamp(last) and frame["value"].iat[-1] == v1
    assert frame["date"].is_monotonic_increasing
    meta = result.meta[sid]
    assert meta == fred.KNOWN[sid] and meta.source == "fred"


def test_header_names_series_so_series_id_is_optional_but_checked(data_dir: Path) -> None:
    data = (data_dir / "fred" / "DFF_fredgraph.csv").read_bytes()
    assert fred.parse(data, origin="x", series_id="dff")["series_id"].iat[0] == "DFF"
    with pytest.raises(ParseError, match=r"x, line 1, field 'DFF': .*holds 'DFF' but 'EFFR'"):
        fred.parse(data, origin="x", series_id="EFFR")


@pytest.mark.parametrize("name", ["UNRATE.csv", "EFFR.csv"])  # date,value and Date,Value
def test_reexport_without_series_id_is_refused(data_dir: Path, name: str) -> None:
    with pytest.raises(ParseError, match=rf"{name}, line 1.*does not name the series.*series_id"):
        fred.parse((data_dir / "fred" / name).read_bytes(), origin=name)


def test_dff_is_daily_seven_days_a_week(data_dir: Path) -> None:
    for name in ("DFF_fredgraph.csv", "DFF_2024snapshot.csv"):
        gaps = read(data_dir, name).index.to_series().diff().dropna()
        assert (gaps == pd.Timedelta(days=1)).all()
    assert pd.Timestamp("2024-01-20").day_name() == "Saturday"
    assert read(data_dir, "DFF_2024snapshot.csv")["2024-01-20"] == 5.33


def test_holidays_dropped_by_reexports_kept_empty_by_fredgraph(data_dir: Path) -> None:
    spread, graph = read(data_dir, "T10Y2Y.csv"), read(data_dir, "T10Y2Y_fredgraph.csv")
    assert pd.Timestamp("1976-07-05") not in spread.index
    assert math.isnan(graph["1976-07-05"]) and graph["1976-07-06"] == 0.86
    both = pd.concat([spread, graph], axis=1, join="inner").dropna()
    assert len(both) == 12342 and (both.iloc[:, 0] == both.iloc[:, 1]).all()
    dgs2 = read(data_dir, "DGS2.csv")
    assert pd.Timestamp("2025-12-25") not in dgs2.index and not dgs2.isna().any()


def test_fedfunds_files_agree(data_dir: Path) -> None:
    new, old = read(data_dir, "FEDFUNDS.csv"), read(data_dir, "FEDFUNDS_fredgraph.csv")
    both = pd.concat([new, old], axis=1, join="inner")
    assert len(both) == 856 and (both.iloc[:, 0] == both.iloc[:, 1]).all()


def test_cpi_files_agree_up_to_seasonal_revisions(data_dir: Path) -> None:
    new, old = read(data_dir, "CPIAUCSL.csv"), read(data_dir, "CPIAUCSL_fredgraph.csv")
    both = pd.concat([new, old], axis=1, join="inner")
    assert len(both) == 945
    early, late = both[:"2020-12-01"], both["2021-01-01":]
    assert (early.iloc[:, 0] == early.iloc[:, 1]).all()  # untouched by February 2026's revision
    ratio = (late.iloc[:, 0] / late.iloc[:, 1] - 1).abs()
    assert len(late) == 57 and (ratio > 0).all() and ratio.max() < 1e-3


@pytest.mark.parametrize(
    ("new", "old", "overlap"),
    [
        ("DFF_fredgraph.csv", "DFF_2024snapshot.csv", 25411),  # ISO LF vs M/D/YYYY CRLF
        ("DFEDTARU.csv", "DFEDTARU_2024snapshot.csv", 5525),
        ("DFEDTARL.csv", "DFEDTARL_2024snapshot.csv", 5525),
    ],
)
def test_two_layouts_of_one_series_agree(data_dir: Path, new: str, old: str, overlap: int) -> None:
    both = pd.concat([read(data_dir, new), read(data_dir, old)], axis=1, join="inner")
    assert len(both) == overlap and (both.iloc[:, 0] == both.iloc[:, 1]).all()


def test_target_rate_path_is_continuous(data_dir: Path) -> None:
    point, upper = read(data_dir, "DFEDTAR_2024snapshot.csv"), read(data_dir, "DFEDTARU.csv")
    assert upper.index[0] - point.index[-1] == pd.Timedelta(days=1)
    assert read(data_dir, "DFEDTARL.csv").iloc[0] == 0.0 and upper.iloc[0] == 0.25


def test_usrecp_is_an_indicator(data_dir: Path) -> None:
    values = read(data_dir, "USRECP.csv")
    assert set(values.unique()) == {0.0, 1.0} and int(values.sum()) == 578
    # peak through the month before the trough: 2020-02 and 2020-03 (trough 2020-04)
    assert values["2020-01-01":"2020-05-01"].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_bad_cell_in_real_file_names_line_and_field(data_dir: Path) -> None:
    data = (data_dir / "fred" / "DFEDTAR_2024snapshot.csv").read_bytes()
    bad_date = data.replace(b"9/28/1982,", b"9/31/1982,", 1)
    with pytest.raises(ParseError, match=r"DFEDTAR, line 3, field 'DATE': .*'9/31/1982'"):
        fred.parse(bad_date, origin="DFEDTAR")
    bad_value = data.replace(b"9/28/1982,10.25", b"9/28/1982,10.2x", 1)
    with pytest.raises(ParseError, match=r"line 3, field 'DFEDTAR': cannot read '10.2x'"):
        fred.parse(bad_value, origin="DFEDTAR")


# --- synthetic CSVs: errors and inference ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "empty file"),
        (b"  \r\n", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (b'DATE,DFF\n2020-01-01,1\n2020-01-02,"1\n', r"line 3: not a CSV row.*end of data"),
        (b"<!DOCTYPE html><html><title>Error</title></html>", "HTML page titled 'Error'"),
        (b"observation_date,DFF,DFEDTARU\n2020-01-01,1,2\n", r"line 1: header changed"),
        (b"when,DFF\n2020-01-01,1\n", r"line 1: header changed"),
        (b"date,Close\n2020-01-01,1\n", r"line 1, field 'Close': header changed"),
        (b"observation_date,DFF\n", r"line 1: no observations"),
        (b"observation_date,DFF\n2020-01-01,1\n\n2020-01-03,1,9\n", r"line 4: expected 2 fields"),
        (b"DATE,DFF\n2020-01-01,1\n2020-01-01,2\n", r"line 3, field 'DATE': .*again.*line 2"),
        (b"DATE,DFF\n2020-01-01,1\n1/2/2020,2\n", r"line 3, field 'DATE'.*YYYY-MM-DD"),
        (b"DATE,DFF\n2020-01-01,inf\n", r"line 2, field 'DFF'"),
        (b"DATE,DFF\n2020-01-01,NA\n", r"line 2, field 'DFF': cannot read 'NA'"),
        (b'{"observations": []}', "API JSON"),
    ],
)
def test_bad_csv_is_a_parse_error(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        fred.parse(body, origin="dff.csv", series_id="DFF")
    assert str(info.value).startswith("dff.csv")


def test_dot_and_empty_are_nan_rows_kept() -> None:
    body = (
        b"\xef\xbb\xbfobservation_date,DGS2\r\n2020-01-01,.\r\n2020-01-02,1.58\r\n2020-01-03,\r\n"
    )
    frame = fred.parse(body, origin="x")
    assert frame["value"].isna().tolist() == [True, False, True] and frame["value"].iat[1] == 1.58


@pytest.mark.parametrize(
    ("freq", "code"),
    [("D", "D"), ("B", "D"), ("W-FRI", "W"), ("MS", "M"), ("QS", "Q"), ("YS", "A")],
)
def test_unknown_series_gets_inferred_frequency(freq: str, code: str) -> None:
    dates = pd.date_range("2001-01-01", periods=30, freq=freq)
    body = "date,value\n" + "".join(f"{d:%Y-%m-%d},1.5\n" for d in dates)
    result = fred.tidy(body.encode(), origin="x", series_id="mine")
    meta = result.meta["MINE"]
    assert meta.frequency == code and meta.units == "unknown (FRED native units)"
    assert "median gap" in (meta.notes or "")


# --- hypothesis round trips -----------------------------------------------------------------

LAYOUTS = [("observation_date", None), ("DATE", None), ("date", "value"), ("Date", "Value")]


@st.composite
def fred_files(draw: st.DrawFn) -> tuple[bytes, str, list[date], list[float]]:
    date_col, value_col = draw(st.sampled_from(LAYOUTS))
    sid = draw(st.from_regex(r"[A-Z][A-Z0-9_]{0,11}", fullmatch=True))
    us_dates, eol, missing = (
        draw(st.booleans()),
        draw(st.sampled_from(["\n", "\r\n"])),
        draw(st.sampled_from([".", ""])),
    )
    days = st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31))
    dates = draw(st.lists(days, min_size=1, max_size=40, unique=True))
    cells = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none())
    values = draw(st.lists(cells, min_size=len(dates), max_size=len(dates)))
    lines = [f"{date_col},{value_col or sid}"]
    for d, v in zip(dates, values, strict=True):
        stamp = f"{d.month}/{d.day}/{d.year}" if us_dates else d.isoformat()
        lines.append(f"{stamp},{missing if v is None else repr(v)}")
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    return text.encode(), sid, dates, [math.nan if v is None else v for v in values]


@settings(max_examples=150, deadline=None)
@given(fred_files())
def test_csv_round_trip(case: tuple[bytes, str, list[date], list[float]]) -> None:
    data, sid, dates, values = case
    frame = fred.parse(data, origin="h", series_id=sid)
    pd.testing.assert_frame_equal(frame, long_frame(sid, pd.to_datetime(dates), values))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
            st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()),
        ),
        min_size=1,
        max_size=30,
        unique_by=lambda t: t[0],
    )
)
def test_api_json_round_trip(rows: list[tuple[date, float | None]]) -> None:
    doc = observations_doc([(d.isoformat(), "." if v is None else repr(v)) for d, v in rows])
    frame = fred.parse_observations(json.dumps(doc).encode(), origin="h", series_id="x")
    expected = long_frame("X", pd.to_datetime([d for d, _ in rows]), [
        math.nan if v is None else v for _, v in rows
    ])  # fmt: skip
    pd.testing.assert_frame_equal(frame[["series_id", "date", "value"]], expected)
    assert frame["realtime_end"].isna().all()  # 9999-12-31: still current


# --- API JSON -------------------------------------------------------------------------------


def observations_doc(
    rows: list[tuple[str, str]], *, start: str = "2026-08-21", output_type: int = 1
) -> dict[str, Any]:
    """A series/observations answer like FRED's, one real-time period per row."""
    return {
        "realtime_start": start,
        "realtime_end": "2026-08-21",
        "output_type": output_type,
        "file_type": "json",
        "count": len(rows),
        "offset": 0,
        "limit": 100000,
        "observations": [
            {"realtime_start": start, "realtime_end": "9999-12-31", "date": d, "value": v}
            for d, v in rows
        ],
    }


UNRATE_OBS = observations_doc(
    [("2026-04-01", "4.3"), ("2026-05-01", "."), ("2026-06-01", "4.2"), ("2026-07-01", "4.1")]
)
UNRATE_INFO = {
    "realtime_start": "2026-08-21",
    "realtime_end": "2026-08-21",
    "seriess": [
        {
            "id": "UNRATE",
            "title": "Unemployment Rate",
            "frequency": "Monthly",
            "frequency_short": "M",
            "units": "Percent",
            "units_short": "%",
            "seasonal_adjustment": "Seasonally Adjusted",
            "seasonal_adjustment_short": "SA",
            "last_updated": "2026-08-07 07:49:02-05",
        }
    ],
}


def test_parse_info_and_tidy_api() -> None:
    info = json.dumps(UNRATE_INFO).encode()
    meta = fred.parse_info(info, origin="i")
    assert (meta.series_id, meta.units, meta.frequency) == ("UNRATE", "percent", "M")
    assert meta.publisher_vintage == "2026-08-07 07:49:02-05"
    result = fred.tidy_api(json.dumps(UNRATE_OBS).encode(), info, origin="o", series_id="UNRATE")
    series = result.series("UNRATE")
    assert len(series) == 4 and math.isnan(series["2026-05-01"]) and series.iloc[-1] == 4.1
    assert "output_type 1" in (result.meta["UNRATE"].notes or "")
    with pytest.raises(ParseError, match="description is of 'UNRATE'"):
        fred.tidy_api(json.dumps(UNRATE_OBS).encode(), info, origin="o", series_id="DFF")


def test_gdp_info_units_say_saar_and_semiannual_is_annual() -> None:
    item = UNRATE_INFO["seriess"][0] | {
        "id": "GDPC1",
        "units": "Billions of Chained 2017 Dollars",
        "seasonal_adjustment_short": "SAAR",
        "frequency_short": "Q",
    }
    meta = fred.parse_info(json.dumps({"seriess": [item]}).encode(), origin="i")
    assert meta.units == "Billions of Chained 2017 Dollars, SAAR" and meta.frequency == "Q"
    item |= {"frequency_short": "SA", "frequency": "Semiannual"}
    meta = fred.parse_info(json.dumps({"seriess": [item]}).encode(), origin="i")
    assert meta.frequency == "A" and "Semiannual" in (meta.notes or "")


def test_realtime_period_keeps_last_published_value() -> None:
    doc = observations_doc([("2026-01-01", "1.0"), ("2026-04-01", "2.0")], start="2026-01-30")
    doc["observations"].insert(
        1,
        {
            "realtime_start": "2026-02-27",
            "realtime_end": "9999-12-31",
            "date": "2026-01-01",
            "value": "1.5",
        },
    )
    doc["observations"][0]["realtime_end"] = "2026-02-26"
    doc["count"] = 3
    data = json.dumps(doc).encode()
    obs = fred.parse_observations(data, origin="o", series_id="GDPC1")
    assert len(obs) == 3 and obs["realtime_end"].iat[0] == pd.Timestamp("2026-02-26")
    result = fred.tidy(data, origin="o", series_id="GDPC1")  # JSON goes to tidy_api
    assert result.series("GDPC1").tolist() == [1.5, 2.0]
    assert "last published value per date" in (result.meta["GDPC1"].notes or "")


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"error_code": 400, "error_message": "Bad Request."}, "FRED answered an error"),
        ({"count": 5, "offset": 0, "observations": [
            {"realtime_start": "2026-01-01", "realtime_end": "9999-12-31",
             "date": "2026-01-01", "value": "1"}]}, "holds 1 of 5"),
        ({"observations": [{"date": "2026-01-01", "UNRATE_20260101": "1"}]}, "output_type 2"),
        ({"observations": []}, "no observations"),
        ({"observations": [{"realtime_start": "2026-01-01", "realtime_end": "9999-12-31",
                            "date": "2026-13-01", "value": "1"}]}, "field 'date'"),
        ([1, 2], "expected a JSON object"),
    ],
)  # fmt: skip
def test_bad_api_json_is_a_parse_error(doc: Any, needle: str) -> None:
    with pytest.raises(ParseError, match=needle):
        fred.parse_observations(json.dumps(doc).encode(), origin="o", series_id="UNRATE")


def test_truncated_json_names_line() -> None:
    with pytest.raises(ParseError, match=r"o, line 2: not JSON"):
        fred.parse_observations(b'{"observations":\n [{"date": ', origin="o", series_id="X")


# --- HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def client() -> Any:
    with httpx.Client(timeout=5) as c:
        yield c


def api_url(httpserver: Any) -> str:
    return httpserver.url_for("/fred")


def test_api_fetch_round_trip_with_key_masked(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request(
        "/fred/series/observations",
        query_string={"series_id": "UNRATE", "api_key": KEY, "file_type": "json"},
    ).respond_with_json(UNRATE_OBS)
    payload = fred.fetch("UNRATE", client=client, api_key=KEY, url=api_url(httpserver))
    assert payload.source == "fred" and KEY not in payload.url and "api_key=***" in payload.url
    frame = fred.parse_observations(payload.data, origin=payload.url, series_id="UNRATE")
    assert frame["value"].tolist()[::2] == [4.3, 4.2] and frame["value"].isna().sum() == 1
    assert frame["date"].iat[0] == pd.Timestamp("2026-04-01")


def test_alfred_first_release_query(httpserver: Any, client: httpx.Client) -> None:
    doc = observations_doc([("2026-01-01", "1.0")], start="2026-02-27", output_type=4)
    httpserver.expect_request(
        "/fred/series/observations",
        query_string={
            "series_id": "GDPC1",
            "api_key": KEY,
            "file_type": "json",
            "realtime_start": "2000-01-01",
            "realtime_end": "2026-08-21",
            "output_type": "4",
        },
    ).respond_with_json(doc)
    payload = fred.fetch(
        "GDPC1",
        client=client,
        api_key=KEY,
        url=api_url(httpserver),
        realtime_start=date(2000, 1, 1),
        realtime_end="2026-08-21",
        output_type=4,
    )
    obs = fred.parse_observations(payload.data, origin=payload.url, series_id="GDPC1")
    assert obs["realtime_start"].iat[0] == pd.Timestamp("2026-02-27")  # the release date
    notes = fred.tidy_api(payload.data, None, origin="o", series_id="GDPC1").meta["GDPC1"].notes
    assert "initial release only" in (notes or "")


def test_fetch_info(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request("/fred/series").respond_with_json(UNRATE_INFO)
    payload = fred.fetch_info("UNRATE", client=client, api_key=KEY, url=api_url(httpserver))
    assert fred.parse_info(payload.data, origin=payload.url).title == "Unemployment Rate"
    with pytest.raises(ConfigError, match="FRED_API_KEY"):
        fred.fetch_info("UNRATE", client=client, api_key=None, url=api_url(httpserver))


@pytest.mark.parametrize(
    ("message", "error", "needle"),
    [
        (
            "Bad Request.  The series does not exist.",
            UnknownSeriesError,
            r"unknown FRED series 'UNRAT'; did you mean 'UNRATE'\?.*Check that 'UNRAT' is a valid",
        ),
        (
            "Bad Request.  The value for variable api_key is not registered.  Read "
            "https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
            AuthError,
            r"refused the API key.*fredaccount.stlouisfed.org/apikeys.*set FRED_API_KEY",
        ),
        ("Bad Request.  Variable output_type is not valid.", FetchError, r"HTTP 400.*output_type"),
    ],
)
def test_api_400_becomes_a_clear_error(
    httpserver: Any, client: httpx.Client, message: str, error: type, needle: str
) -> None:
    body = {"error_code": 400, "error_message": message}
    httpserver.expect_request("/fred/series/observations").respond_with_json(body, status=400)
    with pytest.raises(error, match=needle) as info:
        fred.fetch("UNRAT", client=client, api_key=KEY, url=api_url(httpserver))
    assert KEY not in str(info.value)
    if error is AuthError:
        assert info.value.status == 400


def test_keyless_fallback_reads_csv_or_explains_403(httpserver: Any, client: httpx.Client) -> None:
    graph = httpserver.url_for("/graph/fredgraph.csv") + "?id={series_id}"
    httpserver.expect_oneshot_request(
        "/graph/fredgraph.csv", query_string="id=DFF"
    ).respond_with_data("observation_date,DFF\n2025-10-08,4.10\n2025-10-09,\n")
    payload = fred.fetch("DFF", client=client, graph_url=graph)
    assert fred.parse(payload.data, origin=payload.url)["value"].tolist()[0] == 4.10
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("Forbidden", status=403)
    with pytest.raises(AuthError, match=r"keyless.*apikeys and set FRED_API_KEY") as info:
        fred.fetch("DFF", client=client, graph_url=graph)
    assert info.value.status == 403 and "/graph/fredgraph.csv?id=DFF" in str(info.value)
    with pytest.raises(ConfigError, match=r"ALFRED.*FRED_API_KEY"):
        fred.fetch("DFF", client=client, graph_url=graph, output_type=4)


def test_unknown_output_type_is_refused(client: httpx.Client) -> None:
    with pytest.raises(ConfigError, match="output_type=2"):
        fred.fetch("DFF", client=client, api_key=KEY, output_type=2)


def test_5xx_is_retried(httpserver: Any, client: httpx.Client) -> None:
    waits: list[float] = []
    path = "/fred/series/observations"
    httpserver.expect_oneshot_request(path).respond_with_data("busy", status=500)
    httpserver.expect_request(path).respond_with_json(UNRATE_OBS)
    payload = fred.fetch(
        "UNRATE", client=client, api_key=KEY, url=api_url(httpserver), sleep=waits.append
    )
    assert json.loads(payload.data) == UNRATE_OBS and waits == [1.0]


def test_persistent_5xx_names_url(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request("/fred/series/observations").respond_with_data("no", status=500)
    with pytest.raises(FetchError, match=r"/fred/series/observations\?.*HTTP 500") as info:
        fred.fetch("UNRATE", client=client, api_key=KEY, url=api_url(httpserver), **NO_WAIT)
    assert "api_key=***" in str(info.value) and KEY not in str(info.value)
    assert len(httpserver.log) == 4  # the first try and three retries


def test_timeout_names_url(httpserver: Any) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.3)
        return Response("observation_date,DFF\n2020-01-01,1\n")

    httpserver.expect_request("/graph/fredgraph.csv").respond_with_handler(slow)
    graph = httpserver.url_for("/graph/fredgraph.csv") + "?id={series_id}"
    with (
        httpx.Client(timeout=0.05) as client,
        pytest.raises(FetchError, match=r"fredgraph\.csv\?id=DFF: timed out") as info,
    ):
        fred.fetch("DFF", client=client, graph_url=graph, retries=0)
    assert not isinstance(info.value, AuthError)


def fetch_and_parse(series_id: str, client: httpx.Client, graph: str) -> pd.DataFrame:
    payload = fred.fetch(series_id, client=client, graph_url=graph)
    return fred.parse(payload.data, origin=payload.url)


@pytest.mark.parametrize(
    ("body", "error", "needle"),
    [
        ("<!DOCTYPE html><html><title>FRED</title>Down</html>", ParseError, "HTML page"),
        ("", FetchError, "empty body"),
        ("observation_date,DFF,EFFR\n2020-01-01,1,2\n", ParseError, "header changed"),
    ],
)
def test_bad_200_bodies(
    httpserver: Any, client: httpx.Client, body: str, error: type, needle: str
) -> None:
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(body)
    graph = httpserver.url_for("/graph/fredgraph.csv") + "?id={series_id}"
    with pytest.raises(error, match=needle):
        fetch_and_parse("DFF", client, graph)


def test_html_where_api_json_expected(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request("/fred/series/observations").respond_with_data(
        "<html><head><title>Maintenance</title></head></html>"
    )
    payload = fred.fetch("UNRATE", client=client, api_key=KEY, url=api_url(httpserver))
    with pytest.raises(ParseError, match="HTML page titled 'Maintenance' where FRED API JSON"):
        fred.parse_observations(payload.data, origin=payload.url, series_id="UNRATE")


# --- rate limit -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 100.0, []  # type: ignore[var-annotated]

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_requests() -> None:
    clock = FakeClock()
    limiter = fred.RateLimiter(min_interval=0.5, clock=clock, sleep=clock.sleep)
    assert limiter.wait() == 0.0  # the first request never waits
    clock.now += 0.1
    assert limiter.wait() == pytest.approx(0.4) and clock.now == pytest.approx(100.5)
    assert limiter.wait() == pytest.approx(0.5)  # back to back: a full interval
    clock.now += 2.0
    assert limiter.wait() == 0.0
    assert clock.slept == pytest.approx([0.4, 0.5])


def test_fetch_waits_on_the_limiter(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request("/fred/series/observations").respond_with_json(UNRATE_OBS)
    clock = FakeClock()
    limiter = fred.RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(3):
        fred.fetch("UNRATE", client=client, api_key=KEY, url=api_url(httpserver), limiter=limiter)
    interval = fred.MIN_INTERVAL
    assert clock.slept == pytest.approx([interval, interval]) and len(httpserver.log) == 3
    assert 0.5 < interval < 1.0  # headroom under FRED's 2 a second, yet not crawling


def test_infer_frequency_single_date() -> None:
    code, how = fred.infer_frequency(pd.DatetimeIndex(["2020-03-01"]))
    assert code == "M" and "single date" in how
    assert fred.infer_frequency(pd.DatetimeIndex(["2020-03-04"]))[0] == "D"
    weekly = pd.date_range("2020-01-03", periods=5, freq="W-FRI", unit="s")  # any resolution
    assert fred.infer_frequency(weekly) == ("W", "inferred from a median gap of 7 days")


def test_known_table_covers_the_project_series() -> None:
    wanted = "DFF EFFR FEDFUNDS DFEDTAR DFEDTARU DFEDTARL UNRATE GDPC1 USRECP USREC DGS2 DGS10"
    assert set(fred.KNOWN) == {*wanted.split(), "T10Y2Y", "BAMLH0A0HYM2", "CPIAUCSL", "NFCI"}
    assert {m.frequency for m in fred.KNOWN.values()} == {"D", "W", "M", "Q"}
    assert all(m.units == "percent" for k, m in fred.KNOWN.items() if k.startswith(("D", "T")))


def test_api_403_says_how_to_get_a_key(httpserver: Any, client: httpx.Client) -> None:
    httpserver.expect_request("/fred/series/observations").respond_with_data("no", status=403)
    with pytest.raises(AuthError, match=r"HTTP 403.*apikeys and set FRED_API_KEY") as info:
        fred.fetch("UNRATE", client=client, api_key=KEY, url=api_url(httpserver))
    assert info.value.status == 403 and KEY not in str(info.value)
