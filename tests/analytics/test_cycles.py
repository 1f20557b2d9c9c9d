"""Leadership cycles: known dates on the French ME file by an independent loop, invariants."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics.cycles import relative_wealth, size_cycles, turning_points
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.sources import french

SECTION = "Average Value Weight Returns -- Monthly"


def read_section(path: Path, title: str, columns: list[str]) -> list[tuple[str, list[float]]]:
    """Rows ``(YYYYMM, [values])`` of one section, read with the csv module alone."""
    with path.open(newline="") as fh:
        lines = list(csv.reader(fh))
    start = next(i for i, row in enumerate(lines) if row and row[0].strip() == title)
    header = [c.strip() for c in lines[start + 1]]
    where = [header.index(c) for c in columns]
    rows = []
    for row in lines[start + 2 :]:
        if not row or not row[0].strip():
            break
        rows.append((row[0].strip(), [float(row[j]) / 100.0 for j in where]))
    return rows


def zigzag(values: list[float], threshold: float) -> list[tuple[int, str]]:
    """Turns by a plain loop: a pending extreme becomes a turn once the move away reaches the
    threshold (peak: fall to (1 - t) x high; trough: rise to (1 + t) x low)."""
    turns: list[tuple[int, str]] = []
    direction = None
    high = low = 0
    for i in range(1, len(values)):
        x = values[i]
        if direction in (None, "up") and x > values[high]:
            high = i
        if direction in (None, "down") and x < values[low]:
            low = i
        if direction in (None, "up") and x / values[high] - 1.0 <= -threshold:
            turns.append((high, "peak"))
            direction, low = "down", i
        elif direction in (None, "down") and x / values[low] - 1.0 >= threshold:
            turns.append((low, "trough"))
            direction, high = "up", i
    return turns


@pytest.fixture(scope="module")
def me_returns(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "french" / "Portfolios_Formed_on_ME.csv"
    return french.parse(path.read_bytes(), origin=path.name).tables[SECTION].frame


def test_cycle_dates_on_french_me_file_match_a_plain_loop(data_dir: Path, me_returns) -> None:
    rows = read_section(data_dir / "french" / "Portfolios_Formed_on_ME.csv", SECTION,
                        ["Lo 20", "Hi 20"])  # fmt: skip
    wealth, w = [], 1.0
    for _, (small, large) in rows:
        w *= (1.0 + small) / (1.0 + large)
        wealth.append(w)
    expected = [(rows[i][0], kind) for i, kind in zigzag(wealth, 0.25)]

    got = size_cycles(me_returns["Lo 20"], me_returns["Hi 20"], kind="returns")
    assert [(f"{d:%Y%m}", k) for d, k in got.turns["kind"].items()] == expected
    assert len(expected) > 20  # a century of cycles
    # the open leg starts at the last turn; its leader follows that turn's kind
    last_stamp, last_kind = expected[-1]
    assert f"{got.start:%Y%m}" == last_stamp
    assert got.leader == ("large" if last_kind == "peak" else "small")
    months = (
        (int(rows[-1][0][:4]) - int(last_stamp[:4])) * 12
        + int(rows[-1][0][4:])
        - int(last_stamp[4:])
    )
    assert got.age_months == months
    i = next(j for j, (stamp, _) in enumerate(rows) if stamp == last_stamp)
    assert got.move == pytest.approx(wealth[-1] / wealth[i] - 1.0, rel=1e-9)
    assert got.drawdown == pytest.approx(wealth[-1] / max(wealth[i:]) - 1.0, rel=1e-9)
    assert got.wealth.iloc[-1] == pytest.approx(wealth[-1], rel=1e-9)
    # each completed cycle runs from one turn to the next
    assert len(got.cycles) == len(expected) - 1
    assert list(got.cycles["leader"]) == [
        "small" if k == "trough" else "large" for _, k in expected[:-1]
    ]


def test_cycles_summary_and_dict(me_returns) -> None:
    got = size_cycles(me_returns["Lo 20"], me_returns["Hi 20"], kind="returns")
    d = got.to_dict()
    assert d["n_cycles"] == len(got.cycles)
    assert d["current"]["leader"] == got.leader
    assert isinstance(d["turns"][0]["date"], str)
    frame = got.to_frame()
    assert list(frame["complete"]) == [True] * len(got.cycles) + [False]
    assert "25% reversals" in got.summary()


def test_turns_confirmed_by_t_do_not_depend_on_later_data(me_returns) -> None:
    full = size_cycles(me_returns["Lo 20"], me_returns["Hi 20"], kind="returns").turns
    for cutoff in ("1950-12-31", "1999-12-31", "2009-03-31"):
        cut = me_returns.loc[:cutoff]
        part = size_cycles(cut["Lo 20"], cut["Hi 20"], kind="returns").turns
        known = full[full["confirmed"] <= cutoff]
        pd.testing.assert_frame_equal(part, known)


def test_threshold_and_kind_are_checked() -> None:
    idx = pd.date_range("2000-01-31", periods=30, freq="ME")
    s = pd.Series(np.linspace(1, 2, 30), idx)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ConfigError, match="threshold"):
            size_cycles(s, s, kind="prices", threshold=bad)
    with pytest.raises(ConfigError, match="kind"):
        relative_wealth(s, s, kind="levels")  # type: ignore[arg-type]
    with pytest.raises(InsufficientDataError, match="needs 24"):
        size_cycles(s[:10], s[:10], kind="prices")


def test_a_gap_inside_return_series_is_an_error() -> None:
    idx = pd.date_range("2000-01-31", periods=30, freq="ME")
    r = pd.Series(0.01, idx)
    holed = r.copy()
    holed.iloc[10] = np.nan
    with pytest.raises(InsufficientDataError, match="gap on 2000-11-30"):
        relative_wealth(holed, r, kind="returns")
    # leading and trailing missing values are only trimmed
    edged = r.copy()
    edged.iloc[[0, -1]] = np.nan
    assert len(relative_wealth(edged, r, kind="returns")) == 28


prices = st.lists(st.floats(1.0, 1000.0), min_size=24, max_size=120)


@settings(max_examples=60, deadline=None)
@given(prices)
def test_series_against_itself_is_flat_without_cycles(values: list[float]) -> None:
    s = pd.Series(values, pd.date_range("2001-01-31", periods=len(values), freq="ME"))
    got = size_cycles(s, s, kind="prices")
    assert (got.wealth == 1.0).all()
    assert got.turns.empty and got.cycles.empty
    assert got.leader == "undetermined" and got.move == 0.0


@settings(max_examples=60, deadline=None)
@given(
    # log steps on a 1/1000 grid: no comparison sits within rounding of a turn rule's boundary
    # (there, any floating-point rule flips with the last bit, scaled or not)
    st.lists(st.tuples(st.integers(-200, 200), st.integers(-200, 200)), min_size=24, max_size=200),
    st.sampled_from([0.5, 3.0, 10.0, 1234.5]),
    st.sampled_from([0.01, 2.0, 7.0]),
    st.sampled_from([0.1, 0.25, 0.4]),
)
def test_scaling_prices_changes_nothing(steps, a: float, b: float, threshold: float) -> None:
    steps = [(s / 1000, g / 1000) for s, g in steps]
    idx = pd.date_range("2001-01-02", periods=len(steps), freq="B")
    small = pd.Series(np.exp(np.cumsum([s for s, _ in steps])), idx)
    large = pd.Series(np.exp(np.cumsum([g for _, g in steps])), idx)
    one = size_cycles(small, large, kind="prices", threshold=threshold)
    two = size_cycles(small * a, large * b, kind="prices", threshold=threshold)
    pd.testing.assert_series_equal(one.wealth, two.wealth, rtol=1e-12)
    assert list(one.turns.index) == list(two.turns.index)
    assert list(one.turns["kind"]) == list(two.turns["kind"])
    assert one.leader == two.leader and one.start == two.start
    assert one.move == pytest.approx(two.move, rel=1e-9, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-0.15, 0.15), min_size=2, max_size=400),
    st.floats(0.05, 0.6),
)
def test_turns_alternate_and_legs_pass_the_threshold(steps: list[float], threshold) -> None:
    idx = pd.date_range("1990-01-31", periods=len(steps), freq="ME")
    wealth = pd.Series(np.exp(np.cumsum(steps)), idx)
    turns = turning_points(wealth, threshold=threshold)
    kinds = list(turns["kind"])
    assert all(a != b for a, b in itertools.pairwise(kinds))
    assert (turns["confirmed"] > turns.index).all()
    values = turns["value"].to_numpy()
    for i in range(1, len(values)):
        if kinds[i] == "peak":  # trough -> peak: the rise reached the threshold
            assert values[i] >= values[i - 1] * (1 + threshold) * (1 - 1e-12)
        else:
            assert values[i] <= values[i - 1] * (1 - threshold) * (1 + 1e-12)
