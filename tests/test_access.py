from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallcaps.access import RELEASE_RULES, AsOf, ReleaseRule, align, read, release_rule
from smallcaps.errors import InsufficientDataError, UnknownSeriesError
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store


def tidy_of(series_id: str, values: pd.Series, frequency: str = "D") -> Tidy:
    return Tidy(
        long_frame(series_id, values.index, values.to_numpy()),
        {series_id: SeriesMeta(series_id, "fred", series_id, "percent", frequency)},
    )


def ns(s: pd.Series) -> pd.Series:
    """The store returns dates as datetime64[ns], like the Tidy frames it is given."""
    return s.set_axis(pd.DatetimeIndex(s.index).as_unit("ns"))


def payload(tag: str, at: datetime) -> Payload:
    return Payload("fred", f"https://example.test/{tag}", tag.encode(), at)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", tmp_path / "archive")


# -- release rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series_id", "frequency", "stamp", "public"),
    [
        ("DFF", "D", "2026-03-05", "2026-03-06"),  # Thursday -> Friday
        ("DFF", "D", "2026-03-06", "2026-03-09"),  # Friday -> Monday
        ("DFF", "D", "2026-03-07", "2026-03-09"),  # Saturday -> Monday
        ("DFF", "D", "2026-07-02", "2026-07-06"),  # Friday 3 July is Independence Day (observed)
        ("DFF", "D", "2025-08-29", "2025-09-02"),  # Labor Day Monday
        ("fred/DGS10", "D", "2025-12-24", "2025-12-26"),  # Christmas; the fred/ prefix is ignored
        ("T10Y2Y", "D", "2026-01-16", "2026-01-20"),  # Martin Luther King Jr. Day
        ("UNRATE", "M", "2026-03-01", "2026-04-03"),  # first Friday of April
        ("UNRATE", "M", "2026-04-01", "2026-05-08"),  # 1 May is too early: BLS publishes 8 May
        ("UNRATE", "M", "2020-04-01", "2020-05-08"),  # as it did in 2020 (14.7 %)
        ("FEDFUNDS", "M", "2025-08-01", "2025-09-02"),  # first business day after Labor Day
        ("CPIAUCSL", "M", "2026-03-01", "2026-04-15"),
        ("GDPC1", "Q", "2025-04-01", "2025-07-30"),  # Q2 2025 advance estimate: 30 July 2025
        ("GDPC1", "Q", "2024-10-01", "2025-01-30"),  # Q4 2024: 30 January 2025
        ("NFCI", "W", "2026-05-29", "2026-06-03"),  # Friday -> Wednesday
        ("USREC", "M", "2020-03-01", "2021-03-31"),
        ("USRECP", "M", "2020-04-01", "2021-04-30"),
        ("french/F-F_Research_Data_Factors/SMB", "M", "2026-02-28", "2026-03-31"),
        ("french/F-F_Research_Data_Factors_daily/SMB", "D", "2026-02-27", "2026-03-31"),
        ("french:25_Portfolios_5x5:SMALL LoBM", "A", "2025-12-31", "2026-01-31"),
        ("price/IWM", "D", "2026-06-05", "2026-06-05"),
        ("shiller/CAPE", "M", "2026-03-01", "2026-05-31"),
        ("ishares/IJR/AAPL", "D", "2026-06-18", "2026-06-22"),  # Juneteenth Friday
        ("user/vendor_pe", "D", "2026-06-06", "2026-06-06"),
        ("stooq/IWM/close", "D", "2026-06-05", "2026-06-05"),
        ("events/nber/peak", "M", "2020-02-01", "2021-02-28"),  # not the default for monthly
        ("fred:DFF", "D", "2026-03-06", "2026-03-09"),
        ("SOMETHING", "D", "2026-01-02", "2026-01-05"),  # defaults by frequency
        ("SOMETHING", "W", "2026-01-02", "2026-01-09"),
        ("SOMETHING", "M", "2026-01-01", "2026-02-28"),
        ("SOMETHING", "Q", "2026-01-01", "2026-06-30"),
        ("SOMETHING", "A", "2025-01-01", "2026-03-31"),
    ],
)
def test_release_rules(series_id: str, frequency: str, stamp: str, public: str) -> None:
    rule = release_rule(series_id, frequency)
    assert rule([stamp])[0] == pd.Timestamp(public)


def all_rules() -> list[ReleaseRule]:
    found: list[ReleaseRule] = []
    for entry in RELEASE_RULES.values():
        found += [entry] if isinstance(entry, ReleaseRule) else list(entry.values())
    return list({r.name: r for r in found}.values())


