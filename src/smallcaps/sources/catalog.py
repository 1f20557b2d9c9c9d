"""Which series smallcaps uses, and how to get each: live from its publisher or from a mirror.

A *spec* names a set of series the way ``smallcaps fetch`` takes it: ``kind:name``, e.g.
``fred:UNRATE``, ``french:Portfolios_Formed_on_ME`` (every table of that file), ``yahoo:IWM``
(every price field), ``shiller:ie_data``, ``ishares:IVV``, ``events:nber``. A bare name
(``UNRATE``, ``IWM``) is looked up among the default specs.

The mirror is a folder laid out like the project's ``shared/data``; ``mirror.toml`` (shipped in
this package) says which file serves which spec and when the file was captured, so a mirror
serves the same series offline, each capture as its own vintage.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from smallcaps.config import Config
from smallcaps.errors import ConfigError, UnknownSeriesError
from smallcaps.sources.base import Payload, Tidy
from smallcaps.sources.fred import RateLimiter

KINDS = ("fred", "french", "yahoo", "shiller", "ishares", "events")

FRED_DEFAULT = (
    "DFF", "EFFR", "FEDFUNDS", "DFEDTAR", "DFEDTARU", "DFEDTARL", "UNRATE", "GDPC1", "USREC",
    "USRECP", "DGS2", "DGS10", "T10Y2Y", "BAMLH0A0HYM2", "CPIAUCSL", "NFCI",
)  # fmt: skip
FRENCH_DEFAULT = (
    "F-F_Research_Data_Factors", "F-F_Research_Data_Factors_daily",
    "F-F_Research_Data_5_Factors_2x3", "Portfolios_Formed_on_ME", "Portfolios_Formed_on_BE-ME",
    "Portfolios_Formed_on_E-P", "25_Portfolios_5x5", "6_Portfolios_2x3",
)  # fmt: skip
YAHOO_DEFAULT = (
    "IWM", "SPY", "QQQ", "RSP", "^RUT", "^GSPC", "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG",
    "META", "TSLA",
)  # fmt: skip


@dataclass(frozen=True, slots=True, order=True)
class Spec:
    """A set of series from one publisher request: ``kind:name``."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UnknownSeriesError(self.kind, KINDS, what="source kind")

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


DEFAULT_SPECS: tuple[Spec, ...] = (
    *(Spec("fred", s) for s in FRED_DEFAULT),
    *(Spec("french", s) for s in FRENCH_DEFAULT),
    *(Spec("yahoo", s) for s in YAHOO_DEFAULT),
    Spec("shiller", "ie_data"),
    *(Spec("ishares", s) for s in ("IVV", "IJR", "IWM")),
    Spec("events", "nber"),
    Spec("events", "fomc"),
)


def parse_spec(text: str, known: Iterable[Spec] = DEFAULT_SPECS) -> Spec:
    """Read ``kind:name`` (any name) or a bare name found among ``known`` (case-insensitive).

    Raises
    ------
    UnknownSeriesError
        A bare name that matches no known spec, or an unknown kind; close matches suggested.
    """
    text = text.strip()
    kind, sep, name = text.partition(":")
    if sep and kind in KINDS and name:
        return Spec(kind, name)
    known = list(known)
    hits = [s for s in known if s.name.lower() == text.lower()]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:  # IWM is both a price history and a holdings file
        return sorted(hits, key=lambda s: KINDS.index(s.kind))[0]
    raise UnknownSeriesError(
        text, [str(s) for s in known] + [s.name for s in known], what="series or spec (kind:name)"
    )


def series_prefix(spec: Spec) -> str:
    """The store ids a spec writes start with this (``fred:DFF`` -> ``DFF``, exactly)."""
    return {
        "fred": spec.name.upper(),
        "french": f"french/{spec.name}/",
        "yahoo": f"price/{spec.name.upper()}/",
        "shiller": "shiller/",
        "ishares": f"ishares/{spec.name.upper()}/",
        "events": f"events/{spec.name}/",
    }[spec.kind]


