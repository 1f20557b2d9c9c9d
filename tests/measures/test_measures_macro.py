"""macro.regime, rates.sensitivity and risk.credit on the mirror through a MemoryView."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import InsufficientDataError
from smallcaps.registry import MemoryView

SPECS = (
    "fred:GDPC1", "fred:UNRATE", "fred:NFCI", "fred:BAMLH0A0HYM2", "fred:T10Y2Y", "fred:DGS2",
    "fred:DGS10", "yahoo:^RUT", "yahoo:^GSPC", "yahoo:IWM", "yahoo:SPY",
)  # fmt: skip


def fred(data_dir: Path, name: str) -> pd.Series:
    """A FRED CSV read with pandas: values by date, empty and ``.`` cells dropped."""
    raw = pd.read_csv(data_dir / "fred" / f"{name}.csv", index_col=0, parse_dates=True)
    return pd.to_numeric(raw.iloc[:, 0], errors="coerce").dropna()


@pytest.fixture(scope="module")
def regime(data) -> registry.Result:
    return registry.run("macro.regime", MemoryView(data))


@pytest.mark.parametrize("name", ["macro.regime", "rates.sensitivity", "risk.credit"])
def test_json_is_plain_and_carries_the_summary(data, name: str) -> None:
    result = registry.run(name, MemoryView(data))
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["summary"] == result.summary() and payload["method"]


def test_latest_indicators_by_hand_from_the_fred_files(regime, data_dir: Path) -> None:
    ind = regime.indicators
    u = fred(data_dir, "UNRATE")
    assert ind.loc["unrate", "value"] == u.iloc[-1] and ind.loc["unrate", "date"] == u.index[-1]
    assert ind.loc["unrate_above_12m_low", "value"] == pytest.approx(
        u.iloc[-1] - u.iloc[-12:].min()
    )
    gdp = fred(data_dir, "GDPC1")
    assert ind.loc["gdp_yoy", "date"] == gdp.index[-1]
    assert ind.loc["gdp_yoy", "value"] == pytest.approx(100 * (gdp.iloc[-1] / gdp.iloc[-5] - 1))
    qoq = 100 * ((gdp.iloc[-1] / gdp.iloc[-2]) ** 4 - 1)
    assert ind.loc["gdp_qoq_ann", "value"] == pytest.approx(qoq)
    for row, name in (("hy_oas", "BAMLH0A0HYM2"), ("curve_2s10s", "T10Y2Y"), ("nfci", "NFCI")):
        s = fred(data_dir, name)
        assert (ind.loc[row, "value"], ind.loc[row, "date"]) == (s.iloc[-1], s.index[-1]), row


def test_each_signal_follows_its_own_thresholds(regime) -> None:
    above = {">=": lambda v, t: v >= t, ">": lambda v, t: v > t, "<": lambda v, t: v < t}
    checked = 0
    for name, row in regime.indicators.iterrows():
        if pd.isna(row["amber"]) and pd.isna(row["red"]):
            assert row["signal"] in ("info", "n/a"), name
            continue
        hit = above[row["rule"]]
        bars = [b for b in (row["amber"], row["red"]) if not pd.isna(b)]
        if any(hit(row["value"], b) for b in bars):
            assert row["signal"] != "ok", name
        else:
            assert row["signal"] == "ok", name
        checked += 1
    assert checked >= 5


def test_rate_betas_are_linear_across_legs_and_terms(data) -> None:
    coef = registry.run("rates.sensitivity", MemoryView(data)).coefficients
    rates = coef[coef["model"] == "rates"].set_index(["y", "term"])
    parallel = coef[coef["model"] == "parallel"].set_index("y")
    for y in ("sml", "small", "large"):
        # a parallel shift moves both yields: its beta is the sum of the two yield betas
        both = rates.loc[(y, "d_2y"), "coef"] + rates.loc[(y, "d_10y"), "coef"]
        assert parallel.loc[y, "coef"] == pytest.approx(both, rel=1e-9)
    # the same regressors: OLS is linear in y, so small-minus-large = small - large, term by term
    assert coef.groupby("model")["n"].nunique().max() == 1
    for term in ("const", "d_2y", "d_10y"):
        diff = rates.loc[("small", term), "coef"] - rates.loc[("large", term), "coef"]
        assert rates.loc[("sml", term), "coef"] == pytest.approx(diff, rel=1e-6, abs=1e-12)


def test_credit_regimes_partition_the_days(data) -> None:
    got = registry.run("risk.credit", MemoryView(data))
    t = got.table
    by_split = t.groupby("split")["days"].sum()
    assert by_split["direction"] == by_split["level"] > 100
    assert t["sml_mean"].to_numpy() == pytest.approx((t["small_mean"] - t["large_mean"]).to_numpy())
    assert t["sml_annual"].to_numpy() == pytest.approx(252 * t["sml_mean"].to_numpy())
    level = t[t["split"] == "level"].set_index("regime")["spread_mean"]
    assert level["low"] < level["mid"] < level["high"]  # regimes by spread level


def test_regime_as_of_an_earlier_date(data) -> None:
    view = MemoryView(data, as_of=pd.Timestamp("2009-03-31"))
    result = registry.run("macro.regime", view)
    assert result.regime == "recession risk"  # Sahm gap far above 0.5 in early 2009
    assert result.indicators.loc["hy_oas", "signal"] == "n/a"  # no HY data before 2023
    assert result.indicators.loc["unrate", "date"] <= pd.Timestamp("2009-03-31")
    changed = registry.run("macro.regime", view, sahm_red="9", gdp_yoy_red="-9", nfci_red="9")
    assert changed.regime == "slowdown"


def test_rates_legs_and_params(data) -> None:
    result = registry.run("rates.sensitivity", MemoryView(data), frequency="D", window="0")
    assert result.frequency == "D" and result.rolling.empty
    assert any("price/^RUT/adj_close" in n and "price/SPY/adj_close" in n for n in result.notes)


def test_credit_before_the_spread_exists_is_a_clear_error(data) -> None:
    with pytest.raises(InsufficientDataError, match="spread"):
        registry.run("risk.credit", MemoryView(data, as_of=pd.Timestamp("2023-10-31")))
