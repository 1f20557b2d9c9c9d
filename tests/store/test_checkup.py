"""The store-wide doctor check-up: vintage pairs and cross-series pairs, on real files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.errors import UnknownSeriesError
from smallcaps.sources import catalog
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store
from smallcaps.store.doctor import checkup

DAYS = pd.bdate_range("2024-01-01", periods=60)


def _price_tidy(values: np.ndarray) -> Tidy:
    sid = "price/TEST/adj_close"
    meta = SeriesMeta(sid, "yahoo", "test", "USD", "D", adjusted=True)
    return Tidy(long_frame(sid, DAYS, values), {sid: meta})


def test_a_missed_dividend_is_one_adjustment(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS))))
    later = prices * 0.99  # re-adjusted for a 1% dividend paid after the first capture...
    later[40:] = prices[40:]  # ...but only up to day 40: the later rows were appended raw
    with Store.open(tmp_path / "s.duckdb", tmp_path / "a") as store:
        store.write(Payload("yahoo", "a", b"a", datetime(2024, 4, 1, tzinfo=UTC)),
                    _price_tidy(prices))  # fmt: skip
        store.write(Payload("yahoo", "b", b"b", datetime(2024, 5, 1, tzinfo=UTC)),
                    _price_tidy(later))  # fmt: skip
        (check,) = checkup(store)
    assert check.subject == "price/TEST/adj_close"
    assert check.result.n_common == len(DAYS)
    assert check.result.counts() == {"dividend/adjustment": 1}
    assert check.result.disagreements.index[0] == DAYS[40]
    assert check.to_dict()["disagree"] == 1


def test_fedfunds_is_the_monthly_mean_of_dff_on_the_mirror(tmp_path: Path, data_dir: Path) -> None:
    with Store.open(tmp_path / "s.duckdb", tmp_path / "a") as store:
        for name in ("FEDFUNDS", "DFF"):
            store.write_many(catalog.read_mirror(catalog.Spec("fred", name), data_dir))
        checks = {c.subject: c.result for c in checkup(store)}
        with pytest.raises(UnknownSeriesError, match="UNRATE"):
            checkup(store, series=["UNRATE"])
    # independent route: the monthly mean of the newest DFF file against FEDFUNDS, by hand
    dff = pd.read_csv(data_dir / "fred/DFF_fredgraph.csv", parse_dates=["observation_date"])
    monthly = dff.groupby(dff["observation_date"].dt.to_period("M"))["DFF"].mean()
    ff = pd.read_csv(data_dir / "fred/FEDFUNDS.csv", parse_dates=["date"])
    ff = ff.set_index(ff["date"].dt.to_period("M"))["value"]
    common = monthly.index.intersection(ff.index)
    assert checks["FEDFUNDS vs DFF"].n_common == len(common) == 856
    assert checks["FEDFUNDS vs DFF"].max_abs_diff == pytest.approx(
        float((monthly[common] - ff[common]).abs().max()), abs=1e-9
    )
    assert checks["FEDFUNDS vs DFF"].n_disagree == 0  # all within 0.01 pp
    assert checks["FEDFUNDS"].n_disagree == 0  # the two FEDFUNDS captures agree
    assert checks["DFF"].n_common == 25_411
