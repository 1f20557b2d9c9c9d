from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.store import reconcile
from smallcaps.store.doctor import ADJUSTMENT, MISMATCH, PARTIAL, REVISION

DAYS = pd.bdate_range("2025-01-02", periods=60)


@pytest.fixture
def prices() -> pd.Series:
    rng = np.random.default_rng(3)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS)))), index=DAYS, name="a")


def test_constant_ratio_is_agreement(prices: pd.Series) -> None:
    r = reconcile(prices, prices * 0.97, kind="price", tol=1e-9)
    assert (r.n_common, r.n_disagree, r.n_only_a, r.n_only_b) == (60, 0, 0, 0)
    assert r.first_common == DAYS[0] and r.last_common == DAYS[-1]


def test_each_kind_of_price_disagreement(prices: pd.Series) -> None:
    b = prices.copy()
    b.iloc[:20] *= 1 - 0.004  # b is adjusted for a dividend (ex-date DAYS[20]) that a lacks
    b.iloc[30] *= 1.002  # one bar revised
    b.iloc[40:50] *= 2  # a 2:1 split applied to a stretch: a mismatch, then back
    b.iloc[-1] *= 1.0005  # the last bar was a snapshot before the close
    r = reconcile(prices, b.rename("b"), kind="price", tol=1e-8)
    got = r.disagreements["classification"]
    assert got.to_dict() == {
        DAYS[20]: ADJUSTMENT,
        DAYS[30]: REVISION,
        DAYS[40]: MISMATCH,
        DAYS[50]: MISMATCH,
        DAYS[59]: PARTIAL,
    }
    assert r.n_disagree == 5 and r.counts()[MISMATCH] == 2
    assert r.disagreements.loc[DAYS[20], "step"] == pytest.approx(
        np.log(1 - 0.004)
    )  # log(a/b) falls
    assert "a vs b (price" in r.summary() and "1 partial last bar" in str(r)


def test_levels_within_an_absolute_tolerance() -> None:
    idx = pd.date_range("2020-01-01", periods=6, freq="MS")
    a = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=idx)
    b = pd.Series([1.004, 2.0, 3.5, 40.0, 5.0, 6.2], index=idx)
    r = reconcile(a, b, kind="level", tol=0.01)
    assert r.disagreements["classification"].to_dict() == {
        idx[2]: MISMATCH,  # 0.5 on 3.0 is more than a revision
        idx[3]: MISMATCH,
        idx[5]: PARTIAL,
    }
    assert r.max_abs_diff == pytest.approx(36.0)
    small = reconcile(a, a + 0.02, kind="level", tol=0.01)
    assert set(small.disagreements["classification"]) == {REVISION}


