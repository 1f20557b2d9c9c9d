"""Bring the store up to date: the loop behind ``smallcaps fetch`` and the first stage of a report.

Each spec is read from the mirror folder (offline) or its live publisher, and every capture is
written as a vintage. A spec that fails is recorded with its error and the others go on; the
store keeps what it had for the failed one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from smallcaps.config import Config
from smallcaps.errors import NetworkError, SmallcapsError
from smallcaps.sources import catalog
from smallcaps.sources._http import make_client
from smallcaps.sources.catalog import Spec
from smallcaps.sources.fred import RateLimiter
from smallcaps.store import Store

OFFLINE_AFTER = 2  # publishers unreachable before the rest are not tried either


@dataclass(slots=True)
class Outcome:
    """What happened to one spec: rows stored and new vintages, or why not.

    ``error`` is the exception that failed the spec (its ``hint`` says what to do);
    ``skipped`` says why a spec was not fetched (fresh enough, its publisher unreachable).
    """

    spec: Spec
    series: int = 0
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    files: int = 0
    new_vintages: int = 0
    error: SmallcapsError | None = None
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        """True when the spec was tried and failed (a skip is not a failure)."""
        return self.error is not None

    @property
    def status(self) -> str:
        """``ok``, ``skipped: ...``, ``not tried: ...`` or the error's message, for tables."""
        if self.skipped is not None:
            return self.skipped if self.error is not None else f"skipped: {self.skipped}"
        return "ok" if self.error is None else str(self.error)

    @property
    def hint(self) -> str | None:
        """How to fix a failure (from the exception), or None."""
        return None if self.error is None else self.error.hint

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the spec, whether it failed or was skipped, the message and the fix."""
        return {
            "spec": str(self.spec),
            "kind": self.spec.kind,
            "name": self.spec.name,
            "failed": self.failed,
            "skipped": self.skipped is not None and not self.failed,
            "error": None if self.status == "ok" else self.status,
            "new_vintages": self.new_vintages,
            "hint": self.hint,
        }


def default_specs(config: Config) -> list[Spec]:
    """Every spec the mirror maps (offline) or every default live spec."""
    if config.mirror is not None:
        return sorted({f.spec for f in catalog.mirror_files()})
    return list(catalog.DEFAULT_SPECS)


def update(
    store: Store,
    config: Config,
    specs: Iterable[Spec] | None = None,
    *,
    since: pd.Timestamp | None = None,
    alfred: bool = False,
    on_spec: Callable[[Spec], None] | None = None,
) -> list[Outcome]:
    """Fetch ``specs`` (default :func:`default_specs`) into ``store``.

    Parameters
    ----------
    store : Store
    config : Config
        ``config.mirror`` set: read the mirror folder; otherwise the live publishers.
    specs : iterable of Spec, optional
    since : Timestamp, optional
        Skip specs whose newest vintage was fetched on or after this time.
    alfred : bool
        FRED specs store every ALFRED release as a vintage (needs ``FRED_API_KEY``).
    on_spec : callable, optional
        Called with each spec before it is fetched (progress bars).

    Returns
    -------
    list of Outcome
        One per spec, in order; failures carry the exception (with its ``hint``). After a
        transport failure
        (no connection, timeouts) the publisher's remaining specs are not tried, and after two
        publishers fail so, no spec is (the machine is offline).
    """
    specs = list(default_specs(config) if specs is None else specs)
    files = catalog.mirror_files() if config.mirror is not None else []
    listing = store.series_list() if since is not None else None
    limiter = RateLimiter()  # one per run: FRED allows about 2 requests a second
    outcomes: list[Outcome] = []
    unreachable: dict[str, NetworkError] = {}  # publisher kind -> the error that ended it
    with make_client() as client:
        for spec in specs:
            if on_spec is not None:
                on_spec(spec)
            outcome = Outcome(spec)
            outcomes.append(outcome)
            if listing is not None and catalog.stored_since(spec, listing, since):
                outcome.skipped = f"fetched since {since:%Y-%m-%d}"
                continue
            if spec.kind in unreachable:  # don't wait out the same dead network 40 times
                outcome.error = unreachable[spec.kind]
                outcome.skipped = f"not tried: {spec.kind} was unreachable"
                continue
            if len(unreachable) >= OFFLINE_AFTER:
                kinds = " and ".join(sorted(unreachable))
                outcome.error = next(iter(unreachable.values()))
                outcome.skipped = f"not tried: no network ({kinds} unreachable)"
                continue
            try:
                if config.mirror is not None:
                    pairs = catalog.read_mirror(spec, config.mirror, files)
                elif alfred and spec.kind == "fred":
                    pairs = catalog.fetch_alfred(spec.name, client=client, config=config,
                                                 limiter=limiter)  # fmt: skip
                else:
                    live = catalog.fetch_live(spec, client=client, config=config, limiter=limiter)
                    pairs = [live]
                for result in store.write_many(pairs):  # oldest capture first
                    outcome.new_vintages += len(result.added)
                    outcome.files += 1
                tidy = pairs[-1][1]
                dates = tidy.frame["date"]
                outcome.series, outcome.rows = len(tidy.meta), len(tidy.frame)
                outcome.first, outcome.last = dates.min(), dates.max()
            except SmallcapsError as exc:
                outcome.error = exc
                if config.mirror is None and isinstance(exc, NetworkError):
                    unreachable[spec.kind] = exc
    return outcomes
