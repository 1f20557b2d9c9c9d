"""The validation gate every payload passes before the store keeps it (:meth:`Store.write`).

A parser checks that bytes follow the publisher's *format*; the gate checks that what they say
is *plausible for the dataset* they claim to be, so that a wrong file never becomes a vintage:

* no observation is dated after the fetch (the day of ``Payload.retrieved_at``, UTC) plus the
  publisher's grace in :data:`GRACE_DAYS`: none for FRED, Ken French and Shiller (their stamps
  are period starts or ends already past); one day for Yahoo, Stooq and iShares (an exchange's
  or fund's local date can be a day ahead of UTC); two years for event calendars (the FOMC
  publishes its meeting schedule ahead);
* a payload whose values are all missing (a French file of ``-99.99`` only) is refused;
* a declared dataset (:data:`FRENCH`, :data:`FRED_UNITS`, :data:`SCHEMAS`) must hold what its
  schema needs: for a French file every declared section with its columns, for the others
  every declared column in the declared units. A section the publisher renamed loads only once
  the new title is declared as an alias (:attr:`Schema.aliases`): its series are then stored
  under the old ids, never as silent new series;
* a zip archive's member must be named after the dataset (``F-F_Research_Data_Factors.csv``
  inside ``F-F_Research_Data_Factors_CSV.zip``).

Datasets that are not declared (a French file we do not use, an unlisted FRED series) get the
generic checks only. Every refusal is a :class:`ParseError` naming the payload's URL and what is
missing, and nothing is written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC

import numpy as np
import pandas as pd

from smallcaps.errors import ParseError
from smallcaps.sources.base import Payload, Tidy

#: days an observation may be dated after its fetch day, by publisher kind (default 0)
GRACE_DAYS: dict[str, int] = {
    "fred": 0,
    "french": 0,
    "shiller": 0,
    "user": 0,
    "yahoo": 1,
    "stooq": 1,
    "ishares": 1,
    "events": 730,
}


@dataclass(frozen=True, slots=True)
class Schema:
    """What one dataset must contain.

    Parameters
    ----------
    columns : mapping
        Required series (the last part of the id, e.g. ``adj_close``), each to a regular
        expression its units must match (searched, case-insensitive; ``""``: any units).
    optional : mapping
        Series that may be absent; when present their units must match.
    sections : mapping
        French: each required section (slug of its title) to the columns it must have.
    aliases : mapping
        French: a new section slug to the declared slug it replaces (a renamed section).
    units : str
        A pattern every series' units must match (iShares weights); ``""``: no rule.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    units: str = ""


# ---- declarations -------------------------------------------------------------------------------

_FF3 = ("Mkt-RF", "SMB", "HML", "RF")
_FF5 = ("Mkt-RF", "SMB", "HML", "RMW", "CMA", "RF")
_DECILES = ("<= 0", "Lo 30", "Med 40", "Hi 30", "Lo 20", "Qnt 2", "Qnt 3", "Qnt 4", "Hi 20",
            "Lo 10", "2-Dec", "3-Dec", "4-Dec", "5-Dec", "6-Dec", "7-Dec", "8-Dec", "9-Dec",
            "Hi 10")  # fmt: skip
_5X5 = tuple(
    f"{'SMALL' if m == 1 else 'BIG' if m == 5 else f'ME{m}'} {'LoBM' if b == 1 else 'HiBM'}"
    if (m in (1, 5) and b in (1, 5))
    else f"ME{m} BM{b}"
    for m in range(1, 6)
    for b in range(1, 6)
)
_2X3 = ("SMALL LoBM", "ME1 BM2", "SMALL HiBM", "BIG LoBM", "ME2 BM2", "BIG HiBM")
_SORTS = ("average-value-weighted-returns-monthly", "average-equal-weighted-returns-monthly",
          "average-value-weighted-returns-annual", "average-equal-weighted-returns-annual",
          "number-of-firms-in-portfolios", "average-market-cap", "value-weight-average-of-be-me",
          "value-weight-average-of-op", "value-weight-average-of-be-fyt-1-me-june-t",
          "value-weight-average-of-investment-rate-of-growth-of-assets")  # fmt: skip
