"""fed.path, fed.cycles and fed.event_study on the mirror through a MemoryView; as-of honesty."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.registry import MemoryView

SPECS = (
    "fred:DFEDTAR", "fred:DFEDTARU", "fred:DFEDTARL", "fred:FEDFUNDS", "events:nber",
    "events:fomc", "yahoo:^RUT", "yahoo:^GSPC", "yahoo:IWM", "yahoo:SPY",
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors_daily",
)  # fmt: skip


def shocked_after(data: dict[str, pd.Series], cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    """Rewrite everything after `cutoff`: targets move, prices jump, NBER adds a peak."""
    rng = np.random.default_rng(3)
    out = {}
    for sid, s in data.items():
        s = s.copy()
        later = s.index > cutoff
        if sid.startswith(("DFEDTAR", "FEDFUNDS")):
            s[later] = s[later] + rng.choice([-0.5, 0.25, 1.0], size=later.sum())
        elif sid.startswith(("price/", "french/")):
            s[later] = s[later] * rng.uniform(0.5, 1.5, size=later.sum())
        out[sid] = s
    peak = out["events/nber/peak"]
    out["events/nber/peak"] = pd.concat([peak, pd.Series([1.0], [cutoff + pd.Timedelta(days=40)])])
    return out


def test_all_three_write_plain_json(data) -> None:
    view = MemoryView(data)
    for name in ("fed.path", "fed.cycles"):
        result = registry.run(name, view)
        assert json.loads(json.dumps(result.to_dict(), allow_nan=False))
    study = registry.run("fed.event_study", view, reps="200", placebo_draws="200")
    payload = json.loads(json.dumps(study.to_dict(), allow_nan=False))
    assert payload["n_events"] == len(study.by_event) and payload["unit"] == "trading days"


def test_path_changes_chain_and_match_the_range_file(data, data_dir: Path) -> None:
    ch = registry.run("fed.path", MemoryView(data)).changes
    assert ch["effective"].is_monotonic_increasing and ch["effective"].is_unique
    # each change starts where the one before ended, and moves the target by its size
    assert (ch["old"].iloc[1:].to_numpy() == ch["new"].iloc[:-1].to_numpy()).all()
    assert ch["change"].to_numpy() == pytest.approx((ch["new"] - ch["old"]).to_numpy())
    assert ((ch["direction"] == "cut") == (ch["change"] < 0)).all()
    assert (ch["announced"] <= ch["effective"]).all()
    assert ((ch["effective"] - ch["announced"]).dt.days <= 1).all()
    # since the range began: the upper bound's moves in FRED's CSV, read with pandas
    upper = pd.read_csv(data_dir / "fred" / "DFEDTARU.csv", index_col=0, parse_dates=True)
    upper = upper.iloc[:, 0].dropna()
    moved = upper[upper.diff().fillna(0) != 0]
    since = ch[ch["effective"] > upper.index[0]].set_index("effective")
    assert list(since.index) == list(moved.index)
    assert since["change"].to_numpy() == pytest.approx(moved.diff().reindex(moved.index)
                                                       .fillna(moved.iloc[0] - upper.iloc[0])
                                                       .to_numpy())  # fmt: skip


def test_cycles_and_the_study_are_read_off_the_path(data) -> None:
    view = MemoryView(data)
    ch = registry.run("fed.path", view).changes.set_index("effective")
    cycles = registry.run("fed.cycles", view).cycles
    for c in cycles.itertuples():
        # a first cut is a cut of the path, announced when the path says, and the target
        # before it is the path's old target
        assert ch.loc[c.first_cut, "direction"] == "cut", c.first_cut
        assert ch.loc[c.first_cut, "announced"] == c.announced
        assert ch.loc[c.first_cut, "old"] == c.target_before
        inside = ch.loc[c.first_cut : c.last_cut]
        assert (inside["direction"] == "cut").sum() == c.n_cuts
        assert ch.loc[c.last_cut, "direction"] == "cut"
        assert ch.loc[c.last_cut, "new"] == c.target_after
        assert c.depth == pytest.approx(c.target_before - c.target_after)
    # the daily study's events are the cycles' first cuts inside its price data, by announcement
    study = registry.run("fed.event_study", view, reps=0, placebo_draws=0)
    by_announced = cycles.set_index("announced")
    assert set(study.by_event.index) <= set(by_announced.index)
    for day, row in study.by_event.iterrows():
        assert row["effective"] == by_announced.loc[day, "first_cut"]
        assert row["depth"] == pytest.approx(by_announced.loc[day, "depth"])


def test_path_keeps_both_dates_and_checks_the_meeting_list(data) -> None:
    result = registry.run("fed.path", MemoryView(data))
    ch = result.changes.set_index("effective")
    assert ch.loc["2019-08-01", "announced"] == pd.Timestamp("2019-07-31")
    assert ch.loc["2024-09-19", "announced"] == pd.Timestamp("2024-09-18")
    assert ch.loc["2024-09-19", "meeting_list"] == "listed"
    assert ch.loc["2001-01-03", "meeting_list"] == "not listed (unscheduled move)"
    assert "FEDFUNDS monthly average" in result.summary()


def test_event_study_is_anchored_on_announcements(data) -> None:
    study = registry.run("fed.event_study", MemoryView(data), reps=0, placebo_draws=0)
    ev = study.by_event
    assert ev.loc["2019-07-31", "effective"] == pd.Timestamp("2019-08-01")
    assert ev.loc["2019-07-31", "anchor"] == pd.Timestamp("2019-07-30")
    assert ev.loc["2024-09-18", "effective"] == pd.Timestamp("2024-09-19")
    assert ev.loc["2024-09-18", "anchor"] == pd.Timestamp("2024-09-17")
    assert pd.Timestamp("2019-08-01") not in ev.index


def test_russell_2000_after_the_2001_and_2007_first_cuts(data_dir: Path, data) -> None:
    with (data_dir / "prices" / "other" / "^RUT_yahoo_2019.csv").open(newline="") as fh:
        rows = [(r["Date"], float(r["Close"])) for r in csv.DictReader(fh)]
    study = registry.run("fed.event_study", MemoryView(data), reps=0, placebo_draws=0)
    for announced in ("2001-01-03", "2007-09-18"):
        i = max(k for k, (d, _) in enumerate(rows) if d < announced)
        expected = rows[i + 21][1] / rows[i][1] - 1
        assert study.by_event.loc[announced, "small 0..+21"] == pytest.approx(expected, rel=1e-6)
        assert study.by_event.loc[announced, "group"] == "recession"


def test_the_seed_claim_monthly_by_a_plain_loop(data_dir: Path, data) -> None:
    study = registry.run(
        "fed.event_study", MemoryView(data), frequency="monthly", reps=0, placebo_draws=0,
        focus=("1984-1986", "1995-1998"), claim_low=0.04, claim_high=0.07,
    )  # fmt: skip
    focus = study.focus
    assert [f"{d:%Y-%m-%d}" for d in focus.index] == [
        "1984-09-20", "1985-04-25", "1985-12-18", "1995-07-06", "1998-09-29",
    ]  # fmt: skip
    # the month after the month end nearest each cut (1985-12-18 is nearer 12-31 than 11-30),
    # read from the French CSV's value-weighted block
    lines = (data_dir / "french" / "Portfolios_Formed_on_ME.csv").read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(",<= 0"))
    cols = [c.strip() for c in lines[header].split(",")]
    month = {"1984-09-20": "198410", "1985-04-25": "198505", "1985-12-18": "198601",
             "1995-07-06": "199507", "1998-09-29": "199810"}  # fmt: skip
    for day, yyyymm in month.items():
        row = next(line for line in lines[header + 1 :] if line.startswith(yyyymm))
        cells = [c.strip() for c in row.split(",")]
        assert focus.loc[day, "small"] == pytest.approx(float(cells[cols.index("Lo 20")]) / 100)
    inside = focus["small"].between(0.04, 0.07)
    assert inside.sum() == 1  # only July 1995 is in the claimed +4% to +7%
    assert "do NOT support" in study.summary()


def test_daily_study_says_where_1984_86_went(data) -> None:
    years = ("1984-1986", "1995-1998")
    study = registry.run("fed.event_study", MemoryView(data), reps=0, placebo_draws=0, focus=years)
    assert list(study.focus.index) == [pd.Timestamp("1995-07-06"), pd.Timestamp("1998-09-29")]
    assert "frequency=monthly" in study.summary()
    smb = registry.run(
        "fed.event_study", MemoryView(data), frequency="smb_daily", reps=0, placebo_draws=0,
        focus=years,
    )  # fmt: skip
    assert smb.n_events == 15 and list(smb.focus.columns) == ["small_minus_large", "group"]


def test_params_from_the_cli_are_coerced(data) -> None:
    measure = registry.get("fed.event_study")
    params = registry.coerce_params(
        measure, {"windows": "0:5,0:10", "reps": "0", "placebo_draws": "0", "pause_days": "365"}
    )
    study = measure.run(MemoryView(data), **params)
    assert study.windows == ("0..+5", "0..+10")
    # a 365-day pause merges the 1990, 2002, 2003 and 2025 resumptions into earlier cycles
    assert [f"{d:%Y}" for d in study.by_event.index] == [
        "1987", "1989", "1995", "1998", "2001", "2007", "2019", "2024",
    ]  # fmt: skip


# ---- no look-ahead ----------------------------------------------------------------------------


@pytest.mark.parametrize("cutoff", ["1999-12-31", "2008-06-30", "2020-01-31"])
def test_cycles_as_of_t_ignore_later_changes(data, cutoff: str) -> None:
    t = pd.Timestamp(cutoff)
    honest = registry.run("fed.cycles", MemoryView(data, as_of=t)).cycles
    rewritten = registry.run("fed.cycles", MemoryView(shocked_after(data, t), as_of=t)).cycles
    pd.testing.assert_frame_equal(honest, rewritten)
    full = registry.run("fed.cycles", MemoryView(data)).cycles
    assert list(honest["first_cut"]) == [d for d in full["first_cut"] if d <= t]


def test_recession_label_as_of_t_uses_only_announced_turning_points(data) -> None:
    def label(as_of: str) -> str:
        c = registry.run("fed.cycles", MemoryView(data, as_of=pd.Timestamp(as_of))).cycles
        return c.set_index("first_cut").loc["2007-09-18", "outcome"]

    assert label("2008-06-30") == "pending"  # the 2007-12 peak is in the data, not yet announced
    assert label("2008-11-30") == "pending"
    assert label("2008-12-01") == "recession"  # NBER's announcement day


def test_event_study_as_of_t_ignores_later_data(data) -> None:
    t = pd.Timestamp("2008-06-30")
    kw = {"reps": 100, "placebo_draws": 100}
    a = registry.run("fed.event_study", MemoryView(data, as_of=t), **kw)
    b = registry.run("fed.event_study", MemoryView(shocked_after(data, t), as_of=t), **kw)
    pd.testing.assert_frame_equal(a.by_event, b.by_event)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert np.isnan(a.by_event.loc["2007-09-18", "small 0..+252"])  # not over yet at t
    assert a.by_event.loc["2007-09-18", "group"] == "pending"