def test_bad_arguments() -> None:
    s = pd.Series([1.0, 2.0], index=DAYS[:2])
    with pytest.raises(ValueError, match="kind"):
        reconcile(s, s, kind="returns", tol=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tol"):
        reconcile(s, s, kind="level", tol=-1)


# -- the real files --------------------------------------------------------------------------


def close(path: Path, column: str = "Close", name: str | None = None) -> pd.Series:
    frame = pd.read_csv(path, index_col="Date", parse_dates=True)
    return frame[column].rename(name or path.parent.name)


def test_iwm_copies_from_three_fetches(data_dir: Path) -> None:
    """How the three IWM files relate.

    ohlcv (fetched 2026-06-05) and autoadj (2026-02-23) are both yfinance adjusted closes, but
    each is a file updated in place: older rows keep the adjustment of the day they were
    downloaded. Over 2000-2025 they differ by a constant factor (0.99384: the 2025-09 and
    2025-12 dividends that autoadj's old rows lack), which is no disagreement.
    """
    ohlcv = close(data_dir / "prices/yf_ohlcv_2026-06/IWM.csv")
    autoadj = close(data_dir / "prices/yf_autoadj_2026-02/IWM.csv")
    other = pd.read_csv(
        data_dir / "prices/other/IWM_yf_2021-2026.csv", index_col="Date", parse_dates=True
    )

    r = reconcile(ohlcv, autoadj, kind="price", tol=1e-5)  # float32 noise is below 1e-5
    assert (r.n_common, r.n_only_a, r.n_only_b) == (6473, 72, 0)
    assert r.disagreements["classification"].to_dict() == {
        pd.Timestamp("2025-07-14"): REVISION,  # one close off by 0.013 %
        pd.Timestamp("2025-09-08"): REVISION,  # one close off by 0.004 %
        pd.Timestamp("2025-09-16"): ADJUSTMENT,  # IWM ex-dividend date: autoadj lacks it
        pd.Timestamp("2025-11-17"): ADJUSTMENT,  # no ex-date: autoadj's rows from here on were
        # re-downloaded after the 2025-12-16 dividend, the rows before were not
        pd.Timestamp("2026-02-23"): PARTIAL,  # autoadj's last row was written before the close
    }
    assert r.disagreements.loc["2026-02-23", ["a", "b"]].tolist() == pytest.approx([260.49, 260.51])

    # ohlcv against a full download made after the March 2026 dividend: ohlcv appended its rows
    # since (at least) 2025-12-16 unadjusted, so it misses exactly that one dividend
    r = reconcile(ohlcv, other["Adj Close"].rename("other"), kind="price", tol=1e-5)
    assert r.n_common == 1262 and r.n_only_b == 0
    assert r.disagreements["classification"].to_dict() == {pd.Timestamp("2026-03-17"): ADJUSTMENT}

    # the same file's raw and adjusted closes: twenty quarterly distributions, nothing else
    r = reconcile(other["Close"], other["Adj Close"], kind="price", tol=1e-5)
    assert r.n_disagree == 20 and set(r.disagreements["classification"]) == {ADJUSTMENT}
    assert r.disagreements.index[[0, -1]].tolist() == [
        pd.Timestamp("2021-06-10"),
        pd.Timestamp("2026-03-17"),
    ]
    assert (r.disagreements.index.month.isin([3, 6, 9, 12])).all()


def fred(path: Path) -> pd.Series:
    frame = pd.read_csv(path)
    return pd.Series(
        pd.to_numeric(frame.iloc[:, 1], errors="coerce").to_numpy(),
        index=pd.to_datetime(frame.iloc[:, 0], format="mixed"),
        name=path.stem,
    )


def test_fedfunds_is_the_monthly_mean_of_dff(data_dir: Path) -> None:
    dff = fred(data_dir / "fred/DFF_fredgraph.csv")
    fedfunds = fred(data_dir / "fred/FEDFUNDS_fredgraph.csv")
    monthly = dff.resample("MS").mean()
    r = reconcile(monthly, fedfunds, kind="level", tol=0.01)
    # every month from 1954-07 to 2025-10 agrees to rounding (DFF's monthly mean is rounded to
    # two decimals by FRED); no exceptions, not even the partial October 2025 (9 days of DFF)
    assert (r.n_common, r.n_disagree) == (856, 0)
    assert r.max_abs_diff <= 0.005 + 1e-9


def test_two_layouts_and_two_vintages_of_fred_series(data_dir: Path) -> None:
    a = reconcile(
        fred(data_dir / "fred/FEDFUNDS.csv"),
        fred(data_dir / "fred/FEDFUNDS_fredgraph.csv"),
        kind="level",
        tol=1e-9,
    )
    assert (a.n_common, a.n_disagree, a.n_only_a) == (856, 0, 9)  # same numbers, 9 months newer
    # CPI fetched 2026-05 against 2025-10: BLS's annual seasonal-factor update (February 2026)
    # revised five years of seasonally adjusted values, and nothing older
    cpi = reconcile(
        fred(data_dir / "fred/CPIAUCSL.csv"),
        fred(data_dir / "fred/CPIAUCSL_fredgraph.csv"),
        kind="level",
        tol=1e-9,
    )
    assert cpi.n_common == 945 and cpi.n_disagree == 57
    assert set(cpi.disagreements["classification"]) == {REVISION}
    assert cpi.disagreements.index.min() == pd.Timestamp("2021-01-01")
