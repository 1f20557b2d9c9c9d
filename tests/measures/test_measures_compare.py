"""``sleeves.compare`` on the real French, price and NBER files, against plain loops."""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.errors import ConfigError
from smallcaps.registry import MemoryView

SPECS = (
    "french:Portfolios_Formed_on_BE-ME", "french:Portfolios_Formed_on_ME", "events:nber",
    "yahoo:RSP", "yahoo:SPY", "fred:DFEDTAR", "fred:DFEDTARU", "fred:DFEDTARL",
)  # fmt: skip
SEC = "french:Portfolios_Formed_on_BE-ME/value-weight-returns-monthly/"
VALUE, GROWTH = SEC + "Hi 30", SEC + "Lo 30"
ME = "french:Portfolios_Formed_on_ME/Average Value Weight Returns -- Monthly/"


def _monthly(data: dict[str, pd.Series], sleeve: str) -> dict[tuple[int, int], float]:
    """{(year, month): return} of a French sleeve, by a plain loop over the parsed column."""
    _, dataset, section, column = ("french/" + sleeve.removeprefix("french:")).split("/")
    slug = section.lower().replace(" -- ", "-").replace(" ", "-")
    key = f"french/{dataset}/{slug}/{column}"
    return {(d.year, d.month): float(v) for d, v in data[key].items() if not math.isnan(v)}


def _after(rets: dict[tuple[int, int], float], year: int, month: int, n: int) -> float | None:
    """Compounded return of the ``n`` months after (year, month), or None when not covered."""
    wealth = 1.0
    for k in range(1, n + 1):
        y, m = divmod((month - 1) + k, 12)
        r = rets.get((year + y, m + 1))
        if r is None:
            return None
        wealth *= 1.0 + r
    return wealth - 1.0


def _nw_t(x: list[float], lags: int) -> float:
    n = len(x)
    m = sum(x) / n
    gamma = [sum((x[t] - m) * (x[t - j] - m) for t in range(j, n)) / n for j in range(lags + 1)]
    s2 = gamma[0] + 2 * sum((1 - j / (lags + 1)) * gamma[j] for j in range(1, lags + 1))
    return m / math.sqrt(s2 / n)


def _sign_p(x: list[float]) -> float:
    w, lo = sum(v > 0 for v in x), sum(v < 0 for v in x)
    n, k = w + lo, min(w, lo)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_value_growth_after_troughs_equals_a_plain_loop(data: dict[str, pd.Series]) -> None:
    got = registry.run("sleeves.compare", MemoryView(data), sleeves=(VALUE, GROWTH),
                       after="nber.trough", months=24)  # fmt: skip
    v, g = _monthly(data, VALUE), _monthly(data, GROWTH)
    diffs, firsts = [], []
    for d in data["events/nber/trough"].index:
        a, b = _after(v, d.year, d.month, 24), _after(g, d.year, d.month, 24)
        if a is not None and b is not None:
            diffs.append(a - b)
            firsts.append(a)
    n = len(diffs)
    assert got.n == n >= 10
    assert got.mean == pytest.approx(sum(diffs) / n, abs=1e-12)
    assert got.first_mean == pytest.approx(sum(firsts) / n, abs=1e-12)
    assert got.median == pytest.approx(statistics.median(diffs), abs=1e-12)
    assert got.hit_rate == pytest.approx(sum(x > 0 for x in diffs) / n)
    sd = statistics.stdev(diffs)
    assert got.t == pytest.approx((sum(diffs) / n) / (sd / math.sqrt(n)), rel=1e-9)
    assert got.sign_p == pytest.approx(_sign_p(diffs), rel=1e-9)
    assert got.t_nw == pytest.approx(_nw_t(diffs, got.hac_lags), rel=1e-6)
    assert got.ci_low < got.mean < got.ci_high
    assert set(got.to_dict()["definitions"]) >= {"mean", "hit_rate", "t_nw", "sign_p", "ci_low"}