def test_every_rule_has_a_one_line_description() -> None:
    assert len(all_rules()) >= 14
    for rule in all_rules():
        assert rule.description and "\n" not in rule.description and len(rule.description) < 120


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dates(
            min_value=pd.Timestamp("1850-01-01").date(), max_value=pd.Timestamp("2150-12-31").date()
        ),
        min_size=1,
        max_size=50,
    )
)
def test_rules_never_publish_early_and_keep_order(days: list) -> None:
    stamps = pd.DatetimeIndex(sorted(days))
    for rule in all_rules():
        public = rule(stamps)
        assert (public >= stamps).all(), rule.name
        assert public.is_monotonic_increasing, rule.name


# -- as-of reads -----------------------------------------------------------------------------

DAYS = pd.bdate_range("2025-11-03", "2026-01-30")
FETCH_A = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
FETCH_B = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_vintages(store: Store) -> tuple[pd.Series, pd.Series]:
    a = pd.Series(np.arange(len(DAYS), dtype=float), index=DAYS).loc[:"2026-01-09"]
    b = pd.Series(np.arange(len(DAYS), dtype=float) + 0.5, index=DAYS)  # revised and extended
    store.write(payload("A", FETCH_A), tidy_of("DGS10", a))
    store.write(payload("B", FETCH_B), tidy_of("DGS10", b))
    return a, b


def later_id(store: Store) -> int:
    return int(store.vintages("DGS10")["vintage_id"].iloc[-1])


def test_as_of_between_fetches_sees_the_first_vintage(store: Store, two_vintages) -> None:
    a, b = two_vintages
    got = read(store, "DGS10", "2026-01-20")
    assert isinstance(got, AsOf) and not got.real_time  # extended: see below
    # A's rows as A had them (not B's revisions) ...
    head = got.values[got.values.index <= a.index[-1]]
    pd.testing.assert_series_equal(head, ns(a), check_names=False, check_freq=False)
    assert got.url.endswith("/A") and got.fetched_at == pd.Timestamp(FETCH_A)
    # ... then B's rows after A's end that were published by 2026-01-20 00:00 (next business
    # day): the fixture's row of 2026-01-19 is out on the 20th, the 20th's row is not
    tail = got.values[got.values.index > a.index[-1]]
    assert len(tail) == 6 and tail.index[-1] == pd.Timestamp("2026-01-19")
    pd.testing.assert_series_equal(tail, ns(b).loc[tail.index], check_names=False,
                                   check_freq=False)  # fmt: skip
    assert got.extended_from == later_id(store) and "appended from vintage" in got.summary()
    # a vintage known at t that reaches t needs no extension
    assert read(store, "DGS10", "2026-01-09 12:00").extended_from is None
    later = read(store, "DGS10", "2026-02-11")
    pd.testing.assert_series_equal(later.values, ns(b), check_names=False, check_freq=False)
    assert later.sha256 == payload("B", FETCH_B).sha256 and later.vintage_id != got.vintage_id


def test_as_of_a_fetch_day_and_inside_a_vintage(store: Store, two_vintages) -> None:
    _, b = two_vintages
    # midnight of the fetch day: vintage A (09:00 UTC) is not known yet -> read back, flagged
    early = read(store, "DGS10", "2026-01-10")
    assert not early.real_time and early.values.index[-1] == pd.Timestamp("2026-01-08")
    # Thursday 2025-12-04: the rate of Wednesday was published that day, Thursday's not yet
    mid = read(store, "DGS10", pd.Timestamp("2025-12-04"))
    assert mid.values.index[-1] == pd.Timestamp("2025-12-03")
    assert "next US business day" in mid.rule and "not real-time" in mid.summary()
    latest = read(store, "DGS10")
    assert latest.as_of is None and latest.real_time and len(latest.values) == len(b)


def test_as_of_before_the_first_publication(store: Store, two_vintages) -> None:
    with pytest.raises(InsufficientDataError, match=r"'DGS10'.*2025-11-03.*published 2025-11-04"):
        read(store, "DGS10", "2025-11-03")
    assert len(read(store, "DGS10", "2025-11-04").values) == 1


def test_unknown_series_suggests_close_matches(store: Store, two_vintages) -> None:
    with pytest.raises(UnknownSeriesError, match="did you mean 'DGS10'"):
        read(store, "DGS1O", "2026-01-20")
    with pytest.raises(UnknownSeriesError):
        align(store, ["DGS10", "DSG10"], DAYS)


