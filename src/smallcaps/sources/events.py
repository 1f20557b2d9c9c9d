"""Event dates: NBER business-cycle turning points and FOMC meeting dates.

NBER publishes its chronology as JSON (``NBER_URL``); users and dashboards keep it as a
``peak,trough`` CSV of first-of-month dates. Both parse to two event series,
``events/nber/peak`` and ``events/nber/trough`` (value 1.0 on each turning-point month, stamped at
the month's first day as NBER does). A recession that has peaked but not troughed yet is a
peak without a trough. FOMC meeting dates (``events/fomc/meeting``) have no machine-readable
publisher file; they come from a user or mirror CSV with one date column.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import httpx
import pandas as pd

from smallcaps.errors import ConfigError, ParseError
from smallcaps.publishers import Publisher, register
from smallcaps.release import NBER_RELEASE, SAME_DAY
from smallcaps.sources import _http
from smallcaps.sources.base import (
    Payload,
    SeriesMeta,
    Tidy,
    decode_text,
    long_frame,
    reject_empty,
    reject_html,
)

if TYPE_CHECKING:
    from smallcaps.config import Config

NBER_BASE = "https://data.nber.org/data/cycles"  # SMALLCAPS_URL_NBER
NBER_FILE = "/business_cycle_dates.json"
NBER_URL = NBER_BASE + NBER_FILE
SOURCE = "events"


def fetch_nber(*, client: httpx.Client, url: str = NBER_URL) -> Payload:
    """Download NBER's business-cycle dates (JSON bytes); no parsing."""
    return _http.get(client, SOURCE, url)


def parse_nber(data: bytes, *, origin: str) -> pd.DataFrame:
    """Turning points as a frame with columns ``peak`` and ``trough`` (datetime, trough may be NaT).

    Accepts NBER's JSON list of ``{"peak": ..., "trough": ...}`` and the ``peak,trough`` CSV.
    Each trough must follow its peak.
    """
    reject_empty(data, origin)
    reject_html(data, origin, expected="NBER turning points")
    text = decode_text(data, origin).strip()
    if text.startswith("["):
        try:
            raw = pd.DataFrame(json.loads(text), dtype=str)
        except (json.JSONDecodeError, ValueError) as exc:
            raise ParseError(origin, f"not valid JSON: {exc}") from None
    else:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if not {"peak", "trough"} <= set(raw.columns):
        raise ParseError(origin, f"expected columns 'peak' and 'trough', found {list(raw.columns)}")
    out = pd.DataFrame(index=raw.index)
    for col in ("peak", "trough"):
        cells = raw[col].fillna("").astype(str).str.strip()
        dates = pd.to_datetime(cells.replace({"": None}), format="ISO8601", errors="coerce")
        bad = dates.isna() & cells.ne("")
        if bad.any():
            i = int(bad.to_numpy().argmax())
            reason = f"cannot read {cells.iloc[i]!r} as a date"
            raise ParseError(origin, reason, line=i + 2, field=col)
        out[col] = dates.dt.to_period("M").dt.to_timestamp()
    backwards = out["trough"].notna() & out["peak"].notna() & (out["trough"] <= out["peak"])
    if backwards.any():
        i = int(backwards.to_numpy().argmax())
        raise ParseError(origin, "trough is not after its peak", line=i + 2, field="trough")
    return out.sort_values("peak", ignore_index=True)


def tidy_nber(data: bytes, *, origin: str) -> Tidy:
    """Two event series of turning-point months: ``events/nber/peak`` and ``.../trough``."""
    points = parse_nber(data, origin=origin)
    parts, meta = [], {}
    for col in ("peak", "trough"):
        sid = f"events/nber/{col}"
        dates = points[col].dropna()
        parts.append(long_frame(sid, dates, [1.0] * len(dates)))
        meta[sid] = SeriesMeta(
            sid,
            SOURCE,
            f"NBER business-cycle {col}s (month of the turning point)",
            units="event (1.0 on the month)",
            frequency="M",
        )
    return Tidy(pd.concat(parts, ignore_index=True), meta)


def tidy_fomc(data: bytes, *, origin: str) -> Tidy:
    """FOMC meeting dates from a one-date-column CSV as ``events/fomc/meeting`` (value 1.0)."""
    reject_empty(data, origin)
    reject_html(data, origin)
    raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    if raw.shape[1] != 1:
        raise ParseError(origin, f"expected one column of meeting dates, found {list(raw.columns)}")
    cells = raw.iloc[:, 0].str.strip()
    dates = pd.to_datetime(cells, format="ISO8601", errors="coerce")
    if dates.isna().any():
        i = int(dates.isna().to_numpy().argmax())
        raise ParseError(
            origin,
            f"cannot read {cells.iloc[i]!r} as a date",
            line=i + 2,
            field=str(raw.columns[0]),
        )
    sid = "events/fomc/meeting"
    dates = pd.DatetimeIndex(dates.drop_duplicates().sort_values())
    meta = {
        sid: SeriesMeta(
            sid,
            SOURCE,
            "FOMC meeting dates (scheduled and unscheduled as listed)",
            units="event (1.0 on the day)",
            frequency="D",
        )
    }
    return Tidy(long_frame(sid, dates, [1.0] * len(dates)), meta)


# --- the registration ---------------------------------------------------------------------------


def tidy_spec(name: str, data: bytes, *, origin: str) -> Tidy:
    """Parse ``events:nber`` (turning points) or ``events:fomc`` (meeting dates)."""
    return (tidy_nber if name == "nber" else tidy_fomc)(data, origin=origin)


def live(
    name: str, *, client: httpx.Client, config: Config | None = None, **_: object
) -> tuple[Payload, Tidy]:
    """NBER's turning points from its site; FOMC dates have no live route (ConfigError)."""
    if name != "nber":
        raise ConfigError(
            f"{SOURCE}:{name} has no live publisher; pass --mirror DIR or add a user CSV"
        )
    base = NBER_BASE if config is None else config.url("nber", NBER_BASE)
    payload = fetch_nber(client=client, url=base.rstrip("/") + NBER_FILE)
    return payload, tidy_spec(name, payload.data, origin=payload.url)


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="Dated events: NBER turning points, FOMC meetings",
        order=6,
        root=f"{SOURCE}/",
        template=SOURCE + "/{name}/",
        series_id=lambda name, field: f"{SOURCE}/{name}/{field}",
        release={
            f"{SOURCE}/nber/": NBER_RELEASE,  # peak and trough months
            f"{SOURCE}/fomc/": SAME_DAY,  # meeting dates are scheduled in advance
        },
        tidy=lambda name, data, *, origin, **_: tidy_spec(name, data, origin=origin),
        live=live,
        defaults=("nber", "fomc"),
    )
)
