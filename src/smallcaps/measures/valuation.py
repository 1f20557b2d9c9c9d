"""Valuation pillar: ``valuation.gap``, small versus large aggregate B/M from the French sorts.

Default: ``25_Portfolios_5x5``, bottom size quintile (five B/M portfolios) against the top one,
each aggregated by total market cap (number of firms x average market cap, see
:mod:`smallcaps.analytics.valuation`), on the ``BE_FYt-1/ME_June t`` ratios (June prices, the
freshest French publishes) and rolled forward to each month's prices with the portfolios'
returns. The mirror has no Size x E/P sort (``Portfolios_Formed_on_E-P`` sorts on E/P alone),
so E/P by size is available only if such a file is stored (``dataset=6_Portfolios_ME_EP_2x3``
with ``section=`` its ratio section). Shiller's CAPE gives the large-cap context; a vendor's
P/E of small and large caps can be given as user series (``vendor_small=user/r2000_fpe``).
"""

from __future__ import annotations

import re

import pandas as pd

from smallcaps import publishers
from smallcaps.analytics.valuation import (
    Prices,
    ValuationReport,
    aggregate_ratio,
    groups_for,
    level_in_history,
    price_dates,
    ratio_label,
    roll_forward,
    valuation_gap,
    vendor_pe,
)
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.measures.size import Reader
from smallcaps.registry import View, register

slug = publishers.helper("french", "slug")  # a French section title as it appears in ids
DATASET = "25_Portfolios_5x5"  # French 25 Size x B/M portfolios: the default gap
CAPE = publishers.series_id("shiller", "cape")
SECTIONS = {
    "december": slug("Value Weight Average of BE/ME Calculated for June of t to June of t+1 as:"),
    "june": slug(
        "Value Weight Average of BE_FYt-1/ME_June t Calculated for June of t to June of t+1 as:"
    ),
}
COUNTS = slug("Number of Firms in Portfolios")
CAPS = slug("Average Market Cap")
RETURNS = slug("Average Value Weighted Returns -- Monthly")
_SHAPE = re.compile(r"(\d+)x(\d+)$")


def portfolio_columns(dataset: str) -> list[str]:
    """Column names of a French two-way Size x ratio file, e.g. ``25_Portfolios_5x5``.

    ``SMALL LoBM``, ``ME1 BM2``, ..., ``SMALL HiBM``, ``ME2 BM1``, ..., ``BIG HiBM``: the
    corners are named SMALL/BIG with Lo/Hi, the rest ``ME<i> <X><j>`` with ``X`` = ``BM`` (or
    ``EP`` when the dataset name has ``EP``).

    Raises
    ------
    ConfigError
        A dataset name without the ``<rows>x<cols>`` shape suffix.
    """
    match = _SHAPE.search(dataset)
    if not match:
        raise ConfigError(
            f"dataset {dataset!r} is not a French Size x ratio sort named like "
            "'25_Portfolios_5x5' or '6_Portfolios_2x3'"
        )
    rows, cols = int(match.group(1)), int(match.group(2))
    tag = "EP" if "EP" in dataset.upper().split("_") else "BM"
    names = []
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if i in (1, rows) and j in (1, cols):
                names.append(f"{'SMALL' if i == 1 else 'BIG'} {'Lo' if j == 1 else 'Hi'}{tag}")
            else:
                names.append(f"ME{i} {tag}{j}")
    return names


