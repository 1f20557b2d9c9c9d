"""The doctor: do two copies of a series agree and, where they do not, why.

Two sources (or two vintages) of one instrument rarely match to the last digit. For prices the
question is whether they move alike: adjusted closes from different fetch dates differ by a
constant factor (dividends paid in between), which is no disagreement; a step in the ratio that
stays is a dividend or split adjustment one of them lacks; a single bar that differs is a
revision; a last bar that differs is usually a snapshot taken before the close. For levels
(rates, indexes) the values themselves are compared within an absolute tolerance.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from smallcaps import publishers
from smallcaps.errors import InsufficientDataError, UnknownSeriesError
from smallcaps.store.adjustments import MissedAdjustment, checks_adjustments, faulty_vintages

if TYPE_CHECKING:
    from smallcaps.store.db import Store

REVISION = "revision"
ADJUSTMENT = "dividend/adjustment"
PARTIAL = "partial last bar"
MISMATCH = "mismatch"
MISSING = "missing rows"
FAULTY = "faulty vintage"

#: a persistent step in log(a/b) of this size is the size of a dividend or distribution
ADJUSTMENT_STEP = (1e-4, 0.05)
#: a single differing bar or value beyond this relative size is a mismatch, not a revision
REVISION_MAX = 0.05


@dataclass(frozen=True, slots=True, eq=False)
class Reconciliation:
    """How two copies of a series compare on their common dates.

    Parameters
    ----------
    kind : {"price", "level"}
        Prices are compared by daily returns, levels by value.
    tol : float
        Tolerance: on the change of ``log(a/b)`` between common dates (price), on ``|a - b|``
        (level).
    n_common, n_disagree : int
        Common dates (both values present) and dates that disagree.
    first_common, last_common : Timestamp or None
    disagreements : DataFrame
        One row per disagreeing date: the two values, the difference (``step`` of
        ``log(a/b)`` for prices, ``diff = a - b`` for levels) and ``classification``: one of
        ``revision``, ``dividend/adjustment``, ``partial last bar``, ``mismatch``.
    n_only_a, n_only_b : int
        Dates with a value in only one of the two.
    max_abs_diff : float
        Largest ``|step|`` (price) or ``|a - b|`` (level) over the common dates.
    names : tuple of str
        Labels of ``a`` and ``b``.
    """

    kind: str
    tol: float
    n_common: int
    n_disagree: int
    first_common: pd.Timestamp | None
    last_common: pd.Timestamp | None
    disagreements: pd.DataFrame
    n_only_a: int
    n_only_b: int
    max_abs_diff: float
    names: tuple[str, str]

    def counts(self) -> dict[str, int]:
        """Disagreements by classification."""
        return {
            str(k): int(v) for k, v in self.disagreements["classification"].value_counts().items()
        }

    def summary(self) -> str:
        """One line: what was compared, over which dates, and what disagrees."""
        a, b = self.names
        span = (
            f"{self.first_common:%Y-%m-%d}..{self.last_common:%Y-%m-%d}"
            if self.first_common is not None and self.last_common is not None
            else "no dates"
        )
        found = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        return (
            f"{a} vs {b} ({self.kind}, tol {self.tol:g}): {self.n_common:,} common dates {span}, "
            f"{self.n_disagree} disagree{': ' + found if found else ''}; max |diff| "
            f"{self.max_abs_diff:.3g}; only in {a}: {self.n_only_a}, only in {b}: {self.n_only_b}"
        )

    def __str__(self) -> str:
        return self.summary()


def reconcile(
    a: pd.Series, b: pd.Series, *, kind: Literal["price", "level"], tol: float
) -> Reconciliation:
    """Compare two copies of a series and classify where they disagree.

    Parameters
    ----------
    a, b : Series
        Values indexed by date; NaN means no value.
    kind : {"price", "level"}
        ``"price"``: compare daily returns, i.e. steps of ``log(a/b)`` between consecutive
        common dates (a constant ratio is agreement). ``"level"``: compare values; to set a
        monthly series against a daily one, average the daily one by month first.
    tol : float
        Largest step (price) or absolute difference (level) counted as agreement.

    Returns
    -------
    Reconciliation
    """
    if kind not in ("price", "level"):
        raise ValueError(f"kind must be 'price' or 'level', got {kind!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    names = (str(a.name) if a.name is not None else "a", str(b.name) if b.name is not None else "b")
    a, b = _clean(a), _clean(b)
    if kind == "price" and ((a <= 0).any() or (b <= 0).any()):
        raise InsufficientDataError("reconcile(kind='price') needs positive prices")
    common = a.index.intersection(b.index)
    x, y = a.loc[common].to_numpy(), b.loc[common].to_numpy()
    if kind == "price":
        frame, max_abs = _price(common, x, y, tol)
    else:
        frame, max_abs = _level(common, x, y, tol)
    return Reconciliation(
        kind=kind,
        tol=float(tol),
        n_common=len(common),
        n_disagree=len(frame),
        first_common=common[0] if len(common) else None,
        last_common=common[-1] if len(common) else None,
        disagreements=frame,
        n_only_a=len(a.index.difference(common)),
        n_only_b=len(b.index.difference(common)),
        max_abs_diff=max_abs,
        names=names,
    )


def _clean(s: pd.Series) -> pd.Series:
    s = pd.Series(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float), index=s.index).dropna()
    s.index = pd.DatetimeIndex(s.index)
    if s.index.has_duplicates:
        raise ValueError(f"duplicate dates in {s.name!r}")
    return s.sort_index()


def _price(
    dates: pd.DatetimeIndex, x: np.ndarray, y: np.ndarray, tol: float
) -> tuple[pd.DataFrame, float]:
    n = len(x)
    step = np.full(n, np.nan)
    ret_a = np.full(n, np.nan)
    ret_b = np.full(n, np.nan)
    if n > 1:
        ratio = np.log(x) - np.log(y)
        step[1:] = np.diff(ratio)
        ret_a[1:] = x[1:] / x[:-1] - 1
        ret_b[1:] = y[1:] / y[:-1] - 1
    events = set(np.flatnonzero(np.abs(step) > tol).tolist())
    rows: list[tuple[int, str]] = []
    consumed: set[int] = set()
    for p in sorted(events):
        if p in consumed:
            continue
        s = step[p]
        back = step[p + 1] if p + 1 in events else np.nan
        if abs(s + back) <= max(tol, 0.01 * abs(s)):  # one bar off, the next one back in line
            rows.append((p, REVISION if abs(s) <= REVISION_MAX else MISMATCH))
            consumed.add(p + 1)
        elif p == n - 1:
            rows.append((p, PARTIAL))
        elif ADJUSTMENT_STEP[0] <= abs(s) <= ADJUSTMENT_STEP[1]:
            rows.append((p, ADJUSTMENT))
        else:
            rows.append((p, MISMATCH))
    pos = np.array([p for p, _ in rows], dtype=int)
    frame = pd.DataFrame(
        {
            "a": x[pos],
            "b": y[pos],
            "return_a": ret_a[pos],
            "return_b": ret_b[pos],
            "step": step[pos],
            "classification": [c for _, c in rows],
        },
        index=pd.DatetimeIndex(dates[pos], name="date"),
    )
    return frame, float(np.nanmax(np.abs(step))) if n > 1 else 0.0


def _level(
    dates: pd.DatetimeIndex, x: np.ndarray, y: np.ndarray, tol: float
) -> tuple[pd.DataFrame, float]:
    n = len(x)
    diff = x - y
    bad = np.abs(diff) > tol
    classes = []
    for p in np.flatnonzero(bad):
        if p == n - 1 and (n == 1 or not bad[p - 1]):
            classes.append(PARTIAL)
        elif abs(diff[p]) <= REVISION_MAX * max(abs(x[p]), abs(y[p])):
            classes.append(REVISION)
        else:
            classes.append(MISMATCH)
    frame = pd.DataFrame(
        {"a": x[bad], "b": y[bad], "diff": diff[bad], "classification": classes},
        index=pd.DatetimeIndex(dates[bad], name="date"),
    )
    return frame, float(np.abs(diff).max()) if n else 0.0


# -- the store-wide check-up ---------------------------------------------------------------------

#: tolerance per kind of series: a price step of 1e-5 is float32 noise in re-saved files; a
#: decimal return of 5e-5 is the rounding of a percent figure printed with two decimals
TOLERANCES = {"price": 1e-5, "return": 5e-5, "level": 1e-3}
# Which series are prices and which pairs of different series measure the same thing (FEDFUNDS
# and DFF's monthly mean) is said by each publisher's registration (``prices``, ``cross_checks``).


@dataclass(frozen=True, slots=True, eq=False)
class Check:
    """One comparison of the check-up: what was compared and how it came out."""

    subject: str
    a: str
    b: str
    result: Reconciliation
    findings: tuple[Finding, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready record (first disagreeing dates included, up to 20), with its findings."""
        r = self.result
        head = r.disagreements.head(20).reset_index()
        return {
            "subject": self.subject, "a": self.a, "b": self.b, "kind": r.kind, "tol": r.tol,
            "common": r.n_common, "disagree": r.n_disagree, "counts": r.counts(),
            "max_abs_diff": r.max_abs_diff, "summary": r.summary(),
            "first_disagreements": head.to_dict(orient="records"),
            "findings": [f.to_dict() for f in self.findings],
        }  # fmt: skip


