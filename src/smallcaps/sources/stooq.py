"""Stooq daily prices: a second source of daily bars, with the user's free API key.

``GET https://stooq.com/q/d/l/?s=iwm.us&i=d&apikey=KEY`` answers ``Date,Open,High,Low,Close,
Volume`` (indices such as ``^spx`` may have no Volume column). Since March 2026 Stooq wants a key
(get one at https://stooq.com/q/d/?s=spy.us&get_apikey, set ``STOOQ_API_KEY``). It refuses with
status 200 and a body that is not CSV: an HTML page (the key page, or a bot check), the plain
text ``No data`` (unknown symbol) or ``Exceeded the daily hits limit``. :func:`fetch` turns those
into AuthError, FetchError and RateLimitError; :func:`parse` rejects the same bodies met in a
file with a ParseError saying what Stooq meant.

Stooq does not document whether its closes are adjusted for splits and dividends, so
:attr:`Prices.adjusted` is None and a note says so. Series ids are Yahoo's
(``price/<TICKER>/<field>``), with Stooq's ``.us`` suffix dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import httpx

from smallcaps.errors import AuthError, ConfigError, FetchError, ParseError, RateLimitError
from smallcaps.publishers import Publisher, register
from smallcaps.release import SAME_DAY
from smallcaps.sources._http import get
from smallcaps.sources.base import Payload, Tidy, reject_html
from smallcaps.sources.yahoo import Layout, Prices, read_prices

SOURCE = "stooq"
URL = "https://stooq.com/q/d/l/"
KEY_ENV = "STOOQ_API_KEY"
KEY_HELP = (
    "get a free key at https://stooq.com/q/d/?s=spy.us&get_apikey and set STOOQ_API_KEY "
    "(or pass api_key=...)"
)
_NOTE = (
    "Stooq does not document whether these prices are adjusted for splits and dividends; "
    "compare with Yahoo's Adj Close before computing total returns"
)
# fmt: off
LAYOUTS: Mapping[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("stooq", ("Date", "Open", "High", "Low", "Close", "Volume"), None, _NOTE),
        Layout("stooq_no_volume", ("Date", "Open", "High", "Low", "Close"), None, _NOTE),
    )
}
# fmt: on
_NO_DATA = "no data"
_LIMIT = "exceeded the daily hits limit"
_KEY_WORDS = (b"apikey", b"api key", b"api_key")


def symbol(ticker: str) -> str:
    """Stooq's symbol: ``IWM`` -> ``iwm.us``; ``^SPX`` and ``tsco.uk`` stay as they are."""
    t = ticker.strip().lower()
    if not t:
        raise ValueError("ticker must be a non-empty string, e.g. 'IWM' or '^spx'")
    return t if t.startswith("^") or "." in t else f"{t}.us"


