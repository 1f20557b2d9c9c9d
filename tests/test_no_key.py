"""No FRED key, no network: one line per cause with its fix, and a non-zero exit.

The publishers are the local server (:class:`localweb.LocalWeb`, FRED's keyless route refusing
scripts with 403 as it does now) or a 127.0.0.1 port nothing listens on (no network).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from localweb import LocalWeb
from smallcaps.cli import app
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import _http, french, shiller
from smallcaps.sources import fred as fred_source

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off without sleeping; FRED's limiter does not space requests."""
    for module in (_http, fred_source, french, shiller):
        for fn in vars(module).values():
            if callable(fn) and "sleep" in (getattr(fn, "__kwdefaults__", None) or {}):
                monkeypatch.setitem(fn.__kwdefaults__, "sleep", lambda _s: None)
    monkeypatch.setattr(fred_source, "LIMITER", fred_source.RateLimiter(min_interval=0.0))


def lines_about(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


def test_fetch_without_a_key_says_once_how_to_get_one(
    httpserver: HTTPServer, data_dir: Path, tmp_path: Path
) -> None:
    web = LocalWeb(httpserver, data_dir).install()
    env = {**web.env(), "SMALLCAPS_HOME": str(tmp_path), "SMALLCAPS_MIRROR": None,
           "FRED_API_KEY": None, "COLUMNS": "400"}  # fmt: skip
    specs = ["fred:DFF", "fred:UNRATE", "fred:CPIAUCSL", "french:F-F_Research_Data_Factors"]
    got = runner.invoke(app, ["fetch", *specs], env=env, catch_exceptions=False)
    assert got.exit_code == 1
    [line] = lines_about(got.stderr, "could not fetch")  # one line for three FRED series
    assert line.startswith("could not fetch fred: 3 specs not fetched (DFF, UNRATE, CPIAUCSL)")
    assert "FRED_API_KEY" in line and "https://fredaccount.stlouisfed.org/apikeys" in line
    assert "the store has none of them" in line
    assert [r.path for r, _ in httpserver.log].count("/fredgraph/graph/fredgraph.csv") == 3
    assert "french" not in line and "1 failed" not in got.stderr  # French was stored


def test_report_with_no_network_and_no_key_exits_non_zero_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    names = ("FRED", "FREDGRAPH", "FRENCH", "ISHARES", "SHILLER", "NBER", "YAHOO")
    env: dict[str, str | None] = {f"SMALLCAPS_URL_{n}": f"{dead}/{n.lower()}" for n in names}
    env["SMALLCAPS_URL_FREDGRAPH"] = f"{dead}/graph/fredgraph.csv?id={{series_id}}"
    env |= {"SMALLCAPS_HOME": str(tmp_path / "home"), "SMALLCAPS_MIRROR": None,
            "FRED_API_KEY": None, "COLUMNS": "400"}  # fmt: skip
    out = tmp_path / "report.json"
    got = runner.invoke(app, ["report", "--format", "json", "--out", str(out)], env=env,
                        catch_exceptions=False)  # fmt: skip
    assert got.exit_code == InsufficientDataError.exit_code, got.output
    # one line for every spec of every publisher (44 specs, 6 publishers), with its fix
    [said] = lines_about(got.stderr, "could not fetch")
    kinds = "fred, french, yahoo, shiller, ishares, events"
    assert said.startswith(f"could not fetch {kinds}: 44 specs")
    assert "no answer (no network" in said and "the store has none of them" in said
    assert "Fix: check the network" in said
    assert lines_about(got.stderr, "nothing could be judged")
