"""User-supplied CSV: what is accepted, every ambiguity as an error, a round-trip property."""

from __future__ import annotations

import csv
import io
import math
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from smallcaps.errors import ConfigError, ParseError
from smallcaps.sources import usercsv
from smallcaps.sources.base import long_frame


def parse(text: str | bytes, **kwargs) -> pd.DataFrame:
    data = text.encode() if isinstance(text, str) else text
    return usercsv.parse(data, origin="pe.csv", name=kwargs.pop("name", "fpe"), **kwargs)


def values(frame: pd.DataFrame) -> dict[str, float]:
    return {f"{d:%Y-%m-%d}": v for d, v in zip(frame["date"], frame["value"], strict=True)}


def test_iso_dates_comma_and_missing_values() -> None:
    frame = parse("Date,Forward P/E\n2024-01-31,19.5\n2024-02-29,\n2024-03-31,NA\n2024-04-30,20\n")
    assert list(frame.columns) == ["series_id", "date", "value"]
    assert set(frame["series_id"]) == {"user/fpe"}
    assert frame["date"].dtype == "datetime64[ns]"
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-31")
    assert frame["value"].iloc[0] == 19.5 and frame["value"].iloc[-1] == 20.0
    assert frame["value"].isna().sum() == 2


def test_semicolon_bom_crlf_day_first_decided_by_the_data() -> None:
    data = "\ufeffDatum;KGV\r\n31.01.2024;19.5\r\n05.02.2024;20.1\r\n".encode()
    frame = parse(data)
    assert values(frame) == {"2024-01-31": 19.5, "2024-02-05": 20.1}  # 31 > 12: day first


def test_month_first_decided_by_the_data_and_rows_sorted() -> None:
    frame = parse("date,pe\n02/13/2024,2\n01/05/2024,1\n\n03/01/2024,3\n")
    assert values(frame) == {"2024-01-05": 1.0, "2024-02-13": 2.0, "2024-03-01": 3.0}


def test_month_names_quarters_and_explicit_format() -> None:
    frame = parse('date,pe\n"Jan 31, 2024",1\n"Feb 29, 2024",2\n')
    assert values(frame) == {"2024-01-31": 1.0, "2024-02-29": 2.0}
    assert values(parse("q;pe\n2024Q1;1\n2024-Q4;2\n")) == {"2024-01-01": 1.0, "2024-10-01": 2.0}
    frame = parse("date,pe\n01/02/2024,1\n02/02/2024,2\n", date_format="%d/%m/%Y")
    assert values(frame) == {"2024-02-01": 1.0, "2024-02-02": 2.0}


def test_unambiguous_thousands_separators_are_accepted() -> None:
    frame = parse('date,level\n2024-01-01,"1,234.5"\n2024-01-02,"1,234,567"\n2024-01-03,-7\n')
    assert values(frame) == {"2024-01-01": 1234.5, "2024-01-02": 1234567.0, "2024-01-03": -7.0}


def test_columns_chosen_by_name() -> None:
    text = "date,fwd_pe,trailing_pe\n2024-01-31,19.5,22.0\n2024-02-29,20.0,23.0\n"
    assert values(parse(text, value_column="trailing_pe")) == {
        "2024-01-31": 22.0,
        "2024-02-29": 23.0,
    }
    text = "asof,published,pe\n2024-01-31,2024-02-05,19.5\n2024-02-29,2024-03-04,20\n"
    frame = parse(text, date_column="asof")
    assert values(frame) == {"2024-01-31": 19.5, "2024-02-29": 20.0}
    text = "date,ticker,pe\n2024-01-31,SPX,19.5\n2024-02-29,SPX,20\n"  # text columns ignored
    assert values(parse(text)) == {"2024-01-31": 19.5, "2024-02-29": 20.0}
    frame = parse("year,pe\n2023,19.5\n2024,20\n", date_format="%Y")  # years need a format
    assert values(frame) == {"2023-01-01": 19.5, "2024-01-01": 20.0}


