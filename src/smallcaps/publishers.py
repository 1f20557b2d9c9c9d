"""Publishers: one registration each, the one place the rest of the package learns about them.

Each publisher module in :mod:`smallcaps.sources` ends with one registration::

    PUBLISHER = register(Publisher(kind="shiller", title="Robert Shiller's ie_data", ...))

and that record is all the layers above need: how a spec name maps to stored series ids
(:meth:`Publisher.prefix`, :meth:`Publisher.feeds`, :meth:`Publisher.series_id`), the rows of
the release table it owns (:data:`smallcaps.access.RELEASE_RULES` is assembled from them), how
to parse one of its payloads and fetch it live, its mirror captures, and what the doctor
checks for it. ``access.py``, ``analytics/``, ``measures/``, ``backtest/``, ``thesis/`` and
``report/`` never import :mod:`smallcaps.sources`; they ask this module (a test walks their
imports). ``update.py`` and ``cli.py``, the ingest edge, may.

Discovery imports every public module of :mod:`smallcaps.sources` the first time a publisher is
asked for (as :func:`smallcaps.registry.load_all` does for measurements), so adding a publisher
is adding its module. This module imports nothing from ``sources/``, ``store/`` or above.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smallcaps.errors import ConfigError, UnknownSeriesError
from smallcaps.release import RuleEntry

#: ``live(name, *, client, config, limiter) -> (Payload, Tidy)``: download and parse one spec
LiveFetch = Callable[..., Any]
#: ``tidy(name, data, *, origin, **params) -> Tidy``: parse one payload of spec ``name``
TidyBytes = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Capture:
    """One file of a mirror folder (laid out like ``shared/data``) serving a spec.

    Parameters
    ----------
    path : str
        Relative to the mirror folder, e.g. ``"shiller/ie_data.xls"``.
    name : str
        The spec name it serves (``ie_data`` of ``shiller:ie_data``).
    retrieved : date
        The day the file was captured from the publisher; it becomes the vintage's fetch time.
    params : mapping
        Extra keyword arguments for the publisher's ``tidy`` (a series id or ticker the file
        does not say).
    """

    path: str
    name: str
    retrieved: date
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Two different series that measure the same thing, for the doctor.

    ``b`` is averaged by month (``how``) before it is compared with ``a`` as a level.
    """

    a: str
    b: str
    how: str = "monthly mean"


@dataclass(frozen=True, slots=True)
class Publisher:
    """Everything the package knows about one publisher, declared in its source module.

    Parameters
    ----------
    kind : str
        The spec kind (``fred`` of ``fred:UNRATE``) and the payloads' source name.
    title : str
        Who publishes, for people.
    order : int
        Rank among publishers: specs are listed in this order, and a bare name held by two
        kinds (``IWM``: prices and holdings) goes to the lower one.
    root : str
        Every stored id of the publisher starts with this (``"french/"``); ``""`` for a
        publisher whose ids are its own bare codes (FRED's ``UNRATE``).
    template : str
        The ids one spec writes start with this; ``{name}`` is the spec name, ``{NAME}`` the
        same upper-cased (``"price/{NAME}/"``). With ``exact`` it is the whole id.
    series_id : callable
        The stored id from its parts, e.g. ``(dataset, section title, column)`` for French.
    helpers : mapping
        Named pieces of the id scheme that callers need alone (French: ``slug`` of a title).
    release : mapping
        The publisher's rows of the release table: exact ids or id prefixes (ending in ``/``)
        to a rule, or to one rule per frequency.
    tidy : callable, optional
        ``tidy(name, data, *, origin, **params) -> Tidy``; None for a publisher that is not
        fetched by spec (a user's CSV).
    live : callable, optional
        ``live(name, *, client, config, limiter) -> (Payload, Tidy)``; None: no live route
        (use a mirror or a user file).
    companions : callable, optional
        ``companions(name, *, client, config, limiter) -> [(Payload, Tidy), ...]``: data
        fetched live along with a spec and stored as series of their own (FRED: the release
        calendar, ``release/<SERIES>``); it returns ``[]`` when they cannot be had.
    defaults : tuple of str
        Spec names fetched by default.
    mirror : tuple of Capture
        Mirror files that serve its specs (besides the rows of ``sources/mirror.toml``).
    exact : bool
        One spec, one series: ``template`` is the id (FRED), also written ``<kind>/<id>``.
    prices : bool
        The doctor compares its series as prices (by returns; a constant ratio is agreement),
        except those in shares or contracts.
    cross_checks : tuple of CrossCheck
        Pairs of its series the doctor compares.
    specs : bool
        Whether ``kind:name`` specs of it exist (False: its rows and checks only, e.g. Stooq,
        whose module is called directly).
    """

    kind: str
    title: str
    order: int
    root: str
    template: str
    series_id: Callable[..., str]
    release: Mapping[str, RuleEntry]
    tidy: TidyBytes | None = None
    live: LiveFetch | None = None
    companions: LiveFetch | None = None
    defaults: tuple[str, ...] = ()
    mirror: tuple[Capture, ...] = ()
    exact: bool = False
    prices: bool = False
    cross_checks: tuple[CrossCheck, ...] = ()
    specs: bool = True
    helpers: Mapping[str, Callable[[str], str]] = field(default_factory=dict)

    def prefix(self, name: str) -> str:
        """What the ids of spec ``name`` start with (with ``exact``: the id itself)."""
        return self.template.format(name=name, NAME=name.upper())

    def feeds(self, name: str, series_id: str) -> bool:
        """Whether spec ``name`` of this publisher stores the series ``series_id``."""
        prefix = self.prefix(name)
        if self.exact:
            return series_id in (prefix, f"{self.kind}/{prefix}")
        return series_id.startswith(prefix)

    def owns(self, series_id: str) -> bool:
        """Whether ``series_id`` is in this publisher's id scheme (never for bare ids)."""
        return bool(self.root) and series_id.startswith(self.root)


