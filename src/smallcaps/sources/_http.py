"""HTTP GET with bounded retries and backoff, returning a :class:`Payload`.

Retried: timeouts, connection errors, HTTP 5xx and 429 (honouring ``Retry-After`` up to a cap).
Not retried: other 4xx. 401/403 become :class:`AuthError`, a 429 that outlasts the retries a
:class:`RateLimitError`, everything else a :class:`FetchError`; all name the source and URL.
An empty body is an error here; content checks (HTML where CSV was expected, changed headers)
are the parser's, which receives the URL as ``origin``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from smallcaps import __version__
from smallcaps.errors import AuthError, FetchError, NetworkError, RateLimitError
from smallcaps.sources.base import Payload

USER_AGENT = f"smallcaps/{__version__} (+https://github.com/smallcaps/smallcaps)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_RETRY_AFTER = 60.0  # seconds; a server asking for more is reported, not waited for
MAX_BYTES = 256 * 2**20  # the largest publisher file we read (ALFRED JSON) is ~40 MB
_SECRET = re.compile(r"(api_key|apikey|token|key)=[^&]+", re.IGNORECASE)


def mask(url: str) -> str:
    """Hide API keys in a URL before it reaches a message, a log or the store."""
    return _SECRET.sub(r"\1=***", url)


def make_client(timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` with our user agent, timeouts and redirects followed."""
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    return httpx.Client(timeout=timeout, headers=headers, follow_redirects=True, **kwargs)


def get(
    client: httpx.Client,
    source: str,
    url: str,
    *,
    params: Mapping[str, str | int] | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_bytes: int = MAX_BYTES,
) -> Payload:
    """GET ``url`` and return its body as a Payload; raise a FetchError subclass otherwise.

    Parameters
    ----------
    client : httpx.Client
        The client (tests aim it at pytest-httpserver).
    source : str
        Publisher name, for messages and the payload.
    url : str
        The address; ``params`` are appended as a query string.
    params : mapping, optional
        Query parameters (keys are masked in messages and in ``Payload.url``).
    retries : int, default 3
        Extra attempts after the first on timeouts, connection errors, 5xx and 429.
    backoff : float, default 1.0
        Seconds before the first retry, doubled each time (``Retry-After`` wins when larger).
    sleep : callable, default time.sleep
        Injected so tests do not wait.
    now : callable, default the current UTC time
        The clock a ``Retry-After`` HTTP date is measured against; injected so tests compute
        the wait from known times.
    max_bytes : int, default MAX_BYTES
        A larger body (announced or received) is a FetchError, read no further.
    """
    request = client.build_request("GET", url, params=params)
    shown = mask(str(request.url))
    last = ""
    transport = False  # the last attempt got no answer at all (NetworkError)
    for attempt in range(retries + 1):
        wait = backoff * 2**attempt
        try:
            response = client.send(request, stream=True)
            try:
                _read_limited(response, source, shown, max_bytes)
            finally:
                response.close()
        except httpx.TimeoutException:
            last, transport = f"timed out after {retries + 1} attempts", True
        except httpx.TransportError as exc:
            last = f"could not connect ({type(exc).__name__}: {exc}); check your network"
            transport = True
        else:
            transport = False
            status = response.status_code
            if status == 200:
                if not response.content.strip():
                    raise FetchError(source, shown, "the server sent an empty body", status=200)
                return Payload(source=source, url=shown, data=response.content)
            if status in (401, 403):
                reason = f"HTTP {status}: access refused{_snippet(response)}"
                raise AuthError(source, shown, reason, status=status)
            if status == 429:
                after = retry_after(response, now)
                if after is not None and after > MAX_RETRY_AFTER:
                    raise RateLimitError(
                        source,
                        shown,
                        f"HTTP 429: rate limited; retry after {after:.0f} s",
                        status=429,
                    )
                wait = max(wait, after or 0.0)
                last = f"HTTP 429: still rate limited after {retries + 1} attempts; try later"
            elif status >= 500:
                last = f"HTTP {status} after {retries + 1} attempts"
            else:
                said = _snippet(response, limit=400)  # FRED's 400s explain in ~200 characters
                raise FetchError(source, shown, f"HTTP {status}{said}", status=status)
            if attempt == retries:
                error = RateLimitError if status == 429 else FetchError
                raise error(source, shown, last, status=status)
        if attempt < retries:
            sleep(wait)
    raise (NetworkError if transport else FetchError)(source, shown, last)


def _read_limited(response: httpx.Response, source: str, url: str, max_bytes: int) -> None:
    """Read a streamed body, refusing one larger than ``max_bytes`` before it is all in memory."""
    declared = response.headers.get("Content-Length", "")
    too_big = f"the response is larger than the {max_bytes:,}-byte limit; not read"
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(source, url, too_big, status=response.status_code)
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(source, url, too_big, status=response.status_code)
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what response.read() would have kept


def retry_after(
    response: httpx.Response, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Seconds a 429 or 503 asks us to wait: ``Retry-After`` as seconds or as an HTTP date.

    A date is measured against ``now()`` (our clock, as urllib3 does: a server's ``Date`` can be
    repeated or missing); a date already past gives 0. None when the header is absent or
    unreadable.
    """
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    until = _http_date(value)
    if until is None:
        return None
    return max((until - now()).total_seconds(), 0.0)


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    """The start of an error body (APIs explain a 400 there), HTML tags stripped."""
    text = re.sub(r"<[^>]+>", " ", response.text[:4000])
    text = " ".join(text.split())[:limit]
    return f" (server said: {text!r})" if text else ""
