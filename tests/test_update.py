"""update(): the fetch loop shared by `smallcaps fetch` and `smallcaps report`."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from smallcaps.config import Config
from smallcaps.errors import AuthError, FetchError, NetworkError
from smallcaps.sources import _http, french, shiller, yahoo
from smallcaps.sources import fred as fred_source
from smallcaps.sources.catalog import Spec
from smallcaps.store import Store
from smallcaps.update import update

KEY = "abcdefghijklmnopqrstuvwxyz012345"

FACTORS, PORTFOLIOS = "F-F_Research_Data_Factors", "25_Portfolios_5x5"
SPECS = [Spec("fred", "DFF"), Spec("fred", "UNRATE"), Spec("fred", "DGS10"),
         Spec("french", FACTORS), Spec("french", PORTFOLIOS)]  # fmt: skip


@pytest.fixture
def dead_port() -> int:
    """A 127.0.0.1 port nothing listens on: connecting is refused, as with no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry backoff of every HTTP request, recorded instead of slept."""
    got: list[float] = []
    for module in (_http, fred_source, french, shiller):
        for fn in vars(module).values():
            if callable(fn) and "sleep" in (getattr(fn, "__kwdefaults__", None) or {}):
                monkeypatch.setitem(fn.__kwdefaults__, "sleep", got.append)
    monkeypatch.setattr(fred_source, "LIMITER", fred_source.RateLimiter(min_interval=0.0))
    return got


def test_a_dead_network_is_tried_once_per_publisher(
    tmp_path: Path, httpserver: HTTPServer, dead_port: int, waits: list[float]
) -> None:
    # FRED cannot be reached at all; Ken French's server answers, and refuses (403)
    httpserver.expect_request(re.compile("/french/.*")).respond_with_data("Forbidden", 403)
    env = {"FRED_API_KEY": KEY, "SMALLCAPS_URL_FRED": f"http://127.0.0.1:{dead_port}/fred",
           "SMALLCAPS_URL_FRENCH": httpserver.url_for("/french")}  # fmt: skip
    config = Config.resolve(home=tmp_path, env=env)
    with Store.open(config.store_path, config.archive_path) as store:
        out = update(store, config, SPECS)
    # fred: one transport failure (three retries), the other two not tried; french answered
    # (403): each of its specs tried
    assert waits == [1.0, 2.0, 4.0]
    asked = [req.path for req, _ in httpserver.log]
    assert asked == [
        "/french/F-F_Research_Data_Factors_CSV.zip",
        "/french/25_Portfolios_5x5_CSV.zip",
    ]
    assert all(o.failed for o in out)
    assert isinstance(out[0].error, NetworkError) and "check your network" in str(out[0].error)
    assert out[1].status == "not tried: fred was unreachable"
    assert isinstance(out[2].error, NetworkError) and out[2].error is out[0].error
    assert isinstance(out[4].error, AuthError) and out[4].error.status == 403
    assert "FRED_API_KEY" not in (out[4].hint or "")  # French's refusal is not a FRED key problem


def test_yfinance_dns_failures_are_network_errors() -> None:
    # yfinance swallows curl's error and returns an empty frame; its log is all that is left
    said = ["curl: (6) Could not resolve host: query2.finance.yahoo.com"]
    with pytest.raises(NetworkError, match="could not reach Yahoo") as got:
        yahoo._from_download(pd.DataFrame(), "IWM", "https://y", said)
    assert "network" in (got.value.hint or "")
    with pytest.raises(FetchError) as other:  # an unknown ticker is not a dead network
        yahoo._from_download(pd.DataFrame(), "NOPE", "https://y", ["No data found"])
    assert not isinstance(other.value, NetworkError)


def test_two_dead_publishers_mean_offline(
    tmp_path: Path, httpserver: HTTPServer, dead_port: int, waits: list[float]
) -> None:
    dead = f"http://127.0.0.1:{dead_port}"
    env = {"FRED_API_KEY": KEY, "SMALLCAPS_URL_FRED": f"{dead}/fred",
           "SMALLCAPS_URL_FRENCH": f"{dead}/french",
           "SMALLCAPS_URL_SHILLER": httpserver.url_for("/shiller/")}  # fmt: skip
    config = Config.resolve(home=tmp_path, env=env)
    specs = [Spec("fred", "DFF"), Spec("french", "F-F_Research_Data_Factors"),
             Spec("shiller", "ie_data")]  # fmt: skip
    with Store.open(config.store_path, config.archive_path) as store:
        out = update(store, config, specs)
    assert waits == [1.0, 2.0, 4.0] * 2  # fred and french tried, each with its retries
    assert not httpserver.log  # Shiller's server, up, was never asked
    assert out[2].status == "not tried: no network (fred and french unreachable)" and out[2].failed


def test_the_mirror_loads_and_a_second_run_adds_nothing(tmp_path: Path, data_dir: Path) -> None:
    config = Config.resolve(home=tmp_path, mirror=data_dir, env={})
    specs = [Spec("fred", "DFF"), Spec("fred", "UNRATE")]
    with Store.open(config.store_path, config.archive_path) as store:
        first = update(store, config, specs)
        again = update(store, config, specs)
    assert [o.failed for o in first] == [False, False]
    assert first[0].new_vintages == 2 and first[0].files == 2  # two DFF captures in the mirror
    assert str(first[0].first.date()) == "1954-07-01"
    assert [o.new_vintages for o in again] == [0, 0]