def test_unrate_march_2026_appears_on_the_first_friday_of_april(store: Store) -> None:
    months = pd.date_range("2025-01-01", "2026-04-01", freq="MS")
    values = pd.Series(np.linspace(4.0, 4.4, len(months)), index=months)
    store.write(payload("unrate", datetime(2026, 5, 9, tzinfo=UTC)), tidy_of("UNRATE", values, "M"))
    assert read(store, "UNRATE", "2026-03-31").values.index[-1] == pd.Timestamp("2026-02-01")
    assert read(store, "UNRATE", "2026-04-02 23:59").values.index[-1] == pd.Timestamp("2026-02-01")
    assert read(store, "UNRATE", "2026-04-03").values.index[-1] == pd.Timestamp("2026-03-01")
    assert read(store, "UNRATE", "2026-05-07").values.index[-1] == pd.Timestamp("2026-03-01")
    assert read(store, "UNRATE", "2026-05-08").values.index[-1] == pd.Timestamp("2026-04-01")


def test_gdp_advance_then_revision(store: Store) -> None:
    q = pd.date_range("2024-01-01", "2025-04-01", freq="QS")
    first = pd.Series(np.arange(len(q), dtype=float), index=q)
    store.write(payload("gdp1", datetime(2025, 7, 31, tzinfo=UTC)), tidy_of("GDPC1", first, "Q"))
    revised = first.copy()
    revised.iloc[-1] += 0.7  # the second estimate
    store.write(payload("gdp2", datetime(2025, 8, 29, tzinfo=UTC)), tidy_of("GDPC1", revised, "Q"))
    assert read(store, "GDPC1", "2025-07-29").values.index[-1] == pd.Timestamp("2025-01-01")
    advance = read(store, "GDPC1", "2025-08-01").values
    assert advance.index[-1] == pd.Timestamp("2025-04-01") and advance.iloc[-1] == first.iloc[-1]
    assert read(store, "GDPC1", "2025-09-01").values.iloc[-1] == revised.iloc[-1]


def test_french_monthly_waits_for_the_next_month_end(store: Store) -> None:
    months = pd.date_range("2025-06-30", "2026-02-28", freq="ME")
    smb = pd.Series(np.arange(len(months)) / 100, index=months)
    sid = "french/F-F_Research_Data_Factors/SMB"
    store.write(payload("ff", datetime(2026, 4, 2, tzinfo=UTC)), tidy_of(sid, smb, "M"))
    assert read(store, sid, "2026-03-30").values.index[-1] == pd.Timestamp("2026-01-31")
    assert read(store, sid, "2026-03-31").values.index[-1] == pd.Timestamp("2026-02-28")


def test_real_dff_around_labor_day(store: Store, data_dir: Path) -> None:
    raw = pd.read_csv(data_dir / "fred" / "DFF_fredgraph.csv")
    dff = pd.Series(raw["DFF"].to_numpy(dtype=float), index=pd.to_datetime(raw["observation_date"]))
    # the file was committed on 2025-10-18: everything earlier is read back, not real-time
    store.write(payload("dff", datetime(2025, 10, 18, tzinfo=UTC)), tidy_of("DFF", dff))
    assert read(store, "DFF").values.index[-1] == pd.Timestamp("2025-10-09")
    friday = read(store, "DFF", "2025-08-29")
    assert friday.values.index[-1] == pd.Timestamp("2025-08-28") and not friday.real_time
    # Friday, Saturday, Sunday and Labor Day Monday all come out on Tuesday 2 September
    assert read(store, "DFF", "2025-09-01").values.index[-1] == pd.Timestamp("2025-08-28")
    assert read(store, "DFF", "2025-09-02").values.index[-1] == pd.Timestamp("2025-09-01")
    assert read(store, "DFF", "2025-10-18").real_time
    cal = pd.DatetimeIndex(["2025-08-29", "2025-09-01", "2025-09-02"])
    got = align(store, ["DFF"], cal)["DFF"]
    assert got.tolist() == dff.loc[["2025-08-28", "2025-08-28", "2025-09-01"]].tolist()


# -- align -----------------------------------------------------------------------------------


def test_align_matches_read_at_every_date(store: Store, two_vintages) -> None:
    months = pd.date_range("2025-06-01", "2026-01-01", freq="MS")
    unrate = pd.Series(np.linspace(4, 5, len(months)), index=months)
    unrate.iloc[-3] = np.nan  # a missing month: the last real value carries on
    store.write(payload("u", datetime(2026, 1, 20, tzinfo=UTC)), tidy_of("UNRATE", unrate, "M"))
    cal = pd.date_range("2025-10-01", "2026-03-01", freq="D")
    panel = align(store, ["DGS10", "UNRATE"], cal[::-1])  # any order
    assert list(panel.columns) == ["DGS10", "UNRATE"] and panel.index.equals(cal[::-1])
    for t in cal:
        for sid in panel.columns:
            try:
                expected = read(store, sid, t).values.dropna().iloc[-1]
            except (InsufficientDataError, IndexError):
                expected = np.nan
            assert panel.at[t, sid] == pytest.approx(expected, nan_ok=True), (sid, t)
    assert panel["DGS10"].isna().sum() == len(cal[cal <= "2025-11-03"])
    assert panel.at[pd.Timestamp("2025-12-06"), "UNRATE"] == unrate.loc["2025-10-01"]  # Nov NaN