def _kind(series_id: str, units: str) -> tuple[Literal["price", "level"], float]:
    if publishers.compares_prices(series_id, units):
        return "price", TOLERANCES["price"]
    if "return" in units:
        return "level", TOLERANCES["return"]
    return "level", TOLERANCES["level"]


def checkup(store: Store, *, series: list[str] | None = None) -> list[Check]:
    """Compare every series' consecutive vintages, and the known cross-series pairs.

    Parameters
    ----------
    store : Store
    series : list of str, optional
        Only these series (default: every series with two or more vintages).

    Returns
    -------
    list of Check
        Vintage pairs first (oldest first), then the cross checks whose series are stored.
    """
    listing = listing_all = store.series_list()
    if series is not None:
        missing = sorted(set(series) - set(listing["series_id"]))
        if missing:
            raise UnknownSeriesError(missing[0], listing["series_id"])
        listing = listing[listing["series_id"].isin(series)]
    checks: list[Check] = []
    for row in listing[listing["vintages"] >= 2].itertuples(index=False):
        kind, tol = _kind(row.series_id, str(row.units))
        v = store.vintages(row.series_id)
        for (_, old), (_, new) in itertools.pairwise(v.iterrows()):
            a = store.vintage_data(int(old["vintage_id"])).series(f"vintage {old['vintage_id']}")
            b = store.vintage_data(int(new["vintage_id"])).series(f"vintage {new['vintage_id']}")
            if kind == "price" and ((a <= 0).any() or (b <= 0).any()):
                kind, tol = "level", TOLERANCES["level"]
            result = reconcile(a, b, kind=kind, tol=tol)
            found = findings(
                row.series_id, a, b, result, units=str(row.units),
                names=(_when(old), _when(new)),
                vintages=(int(old["vintage_id"]), int(new["vintage_id"])),
            )  # fmt: skip
            checks.append(Check(row.series_id, _label(old), _label(new), result, found))
        if checks_adjustments(row.series_id):
            _name_faulty(store, row.series_id, checks)
    stored = set(store.series_ids())
    for cross in publishers.cross_checks():
        a_id, b_id, how = cross.a, cross.b, cross.how
        if {a_id, b_id} <= stored and (series is None or {a_id, b_id} & set(series)):
            a = _latest(store, a_id)
            b = _latest(store, b_id)
            b = b.groupby(b.index.to_period("M")).mean()
            b.index = b.index.to_timestamp()
            subject = f"{a_id} vs {b_id}"
            result = reconcile(a, b, kind="level", tol=0.01)
            units = str(listing_all.set_index("series_id").at[a_id, "units"])
            found = findings(subject, a, b, result, units=units, names=(a_id, f"{b_id} ({how})"))
            checks.append(Check(subject, a_id, f"{b_id} ({how})", result, found))
    return checks


