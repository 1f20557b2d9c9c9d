"""ALFRED vintages end to end: API answer -> one store vintage per release -> first releases."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from smallcaps import access
from smallcaps.config import Config
from smallcaps.errors import ConfigError
from smallcaps.sources import catalog, fred
from smallcaps.store import Store

OPEN = "9999-12-31"
# GDP for 2025Q1: advance 100 (Apr 30), second 101 (May 29), third 102 (Jun 26); 2025Q2: 110, 111
ROWS = [
    ("2025-01-01", "100.0", "2025-04-30", "2025-05-28"),
    ("2025-01-01", "101.0", "2025-05-29", "2025-06-25"),
    ("2025-01-01", "102.0", "2025-06-26", OPEN),
    ("2025-04-01", "110.0", "2025-07-30", "2025-08-27"),
    ("2025-04-01", "111.0", "2025-08-28", OPEN),
]
OBS = {
    "realtime_start": "1776-07-04", "realtime_end": OPEN, "count": len(ROWS), "offset": 0,
    "observations": [
        {"date": d, "value": v, "realtime_start": s, "realtime_end": e} for d, v, s, e in ROWS
    ],
}  # fmt: skip
STARTS = sorted({s for _, _, s, _ in ROWS})
VINTAGE_DATES = {
    "realtime_start": "1776-07-04", "realtime_end": OPEN, "order_by": "vintage_date",
    "sort_order": "asc", "count": len(STARTS), "offset": 0, "limit": 10000,
    "vintage_dates": STARTS,
}  # fmt: skip
INFO = {
    "seriess": [
        {
            "id": "GDPC1",
            "title": "Real Gross Domestic Product",
            "frequency": "Quarterly",
            "frequency_short": "Q",
            "units": "Billions of Chained 2017 Dollars",
            "units_short": "Bil. of Chn. 2017 $",
            "seasonal_adjustment_short": "SAAR",
            "seasonal_adjustment": "Seasonally Adjusted Annual Rate",
            "last_updated": "2025-08-28 07:56:02-05",
        }
    ]
}


def test_alfred_vintages_rebuild_each_release_by_hand() -> None:
    got = fred.alfred_vintages(json.dumps(OBS).encode(), origin="o", series_id="GDPC1")
    assert [f"{d:%Y-%m-%d}" for d, _ in got] == [
        "2025-04-30", "2025-05-29", "2025-06-26", "2025-07-30", "2025-08-28",
    ]  # fmt: skip
    values = [frame["value"].tolist() for _, frame in got]
    assert values == [[100.0], [101.0], [102.0], [102.0, 110.0], [102.0, 111.0]]


@pytest.fixture
def stored(httpserver: HTTPServer, tmp_path: Path) -> Store:
    httpserver.expect_request("/fred/series/observations").respond_with_json(OBS)
    httpserver.expect_request("/fred/series/vintagedates").respond_with_json(VINTAGE_DATES)
    httpserver.expect_request("/fred/series").respond_with_json(INFO)
    config = Config(home=tmp_path, fred_api_key="KEY")
    with httpx.Client() as client:
        pairs = catalog.fetch_alfred("GDPC1", client=client, config=config,
                                     api_url=httpserver.url_for("/fred"))  # fmt: skip
    asked = [request.path for request, _ in httpserver.log]
    assert asked == ["/fred/series/vintagedates", "/fred/series/observations", "/fred/series"]
    for request, _ in httpserver.log[:2]:  # 5 vintage dates: one request, not split
        assert request.args["realtime_start"] == "1776-07-04"
        assert request.args["realtime_end"] == OPEN
    store = Store.open(tmp_path / "s.duckdb", tmp_path / "a")
    store.write_many(pairs)
    return store


def test_each_release_is_a_vintage_and_as_of_reads_see_first_releases(stored: Store) -> None:
    assert len(stored.vintages("GDPC1")) == 5
    assert stored.meta("GDPC1").units.startswith("Billions of Chained 2017 Dollars")
    # 2025-06-10: the second estimate (May 29) is out, the third is not; Q2 does not exist yet
    seen = access.read(stored, "GDPC1", "2025-06-10")
    assert seen.values.to_dict() == {pd.Timestamp("2025-01-01"): 101.0}
    assert seen.real_time
    # 2025-08-01: Q2's advance estimate (Jul 30) is visible, with Q1 as revised in June
    seen = access.read(stored, "GDPC1", "2025-08-01")
    assert seen.values.tolist() == [102.0, 110.0]
    assert access.read(stored, "GDPC1").values.tolist() == [102.0, 111.0]


def test_writing_the_same_alfred_answer_again_adds_nothing(stored: Store, httpserver) -> None:
    before = stored.checksum()
    config = Config(home=Path("."), fred_api_key="KEY")
    with httpx.Client() as client:
        pairs = catalog.fetch_alfred("GDPC1", client=client, config=config,
                                     api_url=httpserver.url_for("/fred"))  # fmt: skip
    stored.write_many(pairs)
    assert stored.checksum() == before


def test_alfred_needs_a_key(tmp_path: Path) -> None:
    with httpx.Client() as client, pytest.raises(ConfigError, match="FRED_API_KEY"):
        catalog.fetch_alfred("GDPC1", client=client, config=Config(home=tmp_path))