_ONE_WAY = (
    "value-weight-returns-monthly",
    "equal-weight-returns-monthly",
    "value-weight-returns-annual-from-january-to-december",
    "equal-weight-returns-annual-from-january-to-december",
    "number-of-firms-in-portfolios",
    "average-firm-size",
)

#: Ken French datasets: the sections (slugs of their titles) and columns each file must hold
FRENCH: dict[str, Schema] = {
    "F-F_Research_Data_Factors": Schema(
        sections={"monthly": _FF3, "annual-factors-january-december": _FF3}
    ),
    "F-F_Research_Data_Factors_daily": Schema(sections={"daily": _FF3}),
    "F-F_Research_Data_5_Factors_2x3": Schema(
        sections={"monthly": _FF5, "annual-factors-january-december": _FF5}
    ),
    "Portfolios_Formed_on_ME": Schema(
        sections={
            s: _DECILES
            for s in (
                "average-value-weight-returns-monthly",
                "average-equal-weighted-returns-monthly",
                "value-weight-returns-annual-from-january-to-december",
                "equal-weight-returns-annual-from-january-to-december",
                "number-of-firms-in-portfolios",
                "average-firm-size",
            )
        }
    ),
    "Portfolios_Formed_on_BE-ME": Schema(
        sections={s: _DECILES for s in (*_ONE_WAY, "value-weight-average-of-be-me")}
    ),
    "Portfolios_Formed_on_E-P": Schema(
        sections={s: _DECILES for s in (*_ONE_WAY, "value-weight-average-of-e-me")}
    ),
    "25_Portfolios_5x5": Schema(sections={s: _5X5 for s in _SORTS}),
    "6_Portfolios_2x3": Schema(sections={s: _2X3 for s in _SORTS}),
}

_PERCENT = r"^percent"
#: FRED series: the units each must be in (FRED's API words or the project's, see sources.fred)
FRED_UNITS: dict[str, str] = {
    **dict.fromkeys(
        (
            "DFF",
            "EFFR",
            "FEDFUNDS",
            "DFEDTAR",
            "DFEDTARL",
            "DFEDTARU",
            "DGS2",
            "DGS10",
            "T10Y2Y",
            "UNRATE",
            "BAMLH0A0HYM2",
        ),
        _PERCENT,
    ),
    "CPIAUCSL": r"^index 1982-(19)?84\s*=\s*100",
    "GDPC1": r"^billions of chained \d{4} (usd|dollars)",
    "NFCI": r"^index",
    "USRECP": r"^(0/1|\+1 or 0)",
}

_PRICE = r"^(usd|index points|futures quote units)$"
_PRICES = {f"{a}{f}": _PRICE for a in ("", "adj_") for f in ("open", "high", "low", "close")}
#: every other declared dataset, by (publisher kind, dataset); "*" is every dataset of a kind
SCHEMAS: dict[tuple[str, str], Schema] = {
    ("yahoo", "*"): Schema(
        columns={"adj_close": _PRICE},
        optional={**_PRICES, "volume": r"^(shares|contracts)$"},
    ),
    ("shiller", "ie_data"): Schema(
        columns={
            "price": r"^index points$",
            "dividend": r"^usd per index unit$",
            "earnings": r"^usd per index unit$",
            "cpi": r"^index",
            "gs10": _PERCENT,
            "cape": r"^ratio$",
        },
        optional={"real_price": r"^index points$", "tr_cape": r"^ratio$"},
    ),
    ("ishares", "*"): Schema(units=r"^decimal weight"),
    ("events", "fomc"): Schema(columns={"meeting": r"^event"}),
    ("events", "nber"): Schema(columns={"peak": r"^event", "trough": r"^event"}),
}


