"""Every exception smallcaps raises on purpose.

The tree::

    SmallcapsError                 base; the CLI prints these without a traceback (exit 1)
    ├── ConfigError                a missing key, an unusable folder or option (exit 2)
    ├── ParseError                 bytes that are not what the publisher's format promises (exit 3);
    │                              names the file or URL, and the line and field when known
    ├── FetchError                 the network or the server failed (exit 4); names source and URL,
    │   │                          and ends "Nothing in the store was changed."
    │   ├── NetworkError           no answer at all: no route, DNS, connection refused, timeouts
    │   ├── AuthError              the publisher wants a key or refused ours (HTTP 401/403)
    │   └── RateLimitError         still throttled after the retries (HTTP 429, Yahoo's limit)
    ├── UnknownNameError           a name we do not know; suggests close matches
    │   ├── UnknownSeriesError     a series id, ticker or mirror entry (exit 5)
    │   ├── UnknownMeasurementError  a measurement name (exit 2)
    │   └── UnknownClaimError      a claim id of a thesis (exit 2)
    ├── InsufficientDataError      too little data for a computation (exit 6)
    └── StoreError                 the store is locked by another process too long, corrupt, or
                                   misses a payload (exit 7)

Messages say what went wrong, where (URL, file and line, series, field), what was expected and
what to do about it. Each class also knows its exit code and its *hint*, the fix to show beside
the message (``exc.hint``; ``exc.format_message()`` joins both), as click's exceptions carry
``exit_code`` and ``format_message``. Code that must tell errors apart branches on the class
(``isinstance``) or on fields such as ``FetchError.status`` and ``.source``, never on the text.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import ClassVar

STORE_UNCHANGED = "Nothing in the store was changed."


NETWORK_HINT = (
    "check the network and run the command again, or pass --mirror DIR with a folder laid out "
    "like shared/data"
)
KEY_HINTS = {
    "fred": "set FRED_API_KEY to your free key (https://fredaccount.stlouisfed.org/apikeys) "
    "and run the command again",
    "stooq": "set STOOQ_API_KEY to your Stooq key and run the command again",
}


class SmallcapsError(Exception):
    """Base class of every error smallcaps raises on purpose.

    ``exit_code`` is the process exit status the CLI uses; :attr:`hint` says what to do.
    """

    exit_code: ClassVar[int] = 1

    @property
    def hint(self) -> str | None:
        """What the user can do about it, or None when the message says all."""
        return None

    def format_message(self) -> str:
        """The message, then the hint when there is one (what the CLI prints)."""
        hint = self.hint
        return f"{self}\n  hint: {hint}" if hint else str(self)


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

    @property
    def hint(self) -> str | None:
        """Check the network or use the mirror (a bad status or body from the server)."""
        return NETWORK_HINT


class NetworkError(FetchError):
    """No answer from the publisher at all: no route, DNS failure, refused connection, timeout."""


class AuthError(FetchError):
    """The publisher requires a key, or refused the one given (HTTP 401/403)."""

    @property
    def hint(self) -> str | None:
        """Set the publisher's key (FRED, Stooq), or say that access was refused."""
        return KEY_HINTS.get(
            self.source, f"{self.source} refused access; try again later or use --mirror DIR"
        )


class RateLimitError(FetchError):
    """The publisher still throttles us after bounded retries with backoff."""

    @property
    def hint(self) -> str | None:
        """Wait and try again."""
        return f"{self.source} is rate-limiting; wait a few minutes and run the command again"


class UnknownNameError(SmallcapsError):
    """A name that is not known; the message suggests close matches.

    Parameters
    ----------
    name : str
        What the user asked for.
    known : iterable of str
        The valid names; up to three close matches are suggested.
    what : str, optional
        The kind of thing, for the message (default: the class's ``what``).
    hint : str, optional
        What the publisher said and what to do, appended to the message.
    list_all : bool, default False
        Also list every known name (for short lists such as a thesis's claim ids).
    """

    exit_code = 5
    what: ClassVar[str] = "name"

    def __init__(
        self,
        name: str,
        known: Iterable[str],
        *,
        what: str | None = None,
        hint: str | None = None,
        list_all: bool = False,
    ) -> None:
        known = sorted(set(known))
        what = what or self.what
        self.name, self.known, self._hint = name, known, hint
        close = get_close_matches(name, known, n=3, cutoff=0.5)
        if not close:  # case-insensitive second try: "iwm" should find "IWM"
            lowered = {k.lower(): k for k in known}
            close = [lowered[k] for k in get_close_matches(name.lower(), list(lowered), n=3)]
        message = f"unknown {what} {name!r}"
        message += f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        if list_all and known:
            message += f" (known: {', '.join(known)})"
        message += f" {hint}" if hint else ""
        super().__init__(message)


class UnknownSeriesError(UnknownNameError):
    """A series id, ticker or mirror entry that is not known (exit 5)."""

    exit_code = 5
    what = "series"

    @property
    def hint(self) -> str | None:
        """Where to find valid ids (the publisher's own hint is already in the message)."""
        return None if self._hint else "'smallcaps series list' shows the stored series"


class UnknownMeasurementError(UnknownNameError):
    """A measurement name that is not registered (exit 2)."""

    exit_code = 2
    what = "measurement"

    @property
    def hint(self) -> str | None:
        """Where the valid names are listed."""
        return "'smallcaps measure --list' shows every measurement and its parameters"


class UnknownClaimError(UnknownNameError):
    """A claim id that the thesis does not have (exit 2); the message lists the valid ids."""

    exit_code = 2
    what = "claim"

    def __init__(self, name: str, known: Iterable[str], *, thesis: str | None = None) -> None:
        where = f"in {thesis}" if thesis else None
        super().__init__(name, known, hint=where, list_all=True)


class InsufficientDataError(SmallcapsError):
    """Too few observations, or a date outside the data, for the computation asked."""

    exit_code = 6


class StoreError(SmallcapsError):
    """The store or its archive cannot be used: locked too long, corrupt, or missing a payload."""

    exit_code = 7
