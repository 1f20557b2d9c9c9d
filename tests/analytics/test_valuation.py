"""Valuation gap: the latest discount and percentile by a plain loop on the 25-portfolio file,
cap-weighted aggregation, price dates, rolling forward, invariants."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics.valuation import (
    ValuationReport,
    aggregate_ratio,
    groups_for,
    level_in_history,
    price_dates,
    roll_forward,
    size_groups,
    valuation_gap,
    vendor_pe,
)
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.sources import french

JUNE = "Value Weight Average of BE_FYt-1/ME_June t"
COUNT = "Number of Firms in Portfolios"
CAP = "Average Market Cap"


def sections(path: Path, titles: list[str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Header and rows of each section whose title line starts with one of ``titles``."""
    with path.open(newline="") as fh:
        lines = list(csv.reader(fh))
    out = {}
    for title in titles:
        i = next(k for k, r in enumerate(lines) if r and r[0].strip().startswith(title))
        while not lines[i] or lines[i][0].strip() != "":  # the title block, up to the header
            i += 1
        header = [c.strip() for c in lines[i]]
        rows = []
        for r in lines[i + 1 :]:
            if not r or not r[0].strip().isdigit():
                break
            rows.append(r)
        out[title] = (header, rows)
    return out


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict:
    path = data_dir / "french" / "25_Portfolios_5x5.csv"
    return french.parse(path.read_bytes(), origin=path.name).tables


def _table(tables: dict, start: str) -> pd.DataFrame:
    return next(t.frame for title, t in tables.items() if title.startswith(start))


def test_latest_discount_and_percentile_by_a_plain_loop(data_dir: Path, tables) -> None:
    got_sections = sections(data_dir / "french" / "25_Portfolios_5x5.csv", [JUNE, COUNT, CAP])
    header, ratio_rows = got_sections[JUNE]
    _, count_rows = got_sections[COUNT]
    _, cap_rows = got_sections[CAP]
    small = [j for j, c in enumerate(header) if c.startswith(("SMALL", "ME1 "))]
    big = [j for j, c in enumerate(header) if c.startswith(("BIG", "ME5 "))]
    assert len(small) == len(big) == 5
    gaps = []
    for r, n, a in zip(ratio_rows, count_rows, cap_rows, strict=True):
        assert r[0] == n[0] == a[0]

        def agg(cols: list[int], r=r, n=n, a=a) -> float:
            num = sum(float(r[j]) * float(n[j]) * float(a[j]) for j in cols)
            return num / sum(float(n[j]) * float(a[j]) for j in cols)

        gaps.append(math.log(agg(small) / agg(big)))
    last = gaps[-1]
    discount = 1.0 - math.exp(-last)
    percentile = sum(g <= last for g in gaps) / len(gaps)

    ratios, counts, caps = _table(tables, JUNE), _table(tables, COUNT), _table(tables, CAP)
    cols = list(ratios.columns)
    got = valuation_gap(
        aggregate_ratio(ratios, counts, caps, groups_for(cols, [1], what="small")),
        aggregate_ratio(ratios, counts, caps, groups_for(cols, [5], what="big")),
    )
    assert f"{got.date:%Y%m}" == ratio_rows[-1][0]
    assert got.discount == pytest.approx(discount, rel=1e-12)
    assert got.percentile == pytest.approx(percentile, abs=1e-12)
    assert len(got.gap) == len(gaps)
    mean = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
    assert got.zscore == pytest.approx((last - mean) / sd, rel=1e-9)
    # the last date the gap stood as wide, outside the current run, by a loop
    k = len(gaps) - 1
    while k > 0 and gaps[k - 1] >= last:
        k -= 1
    before = [i for i in range(k) if gaps[i] >= last]
    assert f"{got.wide_since:%Y%m}" == ratio_rows[k][0]
    expected = ratio_rows[before[-1]][0] if before else None
    assert (f"{got.last_as_wide:%Y%m}" if got.last_as_wide is not None else None) == expected


def test_cap_weights_not_a_plain_mean(tables) -> None:
    ratios, counts, caps = _table(tables, JUNE), _table(tables, COUNT), _table(tables, CAP)
    cols = groups_for(list(ratios.columns), [1], what="small")
    agg = aggregate_ratio(ratios, counts, caps, cols)
    plain = ratios[cols].mean(axis=1)
    lo, hi = ratios[cols].min(axis=1), ratios[cols].max(axis=1)
    assert ((agg >= lo - 1e-12) & (agg <= hi + 1e-12)).all()
    assert (agg - plain).abs().max() > 0.05  # the plain mean is a different (wrong) number


def test_size_groups_of_both_layouts() -> None:
    five = [f"{'SMALL' if i == 1 else 'BIG'} {'Lo' if j == 1 else 'Hi'}BM"
            if i in (1, 5) and j in (1, 5) else f"ME{i} BM{j}"
            for i in range(1, 6) for j in range(1, 6)]  # fmt: skip
    groups = size_groups(five)
    assert list(groups) == [1, 2, 3, 4, 5]
    assert groups[1] == ["SMALL LoBM", "ME1 BM2", "ME1 BM3", "ME1 BM4", "SMALL HiBM"]
    assert groups[5][0] == "BIG LoBM" and groups[5][-1] == "BIG HiBM"
    six = ["SMALL LoBM", "ME1 BM2", "SMALL HiBM", "BIG LoBM", "ME2 BM2", "BIG HiBM"]
    assert size_groups(six) == {1: six[:3], 2: six[3:]}
    with pytest.raises(ConfigError, match="valid groups are"):
        groups_for(six, [5], what="big")
    with pytest.raises(ConfigError, match="names no size group"):
        size_groups(["Lo 20"])


