"""NBER turning points and FOMC meeting dates, from the real mirror files and NBER's JSON."""

from __future__ import annotations

import json

import httpx
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from smallcaps.errors import ParseError
from smallcaps.sources import _http, events


def test_nber_csv_known_turning_points(data_dir) -> None:
    path = data_dir / "events" / "nber_recessions.csv"
    points = events.parse_nber(path.read_bytes(), origin=path.name)
    assert len(points) == 11
    assert points.iloc[0].tolist() == [pd.Timestamp("1953-07-01"), pd.Timestamp("1954-05-01")]
    gfc = points[points["peak"] == "2007-12-01"]
    assert gfc["trough"].iloc[0] == pd.Timestamp("2009-06-01")
    assert points["trough"].iloc[-1] == pd.Timestamp("2020-04-01")
    assert (points["trough"] > points["peak"]).all()


def test_nber_json_equals_csv_and_allows_an_open_recession(httpserver: HTTPServer) -> None:
    body = [{"peak": "2007-12-01", "trough": "2009-06-01"}, {"peak": "2020-02-01", "trough": None}]
    httpserver.expect_request("/bcd.json").respond_with_data(json.dumps(body))
    with _http.make_client() as client:
        payload = events.fetch_nber(client=client, url=httpserver.url_for("/bcd.json"))
    tidy = events.tidy_nber(payload.data, origin=payload.url)
    assert tidy.series("events/nber/peak").index.tolist() == [
        pd.Timestamp("2007-12-01"),
        pd.Timestamp("2020-02-01"),
    ]
    assert len(tidy.series("events/nber/trough")) == 1  # the open recession has no trough yet


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"peak,trough\n2007-12-01,2006-01-01\n", "trough is not after its peak"),
        (b"peak,trough\n2007-13-45,2009-06-01\n", "cannot read '2007-13-45'"),
        (b"start,end\n2007-12-01,2009-06-01\n", "expected columns 'peak' and 'trough'"),
        (b"<!DOCTYPE html><title>Not Found</title>", "HTML page titled 'Not Found'"),
        (b"", "empty file"),
    ],
)
def test_nber_bad_input_is_named(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle) as info:
        events.parse_nber(body, origin="nber.csv")
    assert str(info.value).startswith("nber.csv")


def test_fomc_meetings_known_dates(data_dir) -> None:
    path = data_dir / "events" / "FOMC_MEETING_2000-2025.csv"
    s = events.tidy_fomc(path.read_bytes(), origin=path.name).series("events/fomc/meeting")
    assert len(s) == 207
    assert s.index[0] == pd.Timestamp("2000-02-02")
    assert s.index[-1] == pd.Timestamp("2025-09-17")
    assert s.index.is_monotonic_increasing


def test_fomc_bad_date_names_line() -> None:
    with pytest.raises(ParseError, match="line 3, field 'Meeting_Date'"):
        events.tidy_fomc(b"Meeting_Date\n2000-02-02\nsoon\n", origin="fomc.csv")


def test_nber_fetch_500_then_ok(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/n").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/n").respond_with_data(
        '[{"peak":"2001-03-01","trough":"2001-11-01"}]'
    )
    with httpx.Client() as client:
        p = events.fetch_nber(client=client, url=httpserver.url_for("/n"))
    assert events.parse_nber(p.data, origin=p.url)["trough"].iloc[0] == pd.Timestamp("2001-11-01")