def _name_faulty(store: Store, series_id: str, checks: list[Check]) -> None:
    """Replace an adjusted close's dividend/adjustment findings by the faulty vintages' names.

    Each vintage that misses an adjustment another vintage shows (any two vintages, not only
    consecutive ones) gets a :data:`FAULTY` finding, attached to the series' comparison of that
    vintage with its evidence, else to its first comparison.
    """
    own = [i for i, c in enumerate(checks) if c.subject == series_id]
    if not own:
        return
    pairs = {i: _pair(checks[i]) for i in own}
    extra: dict[int, list[Finding]] = {i: [] for i in own}
    for m in faulty_vintages(store, series_id):
        both = [i for i in own if {m.vintage_id, m.evidence_vintage} == set(pairs[i])]
        either = [i for i in own if m.vintage_id in pairs[i]]
        extra[(both or either or own)[0]].append(_faulty_finding(m))
    for i in own:
        c = checks[i]
        kept = tuple(f for f in c.findings if f.classification != ADJUSTMENT) + tuple(extra[i])
        checks[i] = Check(c.subject, c.a, c.b, c.result, kept)


def _pair(check: Check) -> tuple[int, ...]:
    return tuple(int(x.split()[1]) for x in (check.a, check.b))


def _faulty_finding(m: MissedAdjustment) -> Finding:
    effect = -100 * m.shortfall
    return Finding(
        subject=m.series_id, names=(m.capture, f"vintage {m.evidence_vintage}"),
        vintages=(m.vintage_id, m.evidence_vintage), classification=FAULTY, n=1, first=m.date,
        last=m.date, date=m.date, effect=effect, unit="pp", horizon=None, weight=-effect,
        lacks=0, fetch=fetch_spec(m.series_id), missed=m,
    )  # fmt: skip


