"""iShares fund holdings (the "Detailed Holdings and Analytics" CSV): one snapshot per download.

Layout: a preamble (fund name, ``Fund Holdings as of,"Jun 19, 2026"``, inception date, ...), a
blank line, a header, one quoted line per holding, a blank line and a legal footer (one quoted
field spanning several lines). Headers differ between funds: IVV has ``Weight (%)``; IJR adds
``Type`` and puts ``Market Weight`` and ``Notional Weight`` last. Columns are found by name.
Numbers carry thousands separators (``"66,485,993,542.11"``); ``-`` means "none".

Weights are stored as decimals (``7.90`` -> ``0.079``). Besides shares, a file lists cash,
collateral, money-market funds, index futures and, for some funds, total-return swaps on single
stocks (asset class ``Equity``, market value 0, weight ``-``; the swap's exposure is in
``notional_weight``). :func:`tidy` keeps what the weights are about: equity lines with a reported
market weight (see there).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import httpx
import pandas as pd

from smallcaps.errors import ParseError, UnknownSeriesError
from smallcaps.publishers import Capture, Publisher, register
from smallcaps.release import NEXT_BUSINESS_DAY
from smallcaps.sources._http import get
from smallcaps.sources.base import (
    TIDY_COLUMNS,
    Payload,
    SeriesMeta,
    Tidy,
    decode_text,
    reject_empty,
    reject_html,
)

if TYPE_CHECKING:
    from smallcaps.config import Config

SOURCE = "ishares"
BASE = "https://www.ishares.com/us/products"  # SMALLCAPS_URL_ISHARES
PATH = "/{product_id}/{slug}/1467271812596.ajax?fileType=csv&fileName={fund}_holdings&dataType=fund"
URL = BASE + PATH


@dataclass(frozen=True, slots=True)
class Fund:
    """An iShares fund we know the product page of."""

    ticker: str
    product_id: str
    slug: str
    name: str  # as on the first line of the holdings file


FUNDS: dict[str, Fund] = {
    f.ticker: f
    for f in (
        Fund("IVV", "239726", "ishares-core-sp-500-etf", "iShares Core S&P 500 ETF"),
        Fund("IJR", "239774", "ishares-core-sp-smallcap-etf", "iShares Core S&P Small-Cap ETF"),
        Fund("IWM", "239710", "ishares-russell-2000-etf", "iShares Russell 2000 ETF"),
    )
}

# our column -> the publisher's header names, first match wins; None marks optional columns
_TEXT = {
    "ticker": ("Ticker",),
    "name": ("Name",),
    "type": ("Type", None),
    "sector": ("Sector", None),
    "asset_class": ("Asset Class",),
    "location": ("Location", "Location of Risk", None),
    "exchange": ("Exchange", None),
    "currency": ("Currency", None),
    "market_currency": ("Market Currency", None),
    "accrual_date": ("Accrual Date", None),
}
_NUMBERS = {
    "market_value": ("Market Value",),
    "weight": ("Weight (%)", "Market Weight"),
    "notional_value": ("Notional Value", None),
    "notional_weight": ("Notional Weight", None),
    "quantity": ("Quantity", "Shares"),
    "price": ("Price",),
    "fx_rate": ("FX Rate", None),
}
_PERCENT = ("weight", "notional_weight")
COLUMNS = (
    "ticker", "name", "type", "sector", "asset_class", "market_value", "weight",
    "notional_value", "notional_weight", "quantity", "price", "location", "exchange",
    "currency", "fx_rate", "market_currency", "accrual_date",
)  # fmt: skip
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_FUND_IN_NAME = re.compile(r"(?<![A-Za-z])([A-Z]{2,5})_holdings")


@dataclass(frozen=True, slots=True, eq=False)
class Holdings:
    """One holdings snapshot of an iShares fund.

    Attributes
    ----------
    fund : str
        The fund's ticker, e.g. ``"IVV"``.
    fund_name : str
        First line of the file, e.g. ``"iShares Core S&P 500 ETF"``.
    as_of : Timestamp
        ``Fund Holdings as of`` in the preamble.
    frame : DataFrame
        One row per line of the file, columns :data:`COLUMNS`: ``weight`` and
        ``notional_weight`` as decimals (0.079 for 7.90 %), money in the fund's currency;
        ``-`` is NaN in numbers and None in text (a warrant's ticker ``-`` too); ``type`` and
        other columns a fund's file lacks are None.
    origin : str
        File name or URL the snapshot was read from.
    """

    fund: str
    fund_name: str
    as_of: pd.Timestamp
    frame: pd.DataFrame
    origin: str

    @property
    def equities(self) -> pd.DataFrame:
        """The lines with asset class ``Equity`` (shares, and swaps or warrants on shares)."""
        return self.frame[self.frame["asset_class"] == "Equity"]

    def weight(self, *tickers: str) -> float:
        """Summed market weight (decimal) of the equity lines of ``tickers``."""
        eq = self.equities
        known = set(eq["ticker"].dropna())  # warrants have no ticker
        unknown = sorted(set(tickers) - known)
        if unknown:
            raise UnknownSeriesError(unknown[0], known, what=f"{self.fund} holding")
        return float(eq.loc[eq["ticker"].isin(tickers), "weight"].sum())

    def summary(self) -> str:
        """One line: fund, date, number of equity lines, top holding."""
        eq = self.equities.sort_values("weight", ascending=False)
        top = eq.iloc[0] if len(eq) else None
        lead = f", largest {top['ticker']} {top['weight']:.2%}" if top is not None else ""
        return f"{self.fund} holdings as of {self.as_of:%Y-%m-%d}: {len(eq)} equity lines{lead}"

    def __str__(self) -> str:
        return self.summary()


def fetch(
    fund: str,
    *,
    client: httpx.Client,
    url: str | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download one fund's holdings CSV (retries 5xx and timeouts). No parsing, no store.

    Parameters
    ----------
    fund : str
        Fund ticker; one of :data:`FUNDS` unless ``url`` is given.
    client : httpx.Client
        E.g. from :func:`smallcaps.sources._http.make_client`.
    url : str, optional
        Address template; ``{fund}``, ``{product_id}`` and ``{slug}`` are filled in. Defaults
        to :data:`URL` with the fund's product page.
    retries, backoff, sleep
        Passed to :func:`smallcaps.sources._http.get` (tests pass a ``sleep`` that does not
        wait).
    """
    fund = fund.strip().upper()
    known = FUNDS.get(fund)
    if known is None and url is None:
        raise UnknownSeriesError(fund, FUNDS, what="iShares fund")
    product_id, slug = (known.product_id, known.slug) if known else ("", "")
    address = (url or URL).format(fund=fund, product_id=product_id, slug=slug)
    return get(client, SOURCE, address, retries=retries, backoff=backoff, sleep=sleep)


def parse(data: bytes, *, origin: str, fund: str | None = None) -> Holdings:
    """Read a holdings CSV.

    Parameters
    ----------
    data : bytes
        The CSV as downloaded.
    origin : str
        File name or URL, for error messages (and to find the fund when ``fund`` is None).
    fund : str, optional
        Fund ticker. When None, it is recognised from the fund name on the first line (funds
        in :data:`FUNDS`) or from ``<FUND>_holdings`` in ``origin``.

    Raises
    ------
    ParseError
        An HTML page, an empty file, no ``Fund Holdings as of`` line, no header, a missing
        column, a line of the wrong width, a number that is not a number, a fund mismatch.
    """
    reject_empty(data, origin)
    reject_html(data, origin)
    reader = csv.reader(io.StringIO(decode_text(data, origin), newline=""))
    preamble: dict[str, str] = {}
    fund_name = ""
    header: list[str] | None = None
    for row in reader:
        cells = [c.strip() for c in row]
        if cells and cells[0] == "Ticker":
            header = cells
            break
        if len(cells) == 1 and cells[0] and not fund_name:
            fund_name = cells[0]
        elif len(cells) >= 2:
            preamble[cells[0]] = cells[1]
        if reader.line_num > 50:
            break
    if header is None:
        raise ParseError(
            origin,
            "no header line starting with 'Ticker' in the first 50 lines; "
            "is this an iShares holdings CSV?",
        )
    header_line = reader.line_num
    as_of = _as_of(preamble, origin)
    fund = _which_fund(fund, fund_name, origin)
    positions = _positions(header, origin, header_line)
    records: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not any(c.strip() for c in row):
            break  # the blank line before the legal footer
        if len(row) != len(header):
            raise ParseError(
                origin,
                f"expected {len(header)} fields as in the header, found {len(row)}",
                line=reader.line_num,
            )
        records.append([c.strip() for c in row])
        lines.append(reader.line_num)
    if not records:
        raise ParseError(origin, "no holdings under the header", line=header_line + 1)
    raw = pd.DataFrame(records, columns=header, dtype=object)
    frame = pd.DataFrame(index=range(len(raw)))
    for name in COLUMNS:
        col = positions.get(name)
        if col is None:
            frame[name] = float("nan") if name in _NUMBERS else None
        elif name in _NUMBERS:
            values = _numbers(raw, col, lines, origin)
            frame[name] = values / 100 if name in _PERCENT else values
        else:
            frame[name] = raw.iloc[:, col].replace({"": None, "-": None})
    return Holdings(fund=fund, fund_name=fund_name, as_of=as_of, frame=frame, origin=origin)


def tidy(data: bytes, *, origin: str, fund: str | None = None) -> Tidy:
    """Equity weights as ``ishares/<FUND>/weight/<TICKER>``, dated at the as-of date.

    Kept: lines with asset class ``Equity``, a ticker (not ``-``) and a reported market weight.
    So cash, collateral, money-market funds and futures are left out, and so are total-return
    swaps (market weight ``-``; IJR lists 51 of them next to the same stocks' share lines) and
    holdings too small for iShares to print a weight. Should a ticker still appear on several
    lines, their weights are summed. GOOG and GOOGL stay separate tickers. Values are decimal
    weights of the fund's market value; each series' notes name the asset class and sector.
    """
    holdings = parse(data, origin=origin, fund=fund)
    eq = holdings.equities
    eq = eq[eq["ticker"].notna() & eq["weight"].notna()]
    if eq.empty:
        raise ParseError(origin, f"no equity line with a weight in the {holdings.fund} holdings")
    grouped = eq.groupby("ticker", sort=False).agg(
        weight=("weight", "sum"),
        name=("name", "first"),
        sector=("sector", "first"),
        lines=("weight", "size"),
    )
    ids = [series_id(holdings.fund, ticker) for ticker in grouped.index]
    frame = pd.DataFrame(
        {
            "series_id": ids,
            "date": pd.DatetimeIndex([holdings.as_of] * len(ids)).as_unit("ns"),
            "value": grouped["weight"].to_numpy(dtype=float),
        },
        columns=list(TIDY_COLUMNS),
    )
    meta = {}
    for sid, (ticker, row) in zip(ids, grouped.iterrows(), strict=True):
        summed = f"; sum of {row['lines']} lines" if row["lines"] > 1 else ""
        meta[sid] = SeriesMeta(
            series_id=sid,
            source=SOURCE,
            title=f"{row['name']} ({ticker}) weight in {holdings.fund_name or holdings.fund}",
            units="decimal weight (share of fund market value)",
            frequency="D",
            publisher_units="percent",
            publisher_vintage=f"{holdings.as_of:%Y-%m-%d}",
            notes=f"asset class Equity; sector {row['sector']}; holdings snapshot{summed}",
        )
    return Tidy(frame, meta)


def _as_of(preamble: dict[str, str], origin: str) -> pd.Timestamp:
    text = preamble.get("Fund Holdings as of")
    if text is None:
        raise ParseError(origin, "no 'Fund Holdings as of' line in the preamble")
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return pd.Timestamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ParseError(
        origin, f"cannot read the 'Fund Holdings as of' date {text!r} (expected 'Jun 19, 2026')"
    )


def _which_fund(fund: str | None, fund_name: str, origin: str) -> str:
    by_name = {f.name.lower(): f.ticker for f in FUNDS.values()}
    named = by_name.get(fund_name.lower())
    if fund is not None:
        fund = fund.strip().upper()
        if named is not None and named != fund:
            raise ParseError(
                origin, f"the file holds {fund_name!r} ({named}), not {fund}; check the file"
            )
        return fund
    if named is not None:
        return named
    match = _FUND_IN_NAME.search(origin)
    if match:
        return match.group(1)
    raise ParseError(origin, f"cannot tell which fund {fund_name!r} is; pass fund='<TICKER>'")


def _positions(header: list[str], origin: str, line: int) -> dict[str, int]:
    """Our column names -> positions in ``header``; ParseError naming a missing column."""
    found: dict[str, int] = {}
    for name, choices in (_TEXT | _NUMBERS).items():
        for choice in choices:
            if choice is not None and choice in header:
                found[name] = header.index(choice)
                break
        else:
            if None not in choices:
                wanted = " or ".join(repr(c) for c in choices)
                raise ParseError(
                    origin, f"no column {wanted} in the header; found {header}", line=line
                )
    return found


def _numbers(raw: pd.DataFrame, col: int, lines: list[int], origin: str) -> pd.Series:
    """``"1,234.50"`` -> 1234.5, ``-`` and empty -> NaN; anything else names line and field."""
    text = raw.iloc[:, col]
    missing = text.isin(["-", ""])
    good = text.str.fullmatch(_NUMBER) & text.str.contains(r"\d")
    bad = ~(missing | good)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise ParseError(
            origin,
            f"cannot read {text.iat[i]!r} as a number",
            line=lines[i],
            field=str(raw.columns[col]),
        )
    cleaned = text.where(~missing).str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned).astype("float64")


