"""Fed target path, changes, first cuts and outcomes: real FRED files, a plain-loop oracle."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from smallcaps.analytics import fed
from smallcaps.errors import InsufficientDataError
from smallcaps.sources import events as ev_source
from smallcaps.sources import fred as fred_source

# ---- an independent route: csv module, plain loops, no pandas -----------------------------------


def read_rows(path: Path) -> list[tuple[date, float]]:
    """(day, value) from any of the mirror's FRED layouts (M/D/YYYY or ISO)."""
    out = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for day, value in reader:
            if not value.strip() or value.strip() == ".":
                continue
            fmt = "%m/%d/%Y" if "/" in day else "%Y-%m-%d"
            out.append((datetime.strptime(day, fmt).date(), float(value)))
    return out


def loop_changes(data_dir: Path) -> list[tuple[date, float, float]]:
    """Every target change (effective day, old, new): DFEDTAR, then the range's upper limit."""
    point = read_rows(data_dir / "fred" / "DFEDTAR_2024snapshot.csv")
    upper = read_rows(data_dir / "fred" / "DFEDTARU.csv")
    lower = dict(read_rows(data_dir / "fred" / "DFEDTARL.csv"))
    rows = [(d, v, v) for d, v in point if d < upper[0][0]]
    rows += [(d, lower[d], v) for d, v in upper]
    out, prev = [], None
    for d, lo, hi in rows:
        if prev is not None and (lo, hi) != prev[1:]:
            out.append((d, prev[2], hi))
        prev = (d, lo, hi)
    return out


def loop_first_cuts(
    changes: list[tuple[date, float, float]], pause: int, min_hike: float, min_cut: float
) -> list[tuple[date, float, float]]:
    """The rule in words: a cut of >= min_cut after >= min_hike of net hikes since the last such
    cut, or after `pause` days without any change; the first change is never classified."""
    out, ref = [], None
    for i, (d, old, new) in enumerate(changes):
        if i == 0:
            ref = min(old, new)
            continue
        if new >= old:
            continue
        big = old - new >= min_cut - 1e-9
        hiked = old - ref > 1e-9 and old - ref >= min_hike - 1e-9
        if big and (hiked or (d - changes[i - 1][0]).days >= pause):
            out.append((d, old, new))
        if big:
            ref = new
    return out


# ---- fixtures ---------------------------------------------------------------------------------


def series(path: Path, sid: str) -> pd.Series:
    frame = fred_source.parse(path.read_bytes(), origin=path.name, series_id=sid)
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), name=sid)


@pytest.fixture(scope="module")
def path(data_dir: Path) -> pd.DataFrame:
    f = data_dir / "fred"
    return fed.target_path(
        series(f / "DFEDTAR_2024snapshot.csv", "DFEDTAR"),
        series(f / "DFEDTARU.csv", "DFEDTARU"),
        series(f / "DFEDTARL.csv", "DFEDTARL"),
        fallback=series(f / "FEDFUNDS.csv", "FEDFUNDS"),
    )


@pytest.fixture(scope="module")
def changes(path: pd.DataFrame) -> pd.DataFrame:
    return fed.target_changes(path)


@pytest.fixture(scope="module")
def nber(data_dir: Path) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    raw = (data_dir / "events" / "nber_recessions.csv").read_bytes()
    points = ev_source.parse_nber(raw, origin="nber_recessions.csv")
    return pd.DatetimeIndex(points["peak"].dropna()), pd.DatetimeIndex(points["trough"].dropna())


# ---- known values -----------------------------------------------------------------------------


def test_every_change_matches_a_plain_loop_over_the_csv_files(data_dir: Path, changes) -> None:
    expected = loop_changes(data_dir)
    got = list(zip(changes["effective"].dt.date, changes["old"], changes["new"], strict=True))
    assert got == expected
    assert len(expected) > 150  # 1982-2026: every change, cuts and hikes


def test_famous_changes_and_the_current_range(path, changes) -> None:
    by_day = changes.set_index("effective")
    # public Fed history: the 2001, 2007, 2019 and 2024 first cuts and the 2008 move to a range
    assert by_day.loc["2001-01-03", ["old", "new"]].tolist() == [6.5, 6.0]
    assert by_day.loc["2007-09-18", ["old", "new"]].tolist() == [5.25, 4.75]
    assert by_day.loc["2008-12-16", ["old_range", "new_range"]].tolist() == ["1", "0-0.25"]
    assert by_day.loc["2019-08-01", ["old_range", "new_range"]].tolist() == ["2.25-2.5", "2-2.25"]
    assert by_day.loc["2024-09-19", ["old", "new"]].tolist() == [5.5, 5.0]
    assert path.iloc[-1][["lower", "upper"]].tolist() == [3.5, 3.75]  # DFEDTARL/U last values