def _when(vintage: pd.Series) -> str:
    return f"{vintage['fetched_at']:%Y-%m-%d}"


def _label(vintage: pd.Series) -> str:
    return f"vintage {vintage['vintage_id']} ({vintage['fetched_at']:%Y-%m-%d})"


def _latest(store: Store, series_id: str) -> pd.Series:
    vid = int(store.vintages(series_id)["vintage_id"].iloc[-1])
    return store.vintage_data(vid).series(series_id)


# -- ranking: what each disagreement does to the figures that read the series ------------------

#: return horizons (calendar months) whose change measures a price disagreement's effect
HORIZONS = (1, 3)
#: what to do, by kind; the store reads the newest vintage of every series
ACTIONS = {
    ADJUSTMENT: "the newest vintage is read: refetch ({fetch}) or keep the older capture",
    REVISION: "the publisher revised its history; the newest vintage is read: nothing to do",
    PARTIAL: "a capture taken before the close; the newest vintage is read: nothing to do",
    MISMATCH: "the copies differ beyond a revision: inspect (smallcaps doctor {sid} --json)",
    MISSING: "refetch ({fetch}) to fill the dates",
    FAULTY: "reads of that vintage apply the missing adjustment; refetch ({fetch}) to replace it",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One kind of disagreement in one comparison, with its effect on figures.

    Parameters
    ----------
    subject : str
        Series id (or ``"A vs B"`` for a cross check).
    names : tuple of str
        The two copies: fetch dates of the vintages, or series ids.
    vintages : tuple of int, or None
        Vintage ids of the two copies (None for a cross check).
    classification : str
        ``dividend/adjustment``, ``revision``, ``partial last bar``, ``mismatch`` or
        ``missing rows``.
    n : int
        Disagreeing dates of this kind.
    first, last, date : Timestamp
        First and last such date, and the one behind ``effect``.
    effect : float
        For prices and returns: the largest ``r_a - r_b`` (in pp) of an ``horizon``-month
        return ending in a window that contains one of these dates, ``r`` computed on each copy's
        own dates; for a missing dividend, signed as the copy that lacks it (``lacks``) minus the
        other. A window ``(t - h months, t]`` counts when it holds one of the dates.
        For levels: the largest ``a - b`` on these dates, in ``unit``.
    unit : str
        ``pp`` or the series' units.
    horizon : int or None
        Months of the return behind ``effect`` (None for levels).
    weight : float
        Sort key: ``|effect|`` in pp, or for levels in other units ``|a - b|`` as a percent of
        the value (NaN effects weigh 0).
    lacks : int or None
        For a dividend/adjustment: 0 or 1, the copy without it (the one with the lower return).
    fetch : str or None
        The ``smallcaps fetch`` spec that refreshes the series, when known.
    missed : MissedAdjustment or None
        For a faulty vintage: the adjustment it misses (its ex-date, dividend and evidence).
    """

    subject: str
    names: tuple[str, str]
    vintages: tuple[int, int] | None
    classification: str
    n: int
    first: pd.Timestamp
    last: pd.Timestamp
    date: pd.Timestamp
    effect: float
    unit: str
    horizon: int | None
    weight: float
    lacks: int | None
    fetch: str | None
    missed: MissedAdjustment | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready record."""
        return {
            "subject": self.subject, "names": list(self.names),
            "vintages": None if self.vintages is None else list(self.vintages),
            "classification": self.classification, "n": self.n,
            "first": f"{self.first:%Y-%m-%d}", "last": f"{self.last:%Y-%m-%d}",
            "date": f"{self.date:%Y-%m-%d}", "effect": _finite(self.effect), "unit": self.unit,
            "horizon_months": self.horizon, "weight": _finite(self.weight), "lacks": self.lacks,
            "fetch": self.fetch, "line": self.line(),
            "missed": None if self.missed is None else self.missed.to_dict(),
        }  # fmt: skip

    def effect_text(self) -> str:
        """``3-month return off by -0.18 pp`` or ``off by up to 0.238 percent``."""
        if not math.isfinite(self.effect):
            return "no common value to compare"
        if self.horizon is not None:
            return f"{self.horizon}-month return off by {self.effect:+.2f} pp"
        return f"off by up to {self.effect:+.3g} {self.unit}"

    def line(self) -> str:
        """One sentence: which series, what disagrees, its effect, what to do."""
        fetch = f"smallcaps fetch {self.fetch}" if self.fetch else "smallcaps fetch"
        if self.missed is not None:
            return f"{self.missed.reason(': ')}; {ACTIONS[FAULTY].format(fetch=fetch)}"
        a, b = self.names
        cross = self.vintages is None
        span = (
            f"{self.first:%Y-%m-%d}" if self.n == 1
            else f"{self.n:,} dates {self.first:%Y-%m-%d}..{self.last:%Y-%m-%d}"
        )  # fmt: skip
        own = (lambda x: x) if cross else (lambda x: f"vintage {x}")
        if self.classification == ADJUSTMENT and self.lacks is not None:
            what = (
                f"{own(self.names[self.lacks])} misses the {span} dividend/adjustment"
                if self.n == 1
                else f"{own(self.names[self.lacks])} misses {self.n} dividends/adjustments "
                f"{self.first:%Y-%m-%d}..{self.last:%Y-%m-%d}"
            )
        elif self.classification == PARTIAL:
            what = f"{own(a)} has a partial last bar {span}"
        elif self.classification == MISSING:
            what = f"{span} missing in one copy ({own(a)} vs {own(b)})"
        else:
            what = f"{self.classification} on {span} ({own(a)} vs {own(b)})"
        fetch = f"smallcaps fetch {self.fetch}" if self.fetch else "smallcaps fetch"
        action = ACTIONS[self.classification].format(fetch=fetch, sid=self.subject.split()[0])
        return f"{self.subject}: {what}: {self.effect_text()}; {action}"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def ranked(checks: list[Check]) -> list[Finding]:
    """Every finding of ``checks``, largest effect first (ties: subject, then kind).

    Effects in pp (returns, rates) come first: figures read them; differences in other units
    (volumes, index levels), ranked by their size relative to the value, follow.
    """
    found = [f for c in checks for f in c.findings]
    return sorted(found, key=lambda f: (f.unit != "pp", -f.weight, f.subject, f.classification))


def fetch_spec(series_id: str) -> str | None:
    """The ``kind:name`` spec whose series ids start like ``series_id`` (longest match)."""
    from smallcaps.sources import catalog

    best: tuple[int, str] | None = None
    for spec in catalog.default_specs():
        prefix = catalog.series_prefix(spec)
        hit = series_id == prefix or series_id.startswith(prefix.rstrip("/") + "/")
        if prefix and hit and (best is None or len(prefix) > best[0]):
            best = (len(prefix), str(spec))
    return None if best is None else best[1]


def window_returns(s: pd.Series, months: int) -> pd.Series:
    """Return over the calendar window ending at each date: ``s(t) / s(t') - 1``.

    ``t'`` is the last date on or before ``t - months`` (NaN when there is none).
    """
    idx = pd.DatetimeIndex(s.index)
    pos = idx.searchsorted(idx - pd.DateOffset(months=months), side="right") - 1
    values = s.to_numpy(dtype=float)
    out = np.full(len(values), np.nan)
    ok = pos >= 0
    out[ok] = values[ok] / values[pos[ok]] - 1
    return pd.Series(out, index=idx)


def findings(
    subject: str,
    a: pd.Series,
    b: pd.Series,
    result: Reconciliation,
    *,
    units: str,
    names: tuple[str, str],
    vintages: tuple[int, int] | None = None,
) -> tuple[Finding, ...]:
    """Group one comparison's disagreements by kind and measure each group's effect.

    Prices (and decimal returns, compounded into an index) are judged by their 1- and 3-month
    returns, computed on each copy's own dates; levels by their largest difference.
    """
    a, b = _clean(a), _clean(b)
    groups: dict[str, pd.DatetimeIndex] = {
        str(k): pd.DatetimeIndex(g.index)
        for k, g in result.disagreements.groupby("classification", sort=False)
    }
    if len(a) and len(b):  # dates inside the common span present in one copy only
        lo, hi = max(a.index[0], b.index[0]), min(a.index[-1], b.index[-1])
        gaps = a.index.symmetric_difference(b.index)
        gaps = gaps[(gaps >= lo) & (gaps <= hi)]
        if len(gaps):
            groups[MISSING] = pd.DatetimeIndex(gaps)
    if not groups:
        return ()
    returns = result.kind == "price" or "return" in units
    if returns:
        wa, wb = (a, b) if result.kind == "price" else ((1 + a).cumprod(), (1 + b).cumprod())
        diffs = {
            h: (window_returns(wa, h) - window_returns(wb, h)).dropna() * 100 for h in HORIZONS
        }
    fetch = None if vintages is None else fetch_spec(subject)
    out = []
    for kind, dates in groups.items():
        dates = dates.sort_values()
        lacks = None
        if returns:
            effect, horizon, date = _window_effect(diffs, dates)
            unit = "pp"
            weight = abs(effect) if math.isfinite(effect) else 0.0
            if kind == ADJUSTMENT:
                row = result.disagreements.loc[date] if date in result.disagreements.index else None
                if row is not None and "return_a" in row:
                    lacks = 0 if row["return_a"] < row["return_b"] else 1
                    effect = effect if lacks == 0 else -effect
        else:
            common = dates.intersection(a.index).intersection(b.index)
            d = a.reindex(common) - b.reindex(common)
            if len(d):
                at = d.abs().idxmax()
                effect, date = float(d[at]), pd.Timestamp(at)
                scale = max(abs(float(a[at])), abs(float(b[at])))
            else:
                effect, date, scale = math.nan, dates[0], math.nan
            horizon = None
            unit = "pp" if units.strip().lower() == "percent" else units
            if not math.isfinite(effect):
                weight = 0.0
            elif unit == "pp":
                weight = abs(effect)
            else:
                weight = 100 * abs(effect) / scale if scale > 0 else 0.0
        out.append(Finding(
            subject=subject, names=names, vintages=vintages, classification=kind, n=len(dates),
            first=dates[0], last=dates[-1], date=date, effect=effect, unit=unit,
            horizon=horizon, weight=weight, lacks=lacks, fetch=fetch,
        ))  # fmt: skip
    return tuple(out)


def _window_effect(
    diffs: dict[int, pd.Series], dates: pd.DatetimeIndex
) -> tuple[float, int | None, pd.Timestamp]:
    # windows (t - h months, t] that contain a date of the group; the largest |r_a - r_b| among
    # them, the horizon, and the group's date inside that window (the latest one before t)
    best: tuple[float, int | None, pd.Timestamp] = (math.nan, None, dates[0])
    for h, d in diffs.items():
        ends = pd.DatetimeIndex(d.index)
        pos = dates.searchsorted(ends, side="right") - 1
        ok = pos >= 0
        inside = np.zeros(len(ends), dtype=bool)
        starts = dates[np.where(ok, pos, 0)]
        inside[ok] = ends[ok] - pd.DateOffset(months=h) < starts[ok]
        if not inside.any():
            continue
        vals = d.to_numpy()[inside]
        i = int(np.argmax(np.abs(vals)))
        if not math.isfinite(best[0]) or abs(vals[i]) > abs(best[0]):
            best = (float(vals[i]), h, pd.Timestamp(starts[inside][i]))
    return best
