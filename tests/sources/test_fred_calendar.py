"""FRED's real release calendar, fetched with a key, dates as-of reads; the rule table is the
fallback.

September 2025 CPI came out on 2025-10-24, after the federal shutdown, not around the 15th as
the rule table has it. The calendar answer is built at test time (FRED's ``series/release`` and
``release/dates`` shapes; BLS's 2025 CPI release days) and served with the mirror's CPIAUCSL
by :class:`localweb.LocalWeb`; the series and its calendar go through the live fetch loop.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from localweb import KEY, LocalWeb
from smallcaps import access
from smallcaps.config import Config
from smallcaps.release import CPI_RELEASE, calendar_id
from smallcaps.sources import fred
from smallcaps.sources.catalog import Spec
from smallcaps.store import Store
from smallcaps.update import update

# BLS CPI release days, December 2024 to December 2025 (October's was cancelled)
CPI_DAYS = ["2024-12-11", "2025-01-15", "2025-02-12", "2025-03-12", "2025-04-10",
            "2025-05-13", "2025-06-11", "2025-07-15", "2025-08-12", "2025-09-11",
            "2025-10-24", "2025-12-18"]  # fmt: skip


def fetch_cpi(server: HTTPServer, root: Path, home: Path, calendar: bool) -> Config:
    days = {"CPIAUCSL": (10, "Consumer Price Index", CPI_DAYS)} if calendar else {}
    web = LocalWeb(server, root, release_dates=days).install()
    config = Config.resolve(home=home, env={**web.env(), "FRED_API_KEY": KEY})
    with Store.open(config.store_path, config.archive_path) as store:
        [outcome] = update(store, config, [Spec("fred", "CPIAUCSL")])
    assert not outcome.failed, outcome.status
    return config


def last_read(config: Config, day: str) -> tuple[str, str]:
    with Store.open(config.store_path, config.archive_path) as store:
        got = access.read(store, "CPIAUCSL", access.end_of_day(day))
    return f"{got.values.index[-1]:%Y-%m-%d}", got.rule


@pytest.fixture(autouse=True)
def no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fred, "LIMITER", fred.RateLimiter(min_interval=0.0))


def test_september_2025_cpi_is_public_on_the_day_bls_published_it(
    httpserver: HTTPServer, data_dir: Path, tmp_path: Path
) -> None:
    config = fetch_cpi(httpserver, data_dir, tmp_path, calendar=True)
    asked = [(r.path, dict(r.args)) for r, _ in httpserver.log]
    assert {q["release_id"] for p, q in asked if p == "/fred/release/dates"} == {"10"}
    with Store.open(config.store_path, config.archive_path) as store:
        stored = access.read(store, calendar_id("CPIAUCSL")).values
    assert [f"{d:%Y-%m-%d}" for d in stored.index] == CPI_DAYS and set(stored) == {10.0}

    # the rule table would have made it public on 2025-10-15
    assert CPI_RELEASE(["2025-09-01"])[0] == pd.Timestamp("2025-10-15")
    for day, last in [("2025-10-15", "2025-08-01"), ("2025-10-20", "2025-08-01"),
                      ("2025-10-23", "2025-08-01"), ("2025-10-24", "2025-09-01"),
                      ("2025-09-10", "2025-07-01"), ("2025-09-11", "2025-08-01")]:  # fmt: skip
        got, rule = last_read(config, day)
        assert got == last, day
        assert "release calendar release/CPIAUCSL" in rule and "12 release days" in rule
    # after the calendar's last day the rule table dates the rows, and the provenance says so
    assert "15 days after the reference month ends" in rule


def test_without_a_calendar_the_rule_table_dates_reads(
    httpserver: HTTPServer, data_dir: Path, tmp_path: Path
) -> None:
    config = fetch_cpi(httpserver, data_dir, tmp_path, calendar=False)  # FRED: no release
    with Store.open(config.store_path, config.archive_path) as store:
        assert calendar_id("CPIAUCSL") not in store.series_ids()
    got, rule = last_read(config, "2025-10-20")
    assert got == "2025-09-01" and rule == CPI_RELEASE.description
    assert last_read(config, "2025-10-14")[0] == "2025-08-01"
