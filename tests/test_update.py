"""update(): the fetch loop shared by `smallcaps fetch` and `smallcaps report`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smallcaps.config import Config
from smallcaps.errors import AuthError, FetchError, NetworkError
from smallcaps.sources import catalog, yahoo
from smallcaps.sources.catalog import Spec
from smallcaps.store import Store
from smallcaps.update import update

SPECS = [Spec("fred", "DFF"), Spec("fred", "UNRATE"), Spec("fred", "DGS10"),
         Spec("yahoo", "IWM"), Spec("yahoo", "SPY")]  # fmt: skip


def test_a_dead_network_is_tried_once_per_publisher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []

    def down(spec: Spec, **_: object) -> None:
        tried.append(str(spec))
        if spec.kind == "fred":
            raise NetworkError(
                "fred", "https://x", "could not connect (ConnectError); check your network"
            )
        raise AuthError("yahoo", "https://y", "HTTP 403: access refused", status=403)

    monkeypatch.setattr(catalog, "fetch_live", down)
    config = Config.resolve(home=tmp_path, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        out = update(store, config, SPECS)
    # fred: one transport failure, the other two not tried; yahoo answered (403): each tried
    assert tried == ["fred:DFF", "yahoo:IWM", "yahoo:SPY"]
    assert all(o.failed for o in out)
    assert out[1].status == "not tried: fred was unreachable"
    assert isinstance(out[2].error, NetworkError) and out[2].error is out[0].error
    assert isinstance(out[4].error, AuthError) and out[4].error.status == 403
    assert "FRED_API_KEY" not in (out[4].hint or "")  # yahoo's refusal is not a FRED key problem


def test_yfinance_dns_failures_are_network_errors() -> None:
    # yfinance swallows curl's error and returns an empty frame; its log is all that is left
    said = ["curl: (6) Could not resolve host: query2.finance.yahoo.com"]
    with pytest.raises(NetworkError, match="could not reach Yahoo") as got:
        yahoo._from_download(pd.DataFrame(), "IWM", "https://y", said)
    assert "network" in (got.value.hint or "")
    with pytest.raises(FetchError) as other:  # an unknown ticker is not a dead network
        yahoo._from_download(pd.DataFrame(), "NOPE", "https://y", ["No data found"])
    assert not isinstance(other.value, NetworkError)


def test_two_dead_publishers_mean_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []

    def down(spec: Spec, **_: object) -> None:
        tried.append(str(spec))
        raise NetworkError(spec.kind, "https://x", "could not connect (ConnectError)")

    monkeypatch.setattr(catalog, "fetch_live", down)
    config = Config.resolve(home=tmp_path, env={})
    specs = [Spec("fred", "DFF"), Spec("yahoo", "IWM"), Spec("french", "F-F_Research_Data_Factors")]
    with Store.open(config.store_path, config.archive_path) as store:
        out = update(store, config, specs)
    assert tried == ["fred:DFF", "yahoo:IWM"]
    assert out[2].status == "not tried: no network (fred and yahoo unreachable)" and out[2].failed


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