def test_price_dates_follow_the_june_formation() -> None:
    idx = pd.DatetimeIndex(["2025-06-30", "2025-07-31", "2026-02-28"])
    assert list(price_dates(idx, prices="june").strftime("%Y-%m")) == [
        "2024-06", "2025-06", "2025-06"
    ]  # fmt: skip
    assert list(price_dates(idx, prices="december").strftime("%Y-%m")) == [
        "2023-12", "2024-12", "2024-12"
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="june"):
        price_dates(idx, prices="march")  # type: ignore[arg-type]


def test_the_june_ratio_changes_formation_in_july(tables) -> None:
    # within a formation year the published ratio moves only with the weights: far less than
    # across the July re-formation (which the price dates above assume)
    ratios = _table(tables, JUNE)["SMALL LoBM"]
    within = ratios.diff()[ratios.index.month != 7].abs().median()
    across = ratios.diff()[ratios.index.month == 7].abs().median()
    assert across > 3 * within


def test_roll_forward_divides_by_growth_since_july() -> None:
    idx = pd.date_range("2024-05-31", periods=4, freq="ME")  # May, Jun, Jul, Aug
    ratios = pd.DataFrame({"A": [1.0, 1.0, 2.0, 2.0]}, idx)
    rets = pd.DataFrame({"A": [0.5, 0.1, 0.25, 0.6]}, idx)
    got = roll_forward(ratios, rets)["A"]
    assert got.iloc[0] == pytest.approx(1.0 / 1.5)  # May: formation of June 2023
    assert got.iloc[1] == pytest.approx(1.0 / (1.5 * 1.1))
    assert got.iloc[2] == pytest.approx(2.0 / 1.25)  # July starts over
    assert got.iloc[3] == pytest.approx(2.0 / (1.25 * 1.6))


def test_last_as_wide_and_claim_text() -> None:
    idx = pd.date_range("2000-01-31", periods=30, freq="ME")
    gap = pd.Series(np.r_[np.full(10, 0.2), [0.9], np.full(15, 0.3), [0.5, 0.6, 0.8, 0.7]], idx)
    got = valuation_gap(np.exp(gap), pd.Series(1.0, idx))
    assert got.wide_since == idx[-2]  # 0.8 and 0.7 are at least as wide as 0.7
    assert got.last_as_wide == idx[10]
    report = ValuationReport(got, idx[-1], claim_discount=0.35, claim_date="2001-01")
    text = report.summary()
    assert "Claimed: a 35% discount" in text and "does not hold" in text
    record = report.to_dict()["claims"]
    assert record["discount_on_claim_date"] == pytest.approx(1 - np.exp(-0.3))


def test_vendor_and_cape_levels() -> None:
    idx = pd.date_range("2020-01-31", periods=3, freq="ME")
    v = vendor_pe(pd.Series([15.0, 16.0, 18.0], idx, name="r2k"),
                  pd.Series([20.0, 25.0, 32.0], idx, name="spx"))  # fmt: skip
    assert v.discount == pytest.approx(1 - 18 / 32)
    assert v.to_dict()["data"].startswith("vendor")
    c = level_in_history(pd.Series([10.0, 20.0, 30.0], idx), name="CAPE")
    assert c.percentile == 1.0 and c.median == 20.0
    with pytest.raises(InsufficientDataError, match="share no date"):
        vendor_pe(pd.Series([15.0], idx[:1]), pd.Series([20.0], idx[1:2]))


ratios_st = st.lists(st.floats(0.05, 5.0), min_size=24, max_size=240)


@settings(max_examples=50, deadline=None)
@given(ratios_st, st.floats(0.05, 5.0), st.floats(0.1, 10.0))
def test_gap_flips_sign_when_legs_swap_and_ignores_common_scale(small, big, c) -> None:
    idx = pd.date_range("1990-01-31", periods=len(small), freq="ME")
    a = valuation_gap(pd.Series(small, idx), pd.Series(big, idx))
    b = valuation_gap(pd.Series(big, idx), pd.Series(small, idx))
    s = valuation_gap(pd.Series(small, idx) * c, pd.Series(big, idx) * c)
    assert 0.0 < a.percentile <= 1.0
    pd.testing.assert_series_equal(a.gap, -b.gap)
    np.testing.assert_allclose(s.gap, a.gap, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.floats(0.01, 100.0), st.floats(0.01, 100.0)),
        min_size=3,
        max_size=60,
    )
)
def test_cap_weighted_portfolio_ratios_aggregate_to_sum_be_over_sum_me(firms) -> None:
    # firms (portfolio, BE, ME): each portfolio publishes its value-weighted BE/ME, firm count
    # and average cap; aggregating them must give sum(BE) / sum(ME) over all firms
    ports = sorted({p for p, _, _ in firms})
    idx = pd.DatetimeIndex(["2020-01-31"])
    ratio, count, cap = {}, {}, {}
    for p in ports:
        mine = [(be, me) for q, be, me in firms if q == p]
        total = sum(me for _, me in mine)
        ratio[f"P{p}"] = [sum(me * (be / me) for be, me in mine) / total]
        count[f"P{p}"] = [len(mine)]
        cap[f"P{p}"] = [total / len(mine)]
    got = aggregate_ratio(pd.DataFrame(ratio, idx), pd.DataFrame(count, idx),
                          pd.DataFrame(cap, idx), [f"P{p}" for p in ports])  # fmt: skip
    expected = sum(be for _, be, _ in firms) / sum(me for _, _, me in firms)
    assert got.iloc[0] == pytest.approx(expected, rel=1e-9)


def test_too_little_history_is_an_error() -> None:
    idx = pd.date_range("2000-01-31", periods=5, freq="ME")
    with pytest.raises(InsufficientDataError, match="needs 24"):
        valuation_gap(pd.Series(1.0, idx), pd.Series(2.0, idx))