# --- the registration ---------------------------------------------------------------------------


def series_id(fund: str, ticker: str) -> str:
    """``ishares/<FUND>/weight/<TICKER>``: the ticker's decimal weight in the fund."""
    return f"{SOURCE}/{fund}/weight/{ticker}"


def live(
    fund: str, *, client: httpx.Client, config: Config | None = None, **_: object
) -> tuple[Payload, Tidy]:
    """Download and parse one fund's holdings file (from ``SMALLCAPS_URL_ISHARES`` if set)."""
    base = BASE if config is None else config.url("ishares", BASE)
    payload = fetch(fund, client=client, url=base.rstrip("/") + PATH)
    return payload, tidy(payload.data, origin=payload.url, fund=fund)


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="iShares fund holdings (BlackRock)",
        order=5,
        root=f"{SOURCE}/",
        template=SOURCE + "/{NAME}/",
        series_id=series_id,
        release={f"{SOURCE}/": NEXT_BUSINESS_DAY},
        tidy=lambda name, data, *, origin, **_: tidy(data, origin=origin, fund=name),
        live=live,
        defaults=("IVV", "IJR", "IWM"),
        mirror=(
            Capture("valuation/IVV_holdings_2026-06-19.csv", "IVV", date(2026, 6, 24)),
            Capture("valuation/IJR_holdings_2026-06-19.csv", "IJR", date(2026, 6, 24)),
        ),
    )
)
