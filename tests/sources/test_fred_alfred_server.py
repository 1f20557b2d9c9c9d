"""FRED and ALFRED against a local server that answers like FRED: split periods, pages, 429.

The server (:class:`Alfred`) holds a series' full release history as ALFRED's rows
(``date, value, realtime_start, realtime_end``), built at test time from a mirror file, and
answers ``series/vintagedates`` and ``series/observations`` the way FRED does: real-time periods
clipped to the window asked, ``count/offset/limit`` pages (100,000 rows at most), and its own
400 refusal when a window holds more vintage dates than it allows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from smallcaps.sources import fred

KEY = "abcdefghijklmnopqrstuvwxyz012345"
OPEN = "9999-12-31"
Row = dict[str, str]


def day(text: str, shift: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=shift)).isoformat()


class Alfred:
    """A FRED API for one series' ALFRED rows; records the status of every answer."""

    def __init__(self, series_id: str, rows: list[Row], *, max_vintages: int = 2000) -> None:
        self.series_id, self.max_vintages = series_id, max_vintages
        self.rows = sorted(rows, key=lambda r: (r["date"], r["realtime_start"]))
        self.vintages = sorted({r["realtime_start"] for r in rows})
        self.answers: list[tuple[str, int, dict[str, str]]] = []  # path, status, query

    def install(self, server: HTTPServer) -> str:
        server.expect_request("/fred/series/vintagedates").respond_with_handler(self.dates)
        server.expect_request("/fred/series/observations").respond_with_handler(self.observations)
        return server.url_for("/fred")

    def _json(self, request: Request, doc: dict[str, Any], status: int = 200) -> Response:
        self.answers.append((request.path, status, dict(request.args)))
        return Response(json.dumps(doc), status=status, content_type="application/json")

    def _period(self, request: Request) -> tuple[str, str]:
        assert request.args["api_key"] == KEY and request.args["series_id"] == self.series_id
        return request.args["realtime_start"], request.args["realtime_end"]

    def dates(self, request: Request) -> Response:
        start, end = self._period(request)
        inside = [v for v in self.vintages if start <= v <= end]
        limit = min(int(request.args.get("limit", 10000)), 10000)
        offset = int(request.args.get("offset", 0))
        doc = {
            "realtime_start": start, "realtime_end": end, "order_by": "vintage_date",
            "sort_order": "asc", "count": len(inside), "offset": offset, "limit": limit,
            "vintage_dates": inside[offset : offset + limit],
        }  # fmt: skip
        return self._json(request, doc)

    def answer(self, start: str, end: str) -> list[Row]:
        """ALFRED's rows for a real-time period: those valid in it, clipped to it."""
        return [
            r | {"realtime_start": max(r["realtime_start"], start),
                 "realtime_end": min(r["realtime_end"], end)}
            for r in self.rows
            if r["realtime_start"] <= end and r["realtime_end"] >= start
        ]  # fmt: skip

    def observations(self, request: Request) -> Response:
        start, end = self._period(request)
        held = sum(start <= v <= end for v in self.vintages)
        if held > self.max_vintages:
            message = (
                f"Bad Request.  There are {held} vintage dates in the specified real-time "
                f"period: {start} to {end}.  This exceeds the maximum number of vintage dates "
                f"allowed ({self.max_vintages})."
            )
            return self._json(request, {"error_code": 400, "error_message": message}, 400)
        rows = self.answer(start, end)
        limit = min(int(request.args.get("limit", 100000)), 100000)
        offset = int(request.args.get("offset", 0))
        return self._json(request, document(rows, start, end, offset=offset, limit=limit))

    def asked(self, path: str) -> list[tuple[int, dict[str, str]]]:
        return [(status, query) for p, status, query in self.answers if p.endswith(path)]


def document(rows: list[Row], start: str, end: str, *, offset: int = 0, limit: int = 100000):
    """A series/observations answer in FRED's JSON shape (one page of ``rows``)."""
    return {
        "realtime_start": start, "realtime_end": end, "observation_start": "1600-01-01",
        "observation_end": "9999-12-31", "units": "lin", "output_type": 1, "file_type": "json",
        "order_by": "observation_date", "sort_order": "asc", "count": len(rows),
        "offset": offset, "limit": limit, "observations": rows[offset : offset + limit],
    }  # fmt: skip


def mirror_values(data_dir: Path, name: str) -> list[tuple[str, str]]:
    """(date, value) as the mirror file writes them (``observation_date,DFF``)."""
    lines = (data_dir / "fred" / name).read_text().splitlines()
    assert lines[0] == "observation_date,DFF"
    return [tuple(line.split(",")) for line in lines[1:]]  # type: ignore[misc]