def test_fedfunds_fills_only_the_months_before_the_target(path, changes) -> None:
    fallback = path[path["source"] == "FEDFUNDS"]
    assert fallback.index[0] == pd.Timestamp("1954-07-01")
    assert (
        fallback.index[-1]
        < pd.Timestamp("1982-09-27")
        == path[path["source"] == "DFEDTAR"].index[0]
    )
    assert changes["effective"].iloc[0] == pd.Timestamp("1982-10-01")  # no change from FEDFUNDS


def test_first_cuts_since_1982_and_the_target_around_each(data_dir: Path, changes) -> None:
    expected = loop_first_cuts(loop_changes(data_dir), 180, 0.25, 0.25)
    cycles = fed.easing_cycles(changes)
    got = list(
        zip(
            cycles["first_cut"].dt.date,
            cycles["target_before"],
            cycles["target_before"] - cycles["first_cut_size"],
            strict=True,
        )
    )
    assert got == expected
    days = {d for d, _, _ in expected}
    assert {date(2001, 1, 3), date(2007, 9, 18), date(2019, 8, 1), date(2024, 9, 19)} <= days
    assert {date(1984, 9, 20), date(1995, 7, 6), date(1998, 9, 29)} <= days


@pytest.mark.parametrize("pause", [90, 180, 365, 730])
def test_the_list_of_first_cuts_depends_on_the_pause(data_dir: Path, changes, pause) -> None:
    expected = [d for d, _, _ in loop_first_cuts(loop_changes(data_dir), pause, 0.25, 0.25)]
    got = list(fed.easing_cycles(changes, pause_days=pause)["first_cut"].dt.date)
    assert got == expected


def test_how_the_pause_changes_the_list(changes) -> None:
    def cuts(**kw: float) -> set[pd.Timestamp]:
        return set(fed.easing_cycles(changes, **kw)["first_cut"])

    short, default, long_ = cuts(pause_days=90), cuts(pause_days=180), cuts(pause_days=365)
    assert long_ < default <= short
    # resumptions after 205-330 quiet days are first cuts at 180 days, not at 365
    after_pause = {"1990-07-13", "2002-11-06", "2003-06-25", "2025-09-18"}
    assert default - long_ == {pd.Timestamp(d) for d in after_pause}
    # with pause 365 the 2024-25 cuts are one cycle of 1.75 pp (the seed's "1.75% cycle")
    last = fed.easing_cycles(changes, pause_days=365).iloc[-1]
    assert (last["first_cut"], last["depth"], last["n_cuts"]) == (
        pd.Timestamp("2024-09-19"),
        1.75,
        6,
    )
    # the 1/16-point moves of the 1980s count when min_hike and min_cut are 0
    tiny = cuts(min_hike=0.0, min_cut=0.0) - default
    assert {pd.Timestamp(d) for d in ("1983-08-17", "1986-04-21", "1986-07-11")} <= tiny


# ---- dates: effective versus announced --------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "announced"),
    [
        ("2019-08-01", "2019-07-31"),  # FRED's date is the day after the statement
        ("2024-09-19", "2024-09-18"),
        ("2020-03-16", "2020-03-15"),  # the Sunday emergency cut
        ("2017-03-16", "2017-03-15"),  # first change effective the next day
        ("2016-12-14", "2016-12-14"),  # still the same day
        ("2001-01-03", "2001-01-03"),  # intermeeting cut, same day
        ("1984-09-20", "1984-09-20"),  # not announced at all before 1994
    ],
)
def test_both_dates_are_kept(changes, effective: str, announced: str) -> None:
    row = changes.set_index("effective").loc[effective]
    assert row["announced"] == pd.Timestamp(announced)
    if effective < "1994-02-04":
        assert row["basis"].startswith("not announced")


def test_meeting_list_errors_are_found_and_never_move_a_date(data_dir: Path, changes) -> None:
    raw = (data_dir / "events" / "FOMC_MEETING_2000-2025.csv").read_bytes()
    meetings = ev_source.tidy_fomc(raw, origin="fomc").series("events/fomc/meeting").index
    check = fed.check_meetings(meetings, changes)
    flagged = set(check.issues["date"])
    # dates that are no FOMC statement day: two Sundays, a Monday, Jackson Hole
    for bad in ("2023-01-01", "2023-10-01", "2024-04-01", "2025-08-22"):
        assert pd.Timestamp(bad) in flagged
    # intermeeting cuts are missing from the list, and named as such
    for d in ("2001-01-03", "2001-04-18", "2001-09-17", "2008-01-22", "2008-10-08"):
        assert check.status[pd.Timestamp(d)] == "not listed (unscheduled move)"
    # the real 2023-02-01 hike sits on a day the list lacks (it has 2023-01-01 instead)
    assert check.status[pd.Timestamp("2023-02-01")] == "not listed"
    assert check.status[pd.Timestamp("2019-07-31")] == "listed"
    assert check.status[pd.Timestamp("2024-09-18")] == "listed"
    assert check.status[pd.Timestamp("1998-09-29")].startswith("outside")
    assert check.confirmed == check.inside - 6
    json.dumps(check.to_dict())