@register(
    "valuation.gap",
    description=(
        "Aggregate B/M of small vs large caps from the Ken French Size x B/M sorts (cap-weighted "
        "across portfolios): the relative discount, its percentile and z-score in history, when "
        "it was last as wide; Shiller CAPE; optional vendor P/E series."
    ),
)
def run(
    view: View,
    *,
    dataset: str = DATASET,
    small: tuple[int, ...] = (1,),
    big: tuple[int, ...] = (5,),
    prices: str = "june",
    section: str | None = None,
    roll: bool = True,
    min_obs: int = 120,
    cape: str | None = CAPE,
    vendor_small: str | None = None,
    vendor_big: str | None = None,
    claim_discount: float | None = None,
    claim_date: str | None = None,
    claim_pe_small: float | None = None,
    claim_pe_big: float | None = None,
) -> ValuationReport:
    """Small versus large valuation gap.

    Parameters
    ----------
    view : View
        Series as of a date.
    dataset : str
        French Size x ratio file (``25_Portfolios_5x5``, ``6_Portfolios_2x3``).
    small, big : tuple of int
        Size groups (1 = smallest) forming small and big; ``(1,)`` and ``(5,)`` for quintiles,
        ``(1,)`` and ``(2,)`` for the 2x3 file.
    prices : {"june", "december"}
        Which published ratio: BE over June-``t`` ME, or French's BE/ME over December ``t-1``.
    section : str
        Override the ratio section slug (for an E/P file); ``prices`` then only labels it.
    roll : bool, default True
        Also roll June ratios forward to each month's prices (not for December ratios).
    min_obs : int, default 120
        Fewest months of history for percentiles.
    cape : str
        Shiller CAPE series id; empty to leave it out.
    vendor_small, vendor_big : str
        User series ids of a vendor's P/E (e.g. forward P/E of the Russell 2000 and S&P 500).
    claim_discount, claim_date, claim_pe_small, claim_pe_big : optional
        A claimed discount (a share, 0.35 for 35%) and the month it was last that wide
        (``YYYY-MM``), and claimed P/Es of small and big; the summary compares them with the
        data (a thesis passes them; none by default).
    """
    if prices not in SECTIONS:
        raise ConfigError(f"valuation.gap: prices must be 'june' or 'december', got {prices!r}")
    if bool(vendor_small) != bool(vendor_big):
        raise ConfigError("valuation.gap: pass both vendor_small= and vendor_big=, or neither")
    if prices not in SECTIONS:
        raise ConfigError(f"valuation.gap: prices={prices!r} is not one of {', '.join(SECTIONS)}")
    columns = portfolio_columns(dataset)
    small_cols = groups_for(columns, small, what="valuation.gap small")
    big_cols = groups_for(columns, big, what="valuation.gap big")
    if set(small_cols) & set(big_cols):
        raise ConfigError(f"valuation.gap: small {small} and big {big} overlap")
    ratio_slug = section or SECTIONS[prices]
    read = Reader(view)
    wanted = small_cols + big_cols

    def table(part: str) -> pd.DataFrame:
        ids = {c: publishers.series_id("french", dataset, part, c) for c in wanted}
        return pd.concat({c: read(sid, c) for c, sid in ids.items()}, axis=1, sort=True)

    ratios, counts, caps = table(ratio_slug), table(COUNTS), table(CAPS)
    label = ratio_label(ratio_slug)
    small_name = f"size group {'+'.join(map(str, small))} of {dataset}"
    big_name = f"size group {'+'.join(map(str, big))}"

    def gap_of(r: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        return aggregate_ratio(r, counts, caps, small_cols), aggregate_ratio(
            r, counts, caps, big_cols
        )

    s, b = gap_of(ratios)
    gap = valuation_gap(s, b, min_obs=min_obs, ratio=label)
    notes = []
    updated = None
    if roll and prices == "june" and not section:
        rets = table(RETURNS)
        s_up, b_up = gap_of(roll_forward(ratios, rets))
        updated = valuation_gap(s_up, b_up, min_obs=min_obs, ratio=label)
        notes.append(
            "rolled-forward ratios divide each June-t ratio by the portfolio's compounded "
            "return since July t (returns include dividends, so B/M falls slightly too much: "
            "at most a year's dividend yield)"
        )
    elif roll and prices == "december":
        notes.append(
            "December ratios are not rolled forward: their prices precede the June portfolio "
            "formation, so the portfolios' returns do not cover the gap"
        )
    cape_level = None
    if cape:
        c = read.maybe(cape, "CAPE")
        if c is None:
            notes.append(f"{cape!r} is not stored (as of the view): no CAPE context")
        else:
            try:
                cape_level = level_in_history(c, name="Shiller CAPE")
            except InsufficientDataError as exc:
                notes.append(str(exc))
    vendor = None
    if vendor_small and vendor_big:
        vendor = vendor_pe(read(vendor_small, vendor_small), read(vendor_big, vendor_big))
    when: Prices = "june" if prices == "june" else "december"
    prices_of = price_dates(pd.DatetimeIndex([gap.date]), prices=when)[0]
    method = (
        f"{label} of each size group = sum over its portfolios of N x average cap x {label} / "
        f"sum of N x average cap (French {dataset}, section '{ratio_slug}', ratios on "
        f"{'June t' if prices == 'june' else 'December t-1'} prices for rows July t..June t+1); "
        f"gap = log({label} small / {label} big); discount = 1 - exp(-gap); percentile = share "
        "of months with a gap at or below the last; z-score on the full history to the last "
        "month"
    )
    report = ValuationReport(
        gap=gap,
        prices_of=prices_of,
        updated=updated,
        cape=cape_level,
        vendor=vendor,
        small_label=small_name,
        big_label=big_name,
        claim_discount=claim_discount or None,
        claim_date=claim_date or None,
        claim_pe_small=claim_pe_small or None,
        claim_pe_big=claim_pe_big or None,
        method=method,
        notes=tuple(notes),
    )
    return read.stamp(report)