def test_first_cut_month_after_is_the_next_calendar_month(data: dict[str, pd.Series]) -> None:
    """The 1995-07-06 cut: anchor 'next' starts in August 1995, 'event' in July 1995."""
    small = ME + "Lo 20"
    rets = _monthly(data, small)
    for anchor, first_month in (("next", 8), ("event", 7)):
        got = registry.run("sleeves.compare", MemoryView(data), sleeves=(small,),
                           after="fed.first_cut", months=1, anchor=anchor)  # fmt: skip
        row = got.windows[got.windows["event"] == pd.Timestamp("1995-07-06")].iloc[0]
        assert row["first"] == pytest.approx(rets[(1995, first_month)], abs=1e-12)


def test_between_peaks_and_troughs_equals_a_plain_loop(data: dict[str, pd.Series]) -> None:
    got = registry.run("sleeves.compare", MemoryView(data), sleeves=(VALUE,),
                       between=("nber.peak", "nber.trough"))  # fmt: skip
    v = _monthly(data, VALUE)
    peaks, troughs = data["events/nber/peak"].index, data["events/nber/trough"].index
    want = []
    for p in peaks:
        t = min((x for x in troughs if x > p), default=None)
        if t is None:
            continue
        months = (t.year - p.year) * 12 + t.month - p.month
        r = _after(v, p.year, p.month, months)
        if r is not None:
            want.append(r)
    assert got.n == len(want)
    assert got.to_frame()["first"].tolist() == pytest.approx(want, abs=1e-12)


def test_equal_vs_cap_weight_each_year_equals_a_plain_loop(data: dict[str, pd.Series]) -> None:
    """RSP minus SPY total return in each complete calendar year, from the adjusted closes."""
    got = registry.run("sleeves.compare", MemoryView(data), sleeves=("yahoo:RSP", "yahoo:SPY"),
                       each="year")  # fmt: skip
    closes = {t: data[f"price/{t}/adj_close"].dropna() for t in ("RSP", "SPY")}
    want = {}
    for year in range(1990, 2030):
        rets = []
        for s in closes.values():
            before, inside = s[s.index.year < year], s[s.index.year == year]
            last_bday = pd.bdate_range(end=f"{year}-12-31", periods=1)[0]
            if before.empty or inside.empty or inside.index[-1] < last_bday:
                break
            rets.append(float(inside.iloc[-1]) / float(before.iloc[-1]) - 1)
        if len(rets) == 2:
            want[str(year)] = rets[0] - rets[1]
    table = got.to_frame().set_index("label")["x"]
    assert table.to_dict() == pytest.approx(want, abs=1e-10)


def test_january_against_other_months(data: dict[str, pd.Series]) -> None:
    got = registry.run("sleeves.compare", MemoryView(data), sleeves=(ME + "Lo 20",), month=1,
                       versus="rest")  # fmt: skip
    rets = _monthly(data, ME + "Lo 20")
    jan = [r for (_, m), r in rets.items() if m == 1]
    rest = [r for (_, m), r in rets.items() if m != 1]
    assert got.n_in == len(jan) and got.n_out == len(rest)
    assert got.diff == pytest.approx(statistics.fmean(jan) - statistics.fmean(rest), abs=1e-12)


def test_an_event_announced_after_the_as_of_date_is_not_used(
    data: dict[str, pd.Series],
) -> None:
    """The April 2020 trough was announced on 2021-07-19: not an event before that."""
    params = dict(sleeves=(VALUE,), after="nber.trough", months=1)
    before = registry.run("sleeves.compare", MemoryView(data, pd.Timestamp("2021-07-18")), **params)
    after = registry.run("sleeves.compare", MemoryView(data, pd.Timestamp("2021-07-20")), **params)
    assert pd.Timestamp("2020-04-01") not in set(before.windows["event"])
    assert pd.Timestamp("2020-04-01") in set(after.windows["event"])
    assert any("not yet known" in n for n in before.notes)


def test_bad_parameters_name_what_is_wrong(data: dict[str, pd.Series]) -> None:
    view = MemoryView(data)
    with pytest.raises(ConfigError, match="one kind of window"):
        registry.run("sleeves.compare", view, after="nber.peak", month=1, months=3)
    with pytest.raises(ConfigError, match="unknown event set"):
        registry.run("sleeves.compare", view, after="nber.valley", months=3)
    with pytest.raises(ConfigError, match="KIND:KEY"):
        registry.run("sleeves.compare", view, sleeves=("SPY",))
