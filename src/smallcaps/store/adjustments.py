"""Adjusted closes that miss a dividend: which vintage, which ex-date, and the repaired series.

Yahoo's adjusted close scales the history before each ex-date by ``1 - dividend / previous
close``. A capture kept up to date by appending days (or spliced from two downloads) lacks
some of those factors: its return over the ex-date is the price return, too low by the
dividend yield. Two captures of one instrument then differ by a step in ``log(a / b)`` on that
date that stays (:data:`smallcaps.store.doctor.ADJUSTMENT`); the capture with the lower return
on the day lacks the adjustment. A stored dividends series (``price/<T>/dividends``, live
fetches) shows the same without a second capture.

:func:`missed_adjustments` names what one vintage misses, judged only with what was known by a
time (no later vintage judges an earlier one before it was fetched); :func:`repaired` applies
the missing factors, so the consistent series keeps the faulty vintage's newest rows. The
as-of door (:func:`smallcaps.access.read`) does both for every ``price/<T>/adj_close`` read;
``smallcaps doctor`` lists every faulty vintage (:func:`faulty_vintages`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from smallcaps.sources.yahoo import implied_dividends

if TYPE_CHECKING:
    from smallcaps.store.db import Store

#: an implied dividend of at least this share of the step's cash calls the step an ex-date
EX_DATE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class MissedAdjustment:
    """One adjustment a vintage of an adjusted close lacks.

    Parameters
    ----------
    series_id : str
        ``price/<T>/adj_close``.
    vintage_id : int
        The faulty vintage.
    capture : str
        What the vintage was read from: the mirror folder (``yf_ohlcv_2026-06``) or the URL.
    fetched_at : Timestamp
        When the faulty vintage was fetched (naive UTC).
    date : Timestamp
        The ex-date (or splice date) whose adjustment is missing.
    step : float
        ``log`` of the missing factor: the vintage's return over ``date`` is ``exp(-step)``
        times what it should be (> 0).
    dividend : float or None
        Cash per share the step stands for (USD), when a raw close or a dividends series says.
    is_dividend : bool or None
        Whether ``date`` is an ex-date (the evidence shows a dividend there); False for a splice
        of captures adjusted at different times; None when nothing says.
    evidence : str
        Where the missing adjustment shows: another vintage or the dividends series.
    evidence_vintage : int
        Vintage id of that evidence.
    """

    series_id: str
    vintage_id: int
    capture: str
    fetched_at: pd.Timestamp
    date: pd.Timestamp
    step: float
    dividend: float | None
    is_dividend: bool | None
    evidence: str
    evidence_vintage: int

    @property
    def shortfall(self) -> float:
        """How much too low a return spanning ``date`` is, as a fraction (``1 - exp(-step)``)."""
        return 1.0 - math.exp(-self.step)

    def what(self) -> str:
        """``the 2026-03-17 dividend ($0.442, from vintage 1933 ...)`` or a splice."""
        day = f"{self.date:%Y-%m-%d}"
        cash = f"${self.dividend:.3f}, " if self.dividend is not None else ""
        if self.is_dividend is False:
            return (
                f"the adjustment on {day} (a splice of captures adjusted at different times: "
                f"{self.evidence} has no ex-date there)"
            )
        return f"the {day} dividend ({cash}from {self.evidence})"

    def reason(self, sep: str = " ") -> str:
        """One sentence: the vintage, what it misses, the effect on returns.

        ``sep`` follows the series id (the doctor writes ``"id: vintage ..."`` like its other
        findings).
        """
        return (
            f"{self.series_id}{sep}vintage {self.vintage_id} ({self.capture}, fetched "
            f"{self.fetched_at:%Y-%m-%d}) misses {self.what()}: adjusted returns spanning "
            f"{self.date:%Y-%m-%d} are {100 * self.shortfall:.2f}% too low"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready record (provenance: ``avoided``)."""
        return {
            "vintage_id": self.vintage_id,
            "capture": self.capture,
            "date": f"{self.date:%Y-%m-%d}",
            "dividend": self.dividend,
            "is_dividend": self.is_dividend,
            "shortfall": self.shortfall,
            "evidence": self.evidence,
            "evidence_vintage": self.evidence_vintage,
            "reason": self.reason(),
        }