def stored_since(spec: Spec, listing: pd.DataFrame, cutoff: pd.Timestamp) -> bool:
    """Whether every stored series of ``spec`` has a vintage fetched on or after ``cutoff``.

    ``listing`` is :meth:`Store.series_list`; a spec with nothing stored is never fresh.
    """
    prefix = series_prefix(spec)
    ids = listing["series_id"]
    mine = listing[ids.eq(prefix) if spec.kind == "fred" else ids.str.startswith(prefix)]
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
    """The entries of the mirror mapping, oldest capture first within each spec."""
    if mapping is None:
        text = resources.files("smallcaps.sources").joinpath("mirror.toml").read_text("utf-8")
        origin = "mirror.toml"
    else:
        text, origin = mapping.read_text("utf-8"), str(mapping)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    out = []
    for i, entry in enumerate(doc.get("file", []), start=1):
        missing = {"path", "spec", "retrieved"} - set(entry)
        if missing:
            raise ConfigError(f"{origin}: file entry #{i} lacks {sorted(missing)}")
        kind, _, name = str(entry["spec"]).partition(":")
        day = entry["retrieved"]
        # the capture's day, at its end: a file committed that day may hold that day's close
        retrieved = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        out.append(MirrorFile(entry["path"], Spec(kind, name), retrieved,
                              dict(entry.get("params", {}))))  # fmt: skip
    return sorted(out, key=lambda f: (f.spec, f.retrieved))


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
    path = root / f.path
    if not path.is_file():
        raise ConfigError(f"mirror file {str(path)!r} (for {f.spec}) is missing")
    return Payload(f.spec.kind, path.resolve().as_uri(), path.read_bytes(), f.retrieved)


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
    url = api_url or fred.API
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


# ---- parsing and live fetching, per kind --------------------------------------------------------


def tidy_bytes(spec: Spec, data: bytes, *, origin: str, **params: Any) -> Tidy:
    """Parse a publisher payload for ``spec`` into a Tidy (dispatch to the kind's module)."""
    from smallcaps.sources import events, fred, french, ishares, shiller, yahoo

    parsers: dict[str, Callable[[], Tidy]] = {
        "fred": lambda: fred.tidy(
            data, origin=origin, series_id=params.get("series_id", spec.name)
        ),
        "french": lambda: french.tidy(data, origin=origin, dataset=spec.name),
        "yahoo": lambda: yahoo.tidy(data, origin=origin, ticker=params.get("ticker", spec.name)),
        "shiller": lambda: shiller.tidy(data, origin=origin),
        "ishares": lambda: ishares.tidy(data, origin=origin, fund=spec.name),
        "events": lambda: (events.tidy_nber if spec.name == "nber" else events.tidy_fomc)(
            data, origin=origin
        ),
    }
    return parsers[spec.kind]()


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
    from smallcaps.sources import events, fred, french, ishares, shiller, yahoo

    if spec.kind == "fred" and config.fred_api_key:
        # the API route: observations plus the series' own metadata (title, units, frequency)
        obs = fred.fetch(spec.name, client=client, api_key=config.fred_api_key, limiter=limiter)
        info = fred.fetch_info(spec.name, client=client, api_key=config.fred_api_key,
                               limiter=limiter)  # fmt: skip
        return obs, fred.tidy_api(obs.data, info.data, origin=obs.url, series_id=spec.name)
    if spec.kind == "fred":  # keyless fallback; FRED answers 403 to scripts, said in the error
        payload = fred.fetch(spec.name, client=client, limiter=limiter)
    elif spec.kind == "french":
        payload = french.fetch(spec.name, client=client)
    elif spec.kind == "yahoo":
        payload = yahoo.fetch(spec.name)
    elif spec.kind == "shiller":
        payload = shiller.fetch(client=client)
    elif spec.kind == "ishares":
        payload = ishares.fetch(spec.name, client=client)
    elif spec.name == "nber":
        payload = events.fetch_nber(client=client)
    else:
        raise ConfigError(f"{spec} has no live publisher; pass --mirror DIR or add a user CSV")
    return payload, tidy_bytes(spec, payload.data, origin=payload.url)