# ---- outcomes and NBER's announcement lag -----------------------------------------------------


@pytest.mark.parametrize(
    ("cut", "peak_announced"),
    [("1990-07-13", "1991-04-25"), ("2001-01-03", "2001-11-26"), ("2007-09-18", "2008-12-01"),
     ("2019-07-31", "2020-06-08")],
)  # fmt: skip
def test_recession_label_waits_for_nber(nber, cut: str, peak_announced: str) -> None:
    peaks, troughs = nber
    day = pd.Timestamp(peak_announced)
    before = fed.cycle_outcomes(
        pd.DatetimeIndex([cut]), peaks, troughs, as_of=day - pd.Timedelta(days=1)
    )
    on = fed.cycle_outcomes(pd.DatetimeIndex([cut]), peaks, troughs, as_of=day)
    assert before["outcome"].iloc[0] == "pending"
    assert on["outcome"].iloc[0] == "recession"
    assert on["peak_announced"].iloc[0] == day


def test_outcomes_as_of_the_data_end(changes, nber) -> None:
    result = fed.fed_cycles(changes, *nber, as_of=pd.Timestamp("2026-06-05"))
    out = result.cycles.set_index("first_cut")["outcome"]
    for d in ("1984-09-20", "1985-04-25", "1985-12-18", "1995-07-06", "1998-09-29"):
        assert out[d] == "soft landing"  # the seed's "soft landing cycles"
    for d in ("1990-07-13", "2001-01-03", "2007-09-18", "2019-08-01"):
        assert out[d] == "recession"
    assert out["2024-09-19"] == "pending"  # NBER may still speak
    text = result.summary()
    assert "15 easing cycles" in text and "2024-09-18 (pending" in text
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["cycles"][0]["first_cut"] == "1984-09-20"


def test_turning_points_without_a_known_date_get_a_flagged_lag() -> None:
    tp = fed.nber_announcements(pd.DatetimeIndex(["1973-11-01"]), pd.DatetimeIndex([]))
    assert tp["approximate"].iloc[0]
    assert tp["announced"].iloc[0] == pd.Timestamp("1974-11-30")


# ---- no look-ahead ----------------------------------------------------------------------------


def test_first_cuts_as_of_a_date_ignore_later_changes(changes) -> None:
    full = fed.easing_cycles(changes)["first_cut"]
    for cutoff in changes["effective"].iloc[5::7]:
        early = fed.easing_cycles(changes[changes["effective"] <= cutoff])["first_cut"]
        pd.testing.assert_series_equal(early, full[full <= cutoff], check_names=False)


moves = st.lists(
    st.tuples(st.integers(1, 400), st.sampled_from([-0.5, -0.25, -0.125, 0.125, 0.25, 0.5])),
    min_size=2,
    max_size=20,
)


@settings(max_examples=40, deadline=None)
@given(moves, st.integers(30, 400), st.sampled_from([0.0, 0.25]))
def test_first_cuts_are_causal_on_random_paths(steps, pause: int, min_hike: float) -> None:
    day, level, rows = pd.Timestamp("1990-01-01"), 5.0, []
    for gap, move in steps:
        day += pd.Timedelta(days=gap)
        rows.append({"effective": day, "announced": day, "old": level, "new": level + move})
        level += move
    changes = pd.DataFrame(rows)
    full = fed.easing_cycles(changes, pause_days=pause, min_hike=min_hike)
    for k in range(1, len(rows) + 1):
        part = fed.easing_cycles(changes.iloc[:k], pause_days=pause, min_hike=min_hike)
        cutoff = rows[k - 1]["effective"]
        assert list(part["first_cut"]) == [d for d in full["first_cut"] if d <= cutoff]
    # hikes below min_hike may interrupt a cycle, larger ones end it
    assert (full["depth"] >= full["first_cut_size"] - min_hike - 1e-9).all()
    assert (full["n_cuts"] >= 1).all() and (full["length_days"] >= 0).all()


# ---- results and errors -----------------------------------------------------------------------


def test_fed_path_result(path, changes) -> None:
    result = fed.FedPath(path, changes)
    text = result.summary()
    assert "now 3.5-3.75%" in text and "announced 2025-12-10" in text
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["current"] == {"lower": 3.5, "upper": 3.75, "date": "2026-06-05"}
    assert payload["changes"][0]["effective"] == "1982-10-01"
    assert result.to_frame() is changes
    assert "<table" in result._repr_html_()


def test_no_target_is_a_clear_error() -> None:
    with pytest.raises(InsufficientDataError, match="DFEDTAR"):
        fed.target_path(None, None, None)
    with pytest.raises(ValueError, match="pause_days"):
        fed.easing_cycles(pd.DataFrame(columns=["effective", "old", "new"]), pause_days=0)
