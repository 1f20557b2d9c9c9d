"""Named measurements: ``smallcaps measure NAME``, the thesis checker and the report call them here.

A measurement is a function ``run(view, **params) -> result`` registered under a dotted name
(``size.cycles``, ``fed.event_study``). It reads its inputs only through ``view``, a
:class:`View` that answers each series *as of* one date, and hands them to the pure functions of
:mod:`smallcaps.analytics`. Its result has ``summary() -> str``, ``to_frame() -> DataFrame`` and
``to_dict() -> dict`` (JSON-ready).

Measurement modules live in :mod:`smallcaps.measures`; each registers with :func:`register`.
Two views exist: :class:`MemoryView` (series in a dict, for tests and notebooks) and the
store-backed view in :mod:`smallcaps.access`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from smallcaps.errors import (
    ConfigError,
    InsufficientDataError,
    UnknownMeasurementError,
    UnknownSeriesError,
)


@runtime_checkable
class Result(Protocol):
    """What every measurement returns."""

    def summary(self) -> str:
        """One or two lines a person reads."""
        ...

    def to_frame(self) -> pd.DataFrame:
        """The main table of the result."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (numbers, strings, lists, dicts)."""
        ...


class View(Protocol):
    """Series as they were known on ``as_of`` (None: the newest data)."""

    as_of: pd.Timestamp | None

    def series(self, series_id: str) -> pd.Series:
        """One series (float, DatetimeIndex); raises UnknownSeriesError or InsufficientDataError."""
        ...

    def has(self, series_id: str) -> bool:
        """Whether the series exists (is stored)."""
        ...


@dataclass
class MemoryView:
    """A :class:`View` over series held in memory; ``as_of`` cuts each at that date.

    The cut is by observation date only (no release lags); use the store-backed view for
    point-in-time honesty. Useful in tests and notebooks.
    """

    data: Mapping[str, pd.Series]
    as_of: pd.Timestamp | None = None
    reads: list[str] = field(default_factory=list)

    def series(self, series_id: str) -> pd.Series:
        """The series up to ``as_of``."""
        if series_id not in self.data:
            raise UnknownSeriesError(series_id, self.data)
        self.reads.append(series_id)
        s = self.data[series_id]
        if self.as_of is not None:
            s = s[s.index <= self.as_of]
            if s.empty:
                raise InsufficientDataError(
                    f"{series_id!r} has no data as of {self.as_of:%Y-%m-%d}"
                )
        return s

    def has(self, series_id: str) -> bool:
        """Whether ``series_id`` is held."""
        return series_id in self.data

    def ids(self, prefix: str = "") -> list[str]:
        """Held series ids starting with ``prefix``, sorted."""
        return sorted(k for k in self.data if k.startswith(prefix))


@dataclass(frozen=True, slots=True)
class Measure:
    """A registered measurement: its name, runner, parameters with defaults, and description."""

    name: str
    run: Callable[..., Any]
    params: Mapping[str, Any]
    description: str


MEASURES: dict[str, Measure] = {}


def register(name: str, *, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``run(view, **params)`` under ``name``; its keyword defaults are its parameters."""

    def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
        if name in MEASURES:
            raise ValueError(f"measurement {name!r} registered twice")
        sig = inspect.signature(run)
        params = {
            p.name: p.default
            for p in list(sig.parameters.values())[1:]
            if p.default is not inspect.Parameter.empty
        }
        MEASURES[name] = Measure(name, run, params, description)
        return run

    return decorate


def load_all() -> dict[str, Measure]:
    """Import every module of :mod:`smallcaps.measures` so each registers; return the registry."""
    import smallcaps.measures as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    return MEASURES


def get(name: str) -> Measure:
    """The measurement called ``name``; an unknown name lists the known ones."""
    known = load_all()
    if name not in known:
        raise UnknownMeasurementError(name, known)
    return known[name]


def coerce_params(measure: Measure, given: Mapping[str, str | Any]) -> dict[str, Any]:
    """Check parameter names and convert ``k=v`` strings to the type of each default.

    Raises
    ------
    ConfigError
        An unknown parameter (the valid ones are listed) or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in measure.params:
            valid = ", ".join(f"{k}={v!r}" for k, v in measure.params.items()) or "none"
            raise ConfigError(f"{measure.name}: unknown parameter {key!r} (valid: {valid})")
        default = measure.params[key]
        out[key] = _convert(measure.name, key, value, default)
    return out


def _convert(name: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            return tuple(_convert(name, key, v.strip(), default[0] if default else v)
                         for v in value.split(","))  # fmt: skip
        if default is None:
            return value
    except ValueError:
        kind = type(default).__name__
        raise ConfigError(f"{name}: parameter {key}={value!r} is not a {kind}") from None
    return value


def run(name: str, view: View, **params: Any) -> Any:
    """Run a measurement by name on ``view`` with checked parameters."""
    measure = get(name)
    return measure.run(view, **coerce_params(measure, params))