def checks_adjustments(series_id: str) -> bool:
    """Whether reads of ``series_id`` are checked for missed adjustments (Yahoo adjusted closes)."""
    parts = series_id.split("/")
    return len(parts) == 3 and parts[0] == "price" and parts[2] == "adj_close"


def capture_name(url: str) -> str:
    """``file:///.../yf_ohlcv_2026-06/IWM.csv`` -> ``yf_ohlcv_2026-06``; other URLs as they are."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = PurePosixPath(parts.path)
        return path.parent.name or path.name
    return url.split("?")[0]


def missed_adjustments(
    store: Store, series_id: str, vintage_id: int, *, known_by: pd.Timestamp | None = None
) -> tuple[MissedAdjustment, ...]:
    """The adjustments one vintage of ``price/<T>/adj_close`` lacks, as known by a time.

    Evidence: every other vintage of the series, and the newest vintage of
    ``price/<T>/dividends``, fetched by ``known_by`` (all when None). On a date where the two
    adjusted closes step apart for good (an adjustment, not a one-bar revision or a partial last
    bar), the one with the lower return lacks it. The cash amount comes from the dividends
    series, else from the other vintage's adjusted/raw close pair (same payload), else from the
    step and any raw close known.

    Returns
    -------
    tuple of MissedAdjustment
        Oldest date first; empty when the vintage is consistent with everything known.
    """
    vint = store.vintages(series_id)
    fetched = _naive(vint["fetched_at"])
    ids = vint["vintage_id"].to_numpy(dtype=np.int64)
    if vintage_id not in ids:
        raise ValueError(f"vintage {vintage_id} is not a vintage of {series_id!r}")
    here = int(np.flatnonzero(ids == vintage_id)[0])
    known = _known(vint, known_by)
    others = [int(v) for v, ok in zip(ids, known, strict=True) if ok and v != vintage_id]
    dividends = _known_dividends(store, series_id, known_by)
    closes = _known_closes(store, series_id, known_by)
    key = f"missed:{series_id}:{tuple(others)}:{dividends and dividends[0]}:{tuple(closes)}"
    data = store.vintage_data(vintage_id)
    got = data.extras.get(key)
    if got is not None:
        return got  # type: ignore[no-any-return]
    row = vint.iloc[here]
    faulty = data.series(series_id).dropna()
    found: dict[pd.Timestamp, MissedAdjustment] = {}
    base = {
        "series_id": series_id,
        "vintage_id": vintage_id,
        "capture": capture_name(str(row["url"])),
        "fetched_at": pd.Timestamp(fetched[here]),
    }
    close_of = {int(v): s for v, s in closes.items()}
    sha_of = dict(zip(ids.tolist(), vint["sha256"].astype(str), strict=True))
    twins = {v: _twin_close(store, series_id, sha_of[v], close_of) for v in others}
    # evidence with its own raw close first (it tells an ex-date from a splice), newest first
    for other in sorted(others, key=lambda v: (twins[v] is None, -others.index(v))):
        good = store.vintage_data(other).series(series_id).dropna()
        twin = twins[other]
        for date, step in _lower_steps(faulty, good):
            if date in found:
                continue
            cash, is_div, source = _amount(date, step, good, twin, closes, other)
            found[date] = MissedAdjustment(
                **base, date=date, step=step, dividend=cash, is_dividend=is_div,  # type: ignore[arg-type]
                evidence=source, evidence_vintage=other,
            )  # fmt: skip
    if dividends is not None:
        div_vid, paid = dividends
        own = _twin_close(store, series_id, sha_of[vintage_id], close_of)
        close = own if own is not None else _any_close(closes)
        if close is not None:
            implied = implied_dividends(close, faulty)
            for day, cash in paid[paid > 0].items():
                date, cash = pd.Timestamp(day), float(cash)
                if date in found:  # another vintage shows it; the dividends series says how much
                    found[date] = _with_cash(found[date], cash, div_vid, series_id)
                    continue
                if date not in implied.index[1:]:
                    continue
                gap = cash - float(implied[date])
                prev = close.loc[:date]
                prev_close = float(prev.iloc[-2]) if len(prev) > 1 else math.nan
                if gap < EX_DATE_SHARE * cash or not prev_close > gap:
                    continue
                found[date] = MissedAdjustment(
                    **base, date=date, step=-math.log(1 - gap / prev_close), dividend=cash,  # type: ignore[arg-type]
                    is_dividend=True, evidence=_dividends_label(series_id, div_vid),
                    evidence_vintage=div_vid,
                )  # fmt: skip
    out = tuple(found[d] for d in sorted(found))
    data.extras[key] = out
    return out


def faulty_vintages(store: Store, series_id: str) -> list[MissedAdjustment]:
    """Every missed adjustment of every vintage of ``series_id``, judged on all vintages."""
    ids = store.vintages(series_id)["vintage_id"].to_numpy(dtype=np.int64)
    return [m for v in ids for m in missed_adjustments(store, series_id, int(v))]


def repaired(
    dates: np.ndarray, values: np.ndarray, missed: tuple[MissedAdjustment, ...]
) -> np.ndarray:
    """``values`` with the missing factors applied: rows before each date times ``exp(-step)``.

    That is Yahoo's own rule (``1 - dividend / previous close`` on the history before the
    ex-date), with the factor the evidence shows; rows on and after the dates are unchanged.
    """
    out = np.array(values, dtype=float, copy=True)
    for m in missed:
        before = dates < np.datetime64(m.date.to_datetime64(), "ns")
        out[before] *= math.exp(-m.step)
    return out


def partial_bar(store: Store, series_id: str, sha256: str) -> pd.Timestamp | None:
    """The last bar of a price vintage when it is a partial (intraday) snapshot, else None.

    ``price/<T>/<field>`` only: the bar read from the same payload's ``price/<T>/volume`` is
    partial when its volume is 0 after a day with trades (an index that never trades is not
    flagged). Live fetches never store one (:func:`smallcaps.sources.yahoo.partial_last_bar`);
    saved files (the mirror) may hold one.
    """
    parts = series_id.split("/")
    volume_id = f"price/{parts[1]}/volume" if len(parts) == 3 and parts[0] == "price" else None
    if volume_id is None or volume_id not in store.series_ids():
        return None
    vint = store.vintages(volume_id)
    hit = vint.index[vint["sha256"].astype(str) == sha256]
    if not len(hit):
        return None
    data = store.vintage_data(int(vint.at[hit[-1], "vintage_id"]))
    v = data.values[~np.isnan(data.values)]
    if len(v) > 1 and v[-1] == 0 and v[-2] > 0:
        return pd.Timestamp(data.dates[~np.isnan(data.values)][-1])
    return None


# -- evidence ------------------------------------------------------------------------------------


def _lower_steps(faulty: pd.Series, good: pd.Series) -> list[tuple[pd.Timestamp, float]]:
    """Dates where ``faulty``'s return steps below ``good``'s for good, with the step (> 0)."""
    from smallcaps.store.doctor import ADJUSTMENT, TOLERANCES, reconcile

    result = reconcile(faulty.rename("a"), good.rename("b"), kind="price", tol=TOLERANCES["price"])
    d = result.disagreements
    d = d[(d["classification"] == ADJUSTMENT) & (d["step"] < 0)]
    return [(pd.Timestamp(t), -float(s)) for t, s in d["step"].items()]


def _amount(
    date: pd.Timestamp,
    step: float,
    good: pd.Series,
    twin: pd.Series | None,
    closes: dict[int, pd.Series],
    other: int,
) -> tuple[float | None, bool | None, str]:
    """Cash per share behind a step, whether it is an ex-date, and where that comes from."""
    source = f"vintage {other}"
    if twin is not None and date in twin.index:
        implied = implied_dividends(twin, good)
        cash = float(implied.get(date, math.nan))
        prev = twin.loc[:date]
        want = float(prev.iloc[-2]) * (1 - math.exp(-step)) if len(prev) > 1 else math.nan
        if math.isfinite(cash) and math.isfinite(want):
            if cash >= EX_DATE_SHARE * want:
                return cash, True, f"{source}'s adjusted and raw close"
            return None, False, source
    close = _any_close(closes)
    if close is not None:
        prev = close.loc[: date - pd.Timedelta(days=1)]
        if len(prev):
            return float(prev.iloc[-1]) * (1 - math.exp(-step)), None, f"{source} and raw closes"
    return None, None, source


def _twin_close(
    store: Store, series_id: str, sha256: str, closes: dict[int, pd.Series]
) -> pd.Series | None:
    """The raw close read from the same payload as an adjusted vintage, if stored and known."""
    close_id = series_id.rsplit("/", 1)[0] + "/close"
    if close_id not in store.series_ids():
        return None
    vint = store.vintages(close_id)
    for vid, sha in zip(vint["vintage_id"], vint["sha256"].astype(str), strict=True):
        if sha == sha256 and int(vid) in closes:
            return closes[int(vid)]
    return None


def _known_closes(
    store: Store, series_id: str, known_by: pd.Timestamp | None
) -> dict[int, pd.Series]:
    """Raw-close vintages of the instrument fetched by ``known_by``, newest first."""
    close_id = series_id.rsplit("/", 1)[0] + "/close"
    if close_id not in store.series_ids():
        return {}
    vint = store.vintages(close_id)
    ok = _known(vint, known_by)
    vids = [int(v) for v in vint["vintage_id"].to_numpy()[ok]][::-1]
    return {v: store.vintage_data(v).series(close_id).dropna() for v in vids}


def _any_close(closes: dict[int, pd.Series]) -> pd.Series | None:
    return next(iter(closes.values()), None)


def _known_dividends(
    store: Store, series_id: str, known_by: pd.Timestamp | None
) -> tuple[int, pd.Series] | None:
    """The newest ``price/<T>/dividends`` vintage fetched by ``known_by``, if any."""
    div_id = series_id.rsplit("/", 1)[0] + "/dividends"
    if div_id not in store.series_ids():
        return None
    vint = store.vintages(div_id)
    ok = _known(vint, known_by)
    if not ok.any():
        return None
    vid = int(vint["vintage_id"].to_numpy()[ok][-1])
    return vid, store.vintage_data(vid).series(div_id).dropna()


def _dividends_label(series_id: str, vid: int) -> str:
    return f"{series_id.rsplit('/', 1)[0]}/dividends vintage {vid}"


def _with_cash(m: MissedAdjustment, cash: float, vid: int, series_id: str) -> MissedAdjustment:
    return MissedAdjustment(
        m.series_id, m.vintage_id, m.capture, m.fetched_at, m.date, m.step, cash, True,
        f"{m.evidence}; amount from {_dividends_label(series_id, vid)}", m.evidence_vintage,
    )  # fmt: skip


def _known(vint: pd.DataFrame, known_by: pd.Timestamp | None) -> np.ndarray:
    """Which vintages were fetched by ``known_by`` (all when None)."""
    if known_by is None:
        return np.ones(len(vint), dtype=bool)
    return _naive(vint["fetched_at"]) <= known_by.to_datetime64()


def _naive(fetched: pd.Series) -> np.ndarray:
    s = pd.DatetimeIndex(fetched)
    if s.tz is not None:
        s = s.tz_convert(UTC).tz_localize(None)
    return np.asarray(s.values.astype("datetime64[ns]"))