def daily_releases(values: list[tuple[str, str]], releases: int, history: int) -> list[Row]:
    """ALFRED rows of a daily rate published the next day, ``releases`` releases in all.

    The first release also publishes ``history`` older days; every seventh day's first value is
    5 basis points off and revised to the file's value three releases later.
    """
    new = values[-releases:]
    published = [day(d, 1) for d, _ in new]
    rows = [
        {"date": d, "value": v, "realtime_start": published[0], "realtime_end": OPEN}
        for d, v in values[-releases - history : -releases]
    ]
    for j, (d, v) in enumerate(new):
        if j % 7 == 3 and j + 3 < releases:
            first = f"{float(v) + 0.05:.2f}"
            rows.append({"date": d, "value": first, "realtime_start": published[j],
                         "realtime_end": day(published[j + 3], -1)})  # fmt: skip
            rows.append({"date": d, "value": v, "realtime_start": published[j + 3],
                         "realtime_end": OPEN})  # fmt: skip
        else:
            rows.append({"date": d, "value": v, "realtime_start": published[j],
                         "realtime_end": OPEN})  # fmt: skip
    return rows


@pytest.fixture
def client() -> Any:
    with httpx.Client(timeout=30) as c:
        yield c


def fetch_all(series_id: str, client: httpx.Client, url: str) -> Any:
    return fred.fetch(series_id, client=client, api_key=KEY, url=url,
                      realtime_start=fred.ALFRED_START, realtime_end=fred.ALFRED_END,
                      sleep=lambda _s: None)  # fmt: skip


def assert_same_vintages(got: bytes, unsplit: bytes, series_id: str) -> int:
    mine = fred.alfred_vintages(got, origin="split", series_id=series_id)
    theirs = fred.alfred_vintages(unsplit, origin="one", series_id=series_id)
    assert [d for d, _ in mine] == [d for d, _ in theirs]
    every = [pd.concat([f for _, f in got], keys=range(len(got))) for got in (mine, theirs)]
    pd.testing.assert_frame_equal(every[0], every[1])
    return len(mine)


# --- ALFRED: more than 2,000 vintage dates --------------------------------------------------


@pytest.fixture(scope="module")
def dff_releases(data_dir: Path) -> list[Row]:
    return daily_releases(mirror_values(data_dir, "DFF_fredgraph.csv"), 4500, 300)


def test_4500_vintage_dates_in_three_requests_equal_the_unsplit_answer(
    httpserver: HTTPServer, client: httpx.Client, dff_releases: list[Row]
) -> None:
    server = Alfred("DFF", dff_releases)
    assert len(server.vintages) == 4500
    payload = fetch_all("DFF", client, server.install(httpserver))
    asked = server.asked("/observations")
    assert [status for status, _ in asked] == [200, 200, 200]  # no refusal was ever provoked
    windows = [(q["realtime_start"], q["realtime_end"]) for _, q in asked]
    held = [sum(a <= v <= b for v in server.vintages) for a, b in windows]
    assert held == [2000, 2000, 500]
    assert windows[0][0] == fred.ALFRED_START and windows[-1][1] == fred.ALFRED_END
    assert all(day(b, 1) == a for (_, b), (a, _) in pairwise(windows))
    assert [s for s, _ in server.asked("/vintagedates")] == [200]
    # the one answer FRED would give without its limit, from the same rows
    whole = server.answer(fred.ALFRED_START, fred.ALFRED_END)
    unsplit = json.dumps(document(whole, fred.ALFRED_START, fred.ALFRED_END)).encode()
    assert json.loads(payload.data)["observations"] == whole  # same rows, same order
    assert assert_same_vintages(payload.data, unsplit, "DFF") == 4500
    revised = sum(j % 7 == 3 and j + 3 < 4500 for j in range(4500))
    assert len(whole) == 300 + 4500 + revised and revised == 642  # j = 3, 10, ..., 4495
    assert sum(r["realtime_end"] != OPEN for r in whole) == revised


