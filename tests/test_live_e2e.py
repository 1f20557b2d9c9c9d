"""`smallcaps fetch` and `smallcaps report` against the publishers, served on 127.0.0.1.

No mirror and no stand-in for any library call: the commands run as a user with internet runs
them, with ``SMALLCAPS_URL_<NAME>`` pointing every publisher at one local server
(:class:`localweb.LocalWeb`) that answers in each publisher's real shape from the mirror's
newest captures. Yahoo goes through yfinance's own code. The store this builds must hold the
same series as the mirror path (equal values on overlapping dates, full history) and the
report must measure every section and reach the same verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from yfinance import cache as yf_cache
from yfinance.data import YfData

from localweb import KEY, LocalWeb
from smallcaps.cli import app
from smallcaps.sources import catalog, fred, yahoo
from smallcaps.store import Store

runner = CliRunner()


@pytest.fixture
def web(
    httpserver: HTTPServer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalWeb]:
    """The local internet; yfinance's process-wide state and FRED's limiter put back after."""
    state = YfData()
    for name in ("_session", "_crumb", "_cookie", "_cookie_strategy"):
        monkeypatch.setattr(state, name, getattr(state, name))
    before = yf_cache._TzDBManager.get_location()
    yfinance.set_tz_cache_location(str(tmp_path / "yfinance"))
    # the local server has no request budget: the limiter's spacing would only add minutes
    monkeypatch.setattr(fred, "LIMITER", fred.RateLimiter(min_interval=0.0))
    yield LocalWeb(httpserver, data_dir).install()
    yfinance.set_tz_cache_location(before)


def invoke(args: list[str], env: dict[str, str | None]) -> Any:
    got = runner.invoke(app, args, env=env, catch_exceptions=False)
    return got


def run_env(web: LocalWeb, home: Path, *, key: str | None = KEY) -> dict[str, str | None]:
    return {**web.env(), "SMALLCAPS_HOME": str(home), "SMALLCAPS_MIRROR": None,
            "FRED_API_KEY": key, "COLUMNS": "200"}  # fmt: skip


def latest(store: Store) -> dict[str, pd.Series]:
    """Every series' newest vintage, read in one query."""
    with store.session():
        ids = store.series_ids()
        newest = {sid: int(store.vintages(sid)["vintage_id"].iat[-1]) for sid in ids}
        datas = store.load_vintages(newest.values())
    return {
        sid: pd.Series(datas[v].values, index=pd.DatetimeIndex(datas[v].dates), name=sid)
        for sid, v in newest.items()
    }


def served_as_raw(web: LocalWeb, data_dir: Path) -> set[str]:
    """Raw-price ids the server can only fill with adjusted prices.

    A newest capture saved with yfinance's ``auto_adjust=True`` has no raw close; the local
    Yahoo serves its adjusted prices in both places, so those ids have no mirror counterpart.
    """
    out = set()
    for spec, f in web.captures.items():
        if spec.kind == "yahoo":
            prices = yahoo.parse((data_dir / f.path).read_bytes(), origin=f.path, ticker=spec.name)
            if prices.adjusted:
                out |= {f"price/{spec.name.upper()}/{c}" for c in ("open", "high", "low", "close")}
    return out


def verdicts(claims: list[dict[str, Any]], skip: set[str] = frozenset()) -> dict[str, str]:
    """Claim id to verdict, without the claims that read any series in ``skip``."""
    return {
        c["id"]: c["verdict"]
        for c in claims
        if not {p["series_id"] for p in c.get("provenance") or []} & skip
    }


@pytest.mark.slow
def test_fetch_and_report_live_equal_the_mirror(
    web: LocalWeb, tmp_path: Path, data_dir: Path, open_mirror_store: Any, mirror_home: Path
) -> None:
    home = tmp_path / "home"
    fetched = invoke(["fetch", "--json"], run_env(web, home))
    outcomes = {o["spec"]: o for o in json.loads(fetched.stdout)}
    served = {str(s) for s in web.captures}
    defaults = [str(s) for s in catalog.default_specs()]
    assert set(outcomes) == set(defaults)
    # every default spec the publishers serve is stored; the rest fail with the publisher's no
    failed = {s for s, o in outcomes.items() if o["failed"]}
    assert failed == {s for s in defaults if s not in served} | {"events:fomc"}  # no live route
    assert failed == {"fred:USREC", "ishares:IWM", "events:fomc"}  # absent from the mirror
    assert fetched.exit_code == 1  # a failed spec makes the exit code 1
    # nothing left 127.0.0.1, and every publisher was asked
    assert {p.split("/")[1] for p in web.asked} == {
        "fred", "french", "ishares", "shiller", "nber", "yahoo"
    }  # fmt: skip

    with Store.open(home / "store.duckdb", home / "archive") as store:
        live = latest(store)
    with open_mirror_store() as store:
        mirror = latest(store)
    assert len(live) > 1000
    # dividends are stored by the live route only (the mirror's files have no such column)
    paid = {sid for sid in live if sid.endswith("/dividends")}
    assert "price/AAPL/dividends" in paid and "price/IWM/dividends" not in paid  # see artefacts
    assert set(live) - paid <= set(mirror)
    # full history, not one month: IWM from 2000 to the capture's last day
    iwm = live["price/IWM/adj_close"]
    assert len(iwm) == len(mirror["price/IWM/adj_close"]) == 6545
    assert f"{iwm.index[0]:%Y-%m-%d}" == "2000-05-26"
    artefacts = served_as_raw(web, data_dir)
    assert "price/IWM/close" in artefacts and "price/AAPL/close" not in artefacts
    for sid, values in live.items():
        if sid in artefacts or sid in paid:
            continue
        other = mirror[sid]
        both = values.index.intersection(other.index)
        assert len(both) >= 0.5 * len(values), sid  # the same capture, not a stub
        np.testing.assert_allclose(values[both], other[both], rtol=1e-12, err_msg=sid)

    # the report on what was fetched: every section measured, the mirror's verdicts
    out = tmp_path / "live.json"
    reported = invoke(["report", "--no-fetch", "--format", "json", "--out", str(out)],
                      run_env(web, home))  # fmt: skip
    assert reported.exit_code == 0, reported.output
    doc = json.loads(out.read_text())
    assert doc["sections"] and all(not s["missing"] for s in doc["sections"]), [
        (s["title"], s["missing"]) for s in doc["sections"]
    ]
    assert doc["backtest"] is not None and doc["backtest_error"] is None
    ref = tmp_path / "mirror.json"
    env = {"SMALLCAPS_HOME": str(mirror_home), "SMALLCAPS_MIRROR": None, "COLUMNS": "200"}
    invoke(["report", "--no-fetch", "--format", "json", "--out", str(ref)], env)
    claims = doc["thesis"]["claims"]
    same = verdicts(claims, artefacts)
    assert same == verdicts(json.loads(ref.read_text())["thesis"]["claims"], artefacts)
    assert len(same) >= 15 and len(claims) == 19