#: the package whose public modules are imported to find the registrations
PLUGINS = "smallcaps.sources"
_PUBLISHERS: dict[str, Publisher] = {}
_LOADED = False


def register(publisher: Publisher) -> Publisher:
    """Add ``publisher`` to the registry and return it (``PUBLISHER = register(...)``).

    Raises
    ------
    ConfigError
        Its kind, or a row of its release table, is already registered by another publisher.
    """
    old = _PUBLISHERS.get(publisher.kind)
    if old is not None and old is not publisher:
        raise ConfigError(f"publisher {publisher.kind!r} is registered twice")
    for other in _PUBLISHERS.values():
        if other.kind != publisher.kind and (taken := set(other.release) & set(publisher.release)):
            raise ConfigError(
                f"publisher {publisher.kind!r} claims release rows {sorted(taken)} of "
                f"{other.kind!r}"
            )
    _PUBLISHERS[publisher.kind] = publisher
    return publisher


def load_all() -> dict[str, Publisher]:
    """Import every public module of :mod:`smallcaps.sources` so each registers; in order."""
    global _LOADED
    if not _LOADED:
        pkg = importlib.import_module(PLUGINS)  # by name: plugin discovery, not a layer import
        for info in pkgutil.iter_modules(pkg.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{PLUGINS}.{info.name}")
        _LOADED = True
    return dict(sorted(_PUBLISHERS.items(), key=lambda kv: kv[1].order))


def all_publishers() -> list[Publisher]:
    """Every registered publisher, in ``order``."""
    return list(load_all().values())


def get(kind: str) -> Publisher:
    """The publisher of ``kind``.

    Raises
    ------
    UnknownSeriesError
        No such publisher (close matches suggested).
    """
    known = load_all()
    if kind not in known:
        raise UnknownSeriesError(kind, known, what="publisher")
    return known[kind]


def spec_kinds() -> tuple[str, ...]:
    """The kinds a ``kind:name`` spec may name, in order."""
    return tuple(p.kind for p in all_publishers() if p.specs)


def series_id(kind: str, *parts: str) -> str:
    """A stored series id in ``kind``'s scheme, e.g. ``series_id("shiller", "cape")``."""
    return get(kind).series_id(*parts)


def helper(kind: str, name: str) -> Callable[[str], str]:
    """A named piece of ``kind``'s id scheme, e.g. ``helper("french", "slug")``.

    Raises
    ------
    UnknownSeriesError
        The publisher declares no such helper.
    """
    helpers = get(kind).helpers
    if name not in helpers:
        raise UnknownSeriesError(name, helpers, what=f"{kind} id helper")
    return helpers[name]


def feeds(kind: str, name: str, series_id: str) -> bool:
    """Whether the spec ``kind:name`` stores ``series_id`` (False for an unknown kind)."""
    publisher = load_all().get(kind)
    return publisher is not None and publisher.feeds(name, series_id)


def release_rows() -> dict[str, RuleEntry]:
    """Every publisher's rows of the release table, in publisher order."""
    rows: dict[str, RuleEntry] = {}
    for p in all_publishers():
        rows.update(p.release)
    return rows


def unalias(series_id: str) -> str:
    """A bare id written with its publisher's kind (``fred/DFF``, ``FRED:DFF``) without it."""
    for p in all_publishers():
        if p.exact:
            series_id = re.sub(rf"^{re.escape(p.kind)}[/:]", "", series_id, flags=re.IGNORECASE)
    return series_id


def compares_prices(series_id: str, units: str) -> bool:
    """Whether the doctor compares ``series_id`` as a price (by returns) rather than a level."""
    if units in ("shares", "contracts"):
        return False
    return any(p.prices and p.owns(series_id) for p in all_publishers())


def cross_checks() -> list[CrossCheck]:
    """Every publisher's cross-series checks, in publisher order."""
    return [c for p in all_publishers() for c in p.cross_checks]