# -- no look-ahead ---------------------------------------------------------------------------

SERIES = [
    ("DFF", "D"),
    ("UNRATE", "M"),
    ("GDPC1", "Q"),
    ("NFCI", "W"),
    ("french/F-F/SMB", "M"),
    ("french/F-F/SMB_annual", "A"),
    ("price/IWM", "D"),
    ("CUSTOM", "M"),
]
STEP = {"D": "D", "W": "W-FRI", "M": "MS", "Q": "QS", "A": "YE"}


@st.composite
def histories(draw: st.DrawFn) -> dict:
    series_id, frequency = draw(st.sampled_from(SERIES))
    n = draw(st.integers(3, 40))
    start = pd.Timestamp(
        draw(st.dates(pd.Timestamp("1990-01-01").date(), pd.Timestamp("2020-01-01").date()))
    )
    dates = pd.date_range(start, periods=n, freq=STEP[frequency])
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    values = draw(st.lists(st.one_of(finite, st.just(np.nan)), min_size=n, max_size=n))
    span = (dates[-1] - dates[0]) + pd.Timedelta(days=500)
    t = dates[0] - pd.Timedelta(days=40) + span * draw(st.floats(0, 1))
    fetch_a = dates[0] + span * draw(st.floats(0, 1.2))
    fetch_b = t + pd.Timedelta(seconds=1) + pd.Timedelta(days=400) * draw(st.floats(0, 1))
    later = dates > t
    changed = np.array(values, dtype=float)
    changed[later] = draw(st.lists(finite, min_size=int(later.sum()), max_size=int(later.sum())))
    extra = pd.date_range(
        max(dates[-1], t.normalize()), periods=draw(st.integers(1, 4)) + 1, freq=STEP[frequency]
    )[1:]
    return {
        "series_id": series_id,
        "frequency": frequency,
        "old": pd.Series(values, index=dates, dtype=float),
        "new": pd.concat(
            [
                pd.Series(changed, index=dates),
                pd.Series(
                    draw(st.lists(finite, min_size=len(extra), max_size=len(extra))), index=extra
                ),
            ]
        ),
        "t": t.floor("s"),
        "fetch_a": fetch_a.to_pydatetime().replace(tzinfo=UTC),
        "fetch_b": fetch_b.to_pydatetime().replace(tzinfo=UTC),
        "calendar": pd.DatetimeIndex(
            sorted(
                {
                    (t - pd.Timedelta(days=d))
                    for d in draw(st.lists(st.integers(0, 3000), min_size=1, max_size=30))
                }
            )
        ),
    }


def seen(store: Store, series_id: str, t: pd.Timestamp) -> pd.Series | None:
    try:
        values = read(store, series_id, t).values
    except InsufficientDataError:
        return None
    assert (values.index <= t).all()
    return values


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_no_look_ahead(h: dict) -> None:
    sid, freq, t = h["series_id"], h["frequency"], h["t"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Store.open(Path(tmp) / "a.duckdb", Path(tmp) / "archive")
        base.write(payload("old", h["fetch_a"]), tidy_of(sid, h["old"], freq))
        before, panel = seen(base, sid, t), align(base, [sid], h["calendar"])
        # a new vintage fetched after t that rewrites and extends what is dated after t
        base.write(payload("new", h["fetch_b"]), tidy_of(sid, h["new"], freq))
        after = seen(base, sid, t)
        # ... and the same change made in place, in a fresh store
        fresh = Store.open(Path(tmp) / "b.duckdb", Path(tmp) / "archive")
        fresh.write(payload("new", h["fetch_a"]), tidy_of(sid, h["new"], freq))
        in_place = seen(fresh, sid, t)
        for other in (after, in_place):
            if before is None:
                assert other is None
            else:
                assert other is not None
                pd.testing.assert_series_equal(other, before)
        pd.testing.assert_frame_equal(align(base, [sid], h["calendar"]), panel)
        pd.testing.assert_frame_equal(align(fresh, [sid], h["calendar"]), panel)
    assert (
        not h["new"].loc[h["new"].index > t].equals(h["old"].loc[h["old"].index > t])
    )  # it did change
