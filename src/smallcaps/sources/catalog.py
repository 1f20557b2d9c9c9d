"""Which series smallcaps uses, and how to get each: live from its publisher or from a mirror.

A *spec* names a set of series the way ``smallcaps fetch`` takes it: ``kind:name``, e.g.
``fred:UNRATE``, ``french:Portfolios_Formed_on_ME`` (every table of that file), ``yahoo:IWM``
(every price field), ``shiller:ie_data``, ``ishares:IVV``, ``events:nber``. A bare name
(``UNRATE``, ``IWM``) is looked up among the default specs.

The mirror is a folder laid out like the project's ``shared/data``; ``mirror.toml`` (shipped in
this package) and the publishers' registrations say which file serves which spec and when the
file was captured, so a mirror serves the same series offline, each capture as its own vintage.

Everything per publisher (its kind, default specs, id prefixes, parsing, live route, mirror
captures) comes from its registration (:mod:`smallcaps.publishers`); this module dispatches.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from smallcaps import publishers, tomlfile
from smallcaps.config import Config
from smallcaps.errors import ConfigError, ParseError, UnknownSeriesError
from smallcaps.sources.base import Payload, Tidy
from smallcaps.sources.fred import RateLimiter


def kinds() -> tuple[str, ...]:
    """The publisher kinds a spec may name, in the publishers' order."""
    return publishers.spec_kinds()