def fetch(
    ticker: str,
    *,
    client: httpx.Client,
    api_key: str | None,
    url: str = URL,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Payload:
    """Download a ticker's daily history as CSV bytes (retries 5xx, 429 and timeouts).

    Parameters
    ----------
    ticker : str
        ``"IWM"`` (``.us`` is appended), ``"^spx"``, or a Stooq symbol with its suffix.
    client : httpx.Client
        The HTTP client (tests aim it at a local server).
    api_key : str or None
        The user's key (``Config.stooq_api_key``, from ``STOOQ_API_KEY``); masked in messages.
    url : str, default URL
        The download address.
    retries, backoff, sleep
        As in :func:`smallcaps.sources._http.get`.

    Raises
    ------
    ConfigError
        No key.
    AuthError
        Stooq answered with its API-key page (a missing or refused key).
    RateLimitError
        "Exceeded the daily hits limit".
    FetchError
        "No data" (unknown symbol), another HTML page, or the transport failed.
    """
    sym = symbol(ticker)
    if not api_key:
        raise ConfigError(f"Stooq needs an API key to download {sym!r}: {KEY_HELP}")
    params = {"s": sym, "i": "d", "apikey": api_key}
    payload = get(client, SOURCE, url, params=params, retries=retries, backoff=backoff, sleep=sleep)
    _raise_refusal(payload, sym)
    return payload


def parse(data: bytes, *, origin: str, ticker: str | None = None) -> Prices:
    """Read Stooq's daily CSV into :class:`~smallcaps.sources.yahoo.Prices` (adjusted=None).

    Raises
    ------
    ParseError
        Stooq's refusals (HTML page, ``No data``, daily limit) and everything
        :func:`smallcaps.sources.yahoo.parse` rejects: unknown header, unreadable cells,
        duplicate dates, a close <= 0.
    """
    said = _said(data)
    if said == _NO_DATA:
        raise ParseError(origin, f"Stooq answered 'No data': {_no_data_help(ticker)}")
    if said == _LIMIT:
        raise ParseError(
            origin, "Stooq answered 'Exceeded the daily hits limit': try again tomorrow"
        )
    try:
        reject_html(data, origin)
    except ParseError as exc:
        raise ParseError(origin, f"{exc.reason}; {_html_help(data)}") from None
    name = ticker.strip().upper().removesuffix(".US") if ticker is not None else None
    return read_prices(data, origin=origin, layouts=LAYOUTS.values(), ticker=name, multiindex=False)


def tidy(data: bytes, *, origin: str, ticker: str) -> Tidy:
    """Parse and return series ``price/<TICKER>/<field>`` (source ``stooq``)."""
    return parse(data, origin=origin, ticker=ticker).to_tidy(source=SOURCE, namespace="stooq")


def _said(data: bytes) -> str | None:
    """Stooq's plain-text refusals, lower-cased; None for anything else."""
    head = data[:200].strip().decode("utf-8", "replace").lower()
    for text in (_NO_DATA, _LIMIT):
        if head.startswith(text):
            return text
    return None


def _no_data_help(sym: str | None) -> str:
    what = f"{sym!r} is" if sym else "the symbol is"
    return (
        f"{what} unknown to Stooq or has no prices; check it on https://stooq.com "
        "(US tickers end in '.us', indices start with '^')"
    )


def _html_help(data: bytes) -> str:
    if any(word in data[:20000].lower() for word in _KEY_WORDS):
        return f"Stooq sends this page when the API key is missing or refused: {KEY_HELP}"
    return (
        "Stooq sends HTML for bot checks and errors; try again later, or save the CSV from a "
        "browser into the mirror folder"
    )


def _raise_refusal(payload: Payload, sym: str) -> None:
    """Stooq refuses with status 200: turn its bodies into the right FetchError."""
    url, said = payload.url, _said(payload.data)
    if said == _NO_DATA:
        raise FetchError(SOURCE, url, f"Stooq answered 'No data': {_no_data_help(sym)}", status=200)
    if said == _LIMIT:
        raise RateLimitError(
            SOURCE,
            url,
            "Stooq answered 'Exceeded the daily hits limit': the key's daily quota is used up; "
            "try again tomorrow",
            status=200,
        )
    try:
        reject_html(payload.data, url)
    except ParseError as exc:
        key_page = any(word in payload.data[:20000].lower() for word in _KEY_WORDS)
        error = AuthError if key_page else FetchError
        raise error(SOURCE, url, f"{exc.reason}; {_html_help(payload.data)}", status=200) from None


# --- the registration: release rule and doctor checks; not fetched by spec (yet) ----------------

PUBLISHER = register(
    Publisher(
        kind=SOURCE,
        title="Stooq daily prices",
        order=7,
        root=f"{SOURCE}/",
        template=SOURCE + "/{NAME}/",
        series_id=lambda ticker, field: f"{SOURCE}/{ticker.upper()}/{field}",
        release={f"{SOURCE}/": SAME_DAY},
        prices=True,
        specs=False,
    )
)