def test_refusal_with_a_lower_limit_is_split_by_that_limit(
    httpserver: HTTPServer, client: httpx.Client, dff_releases: list[Row]
) -> None:
    server = Alfred("DFF", dff_releases[-2000:], max_vintages=700)
    url = server.install(httpserver)
    count = len(server.vintages)
    assert 700 < count <= 2000  # fits our 2,000, not FRED's (lowered) 700
    payload = fetch_all("DFF", client, url)
    statuses = [s for s, _ in server.asked("/observations")]
    assert statuses[0] == 400 and statuses[1:] == [200] * -(-count // 700)
    whole = server.answer(fred.ALFRED_START, fred.ALFRED_END)
    unsplit = json.dumps(document(whole, fred.ALFRED_START, fred.ALFRED_END)).encode()
    assert assert_same_vintages(payload.data, unsplit, "DFF") == count


def test_vintage_dates_page_by_10000(httpserver: HTTPServer, client: httpx.Client) -> None:
    rows = [
        {"date": "2020-01-01", "value": str(i), "realtime_start": day("1990-01-01", 2 * i),
         "realtime_end": day("1990-01-01", 2 * i + 1)}
        for i in range(23456)
    ]  # fmt: skip
    server = Alfred("DFF", rows)
    url = server.install(httpserver)
    got = fred.fetch_vintage_dates("DFF", client=client, api_key=KEY, url=url,
                                   realtime_start=fred.ALFRED_START,
                                   realtime_end=fred.ALFRED_END)  # fmt: skip
    assert got == server.vintages and len(got) == 23456
    assert [q.get("offset") for _, q in server.asked("/vintagedates")] == ["0", "10000", "20000"]


# --- pages past 100,000 rows ----------------------------------------------------------------


def test_250000_rows_in_three_pages_equal_the_file(
    httpserver: HTTPServer, client: httpx.Client, data_dir: Path
) -> None:
    # 25,000 days of DFF released in 10 vintages that each revise the whole history (as
    # comprehensive revisions do): 250,000 rows, 10 vintage dates, the last one the file's
    values = mirror_values(data_dir, "DFF_fredgraph.csv")[-25000:]
    starts = [f"{year}-01-15" for year in range(2016, 2026)]
    rows = [
        {"date": d, "value": v if k == 9 else f"{float(v) + 0.01 * (9 - k):.2f}",
         "realtime_start": s, "realtime_end": OPEN if k == 9 else day(starts[k + 1], -1)}
        for d, v in values
        for k, s in enumerate(starts)
    ]  # fmt: skip
    server = Alfred("DFF", rows)
    payload = fetch_all("DFF", client, server.install(httpserver))
    asked = server.asked("/observations")
    assert len(rows) == 250000 and [s for s, _ in asked] == [200, 200, 200]
    assert [q.get("offset") for _, q in asked] == [None, "100000", "200000"]
    doc = json.loads(payload.data)
    assert doc["observations"] == server.rows and doc["count"] == 250000
    tidy = fred.tidy_api(payload.data, None, origin=payload.url, series_id="DFF")
    series = tidy.series("DFF")
    assert len(series) == 25000
    assert series.tolist() == [float(v) for _, v in values]
    assert list(series.index.strftime("%Y-%m-%d")) == [d for d, _ in values]


def test_pages_that_shift_keep_each_row_once(httpserver: HTTPServer, client: httpx.Client) -> None:
    rows = [{"date": day("2000-01-01", i), "value": f"{i}", "realtime_start": "2026-08-21",
             "realtime_end": OPEN} for i in range(5)]  # fmt: skip
    path = "/fred/series/observations"
    first = document(rows, "2026-08-21", "2026-08-21", limit=3)
    second = document(rows, "2026-08-21", "2026-08-21", offset=2, limit=3)  # one row repeated
    second["offset"] = 3
    httpserver.expect_ordered_request(path).respond_with_json(first)
    httpserver.expect_ordered_request(path).respond_with_json(second)
    payload = fred.fetch("DFF", client=client, api_key=KEY, url=httpserver.url_for("/fred"))
    assert json.loads(payload.data)["observations"] == rows
    assert httpserver.log[1][0].args["offset"] == "3" and httpserver.log[1][0].args["limit"] == "3"


# --- rate limits ----------------------------------------------------------------------------


def test_429_then_200(httpserver: HTTPServer, client: httpx.Client) -> None:
    path = "/fred/series/observations"
    doc = document([{"date": "2026-08-20", "value": "4.33", "realtime_start": "2026-08-21",
                     "realtime_end": OPEN}], "2026-08-21", "2026-08-21")  # fmt: skip
    headers = {"Retry-After": "3"}
    httpserver.expect_ordered_request(path).respond_with_data("Too Many", 429, headers=headers)
    httpserver.expect_ordered_request(path).respond_with_json(doc)
    waits: list[float] = []
    payload = fred.fetch(
        "DFF", client=client, api_key=KEY, url=httpserver.url_for("/fred"), sleep=waits.append
    )
    assert json.loads(payload.data) == doc and len(httpserver.log) == 2
    assert waits == [3.0]  # Retry-After, not the backoff's 1 s