@pytest.mark.parametrize(
    ("text", "kwargs", "needle"),
    [
        (
            "date,fwd_pe,trailing_pe\n2024-01-31,19.5,22\n",
            {},
            r"several numeric columns \['fwd_pe', 'trailing_pe'\]; pass value_column=",
        ),
        (
            "when,pe\nlast month,19.5\nthis month,20\n",
            {},
            r"no column whose every cell is a date.*\['when', 'pe'\].*pass date_column=",
        ),
        (
            "asof,published,pe\n2024-01-31,2024-02-05,19.5\n",
            {},
            r"several columns hold dates: \['asof', 'published'\]; pass date_column=",
        ),
        (
            "date,pe\n01/02/2020,1\n02/03/2020,2\n",
            {},
            r"dates like '01/02/2020' could be day-first or month-first.*"
            r"date_format='%d/%m/%Y' or date_format='%m/%d/%Y'",
        ),
        (
            "date,pe\n13/01/2020,1\n01/13/2020,2\n",
            {},
            r"dates mix day-first \('13/01/2020'\) and month-first \('01/13/2020'\)",
        ),
        (
            "date,pe\n2024-01-31,19.5\n2024-02-29,20\n2024-01-31,21\n",
            {},
            r"line 4, field 'date': duplicate date 2024-01-31 \(also on line 2\)",
        ),
        (
            "date;pe\n2024-01-31;1,234\n2024-02-29;1,5\n",
            {},
            r"line 2, field 'pe': cannot read '1,234'.*thousands separator or a decimal comma",
        ),
        (
            "date,pe\n2024-01-31,19.5\n2024-02-29,2O.1\n",
            {},
            r"line 3, field 'pe': cannot read '2O.1' as a number",
        ),
        (
            "date,yield\n2024-01-31,4.5%\n2024-02-29,4.6\n",
            {},
            r"line 3, field 'yield': '4.6' has no % sign while other values in the column do",
        ),
        ("date,pe\n2024-01-31,19.5\n,20\n", {}, r"line 3, field 'date': missing date"),
        ("date,pe\n2024-01-31,\n2024-02-29,NA\n", {}, r"field 'pe': no values, only missing"),
        (
            "date,name,pe\n2024-01-31,ACME,19.5\n2024-02-29,ACME,20\n",
            {"value_column": "name"},
            r"line 2, field 'name': cannot read 'ACME' as a number",
        ),
        (
            "date,name,note\n2024-01-31,ACME,x\n",
            {},
            r"no numeric column besides the date column 'date' \(found \['name', 'note'\]\)",
        ),
        (
            "date,pe\n2024-01-31,19.5\n2024-02-30,20\n",
            {},
            r"line 3, field 'date': cannot read '2024-02-30' as a valid date",
        ),
        (
            "date,pe\n31/01/2024,19.5\n",
            {"date_format": "%Y-%m-%d"},
            r"no column whose every cell is a date in format '%Y-%m-%d'",
        ),
        ("date,pe\n2024-01-31,19.5\n", {"value_column": "PE"}, r"no column 'PE'.*\['date', 'pe'\]"),
        ("date,pe\n2024-01-31,19.5\n", {"date_column": "Date"}, r"no column 'Date'"),
        ("date,value\n", {}, r"line 2: no data rows under the header"),
        ("date value\n2024-01-31 19.5\n", {}, r"has one column; expected a header with a date"),
        ("date,pe,pe\n2024-01-31,1,2\n", {}, r"line 1: duplicate column names \['pe'\]"),
        ("", {}, "empty file"),
        ("<!DOCTYPE html><html><title>Login</title></html>", {}, "HTML page titled 'Login'"),
    ],
)
def test_ambiguous_or_broken_files_are_clear_errors(text: str, kwargs: dict, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        parse(text, **kwargs)
    assert info.value.origin == "pe.csv"
    assert str(info.value).startswith("pe.csv")


def test_bad_series_name() -> None:
    with pytest.raises(ConfigError, match=r"series name 'my pe' must start with a letter"):
        parse("date,pe\n2024-01-31,19.5\n", name="my pe")


def test_tidy_meta_and_inferred_frequency() -> None:
    text = "date,pe\n2024-01-31,19.5\n2024-02-29,20\n2024-03-31,21\n"
    tidy = usercsv.tidy(text.encode(), origin="pe.csv", name="fpe", title="Forward P/E")
    meta = tidy.meta["user/fpe"]
    assert meta.frequency == "M" and meta.source == "user" and meta.title == "Forward P/E"
    assert meta.units == "unknown (user-supplied)"
    assert meta.notes is not None and meta.notes.startswith("user-supplied vendor data")
    assert "column 'pe'" in meta.notes
    assert len(tidy.series("user/fpe")) == 3


@pytest.mark.parametrize(
    ("freq", "step"),
    [("D", "B"), ("W", "W-FRI"), ("M", "ME"), ("Q", "QS"), ("A", "YE")],
)
def test_frequency_inference(freq: str, step: str) -> None:
    dates = pd.date_range("2001-01-01", periods=30, freq=step)
    text = "date,x\n" + "".join(f"{d:%Y-%m-%d},{i}\n" for i, d in enumerate(dates))
    tidy = usercsv.tidy(text.encode(), origin="x.csv", name="x")
    assert tidy.meta["user/x"].frequency == freq


def test_frequency_errors_and_override() -> None:
    irregular = b"date,x\n2024-01-01,1\n2024-01-21,2\n2024-02-10,3\n"
    with pytest.raises(ParseError, match="median spacing of 20 days; pass frequency="):
        usercsv.tidy(irregular, origin="x.csv", name="x")
    assert usercsv.tidy(irregular, origin="x.csv", name="x", frequency="D").meta["user/x"]
    with pytest.raises(ParseError, match="one observation: cannot infer the frequency"):
        usercsv.tidy(b"date,x\n2024-01-01,1\n", origin="x.csv", name="x")
    with pytest.raises(ConfigError, match="frequency must be one of D, W, M, Q, A, got 'monthly'"):
        usercsv.tidy(irregular, origin="x.csv", name="x", frequency="monthly")


def test_percent_signs_set_the_units() -> None:
    data = b"date,yield\n2024-01-31,4.5%\n2024-02-29,4.25 %\n2024-03-31,\n"
    tidy = usercsv.tidy(data, origin="y.csv", name="y")
    assert tidy.series("user/y").iloc[:2].tolist() == [4.5, 4.25]  # kept in percent
    assert math.isnan(tidy.series("user/y").iloc[2])
    assert tidy.meta["user/y"].units == "percent"
    assert "% sign" in (tidy.meta["user/y"].notes or "")
    with pytest.raises(ConfigError, match=r"carry a % sign but units='ratio'"):
        usercsv.tidy(data, origin="y.csv", name="y", units="ratio")


FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%b %d, %Y", "%d %b %Y")
finite = st.floats(allow_nan=False, allow_infinity=False)
rows = st.lists(
    st.tuples(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.one_of(finite, st.none())),
    min_size=1,
    max_size=30,
    unique_by=lambda r: r[0],
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    rows=rows,
    fmt=st.sampled_from(FORMATS),
    sep=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_parse_round_trips(
    rows: list[tuple[date, float | None]], fmt: str, sep: str, newline: str, bom: bool
) -> None:
    assume(any(v is not None for _, v in rows))  # a column of blanks is an error
    if fmt in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"):  # unambiguous only with a day above 12
        assume(any(d.day > 12 for d, _ in rows))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=newline)
    writer.writerow(["Date", "Forward P/E"])
    writer.writerows((d.strftime(fmt), "" if v is None else repr(v)) for d, v in rows)
    data = ("\ufeff" if bom else "").encode() + out.getvalue().encode()

    got = usercsv.parse(data, origin="rt.csv", name="rt")

    ordered = sorted(rows)
    expected = long_frame(
        "user/rt",
        pd.to_datetime([d for d, _ in ordered]),
        [math.nan if v is None else v for _, v in ordered],
    )
    pd.testing.assert_frame_equal(got, expected)
