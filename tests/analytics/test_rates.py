"""Rate sensitivity: OLS by hand on the real files, Newey-West by hand, rolling windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.analytics import rates
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import fred as fred_source
from smallcaps.sources import yahoo


def series(path: Path, sid: str) -> pd.Series:
    frame = fred_source.parse(path.read_bytes(), origin=path.name, series_id=sid)
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), name=sid)


def closes(path: Path, ticker: str) -> pd.Series:
    return yahoo.parse(path.read_bytes(), origin=path.name, ticker=ticker).frame["close"]


@pytest.fixture(scope="module")
def legs(data_dir: Path) -> dict[str, pd.Series]:
    p = data_dir / "prices" / "yf_ohlcv_2026-06"
    f = data_dir / "fred"
    return {
        "small": closes(p / "IWM.csv", "IWM"),
        "large": closes(p / "SPY.csv", "SPY"),
        "two": series(f / "DGS2.csv", "DGS2"),
        "ten": series(f / "DGS10.csv", "DGS10"),
        "hy": series(f / "BAMLH0A0HYM2.csv", "BAMLH0A0HYM2"),
    }


def newey_west_se(x: np.ndarray, y: np.ndarray, lags: int) -> np.ndarray:
    """HAC standard errors with Bartlett weights, by hand (statsmodels' HAC: no df correction)."""
    beta = np.linalg.solve(x.T @ x, x.T @ y)
    u = (y - x @ beta)[:, None] * x
    s = u.T @ u
    for lag in range(1, lags + 1):
        g = u[lag:].T @ u[:-lag]
        s += (1 - lag / (lags + 1)) * (g + g.T)
    bread = np.linalg.inv(x.T @ x)
    return np.sqrt(np.diag(bread @ s @ bread))


def test_daily_coefficients_equal_least_squares_by_hand(legs) -> None:
    result = rates.rate_sensitivity(
        legs["small"], legs["large"], legs["two"], legs["ten"], frequency="D", window=0
    )
    # an independent panel: inner join on dates present in all four files, then differences
    both = pd.concat(
        [legs["small"], legs["large"], legs["two"], legs["ten"]], axis=1, join="inner"
    ).dropna()
    a = both.to_numpy()
    y = a[1:, 0] / a[:-1, 0] - a[1:, 1] / a[:-1, 1]
    x = np.column_stack([np.ones(len(y)), np.diff(a[:, 2]), np.diff(a[:, 3])])
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    assert result.coef("d_2y") == pytest.approx(beta[1], rel=1e-8)
    assert result.coef("d_10y") == pytest.approx(beta[2], rel=1e-8)
    se = newey_west_se(x, y, result.hac_lags)
    assert result.coef("d_2y", column="se") == pytest.approx(se[1], rel=1e-6)
    assert result.coef("parallel", "parallel") == pytest.approx(beta[1] + beta[2], rel=1e-8)
    assert result.hac_lags == rates.newey_west_lags(len(y))


def test_weekly_fit_rolling_windows_and_the_hy_model(legs) -> None:
    result = rates.rate_sensitivity(
        legs["small"], legs["large"], legs["two"], legs["ten"], legs["hy"], window=104, step=26
    )
    panel = rates.sensitivity_panel(
        legs["small"], legs["large"], legs["two"], legs["ten"], legs["hy"]
    )
    base = panel.dropna(subset=["sml", "d_2y", "d_10y"])
    assert (base.index.day_of_week == 4).all()  # Friday stamps
    assert len(result.rolling) == (len(base) - 104) // 26 + 1
    # a rolling row equals a full fit on its own slice
    first = base.iloc[:104]
    x = np.column_stack([np.ones(104), first["d_2y"], first["d_10y"]])
    beta = np.linalg.lstsq(x, first["sml"].to_numpy(), rcond=None)[0]
    assert result.rolling["d_2y_coef"].iloc[0] == pytest.approx(beta[1], rel=1e-8)
    hy = result.coefficients[result.coefficients["model"] == "rates+hy"]
    assert hy["start"].iloc[0] >= pd.Timestamp("2023-08-22")
    assert hy["n"].iloc[0] == len(panel.dropna(subset=["sml", "d_2y", "d_10y", "d_hy"]))
    text = result.summary()
    assert "HY spread" in text and "covers only" in text and "Reading: " in text
    json.loads(json.dumps(result.to_dict()))


def synthetic(beta2: float, n: int = 600, seed: int = 0) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=n)
    d2, d10 = rng.normal(0, 0.05, n), rng.normal(0, 0.05, n)
    large = rng.normal(0.0003, 0.01, n)
    small = large + beta2 * d2 + rng.normal(0, 0.002, n)
    return {
        "small": pd.Series(100 * np.cumprod(1 + small), idx),
        "large": pd.Series(100 * np.cumprod(1 + large), idx),
        "two": pd.Series(2 + np.cumsum(d2), idx),
        "ten": pd.Series(3 + np.cumsum(d10), idx),
    }


def test_a_known_negative_sensitivity_is_found_and_read_as_support() -> None:
    s = synthetic(-0.05)
    result = rates.rate_sensitivity(**s, frequency="D", window=250, step=50)
    assert result.coef("d_2y") == pytest.approx(-0.05, abs=0.005)
    assert abs(result.coef("d_10y")) < 0.005
    assert "small caps beat large caps when yields fall, clearly" in result.summary()
    assert (result.rolling["d_2y_coef"] < 0).all()
    positive = rates.rate_sensitivity(**synthetic(0.05), frequency="D", window=0)
    assert "did not rise when yields fell" in positive.summary()


def test_too_short_is_a_clear_error() -> None:
    s = {k: v.iloc[:30] for k, v in synthetic(0.0).items()}
    with pytest.raises(InsufficientDataError, match="needs 52 periods"):
        rates.rate_sensitivity(**s, frequency="D")
    with pytest.raises(ValueError, match="frequency"):
        rates.rate_sensitivity(**synthetic(0.0), frequency="M")


def test_fits_as_of_t_ignore_later_prices() -> None:
    s = synthetic(-0.02, n=800, seed=4)
    cutoff = s["small"].index[500]
    shocked = {k: v.copy() for k, v in s.items()}
    shocked["small"][shocked["small"].index > cutoff] *= 1.5
    a = rates.rate_sensitivity(**{k: v[:cutoff] for k, v in s.items()}, frequency="D", window=200)
    b = rates.rate_sensitivity(
        **{k: v[:cutoff] for k, v in shocked.items()}, frequency="D", window=200
    )
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    full = rates.rate_sensitivity(**shocked, frequency="D", window=200)
    early = full.rolling[full.rolling["end"] <= cutoff].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, a.rolling[: len(early)])