@dataclass(frozen=True, slots=True, order=True)
class Spec:
    """A set of series from one publisher request: ``kind:name``."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in kinds():
            raise UnknownSeriesError(self.kind, kinds(), what="source kind")

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def default_specs() -> tuple[Spec, ...]:
    """Every publisher's default specs, in the publishers' order."""
    return tuple(
        Spec(p.kind, name) for p in publishers.all_publishers() if p.specs for name in p.defaults
    )


def __getattr__(name: str) -> Any:
    # KINDS and DEFAULT_SPECS are read from the registrations on first use, not at import
    if name == "KINDS":
        return kinds()
    if name == "DEFAULT_SPECS":
        return default_specs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_spec(text: str, known: Iterable[Spec] | None = None) -> Spec:
    """Read ``kind:name`` (any name) or a bare name found among ``known`` (case-insensitive).

    ``known`` defaults to :func:`default_specs`.

    Raises
    ------
    UnknownSeriesError
        A bare name that matches no known spec, or an unknown kind; close matches suggested.
    """
    text = text.strip()
    kind, sep, name = text.partition(":")
    if sep and kind in kinds() and name:
        return Spec(kind, name)
    known = list(default_specs() if known is None else known)
    hits = [s for s in known if s.name.lower() == text.lower()]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:  # IWM is both a price history and a holdings file
        return sorted(hits, key=lambda s: kinds().index(s.kind))[0]
    raise UnknownSeriesError(
        text, [str(s) for s in known] + [s.name for s in known], what="series or spec (kind:name)"
    )


def series_prefix(spec: Spec) -> str:
    """The store ids a spec writes start with this (``fred:DFF`` -> ``DFF``, exactly)."""
    return publishers.get(spec.kind).prefix(spec.name)


def stored_since(spec: Spec, listing: pd.DataFrame, cutoff: pd.Timestamp) -> bool:
    """Whether every stored series of ``spec`` has a vintage fetched on or after ``cutoff``.

    ``listing`` is :meth:`Store.series_list`; a spec with nothing stored is never fresh.
    """
    publisher = publishers.get(spec.kind)
    prefix = publisher.prefix(spec.name)
    ids = listing["series_id"]
    mine = listing[ids.eq(prefix) if publisher.exact else ids.str.startswith(prefix)]
    fetched = pd.to_datetime(mine["latest_fetched_at"], utc=True)
    cutoff = cutoff.tz_localize("UTC") if cutoff.tzinfo is None else cutoff.tz_convert("UTC")
    return bool(len(mine)) and bool((fetched >= cutoff).all())


# ---- mirror -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MirrorFile:
    """One file of a mirror folder, per ``mirror.toml``."""

    path: str
    spec: Spec
    retrieved: datetime
    params: Mapping[str, Any] = field(default_factory=dict)


def mirror_files(mapping: Path | None = None) -> list[MirrorFile]:
    """The entries of the mirror mapping, oldest capture first within each spec.

    By default ``mirror.toml`` plus every publisher's registered captures; a ``mapping`` file
    replaces both.
    """
    out = []
    if mapping is None:
        for p in publishers.all_publishers():
            for c in p.mirror:
                out.append(MirrorFile(c.path, Spec(p.kind, c.name), _end_of(c.retrieved),
                                      dict(c.params)))  # fmt: skip
        text = resources.files("smallcaps.sources").joinpath("mirror.toml").read_text("utf-8")
        origin = "mirror.toml"
    else:
        text, origin = tomlfile.read_text(mapping, what="mirror mapping"), str(mapping)
    doc = tomlfile.parse(text, origin=origin)
    for i, entry in enumerate(doc.get("file", []), start=1):
        missing = {"path", "spec", "retrieved"} - set(entry)
        if missing:
            raise ConfigError(f"{origin}: file entry #{i} lacks {sorted(missing)}")
        kind, _, name = str(entry["spec"]).partition(":")
        out.append(MirrorFile(entry["path"], Spec(kind, name), _end_of(entry["retrieved"]),
                              dict(entry.get("params", {}))))  # fmt: skip
    return sorted(out, key=lambda f: (f.spec, f.retrieved))


def _end_of(day: date) -> datetime:
    # the capture's day, at its end: a file committed that day may hold that day's close
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def read_mirror(
    spec: Spec, root: Path, files: Iterable[MirrorFile] | None = None
) -> list[tuple[Payload, Tidy]]:
    """Every capture of ``spec`` in the mirror folder, oldest first, parsed.

    Raises
    ------
    UnknownSeriesError
        The mapping has no file for ``spec``.
    ConfigError
        A mapped file is missing from the folder.
    """
    files = list(mirror_files() if files is None else files)
    mine = [f for f in files if f.spec == spec]
    if not mine:
        raise UnknownSeriesError(str(spec), {str(f.spec) for f in files}, what="mirror series")
    out = []
    for f in mine:
        payload = mirror_payload(f, root)
        out.append((payload, parse_mirror(f, payload)))
    return out


def mirror_payload(f: MirrorFile, root: Path) -> Payload:
    """The bytes of one mirror file, as the payload of its capture (read, not parsed).

    Raises
    ------
    ConfigError
        The file is missing from the folder.
    """
    path = inside_mirror(root, f.path, f.spec)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"mirror file {str(path)!r} (for {f.spec}) cannot be read: {exc}"
        ) from None
    return Payload(f.spec.kind, path.as_uri(), data, f.retrieved)


def inside_mirror(root: Path, relative: str, spec: Spec | str) -> Path:
    """The resolved path of a mirror file, which must be a file inside the mirror folder.

    Raises
    ------
    ConfigError
        The file is missing, or it (or a symlink on the way) leads outside the folder.
    """
    path = root / relative
    if not path.is_file():
        raise ConfigError(f"mirror file {str(path)!r} (for {spec}) is missing")
    resolved, top = path.resolve(), root.resolve()
    if not resolved.is_relative_to(top):
        raise ConfigError(
            f"mirror file {str(path)!r} (for {spec}) leads outside the mirror folder (to "
            f"{str(resolved)!r}); copy the file into {str(top)!r} instead of linking it"
        )
    return resolved


def parse_mirror(f: MirrorFile, payload: Payload) -> Tidy:
    """Parse the payload of one mirror file (:func:`mirror_payload`) as its spec says."""
    return tidy_bytes(f.spec, payload.data, origin=Path(f.path).name, **f.params)


def mirror_series(root: Path, specs: Iterable[str | Spec]) -> dict[str, pd.Series]:
    """Every series of ``specs`` read from a mirror folder, the newest capture winning.

    No store and no release lags: for notebooks and tests, e.g.
    ``MemoryView(mirror_series(root, ["yahoo:IWM", "yahoo:SPY"]))``.
    """
    data: dict[str, pd.Series] = {}
    for spec in specs:
        spec = spec if isinstance(spec, Spec) else parse_spec(spec)
        for _payload, tidy in read_mirror(spec, root):
            for sid, rows in tidy.frame.groupby("series_id", sort=False):
                index = pd.DatetimeIndex(rows["date"])
                data[str(sid)] = pd.Series(rows["value"].to_numpy(), index=index, name=sid)
    return data


def load_all(root: Path) -> Iterator[tuple[MirrorFile, Payload, Tidy]]:
    """Parse every mapped file of the mirror folder, oldest capture first per spec."""
    files = mirror_files()
    for f in files:
        ((payload, tidy),) = read_mirror(f.spec, root, [f])
        yield f, payload, tidy


def fetch_alfred(
    series_id: str,
    *,
    client: httpx.Client,
    config: Config,
    limiter: RateLimiter | None = None,
    api_url: str | None = None,
) -> list[tuple[Payload, Tidy]]:
    """Every ALFRED vintage of a FRED series, each as a payload dated the day it was published.

    One API request (the widest real-time period); the answer is split by
    :func:`smallcaps.sources.fred.alfred_vintages`. Writing the pairs in order gives the store
    the series' true publication history, so ``--as-of`` reads see first releases.

    Raises
    ------
    ConfigError
        No ``FRED_API_KEY``: ALFRED has no keyless route.
    """
    from smallcaps.sources import fred

    if not config.fred_api_key:
        raise ConfigError(f"ALFRED vintages of {series_id} need the FRED API; {fred.KEY_HELP}")
    url = api_url or config.url("fred", fred.API)
    key = config.fred_api_key
    obs = fred.fetch(series_id, client=client, api_key=key, limiter=limiter, url=url,
                     realtime_start=fred.ALFRED_START, realtime_end=fred.ALFRED_END)  # fmt: skip
    info = fred.fetch_info(series_id, client=client, api_key=key, limiter=limiter, url=url)
    meta = fred.parse_info(info.data, origin=info.url)
    out = []
    for day, frame in fred.alfred_vintages(obs.data, origin=obs.url, series_id=series_id):
        sid = str(frame["series_id"].iat[0])
        when = datetime.combine(day.date(), time(0, 0), tzinfo=UTC)
        payload = Payload(obs.source, f"{obs.url}#vintage={day:%Y-%m-%d}", obs.data, when)
        note = f"ALFRED vintage published {day:%Y-%m-%d}"
        vmeta = replace(meta, series_id=sid, notes=f"{meta.notes}; {note}" if meta.notes else note)
        out.append((payload, Tidy(frame, {sid: vmeta})))
    return out


# ---- parsing and live fetching: the publisher's registration does it ---------------------------


def tidy_bytes(spec: Spec, data: bytes, *, origin: str, **params: Any) -> Tidy:
    """Parse a publisher payload for ``spec`` into a Tidy (its registration's ``tidy``)."""
    parse = publishers.get(spec.kind).tidy
    if parse is None:
        raise ConfigError(f"{spec}: publisher {spec.kind!r} parses no spec payloads")
    try:
        tidy: Tidy = parse(spec.name, data, origin=origin, **params)
    except (UnicodeError, csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError,
            pd.errors.OutOfBoundsDatetime) as exc:  # fmt: skip
        # a parser that let a reader's own error through (found by fuzzing): still one line
        reason = " ".join(str(exc).split())[:200]
        raise ParseError(origin, f"not a readable {spec.kind} file ({reason})") from None
    return tidy


def fetch_live(
    spec: Spec, *, client: httpx.Client, config: Config, limiter: RateLimiter | None = None
) -> tuple[Payload, Tidy]:
    """Download ``spec`` from its publisher and parse it; nothing is stored here.

    Pass one ``limiter`` for a whole run so FRED requests stay under its ~2 per second.

    Raises
    ------
    FetchError, AuthError, RateLimitError
        The publisher could not be reached or refused (the message says what to do).
    ParseError
        The publisher sent something that is not its format.
    ConfigError
        No live route exists (FOMC meeting dates: use a mirror or a user file).
    """
    live = publishers.get(spec.kind).live
    if live is None:
        raise ConfigError(f"{spec} has no live publisher; pass --mirror DIR or add a user CSV")
    got: tuple[Payload, Tidy] = live(spec.name, client=client, config=config, limiter=limiter)
    return got


def fetch_companions(
    spec: Spec, *, client: httpx.Client, config: Config, limiter: RateLimiter | None = None
) -> list[tuple[Payload, Tidy]]:
    """What the publisher stores along with ``spec`` (FRED with a key: the release calendar).

    Empty when the publisher has none or they could not be fetched; never raises for that.
    """
    companions = publishers.get(spec.kind).companions
    if companions is None:
        return []
    got: list[tuple[Payload, Tidy]] = companions(
        spec.name, client=client, config=config, limiter=limiter
    )
    return got
