"""FRED (Federal Reserve Bank of St. Louis): series over the API, CSV files in every layout seen.

Two live routes, same fetch/parse split as every source:

* the FRED API with the user's free key (the main route): :func:`fetch` asks
  ``{API}/series/observations`` for JSON, :func:`fetch_info` asks ``{API}/series`` for title,
  units and frequency; :func:`parse_observations`, :func:`parse_info` and :func:`tidy_api` read
  them. ``realtime_start``, ``realtime_end`` and ``output_type`` reach ALFRED's vintages:
  ``output_type=4`` returns each observation's *first release* only (its ``realtime_start`` is
  the release date), which is what a back-test that must not see revisions wants;
  ``output_type=1`` (FRED's default) returns the values valid in the real-time period, one row
  per date and period when the period spans revisions.
* the keyless CSV download :data:`FREDGRAPH`, used only when no key is given. It answers
  HTTP 403 to scripts since mid-2026; the error then says how to get a key.

:func:`parse` and :func:`tidy` read every CSV layout FRED and its re-exporters write:
``observation_date,SERIES`` (the current download), ``DATE,SERIES`` (older downloads,
pandas-datareader), ``date,value`` / ``Date,Value`` (dashboards' re-exports, series id only in
the file name, so it must be passed), ISO or ``M/D/YYYY`` dates, LF or CRLF. ``.`` and empty
values are NaN and the rows are kept. Dates stay FRED's period-start stamps (``1954-07-01`` is
July 1954 for a monthly series). Values keep FRED's units: rates and spreads are in percent and
their :class:`SeriesMeta` says so. Series ids are upper-cased (FRED's ids are case-insensitive).

FRED allows about 2 requests a second: pass one :class:`RateLimiter` to every call of a
process (:data:`LIMITER`). ALFRED answers more than :data:`MAX_VINTAGE_DATES` vintage dates
only in parts, and ``series/observations`` pages at 100,000 rows: :func:`fetch` asks for the
parts and pages and merges them into the one answer FRED would give unsplit.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd

from smallcaps.errors import (
    AuthError,
    ConfigError,
    FetchError,
    ParseError,
    SmallcapsError,
    UnknownSeriesError,
)
from smallcaps.publishers import CrossCheck, Publisher, register
from smallcaps.release import (
    CPI_RELEASE,
    EMPLOYMENT_SITUATION,
    FIRST_BUSINESS_DAY_NEXT_MONTH,
    GDP_ADVANCE,
    NBER_RELEASE,
    NEXT_BUSINESS_DAY,
    NFCI_RELEASE,
)
from smallcaps.sources._http import get
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

SOURCE = "fred"
_log = logging.getLogger(__name__)
API = "https://api.stlouisfed.org/fred"
URL = API  # the contract's default ``url``: the API base
FREDGRAPH = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series_id}"  # keyless, 403 now
KEY_HELP = (
    "get a free API key at https://fredaccount.stlouisfed.org/apikeys and set FRED_API_KEY "
    "(or pass api_key=...)"
)
OUTPUT_TYPES = {1: "observations by real-time period", 4: "initial release only"}

_ISO, _US = "%Y-%m-%d", "%m/%d/%Y"
_DATE_HEADERS = ("observation_date", "date")
_FRED_ID = re.compile(r"[A-Z0-9_]+")  # ids as FRED writes them in a CSV header
_OPEN_END = "9999-12-31"  # ALFRED's "still valid" realtime_end
_FRED_MESSAGE = re.compile(r'"error_message"\s*:\s*"([^"]*)')  # the body may be cut short
_FREQUENCY = {"D": "D", "W": "W", "BW": "W", "M": "M", "Q": "Q", "SA": "A", "A": "A"}
_UNKNOWN_UNITS = "unknown (FRED native units)"


def _meta(
    series_id: str, title: str, units: str, frequency: str, notes: str | None = None
) -> SeriesMeta:
    return SeriesMeta(series_id, SOURCE, title, units, frequency, notes=notes)


# fmt: off
KNOWN: Mapping[str, SeriesMeta] = {
    m.series_id: m
    for m in (
        _meta("DFF", "Federal Funds Effective Rate", "percent", "D",
              "daily, 7 days a week: weekends and holidays carry the previous business day"),
        _meta("EFFR", "Effective Federal Funds Rate", "percent", "D", "business days"),
        _meta("FEDFUNDS", "Federal Funds Effective Rate (monthly average)", "percent", "M"),
        _meta("DFEDTAR", "Federal Funds Target Rate (DISCONTINUED)", "percent", "D",
              "1982-09-27 to 2008-12-15; continued by DFEDTARU and DFEDTARL"),
        _meta("DFEDTARU", "Federal Funds Target Range - Upper Limit", "percent", "D"),
        _meta("DFEDTARL", "Federal Funds Target Range - Lower Limit", "percent", "D"),
        _meta("UNRATE", "Unemployment Rate", "percent", "M", "seasonally adjusted"),
        _meta("GDPC1", "Real Gross Domestic Product",
              "billions of chained 2017 USD, SAAR", "Q",
              "base year as of 2025; the API route reads the current units from FRED"),
        _meta("USRECP", "NBER based Recession Indicators for the United States from the Peak "
              "through the Period preceding the Trough", "0/1 indicator", "M",
              "1 from the peak month; NBER dates turning points many months late"),
        _meta("USREC", "NBER based Recession Indicators for the United States from the Period "
              "following the Peak through the Trough", "0/1 indicator", "M",
              "1 from the month after the peak; NBER dates turning points many months late"),
        _meta("DGS2", "Market Yield on U.S. Treasury Securities at 2-Year Constant Maturity",
              "percent", "D", "business days; re-exports drop holidays, FRED leaves them empty"),
        _meta("DGS10", "Market Yield on U.S. Treasury Securities at 10-Year Constant Maturity",
              "percent", "D", "business days; re-exports drop holidays, FRED leaves them empty"),
        _meta("T10Y2Y", "10-Year Treasury Constant Maturity Minus 2-Year Treasury Constant "
              "Maturity", "percent", "D", "a spread in percentage points; holidays empty"),
        _meta("BAMLH0A0HYM2", "ICE BofA US High Yield Index Option-Adjusted Spread", "percent",
              "D", "FRED serves only the last 3 years of ICE series"),
        _meta("CPIAUCSL", "Consumer Price Index for All Urban Consumers: All Items in U.S. City "
              "Average", "index 1982-84=100", "M",
              "seasonally adjusted; each February revises the last 5 years"),
        _meta("NFCI", "Chicago Fed National Financial Conditions Index",
              "index (standard deviations from average; > 0 is tighter)", "W",
              "weeks ending Friday"),
    )
}
# fmt: on


# --- rate limit -----------------------------------------------------------------------------


#: Seconds between two FRED requests. FRED counts requests per second and allows about 2;
#: spacing them exactly 0.5 s apart leaves no room for the jitter between our clock and
#: FRED's (two requests 0.5 s apart here can land in the same second there, and a paged or
#: split ALFRED fetch sends many in a row), so we keep 20 % headroom: at most 1.67 a second.
MIN_INTERVAL = 0.6


@dataclass(eq=False)
class RateLimiter:
    """Space requests at least ``min_interval`` seconds apart (FRED allows about 2 a second).

    Share one limiter between all calls of a process (:data:`LIMITER`); it is thread-safe.

    Parameters
    ----------
    min_interval : float, default MIN_INTERVAL (0.6)
        Seconds between the starts of two requests.
    clock : callable, default time.monotonic
        Returns the current time in seconds; injected so tests use a fake clock.
    sleep : callable, default time.sleep
        Waits that many seconds; injected so tests do not wait.
    """

    min_interval: float = MIN_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: float | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def wait(self) -> float:
        """Block until a request may start; return the seconds waited."""
        with self._lock:
            now = self.clock()
            delay = 0.0 if self._last is None else self._last + self.min_interval - now
            if delay > 0:
                self.sleep(delay)
                now = self.clock()
            self._last = now
            return max(delay, 0.0)


#: The process's one FRED limiter: two limiters would each allow the full rate.
LIMITER = RateLimiter()


# --- fetch ----------------------------------------------------------------------------------


def fetch(
    series_id: str,
    *,
    client: httpx.Client,
    api_key: str | None = None,
    url: str = API,
    graph_url: str = FREDGRAPH,
    realtime_start: str | date | None = None,
    realtime_end: str | date | None = None,
    output_type: int | None = None,
    limiter: RateLimiter | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download one series' observations: API JSON with a key, else the keyless CSV.

    Parameters
    ----------
    series_id : str
        FRED id, e.g. ``"UNRATE"``.
    client : httpx.Client
        The HTTP client (tests aim it at a local server).
    api_key : str, optional
        The user's FRED key (``Config.fred_api_key``, from ``FRED_API_KEY``). Without it the
        keyless ``graph_url`` is tried, which FRED refuses to scripts since mid-2026.
    url : str, default API
        API base; ``/series/observations`` is appended.
    graph_url : str, default FREDGRAPH
        Keyless CSV address with a ``{series_id}`` placeholder.
    realtime_start, realtime_end : str or date, optional
        ALFRED real-time period (``YYYY-MM-DD``); FRED's default is today. API only.
    output_type : {1, 4}, optional
        1: values by real-time period (FRED's default); 4: initial release only, i.e. the first
        published value of each observation. API only.
    limiter : RateLimiter, optional
        Shared limiter; waited on before the request.
    retries, backoff, sleep
        Passed to :func:`smallcaps.sources._http.get` (5xx, 429 and timeouts are retried).

    Returns
    -------
    Payload
        JSON (API) or CSV (keyless) bytes; the key is masked in ``Payload.url``.

    Raises
    ------
    AuthError
        The key was refused, or the keyless route answered 403; the message says how to get a key.
    UnknownSeriesError
        FRED has no such series.
    FetchError
        Network or server failure after the retries.
    """
    alfred = {"realtime_start": realtime_start, "realtime_end": realtime_end}
    if output_type is not None and output_type not in OUTPUT_TYPES:
        raise ConfigError(
            f"output_type={output_type!r} is not supported; use 1 (by real-time period) or "
            "4 (initial release only)"
        )
    if not api_key:
        if output_type is not None or any(v is not None for v in alfred.values()):
            raise ConfigError(
                f"ALFRED vintages of {series_id!r} (realtime_start, realtime_end, output_type) "
                f"need the FRED API; {KEY_HELP}"
            )
        return _keyless(series_id, client, graph_url, limiter, retries, backoff, sleep)
    params: dict[str, str | int] = {
        "series_id": series_id,
        "api_key": api_key,
        "file_type": "json",
    }
    params |= {k: _iso(v) for k, v in alfred.items() if v is not None}
    if output_type is not None:
        params["output_type"] = output_type
    endpoint = url.rstrip("/") + "/series/observations"

    def one(query: Mapping[str, str | int]) -> Payload:
        return _api_get(client, endpoint, query, series_id, limiter, retries, backoff, sleep)

    if output_type == 4 or all(v is None for v in alfred.values()):
        return _paged(one, params)
    # a real-time period by real-time period (output_type 1): ALFRED refuses more than
    # MAX_VINTAGE_DATES vintage dates in one period, so ask which there are and split
    dates = fetch_vintage_dates(
        series_id, client=client, api_key=api_key, url=url, limiter=limiter, retries=retries,
        backoff=backoff, sleep=sleep, **alfred,
    )  # fmt: skip
    cap = MAX_VINTAGE_DATES
    while True:
        try:
            return _split(one, params, dates, cap)
        except VintageLimitError as exc:  # FRED's cap is lower than ours: split finer
            if exc.allowed >= cap or exc.allowed < 1:
                raise
            cap = exc.allowed


