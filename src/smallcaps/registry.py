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
import math
import pkgutil
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, Union, runtime_checkable

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
class Param:
    """One declared parameter of a measurement: its type from the annotation, and its default.

    The type comes from the runner's annotation, not from the default, so a parameter can be
    honest about being optional: ``hac_lags: int | None = None`` takes an int or nothing.
    Supported: ``bool``, ``int``, ``float``, ``str``, ``tuple[T, ...]`` of those, each
    optionally ``| None``.
    """

    name: str
    kind: type
    default: Any
    optional: bool = False
    item: type | None = None  # element type of a tuple parameter

    @classmethod
    def from_annotation(cls, name: str, annotation: Any, default: Any, where: str) -> Param:
        """Read ``int``, ``int | None``, ``tuple[str, ...]`` and the like from a signature."""
        args = typing.get_args(annotation)
        optional = type(None) in args
        if typing.get_origin(annotation) in (Union, types.UnionType):
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                raise TypeError(f"{where}: parameter {name!r} mixes types {annotation!r}")
            annotation = rest[0]
        item = None
        if typing.get_origin(annotation) is tuple:
            item = typing.get_args(annotation)[0]
            annotation = tuple
        if annotation not in (bool, int, float, str, tuple) or item not in (
            None,
            bool,
            int,
            float,
            str,
        ):
            raise TypeError(f"{where}: parameter {name!r} has unsupported type {annotation!r}")
        return cls(name, annotation, default, optional, item)  # fmt: skip

    @property
    def type_name(self) -> str:
        """``int``, ``str | None``, ``tuple[str, ...]``: as a person writes it."""
        kind = f"tuple[{self.item.__name__}, ...]" if self.item else self.kind.__name__
        return f"{kind} | None" if self.optional else kind

    def describe(self) -> str:
        """``name: type = default`` for listings."""
        return f"{self.name}: {self.type_name} = {self.default!r}"

    def convert(self, value: Any, measure: str) -> Any:
        """``value`` (a CLI string, a TOML value or a Python value) as this parameter's type.

        Raises
        ------
        ConfigError
            The value is not of the declared type, out of range, or None where None is not
            allowed.
        """
        where = f"{measure}: parameter {self.name}={value!r}"
        if value is None or (self.optional and isinstance(value, str) and value.strip().lower()
                             in ("", "none", "null")):  # fmt: skip
            if not self.optional:
                raise ConfigError(f"{where} is not a {self.type_name}")
            return None
        if self.kind is tuple:
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ConfigError(f"{where} is not a {self.type_name}")
            assert self.item is not None
            return tuple(_scalar(self.item, v.strip() if isinstance(v, str) else v, where)
                         for v in items)  # fmt: skip
        return _scalar(self.kind, value, where)


def _scalar(kind: type, value: Any, where: str) -> Any:
    """One value as ``kind``; strings are parsed, numbers range-checked."""
    if isinstance(value, date | datetime) and kind is str:
        return value.isoformat()
    if kind is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{where} is not a str")
        return str(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLS:
            return _BOOLS[value.strip().lower()]
        raise ConfigError(f"{where} is not a bool")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{where} is not a {'number' if kind is float else kind.__name__}")
    try:
        number = kind(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ConfigError(f"{where} is not a {kind.__name__}") from None
    if kind is int and not isinstance(number, int):
        if not float(number).is_integer():
            raise ConfigError(f"{where} is not an int")
        number = int(number)
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"{where} is not a finite number")
    if abs(number) > MAX_NUMBER:
        raise ConfigError(f"{where} is out of range (|x| <= {MAX_NUMBER:.0e})")
    return float(number) if kind is float else number


_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
MAX_NUMBER = 1e12  # larger parameters are typos, and would overflow the analytics' arithmetic


@dataclass(frozen=True, slots=True)
class Measure:
    """A registered measurement: its name, runner, declared parameters and description."""

    name: str
    run: Callable[..., Any]
    params: Mapping[str, Param]
    description: str

    @property
    def defaults(self) -> dict[str, Any]:
        """Every parameter's default."""
        return {k: p.default for k, p in self.params.items()}


MEASURES: dict[str, Measure] = {}


def register(name: str, *, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``run(view, **params)`` under ``name``.

    Every keyword parameter after ``view`` needs an annotation and a default; the annotation is
    its declared type (see :class:`Param`).
    """

    def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
        if name in MEASURES:
            raise ValueError(f"measurement {name!r} registered twice")
        hints = typing.get_type_hints(run)
        params = {}
        for p in list(inspect.signature(run).parameters.values())[1:]:
            if p.default is inspect.Parameter.empty or p.name not in hints:
                raise TypeError(f"measurement {name!r}: parameter {p.name!r} needs a type and "
                                "a default")  # fmt: skip
            params[p.name] = Param.from_annotation(p.name, hints[p.name], p.default, name)
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


def coerce_params(measure: Measure, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check parameter names and convert each value to its declared type.

    Values may be strings (``k=v`` on the command line), TOML values or Python values.

    Raises
    ------
    ConfigError
        An unknown parameter (the valid ones are listed) or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in measure.params:
            valid = ", ".join(f"{k}={p.default!r}" for k, p in measure.params.items()) or "none"
            raise ConfigError(f"{measure.name}: unknown parameter {key!r} (valid: {valid})")
        out[key] = measure.params[key].convert(value, measure.name)
    return out


def full_params(measure: Measure, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of ``measure``: the defaults, overridden by ``given`` (converted)."""
    return {**measure.defaults, **coerce_params(measure, given)}


def run(name: str, view: View, **params: Any) -> Any:
    """Run a measurement by name on ``view`` with checked parameters (no caching: see Study)."""
    measure = get(name)
    return measure.run(view, **coerce_params(measure, params))
