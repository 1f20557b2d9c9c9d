"""Every exception smallcaps raises on purpose.

The tree::

    SmallcapsError                 base; the CLI prints these without a traceback (exit 1)
    ├── ConfigError                a missing key, an unusable folder or option (exit 2)
    ├── ParseError                 bytes that are not what the publisher's format promises (exit 3);
    │                              names the file or URL, and the line and field when known
    ├── FetchError                 the network or the server failed (exit 4); names source and URL,
    │   │                          and ends "Nothing in the store was changed."
    │   ├── AuthError              the publisher wants a key or refused ours (HTTP 401/403)
    │   └── RateLimitError         still throttled after the retries (HTTP 429, Yahoo's limit)
    ├── UnknownSeriesError         a series id, ticker or mirror entry we do not know (exit 5);
    │                              suggests close matches
    ├── InsufficientDataError      too little data for a computation (exit 6)
    └── StoreError                 the store is locked by another process too long, corrupt, or
                                   misses a payload (exit 7)

Messages say what went wrong, where (URL, file and line, series, field), what was expected and
what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import ClassVar

STORE_UNCHANGED = "Nothing in the store was changed."


class SmallcapsError(Exception):
    """Base class of every error smallcaps raises on purpose."""

    exit_code: ClassVar[int] = 1


class ConfigError(SmallcapsError):
    """A setting is missing or unusable (an API key, a folder, an option)."""

    exit_code = 2


class ParseError(SmallcapsError):
    """Bytes that do not follow the publisher's format.

    Parameters
    ----------
    origin : str
        File name or URL the bytes came from.
    reason : str
        What is wrong and, where useful, what was expected.
    line : int, optional
        1-based line number in the file.
    field : str, optional
        Column or field name.
    """

    exit_code = 3

    def __init__(
        self, origin: str, reason: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.origin, self.reason, self.line, self.field = origin, reason, line, field
        where = origin + (f", line {line}" if line else "")
        where += f", field {field!r}" if field else ""
        super().__init__(f"{where}: {reason}")


class FetchError(SmallcapsError):
    """Downloading failed: transport error, timeout, bad HTTP status or empty body.

    Parameters
    ----------
    source : str
        Publisher name, e.g. ``"fred"``.
    url : str
        The URL requested (API keys are masked by the caller).
    reason : str
        What went wrong and what to do.
    status : int, optional
        The HTTP status, when the server answered.
    """

    exit_code = 4

    def __init__(self, source: str, url: str, reason: str, *, status: int | None = None) -> None:
        self.source, self.url, self.reason, self.status = source, url, reason, status
        super().__init__(f"{source}: {url}: {reason}. {STORE_UNCHANGED}")


class AuthError(FetchError):
    """The publisher requires a key, or refused the one given (HTTP 401/403)."""


class RateLimitError(FetchError):
    """The publisher still throttles us after bounded retries with backoff."""


class UnknownSeriesError(SmallcapsError):
    """A series id, ticker or mirror entry that is not known.

    Parameters
    ----------
    name : str
        What the user asked for.
    known : iterable of str
        The valid names; up to three close matches are suggested.
    what : str, default "series"
        The kind of thing, for the message.
    hint : str, optional
        What the publisher said and what to do, appended to the message.
    """

    exit_code = 5

    def __init__(
        self, name: str, known: Iterable[str], *, what: str = "series", hint: str | None = None
    ) -> None:
        known = sorted(set(known))
        self.name, self.known = name, known
        close = get_close_matches(name, known, n=3, cutoff=0.5)
        if not close:  # case-insensitive second try: "iwm" should find "IWM"
            lowered = {k.lower(): k for k in known}
            close = [lowered[k] for k in get_close_matches(name.lower(), list(lowered), n=3)]
        message = f"unknown {what} {name!r}"
        message += f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        message += f" {hint}" if hint else ""
        super().__init__(message)


class InsufficientDataError(SmallcapsError):
    """Too few observations, or a date outside the data, for the computation asked."""

    exit_code = 6


class StoreError(SmallcapsError):
    """The store or its archive cannot be used: locked too long, corrupt, or missing a payload."""

    exit_code = 7
