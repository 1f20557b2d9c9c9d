"""Macro regime: Sahm gap and GDP growth by plain loops on the FRED files, rules, look-ahead."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from smallcaps.analytics import macro
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import fred as fred_source


def rows(path: Path) -> list[tuple[str, float]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [(d, float(v)) for d, v in reader if v.strip() not in ("", ".")]


def series(path: Path, sid: str) -> pd.Series:
    frame = fred_source.parse(path.read_bytes(), origin=path.name, series_id=sid)
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), name=sid)


@pytest.fixture(scope="module")
def inputs(data_dir: Path) -> dict[str, pd.Series]:
    f = data_dir / "fred"
    return {
        "gdp": series(f / "GDPC1.csv", "GDPC1"),
        "unrate": series(f / "UNRATE.csv", "UNRATE"),
        "nfci": series(f / "NFCI.csv", "NFCI"),
        "hy": series(f / "BAMLH0A0HYM2.csv", "BAMLH0A0HYM2"),
        "curve": series(f / "T10Y2Y.csv", "T10Y2Y"),
    }


def test_sahm_gap_matches_a_plain_loop(data_dir: Path, inputs) -> None:
    u = rows(data_dir / "fred" / "UNRATE.csv")
    ma3 = [sum(v for _, v in u[i - 2 : i + 1]) / 3 if i >= 2 else None for i in range(len(u))]
    expected = {}
    for i in range(14, len(u)):
        expected[u[i][0]] = ma3[i] - min(ma3[i - 12 : i])
    got = macro.sahm_gap(inputs["unrate"])
    for day, value in expected.items():
        assert got[day] == pytest.approx(value, abs=1e-12)
    # the months the rule fired in 2024 and 2020, by the loop
    fired = [d for d, v in expected.items() if v >= 0.5 and d >= "2020-01-01"]
    assert fired[0] == "2020-04-01" and "2024-07-01" in fired


def test_gdp_growth_matches_a_plain_loop(data_dir: Path, inputs) -> None:
    g = rows(data_dir / "fred" / "GDPC1.csv")
    got = macro.gdp_growth(inputs["gdp"])
    for i in (4, 100, len(g) - 1):
        day, level = g[i]
        assert got.loc[day, "qoq_ann"] == pytest.approx(((level / g[i - 1][1]) ** 4 - 1) * 100)
        assert got.loc[day, "yoy"] == pytest.approx((level / g[i - 4][1] - 1) * 100)


def test_regime_on_the_mirror(inputs) -> None:
    result = macro.macro_regime(
        inputs["gdp"], inputs["unrate"], nfci=inputs["nfci"], hy=inputs["hy"], curve=inputs["curve"]
    )
    ind = result.indicators
    assert ind.loc["unrate", "value"] == inputs["unrate"].iloc[-1]
    assert ind.loc["hy_oas", "date"] == inputs["hy"].index[-1]
    assert "covers only 2023-08-22" in ind.loc["hy_oas", "note"]
    assert set(ind["signal"]) <= {"ok", "amber", "red", "info", "n/a"}
    assert result.regime in macro.REGIMES
    u = inputs["unrate"]
    recent = u[u.index > u.index[-1] - pd.DateOffset(years=30)]
    assert result.unemployment["low_30y"] == recent.min()
    assert result.unemployment["percentile"] == pytest.approx((u <= u.iloc[-1]).mean())
    text = result.summary()
    assert "Macro regime:" in text and "30-year low" in text and "FRED serves 3 years" in text
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["thresholds"]["sahm_red"] == 0.5
    # the 2024 Sahm trigger shows in the monthly history
    assert result.history.loc["2024-07-31", "regime"] == "recession risk"


def _flat(n: int, value: float, start: str = "2000-01-01", freq: str = "MS") -> pd.Series:
    return pd.Series(value, index=pd.date_range(start, periods=n, freq=freq))


def test_rules_and_thresholds_are_visible_and_used() -> None:
    gdp = pd.Series(
        100 * 1.005 ** np.arange(12), index=pd.date_range("2020-01-01", periods=12, freq="QS")
    )
    u = _flat(40, 4.0)
    calm = macro.macro_regime(gdp, u)
    assert calm.regime == "expansion"
    assert calm.indicators.loc["nfci", "signal"] == "n/a"
    inverted = macro.macro_regime(gdp, u, curve=_flat(10, -0.3, freq="D"))
    assert inverted.regime == "slowdown"
    assert inverted.indicators.loc["curve_2s10s", "signal"] == "amber"
    rising = u.copy()
    rising.iloc[-3:] = [4.4, 4.6, 4.8]  # 3-month mean 4.6: Sahm gap 0.6
    assert macro.macro_regime(gdp, rising).regime == "recession risk"
    assert macro.macro_regime(gdp, rising, thresholds={"sahm_red": 0.7}).regime == "slowdown"
    with pytest.raises(ValueError, match="unknown thresholds"):
        macro.macro_regime(gdp, u, thresholds={"sahm": 1.0})
    with pytest.raises(InsufficientDataError, match="quarters"):
        macro.macro_regime(gdp.iloc[:3], u)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_higher_unemployment_never_improves_the_label(a: float, b: float) -> None:
    gdp = pd.Series(
        100 * 1.006 ** np.arange(12), index=pd.date_range("2020-01-01", periods=12, freq="QS")
    )
    order = {name: k for k, name in enumerate(macro.REGIMES)}
    labels = []
    for jump in sorted([a, b]):
        u = _flat(40, 4.0)
        u.iloc[-3:] = 4.0 + jump
        labels.append(order[macro.macro_regime(gdp, u).regime])
    assert labels[0] <= labels[1]


def test_history_as_of_t_ignores_later_data(inputs) -> None:
    cutoff = pd.Timestamp("2015-06-30")
    u, shocked = inputs["unrate"], inputs["unrate"].copy()
    shocked[shocked.index > cutoff] += 3.0
    pd.testing.assert_series_equal(
        macro.sahm_gap(u)[:cutoff], macro.sahm_gap(shocked)[:cutoff], check_names=False
    )
    a = macro.macro_regime(inputs["gdp"][:cutoff], u[:cutoff])
    b = macro.macro_regime(inputs["gdp"][:cutoff], shocked[:cutoff])
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