# ---- the gate -----------------------------------------------------------------------------------


def check(
    payload: Payload,
    tidy: Tidy,
    *,
    french: Mapping[str, Schema] | None = None,
    schemas: Mapping[tuple[str, str], Schema] | None = None,
) -> Tidy:
    """Refuse a payload that cannot be what its dataset is; return the Tidy to store.

    The Tidy comes back unchanged, except that a French section declared as an alias is
    renamed to the section it replaces.

    Parameters
    ----------
    payload : Payload
        Its ``source`` is the publisher kind, ``url`` names it in errors.
    tidy : Tidy
    french, schemas : mapping, optional
        Replace :data:`FRENCH` and :data:`SCHEMAS` (tests).

    Raises
    ------
    ParseError
        Rows dated after the fetch, every value missing, a missing section, column or wrong
        units, or a zip member named for another dataset.
    """
    origin = payload.url
    frame = tidy.frame
    kind = payload.source
    _check_dates(frame, payload, GRACE_DAYS.get(kind, 0))
    values = frame["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    if len(values) and np.isnan(values).all():
        raise ParseError(
            origin,
            f"every value of its {frame['series_id'].nunique():,} series is missing; the file "
            "holds no data (a placeholder or a failed export). Nothing in the store was changed.",
        )
    ids = list(tidy.meta)
    for dataset in sorted(_datasets(kind, ids)):
        _check_zip(payload, kind, dataset)
        if kind == "french":
            schema = (FRENCH if french is None else french).get(dataset)
            if schema is not None:
                tidy = _check_french(tidy, dataset, schema, origin)
        elif kind == "fred":
            units = FRED_UNITS.get(dataset)
            if units is not None:
                _check_units(tidy, Schema(columns={dataset: units}), "", origin, dataset)
        else:
            table = SCHEMAS if schemas is None else schemas
            schema = table.get((kind, dataset)) or table.get((kind, "*"))
            if schema is not None:
                _check_units(tidy, schema, _PREFIX[kind].format(dataset), origin, dataset)
    return tidy


def _check_dates(frame: pd.DataFrame, payload: Payload, grace: int) -> None:
    fetched = pd.Timestamp(payload.retrieved_at)
    fetched = fetched.tz_convert(UTC) if fetched.tzinfo else fetched.tz_localize(UTC)
    limit = fetched.tz_localize(None).normalize() + pd.Timedelta(days=grace)
    dates = pd.DatetimeIndex(frame["date"])
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    late = dates > limit
    if late.any():
        i = int(np.asarray(late).argmax())
        allowed = f" + {grace} day(s) of grace" if grace else ""
        raise ParseError(
            payload.url,
            f"{int(late.sum()):,} row(s) are dated after the fetch date "
            f"{fetched:%Y-%m-%d}{allowed}, e.g. {frame['series_id'].iat[i]!r} on "
            f"{dates[i]:%Y-%m-%d}; a publisher cannot report the future. Nothing in the store "
            "was changed.",
            field="date",
        )


_PREFIX = {"yahoo": "price/{}/", "shiller": "shiller/", "ishares": "ishares/{}/",
           "events": "events/{}/", "stooq": "stooq/{}/"}  # fmt: skip


def _datasets(kind: str, ids: list[str]) -> set[str]:
    """The datasets a payload's series ids belong to, in the publisher's id scheme."""
    out: set[str] = set()
    for sid in ids:
        parts = sid.split("/")
        if kind == "fred":
            out.add(parts[-1])
        elif kind in ("french", "yahoo", "ishares", "events", "stooq") and len(parts) >= 3:
            out.add(parts[1])
        elif kind == "shiller":
            out.add("ie_data")
    return out


def _check_zip(payload: Payload, kind: str, dataset: str) -> None:
    """A zip's data member must be named after the dataset (French zips hold one CSV)."""
    if payload.data[:2] != b"PK" or kind != "french":
        return
    try:
        with zipfile.ZipFile(io.BytesIO(payload.data)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile):
        return  # the parser read it; nothing more to learn here
    want = dataset.lower()
    for name in names:
        stem = re.sub(r"(_csv)?\.(csv|txt)$", "", name.rsplit("/", 1)[-1].lower())
        if stem != want:
            raise ParseError(
                payload.url,
                f"zip member {name!r} is not the dataset {dataset!r} (expected {dataset}.csv); "
                "the archive belongs to another dataset. Nothing in the store was changed.",
            )


def _check_french(tidy: Tidy, dataset: str, schema: Schema, origin: str) -> Tidy:
    prefix = f"french/{dataset}/"
    found: dict[str, set[str]] = {}
    for sid in tidy.meta:
        if sid.startswith(prefix):
            section, _, column = sid[len(prefix) :].partition("/")
            found.setdefault(section, set()).add(column)
    renames = {new: old for new, old in schema.aliases.items() if new in found}
    for new, old in renames.items():
        if old in found:
            raise ParseError(
                origin,
                f"French dataset {dataset!r} has both section {old!r} and its declared alias "
                f"{new!r}; remove the alias. Nothing in the store was changed.",
            )
        found[old] = found.pop(new)
    for section, columns in schema.sections.items():
        if section not in found:
            have = ", ".join(sorted(found)) or "none"
            raise ParseError(
                origin,
                f"French dataset {dataset!r} lacks section {section!r} (found: {have}); if "
                "the publisher renamed it, declare the new title as an alias in "
                "smallcaps.store.gate.FRENCH. Nothing in the store was changed.",
                field=section,
            )
        missing = [c for c in columns if c not in found[section]]
        if missing:
            raise ParseError(
                origin,
                f"French dataset {dataset!r}, section {section!r} lacks column(s) "
                f"{', '.join(map(repr, missing))}. Nothing in the store was changed.",
                field=missing[0],
            )
    return _rename_sections(tidy, prefix, renames) if renames else tidy


def _rename_sections(tidy: Tidy, prefix: str, renames: Mapping[str, str]) -> Tidy:
    def new_id(sid: str) -> str:
        if sid.startswith(prefix):
            section, sep, rest = sid[len(prefix) :].partition("/")
            if section in renames:
                return f"{prefix}{renames[section]}{sep}{rest}"
        return sid

    mapping = {sid: new_id(sid) for sid in tidy.meta}
    frame = tidy.frame.assign(series_id=tidy.frame["series_id"].map(mapping))
    meta = {mapping[sid]: replace(m, series_id=mapping[sid]) for sid, m in tidy.meta.items()}
    return Tidy(frame, meta)


def _check_units(tidy: Tidy, schema: Schema, prefix: str, origin: str, dataset: str) -> None:
    """Required columns present; declared columns (or every series) in the declared units."""
    for column, pattern in [*schema.columns.items(), *schema.optional.items()]:
        sid = prefix + column
        meta = tidy.meta.get(sid)
        if meta is None:
            if column in schema.columns:
                raise ParseError(
                    origin,
                    f"{dataset!r} lacks the column {column!r} ({sid}) its schema requires. "
                    "Nothing in the store was changed.",
                    field=column,
                )
            continue
        if pattern and not re.search(pattern, meta.units, re.IGNORECASE):
            raise ParseError(
                origin,
                f"{sid} is in {meta.units!r}, expected units matching {pattern!r}; the "
                "publisher changed its units. Nothing in the store was changed.",
                field=column,
            )
    if schema.units:
        for sid, meta in tidy.meta.items():
            if sid.startswith(prefix) and not re.search(schema.units, meta.units, re.IGNORECASE):
                raise ParseError(
                    origin,
                    f"{sid} of {dataset!r} is in {meta.units!r}, expected units matching "
                    f"{schema.units!r}. Nothing in the store was changed.",
                )