#: ALFRED's limit of vintage dates in one real-time period ("This exceeds the maximum number of
#: vintage dates allowed (2000)"); a lower limit in a refusal is obeyed instead.
MAX_VINTAGE_DATES = 2000
PAGE_LIMIT = 100_000  # series/observations' largest page
VINTAGE_PAGE_LIMIT = 10_000  # series/vintagedates' largest page
_VINTAGE_LIMIT = re.compile(r"maximum number of vintage dates allowed \((\d+)\)")


class VintageLimitError(FetchError):
    """ALFRED refused a real-time period holding more vintage dates than it allows.

    ``allowed`` is the limit FRED named; :func:`fetch` splits the period by it.
    """

    def __init__(self, source: str, url: str, reason: str, *, allowed: int) -> None:
        super().__init__(source, url, reason, status=400)
        self.allowed = allowed


def fetch_vintage_dates(
    series_id: str,
    *,
    client: httpx.Client,
    api_key: str,
    url: str = API,
    realtime_start: str | date | None = None,
    realtime_end: str | date | None = None,
    limiter: RateLimiter | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Every vintage date (``YYYY-MM-DD``, oldest first) of a series in a real-time period.

    Pages ``{API}/series/vintagedates`` by ``limit`` (10,000) and ``offset`` until ``count``.
    Other parameters are those of :func:`fetch`.
    """
    endpoint = url.rstrip("/") + "/series/vintagedates"
    params: dict[str, str | int] = {"series_id": series_id, "api_key": api_key, "file_type": "json"}
    params |= {
        k: _iso(v)
        for k, v in (("realtime_start", realtime_start), ("realtime_end", realtime_end))
        if v is not None
    }
    dates: list[str] = []
    seen: set[str] = set()
    offset = 0
    while True:
        query = params | {"limit": VINTAGE_PAGE_LIMIT, "offset": offset}
        got = _api_get(client, endpoint, query, series_id, limiter, retries, backoff, sleep)
        doc = _load_json(got.data, got.url)
        page, count = doc.get("vintage_dates"), doc.get("count")
        if not isinstance(page, list) or not isinstance(count, int):
            raise ParseError(got.url, "expected FRED series/vintagedates JSON with a count")
        for day in map(str, page):
            if day not in seen:
                seen.add(day)
                dates.append(day)
        offset += len(page)
        if offset >= count:
            return sorted(dates)
        if not page:
            raise FetchError(
                SOURCE, got.url, f"empty page at offset {offset} of {count} vintage dates"
            )


def _paged(
    one: Callable[[Mapping[str, str | int]], Payload], params: dict[str, str | int]
) -> Payload:
    """One ``series/observations`` request, then ``offset`` pages until ``count`` is reached.

    One page is returned untouched (its bytes are FRED's); several are merged into one answer
    (first page's fields, observations in order, a row repeated by a shifting page kept once).
    """
    first = one(params)
    try:
        doc = json.loads(first.data)
    except ValueError:
        return first  # not JSON: the parser names the problem
    obs, count = (doc.get("observations"), doc.get("count")) if isinstance(doc, dict) else (0, 0)
    if not isinstance(obs, list) or not isinstance(count, int) or len(obs) >= count:
        return first
    limit = doc.get("limit")
    limit = limit if isinstance(limit, int) and limit > 0 else PAGE_LIMIT
    rows, seen = _dedupe(obs, set())
    offset = int(doc.get("offset") or 0) + len(obs)
    while offset < count:
        page = one(params | {"limit": limit, "offset": offset})
        more = _load_json(page.data, page.url).get("observations")
        if not isinstance(more, list) or not more:
            raise FetchError(
                SOURCE, page.url, f"no observations at offset {offset} of {count}; try again"
            )
        new, seen = _dedupe(more, seen)
        rows += new
        offset += len(more)
    merged = doc | {"count": len(rows), "offset": 0, "limit": len(rows), "observations": rows}
    return Payload(SOURCE, first.url, json.dumps(merged).encode(), first.retrieved_at)


def _dedupe(items: list[Any], seen: set[str]) -> tuple[list[Any], set[str]]:
    out = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out, seen


def _split(
    one: Callable[[Mapping[str, str | int]], Payload],
    params: dict[str, str | int],
    dates: list[str],
    cap: int,
) -> Payload:
    """ALFRED over a real-time period, in windows of at most ``cap`` vintage dates, merged.

    Windows are contiguous: each starts on its first vintage date (the first on the period's
    start) and ends the day before the next window's first (the last on the period's end).
    ALFRED clips each row's real-time period to the window, so a value valid across a
    boundary comes back in two pieces; they are joined again, which gives the rows, order and
    vintages of the one unsplit answer.
    """
    if len(dates) <= cap:
        return _paged(one, params)
    chunks = [dates[i : i + cap] for i in range(0, len(dates), cap)]
    pieces: list[tuple[list[dict[str, Any]], str | None]] = []
    first: Payload | None = None
    head: dict[str, Any] = {}
    for i, chunk in enumerate(chunks):
        window = dict(params)
        if i > 0:
            window["realtime_start"] = chunk[0]
        last = i == len(chunks) - 1
        end = None if last else _day_before(chunks[i + 1][0])
        if end is not None:
            window["realtime_end"] = end
        got = _paged(one, window)
        doc = _load_json(got.data, got.url)
        obs = doc.get("observations")
        if not isinstance(obs, list):
            raise ParseError(got.url, "no 'observations' list; expected FRED series/observations")
        if first is None:
            first, head = got, doc
        pieces.append(([dict(item) for item in obs], end))
    rows = _join(pieces)
    assert first is not None
    merged = head | {
        "realtime_start": params.get("realtime_start", head.get("realtime_start")),
        "realtime_end": params.get("realtime_end", head.get("realtime_end")),
        "count": len(rows), "offset": 0, "limit": len(rows), "observations": rows,
    }  # fmt: skip
    return Payload(SOURCE, first.url, json.dumps(merged).encode(), first.retrieved_at)


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _join(pieces: list[tuple[list[dict[str, Any]], str | None]]) -> list[dict[str, Any]]:
    """Rows of consecutive windows, a row cut at a window's end joined to its continuation."""
    rows: list[dict[str, Any]] = []
    cut: dict[str, dict[str, Any]] = {}  # date -> row ending on the previous window's end
    for obs, end in pieces:
        reaching: dict[str, dict[str, Any]] = {}
        for item in obs:
            before = cut.get(str(item.get("date")))
            if (
                before is not None
                and before.get("value") == item.get("value")
                and item.get("realtime_start") == _day_after(before["realtime_end"])
            ):
                before["realtime_end"] = item.get("realtime_end")
                item = before
            else:
                rows.append(item)
            if end is not None and item.get("realtime_end") == end:
                reaching[str(item.get("date"))] = item
        cut = reaching
    rows.sort(key=lambda r: (str(r.get("date")), str(r.get("realtime_start"))))
    return rows


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def fetch_info(
    series_id: str,
    *,
    client: httpx.Client,
    api_key: str | None,
    url: str = API,
    limiter: RateLimiter | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download a series' description (title, units, frequency, last_updated) as API JSON.

    Parameters are those of :func:`fetch`; a key is required (ConfigError without one).
    """
    if not api_key:
        raise ConfigError(f"the description of {series_id!r} needs the FRED API; {KEY_HELP}")
    params: dict[str, str | int] = {"series_id": series_id, "api_key": api_key, "file_type": "json"}
    endpoint = url.rstrip("/") + "/series"
    return _api_get(client, endpoint, params, series_id, limiter, retries, backoff, sleep)


def _iso(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _api_get(
    client: httpx.Client,
    endpoint: str,
    params: Mapping[str, str | int],
    series_id: str,
    limiter: RateLimiter | None,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> Payload:
    """``_http.get`` plus FRED's way of refusing: HTTP 400 with a JSON ``error_message``."""
    if limiter is not None:
        limiter.wait()
    try:
        return get(
            client, SOURCE, endpoint, params=params, retries=retries, backoff=backoff, sleep=sleep
        )
    except AuthError as exc:
        raise AuthError(SOURCE, exc.url, f"{exc.reason}; {KEY_HELP}", status=exc.status) from None
    except FetchError as exc:
        if exc.status != 400:
            raise
        match = _FRED_MESSAGE.search(exc.reason)
        said = match.group(1) if match else exc.reason
        if "api_key" in said:
            reason = f"HTTP 400: FRED refused the API key ({said.strip()!r}); {KEY_HELP}"
            raise AuthError(SOURCE, exc.url, reason, status=400) from None
        if "does not exist" in said:
            raise _unknown_series(series_id, exc.url, said) from None
        limit = _VINTAGE_LIMIT.search(said)
        if limit:
            reason = f"HTTP 400: ALFRED refused the real-time period ({said.strip()!r})"
            raise VintageLimitError(SOURCE, exc.url, reason, allowed=int(limit.group(1))) from None
        raise


def _keyless(
    series_id: str,
    client: httpx.Client,
    graph_url: str,
    limiter: RateLimiter | None,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> Payload:
    if limiter is not None:
        limiter.wait()
    address = graph_url.format(series_id=quote(series_id, safe=""))
    try:
        return get(client, SOURCE, address, retries=retries, backoff=backoff, sleep=sleep)
    except AuthError as exc:
        reason = (
            f"HTTP {exc.status}: FRED's keyless CSV download refuses scripts (since mid-2026); "
            + KEY_HELP
        )
        raise AuthError(SOURCE, exc.url, reason, status=exc.status) from None
    except FetchError as exc:
        if exc.status == 404:
            raise _unknown_series(series_id, exc.url, "HTTP 404") from None
        raise


def _unknown_series(series_id: str, url: str, said: str) -> UnknownSeriesError:
    hint = (
        f"FRED answered {said.strip()!r} at {url}. Check that {series_id!r} is a valid "
        "FRED series id (search https://fred.stlouisfed.org)."
    )
    return UnknownSeriesError(series_id, KNOWN, what="FRED series", hint=hint)


# --- CSV ------------------------------------------------------------------------------------


def parse(data: bytes, *, origin: str, series_id: str | None = None) -> pd.DataFrame:
    """Read any FRED CSV layout into columns ``series_id, date, value``.

    Parameters
    ----------
    data : bytes
        The file: ``observation_date,SERIES``, ``DATE,SERIES``, ``date,value`` or
        ``Date,Value``; ISO or ``M/D/YYYY`` dates; LF or CRLF.
    origin : str
        File name or URL, for error messages.
    series_id : str, optional
        Required when the header does not name the series (``date,value``); when given and the
        header names another series, a ParseError.

    Returns
    -------
    DataFrame
        One row per line in file order; ``.`` and empty values are NaN; dates are FRED's
        period-start stamps.

    Raises
    ------
    ParseError
        HTML page, empty file, changed header, a row without exactly two fields, an unreadable
        date or number, a repeated date; names the line and field.
    """
    reject_empty(data, origin)
    reject_html(data, origin)
    text = decode_text(data, origin)
    if text.lstrip().startswith("{"):
        raise ParseError(
            origin, "got FRED API JSON where a CSV was expected; read it with parse_observations"
        )
    # The csv module (not pandas.read_csv) so that every row keeps its physical line number:
    # pandas skips blank lines and reports a short row as "line N of the data", not the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[int] = []
    dates_text: list[str] = []
    values_text: list[str] = []
    try:
        header = next(reader, None)
        if header is None:
            raise ParseError(origin, "empty file")
        sid, date_col, value_col = _check_header(header, origin, series_id)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line (e.g. a trailing one)
            if len(row) != 2:
                raise ParseError(
                    origin,
                    f"expected 2 fields ({date_col}, {value_col}), found {len(row)}: {row[:4]}",
                    line=reader.line_num,
                )
            lines.append(reader.line_num)
            dates_text.append(row[0].strip())
            values_text.append(row[1].strip())
    except csv.Error as exc:  # an unclosed or stray quote
        raise ParseError(origin, f"not a CSV row: {exc}", line=reader.line_num) from None
    if not lines:
        raise ParseError(origin, "no observations after the header", line=1)
    dates, values = _read_columns(dates_text, values_text, lines, origin, date_col, value_col)
    return long_frame(sid, dates, values)


def _check_header(header: list[str], origin: str, series_id: str | None) -> tuple[str, str, str]:
    """Return (series id, date column, value column) or raise naming the layouts accepted."""
    found = [h.strip().lstrip("\ufeff") for h in header]
    expected = "'observation_date,<SERIES_ID>', 'DATE,<SERIES_ID>' or 'date,value'"
    if len(found) != 2 or found[0].lower() not in _DATE_HEADERS:
        raise ParseError(origin, f"header changed: expected {expected}, found {found}", line=1)
    date_col, value_col = found
    if value_col.lower() == "value":
        if series_id is None:
            raise ParseError(
                origin,
                f"the header {','.join(found)!r} does not name the series; pass series_id= "
                "(these re-exports carry it only in the file name, e.g. 'UNRATE.csv')",
                line=1,
                field=value_col,
            )
        return series_id.strip().upper(), date_col, value_col
    if not _FRED_ID.fullmatch(value_col):
        raise ParseError(
            origin, f"header changed: expected {expected}, found {found}", line=1, field=value_col
        )
    if series_id is not None and series_id.strip().upper() != value_col:
        raise ParseError(
            origin,
            f"the file holds {value_col!r} but {series_id!r} was asked for",
            line=1,
            field=value_col,
        )
    return value_col, date_col, value_col


def _read_columns(
    dates_text: list[str],
    values_text: list[str],
    lines: list[int],
    origin: str,
    date_col: str,
    value_col: str,
) -> tuple[pd.Series, np.ndarray]:
    """Dates (format taken from the first row) and floats; the first bad cell raises."""
    fmt = _US if "/" in dates_text[0] else _ISO
    dates = pd.to_datetime(pd.Series(dates_text), format=fmt, errors="coerce")
    text = pd.Series(values_text)
    missing = text.isin(["", "."]).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
    bad_date = dates.isna().to_numpy()
    bad_value = (np.isnan(numbers) & ~missing) | np.isinf(numbers)
    if bad_date.any() or bad_value.any():
        i = int((bad_date | bad_value).argmax())
        if bad_date[i]:
            shape = "M/D/YYYY like the first row" if fmt == _US else "YYYY-MM-DD"
            reason = f"cannot read {dates_text[i]!r} as a date ({shape})"
        else:
            reason = f"cannot read {values_text[i]!r} as a number ('.' or empty means missing)"
        field_ = date_col if bad_date[i] else value_col
        raise ParseError(origin, reason, line=lines[i], field=field_)
    repeated = dates.duplicated().to_numpy()
    if repeated.any():
        i = int(repeated.argmax())
        first = lines[int((dates == dates.iloc[i]).to_numpy().argmax())]
        raise ParseError(
            origin,
            f"date {dates_text[i]!r} appears again (first on line {first})",
            line=lines[i],
            field=date_col,
        )
    return dates, numbers


def tidy(data: bytes, *, origin: str, series_id: str | None = None) -> Tidy:
    """Parse a FRED file into the store's long frame and its :class:`SeriesMeta`.

    CSV files carry no metadata: title, units and frequency come from :data:`KNOWN`, else the
    frequency is inferred from the dates and the units are ``"unknown (FRED native units)"``.
    API JSON (as :func:`fetch` returns with a key) is passed to :func:`tidy_api`, so a stored
    payload of either route can be tidied with this one call.
    """
    reject_empty(data, origin)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        if series_id is None:
            raise ParseError(origin, "FRED API JSON does not name its series; pass series_id=")
        return tidy_api(data, None, origin=origin, series_id=series_id)
    frame = parse(data, origin=origin, series_id=series_id)
    sid = str(frame["series_id"].iat[0])
    return Tidy(frame, {sid: describe(sid, frame["date"])})


def describe(series_id: str, dates: Iterable[pd.Timestamp] = ()) -> SeriesMeta:
    """Metadata for a series without a FRED description: :data:`KNOWN`, else inferred.

    Parameters
    ----------
    series_id : str
        FRED id.
    dates : iterable of Timestamp
        The observation dates, to infer the frequency of a series not in :data:`KNOWN`.
    """
    sid = series_id.upper()
    if sid in KNOWN:
        return KNOWN[sid]
    frequency, how = infer_frequency(pd.DatetimeIndex(list(dates)))
    return SeriesMeta(
        sid,
        SOURCE,
        sid,
        _UNKNOWN_UNITS,
        frequency,
        notes=f"not in smallcaps' FRED table; frequency {how}; fetch with an API key for "
        "FRED's title and units",
    )


def infer_frequency(dates: pd.DatetimeIndex) -> tuple[str, str]:
    """Frequency code from the median spacing of ``dates``, and how it was found.

    Daily series with or without weekends have a median gap of one day; weekly 7, biweekly 14
    (reported ``W``), monthly 28-31, quarterly 90-92, semiannual and annual longer (``A``).
    """
    stamps = pd.DatetimeIndex(dates).unique().sort_values()
    days = np.asarray((stamps[1:] - stamps[:-1]) / pd.Timedelta(days=1), dtype=float)
    if len(days) == 0:
        one = dates[0] if len(dates) else None
        code = "M" if one is not None and one.day == 1 else "D"
        return code, "guessed from a single date"
    gap = float(np.median(days))
    for code, limit in (("D", 4.0), ("W", 16.0), ("M", 45.0), ("Q", 120.0)):
        if gap <= limit:
            return code, f"inferred from a median gap of {gap:g} days"
    return "A", f"inferred from a median gap of {gap:g} days"


# --- API JSON -------------------------------------------------------------------------------


def _load_json(data: bytes, origin: str) -> dict[str, Any]:
    reject_empty(data, origin)
    reject_html(data, origin, expected="FRED API JSON")
    text = decode_text(data, origin)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(origin, f"not JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(doc, dict):
        raise ParseError(origin, f"expected a JSON object, got {type(doc).__name__}")
    if "error_code" in doc or "error_message" in doc:
        raise ParseError(
            origin, f"FRED answered an error: {doc.get('error_message', doc.get('error_code'))!r}"
        )
    return doc


def parse_observations(data: bytes, *, origin: str, series_id: str) -> pd.DataFrame:
    """Read ``series/observations`` JSON into a frame with the real-time period of each value.

    Columns ``series_id, date, value, realtime_start, realtime_end``.

    Parameters
    ----------
    data : bytes
        The API answer (``file_type=json``, ``output_type`` 1 or 4).
    origin : str
        URL or file name, for error messages.
    series_id : str
        The series asked for (the JSON does not repeat it).

    Returns
    -------
    DataFrame
        ``.`` values are NaN. ``realtime_start`` is the day the value was published (with
        ``output_type=4``: the first release); ``realtime_end`` is NaT while the value is
        still current (FRED's ``9999-12-31``).
    """
    return _observations(_load_json(data, origin), origin, series_id)


def _observations(doc: dict[str, Any], origin: str, series_id: str) -> pd.DataFrame:
    obs = doc.get("observations")
    if not isinstance(obs, list):
        raise ParseError(origin, "no 'observations' list; expected FRED series/observations JSON")
    count, offset = doc.get("count"), doc.get("offset", 0)
    if isinstance(count, int) and isinstance(offset, int) and count > offset + len(obs):
        raise ParseError(
            origin,
            f"holds {len(obs)} of {count} observations (FRED pages at 'limit'); narrow the "
            "real-time period or the observation dates",
        )
    if not obs:
        raise ParseError(origin, f"no observations of {series_id!r}")
    keys = ("date", "value", "realtime_start", "realtime_end")
    for i, item in enumerate(obs):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
            wide = isinstance(item, dict) and "value" not in item
            hint = " (output_type 2 and 3 are not supported; use 1 or 4)" if wide else ""
            raise ParseError(
                origin, f"observation {i} is {str(item)[:120]}, expected {list(keys)}{hint}"
            )
    table = pd.DataFrame(obs, columns=list(keys))
    date_values = _api_dates(table["date"], origin, "date")
    text = table["value"].str.strip()
    missing = text.isin(["", "."]).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
    bad = (np.isnan(numbers) & ~missing) | np.isinf(numbers)
    if bad.any():
        i = int(bad.argmax())
        raise ParseError(
            origin,
            f"observation {i} ({table['date'].iat[i]}): cannot read "
            f"{table['value'].iat[i]!r} as a number",
            field="value",
        )
    frame = long_frame(series_id.strip().upper(), date_values, numbers)
    frame["realtime_start"] = _api_dates(table["realtime_start"], origin, "realtime_start")
    end = table["realtime_end"].where(table["realtime_end"] != _OPEN_END)
    frame["realtime_end"] = _api_dates(end, origin, "realtime_end", allow_missing=True)
    return frame


def _api_dates(
    text: pd.Series, origin: str, name: str, *, allow_missing: bool = False
) -> pd.DatetimeIndex:
    dates = pd.to_datetime(text, format=_ISO, errors="coerce")
    bad = dates.isna() & (text.notna() if allow_missing else True)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise ParseError(
            origin, f"observation {i}: cannot read {text.iat[i]!r} as a date", field=name
        )
    return pd.DatetimeIndex(dates).as_unit("ns")


def parse_info(data: bytes, *, origin: str) -> SeriesMeta:
    """Read ``series`` JSON (the series' description) into a :class:`SeriesMeta`.

    ``units`` are FRED's words (``"Percent"`` becomes ``"percent"``, the project's word for rates)
    with ``", SAAR"`` added for seasonally adjusted annual rates; ``publisher_vintage`` is FRED's
    ``last_updated``; the seasonal adjustment and FRED's frequency go into ``notes``.
    """
    doc = _load_json(data, origin)
    items = doc.get("seriess")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise ParseError(origin, "expected FRED series JSON with one entry in 'seriess'")
    item = items[0]
    for key in ("id", "title", "units", "frequency_short"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ParseError(origin, f"series description lacks {key!r}", field=key)
    short = item["frequency_short"].strip().upper()
    if short not in _FREQUENCY:
        raise ParseError(
            origin,
            f"unknown frequency {item['frequency_short']!r}; expected one of {sorted(_FREQUENCY)}",
            field="frequency_short",
        )
    units = item["units"].strip()
    units = units.lower() if units.lower() in ("percent", "percentage points") else units
    adjustment = str(item.get("seasonal_adjustment_short") or "").strip()
    if adjustment == "SAAR":
        units += ", SAAR"
    notes = "; ".join(
        part
        for part in (
            str(item.get("seasonal_adjustment") or "").strip(),
            f"FRED frequency {item.get('frequency', short)}",
        )
        if part
    )
    return SeriesMeta(
        series_id=item["id"].strip().upper(),
        source=SOURCE,
        title=item["title"].strip(),
        units=units,
        frequency=_FREQUENCY[short],
        publisher_vintage=str(item.get("last_updated") or "").strip() or None,
        notes=notes,
    )


def tidy_api(
    obs_bytes: bytes,
    info_bytes: bytes | None,
    *,
    origin: str,
    series_id: str,
    info_origin: str | None = None,
) -> Tidy:
    """Turn API answers into the store's long frame and its :class:`SeriesMeta`.

    Parameters
    ----------
    obs_bytes : bytes
        ``series/observations`` JSON from :func:`fetch`.
    info_bytes : bytes, optional
        ``series`` JSON from :func:`fetch_info`; without it :func:`describe` is used.
    origin : str
        URL or file of the observations.
    series_id : str
        The series asked for.
    info_origin : str, optional
        URL or file of the description (default ``origin``).

    Notes
    -----
    When a real-time period spans revisions (``output_type=1``), a date has several rows; the
    one published last is kept, i.e. the values as known at ``realtime_end``. With
    ``output_type=4`` each date has its first release only. The period and output type are
    recorded in ``notes``.
    """
    doc = _load_json(obs_bytes, origin)
    obs = _observations(doc, origin, series_id)
    sid = str(obs["series_id"].iat[0])
    if info_bytes is not None:
        meta = parse_info(info_bytes, origin=info_origin or origin)
        if meta.series_id != sid:
            raise ParseError(
                info_origin or origin,
                f"the description is of {meta.series_id!r}, the observations of {sid!r}",
                field="id",
            )
    else:
        meta = describe(sid, obs["date"])
    kept = obs.sort_values(["date", "realtime_start"], kind="stable")
    kept = kept.drop_duplicates("date", keep="last").reset_index(drop=True)
    output_type = doc.get("output_type", 1)
    period = (
        f"FRED API real-time period {doc.get('realtime_start')}..{doc.get('realtime_end')}, "
        f"output_type {output_type} ({OUTPUT_TYPES.get(output_type, 'unknown')})"
    )
    if len(kept) < len(obs):
        period += f"; of {len(obs)} rows, the last published value per date is kept"
    notes = "; ".join(part for part in (meta.notes, period) if part)
    meta = SeriesMeta(
        sid,
        SOURCE,
        meta.title,
        meta.units,
        meta.frequency,
        publisher_units=meta.publisher_units,
        publisher_vintage=meta.publisher_vintage,
        notes=notes,
    )
    frame = long_frame(sid, kept["date"], kept["value"].to_numpy())
    return Tidy(frame, {sid: meta})


# --- release calendars: when FRED really published ------------------------------------------

#: ``release/<SERIES>``: the days FRED published the release a series belongs to (stored as
#: data, with its own vintages; :mod:`smallcaps.access` dates reads by it when present)
CALENDAR_PREFIX = "release/"
RELEASE_PAGE_LIMIT = 10_000  # release/dates' largest page


def fetch_calendar(
    series_id: str,
    *,
    client: httpx.Client,
    api_key: str,
    url: str = API,
    limiter: RateLimiter | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """The release calendar of a series: ``series/release``, then every ``release/dates`` page.

    Returns one JSON payload ``{"series_id", "release": {...}, "release_dates": [...]}`` made
    of FRED's own answers (the release's entry and the dates, oldest first), with the
    ``release/dates`` address as its URL. Other parameters are those of :func:`fetch`.
    """
    base = url.rstrip("/")
    params: dict[str, str | int] = {"series_id": series_id, "api_key": api_key, "file_type": "json"}
    got = _api_get(client, base + "/series/release", params, series_id, limiter, retries,
                   backoff, sleep)  # fmt: skip
    releases = _load_json(got.data, got.url).get("releases")
    if not isinstance(releases, list) or not releases or not isinstance(releases[0], dict):
        raise ParseError(got.url, "expected FRED series/release JSON with one release")
    release = releases[0]
    rid = release.get("id")
    if not isinstance(rid, int):
        raise ParseError(got.url, "the release has no integer 'id'", field="id")
    query: dict[str, str | int] = {"release_id": rid, "api_key": api_key, "file_type": "json",
                                   "sort_order": "asc"}  # fmt: skip
    dates: list[str] = []
    offset, shown = 0, got.url
    while True:
        page_query = query | {"limit": RELEASE_PAGE_LIMIT, "offset": offset}
        page = _api_get(client, base + "/release/dates", page_query, series_id, limiter,
                        retries, backoff, sleep)  # fmt: skip
        doc = _load_json(page.data, page.url)
        items, count = doc.get("release_dates"), doc.get("count")
        if not isinstance(items, list) or not isinstance(count, int):
            raise ParseError(page.url, "expected FRED release/dates JSON with a count")
        dates += [str(i.get("date")) for i in items if isinstance(i, dict)]
        offset += len(items)
        shown = page.url
        if offset >= count or not items:
            break
    doc = {"series_id": series_id.upper(), "release": release,
           "release_dates": sorted(set(dates))}  # fmt: skip
    return Payload(SOURCE, shown.split("&offset=")[0], json.dumps(doc).encode())


def tidy_calendar(data: bytes, *, origin: str) -> Tidy:
    """Read :func:`fetch_calendar`'s payload: ``release/<SERIES>``, one row per release day.

    The value is FRED's release id; the date is the day the release came out.
    """
    doc = _load_json(data, origin)
    sid, release, days = doc.get("series_id"), doc.get("release"), doc.get("release_dates")
    if not isinstance(sid, str) or not isinstance(release, dict) or not isinstance(days, list):
        raise ParseError(origin, "expected a release calendar (series_id, release, dates)")
    if not days:
        raise ParseError(origin, f"the release of {sid!r} has no dates")
    dates = _api_dates(pd.Series(days, dtype=str), origin, "date")
    cid = CALENDAR_PREFIX + sid
    frame = long_frame(cid, dates, np.full(len(dates), float(release["id"])))
    name = str(release.get("name") or release["id"])
    note = f"FRED release {release['id']} ({name}); the days it was published"
    title = f"Release dates of {sid}: {name}"
    meta = SeriesMeta(cid, SOURCE, title, "FRED release id", "D", notes=note)
    return Tidy(frame, {cid: meta})


# --- ALFRED: every release as its own vintage ---------------------------------------------------

#: the widest real-time period ALFRED accepts: every vintage ever published
ALFRED_START, ALFRED_END = "1776-07-04", "9999-12-31"


def alfred_vintages(
    data: bytes, *, origin: str, series_id: str
) -> list[tuple[pd.Timestamp, pd.DataFrame]]:
    """Split an ALFRED answer (``output_type=1`` over a real-time period) into its vintages.

    Each distinct ``realtime_start`` is a day FRED published the series; the vintage of that day
    holds every observation whose real-time period covers it, i.e. the series exactly as it
    could be downloaded then. Stored with that day as its fetch time, these vintages make as-of
    reads return first releases and later revisions as they happened.

    Returns
    -------
    list of (Timestamp, DataFrame)
        Publication day and the tidy ``series_id, date, value`` frame, oldest first.
    """
    obs = parse_observations(data, origin=origin, series_id=series_id)
    starts = np.sort(obs["realtime_start"].unique())
    begin = obs["realtime_start"].to_numpy()
    end = obs["realtime_end"].to_numpy()  # NaT: still current
    out = []
    for day in starts:
        live = (begin <= day) & (np.isnat(end) | (end >= day))  # ALFRED ends are inclusive
        frame = obs.loc[live, ["series_id", "date", "value"]].sort_values("date")
        out.append((pd.Timestamp(day), frame.reset_index(drop=True)))
    return out


# --- the registration ---------------------------------------------------------------------------

DEFAULT = (
    "DFF", "EFFR", "FEDFUNDS", "DFEDTAR", "DFEDTARU", "DFEDTARL", "UNRATE", "GDPC1", "USREC",
    "USRECP", "DGS2", "DGS10", "T10Y2Y", "BAMLH0A0HYM2", "CPIAUCSL", "NFCI",
)  # fmt: skip


def live(
    series_id: str, *, client: httpx.Client, config: Config, limiter: RateLimiter | None = None
) -> tuple[Payload, Tidy]:
    """Download and parse one series: the API with ``config.fred_api_key``, else the CSV.

    Addresses from ``config.url("fred", API)`` and ``config.url("fredgraph", FREDGRAPH)``
    (``SMALLCAPS_URL_FRED``, ``SMALLCAPS_URL_FREDGRAPH``).

    The API route adds the series' own metadata (title, units, frequency); the keyless CSV
    answers 403 to scripts, which the error says.
    """
    key = config.fred_api_key
    api = config.url("fred", API)
    if key:
        obs = fetch(series_id, client=client, api_key=key, limiter=limiter, url=api)
        info = fetch_info(series_id, client=client, api_key=key, limiter=limiter, url=api)
        return obs, tidy_api(obs.data, info.data, origin=obs.url, series_id=series_id)
    graph = config.url("fredgraph", FREDGRAPH)
    payload = fetch(series_id, client=client, limiter=limiter, graph_url=graph)
    return payload, tidy(payload.data, origin=payload.url, series_id=series_id)


def companions(
    series_id: str, *, client: httpx.Client, config: Config, limiter: RateLimiter | None = None
) -> list[tuple[Payload, Tidy]]:
    """With a key: the series' release calendar (``release/<SERIES>``), else nothing.

    A calendar FRED will not give (no release, a refusal, a bad answer) is skipped with a
    warning: reads of the series are then dated by the rule table, and say so.
    """
    key = config.fred_api_key
    if not key:
        return []
    try:
        got = fetch_calendar(series_id, client=client, api_key=key, limiter=limiter,
                             url=config.url("fred", API))  # fmt: skip
        return [(got, tidy_calendar(got.data, origin=got.url))]
    except SmallcapsError as exc:  # the series is stored all the same
        _log.warning("%s: no release calendar stored (%s); the rule table dates it",
                     series_id, exc)  # fmt: skip
        return []


PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="FRED, Federal Reserve Bank of St. Louis",
        order=1,
        root="",  # FRED's own codes: UNRATE, DFF
        template="{NAME}",
        exact=True,
        series_id=str.upper,
        release={
            # daily rates and spreads (H.15, ICE BofA)
            "DFF": NEXT_BUSINESS_DAY,
            "EFFR": NEXT_BUSINESS_DAY,
            "DFEDTAR": NEXT_BUSINESS_DAY,
            "DFEDTARU": NEXT_BUSINESS_DAY,
            "DFEDTARL": NEXT_BUSINESS_DAY,
            "DGS2": NEXT_BUSINESS_DAY,
            "DGS10": NEXT_BUSINESS_DAY,
            "T10Y2Y": NEXT_BUSINESS_DAY,
            "BAMLH0A0HYM2": NEXT_BUSINESS_DAY,
            # macro series, stamped at the start of their period
            "UNRATE": EMPLOYMENT_SITUATION,
            "FEDFUNDS": FIRST_BUSINESS_DAY_NEXT_MONTH,
            "CPIAUCSL": CPI_RELEASE,
            "GDPC1": GDP_ADVANCE,
            "NFCI": NFCI_RELEASE,
            "USREC": NBER_RELEASE,
            "USRECP": NBER_RELEASE,
        },
        tidy=lambda name, data, *, origin, **params: tidy(
            data, origin=origin, series_id=params.get("series_id", name)
        ),
        live=live,
        companions=companions,
        defaults=DEFAULT,
        cross_checks=(CrossCheck("FEDFUNDS", "DFF", "monthly mean"),),
    )
)
