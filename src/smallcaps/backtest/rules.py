"""Rotation rules as data: a TOML file of rules, each a grid of variants.

A rules file names the legs (``small``, ``large``, ``cash`` series), the ``frequency`` of
decisions (``"M"`` month ends, ``"D"`` trading days), the costs, and one ``[[rule]]`` table per
rule. A rule holds its ``on`` allocation while every condition of ``[[rule.when]]`` is true and
its ``off`` allocation otherwise. A condition is ``signal op threshold``; any value written as a
list (a signal parameter, ``threshold``, ``on``, ``off``) is a grid axis, and the rule expands to
the cartesian product of its axes::

    [[rule]]
    name = "size_momentum"
    text = "Hold small caps while they beat large caps over the lookback"
    on = "small"
    off = "large"
    [[rule.when]]
    signal = "size_momentum"
    lookback = [3, 6, 12]
    op = ">"
    threshold = [0.0, 0.02]

Nothing in the file is evaluated as code: signals are names in
:data:`smallcaps.backtest.signals.SIGNALS`, operators one of ``> >= < <=``, allocations
``"small"``, ``"large"``, ``"cash"`` or a number (the weight of small caps, the rest large).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smallcaps import tomlfile
from smallcaps.backtest.signals import SIGNALS
from smallcaps.errors import ConfigError

OPS = (">", ">=", "<", "<=")
FREQUENCIES = ("M", "D")
NAMED_ALLOCATIONS = {"small": (1.0, 0.0), "large": (0.0, 1.0), "cash": (0.0, 0.0)}
TOP_KEYS = {
    "title", "frequency", "small", "large", "cash", "start", "end", "benchmark", "mix",
    "max_variants", "costs", "robustness", "rule",
}  # fmt: skip
COST_KEYS = {"bps": 10.0, "expense_small": 0.0019, "expense_large": 0.000945, "lag": 1}
ROBUST_KEYS = {"train": 0, "test": 0, "pbo_splits": 16, "spa_reps": 1000, "seed": 0}
RULE_KEYS = {"name", "text", "on", "off", "when"}
BENCHMARKS = ("small", "large", "mix")


@dataclass(frozen=True, slots=True)
class Costs:
    """Trading and holding costs.

    Attributes
    ----------
    bps : float
        Cost per leg in basis points of the value traded (a full switch pays two legs).
    expense_small, expense_large : float
        Expense ratios per year as decimals (IWM 0.0019, SPY 0.000945), accrued each period.
    lag : int
        Closes between a decision and its trade (1: decide at close t, trade at close t+1).
    """

    bps: float = 10.0
    expense_small: float = 0.0019
    expense_large: float = 0.000945
    lag: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "bps": float(self.bps),
            "expense_small": float(self.expense_small),
            "expense_large": float(self.expense_large),
            "lag": int(self.lag),
        }


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``signal op threshold`` test with fixed signal parameters."""

    signal: str
    params: tuple[tuple[str, Any], ...]
    op: str
    threshold: float

    @property
    def key(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """What identifies the signal's values (signal name and parameters)."""
        return (self.signal, self.params)


@dataclass(frozen=True, slots=True)
class Variant:
    """One point of a rule's grid."""

    rule: str
    params: dict[str, Any]
    conditions: tuple[Condition, ...]
    on: tuple[float, float]
    off: tuple[float, float]

    @property
    def name(self) -> str:
        """``rule[k=v,...]``."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        return f"{self.rule}[{inner}]" if inner else self.rule


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as written: conditions with grid axes, allocations (possibly grids)."""

    name: str
    text: str
    when: tuple[dict[str, Any], ...]
    on: Any
    off: Any

    def axes(self) -> dict[str, list[Any]]:
        """Grid axes, named by parameter (``signal.param`` when two conditions share a name)."""
        return {name: values for name, (_i, _k, values) in self._axes().items()}

    def _axes(self) -> dict[str, tuple[int, str, list[Any]]]:
        raw: list[tuple[int, str, list[Any]]] = []
        for i, cond in enumerate(self.when):
            for k, v in cond.items():
                if k in ("signal", "op"):
                    continue
                raw.append((i, k, list(v) if isinstance(v, list) else [v]))
        counts: dict[str, int] = {}
        for _i, k, _v in raw:
            counts[k] = counts.get(k, 0) + 1
        out: dict[str, tuple[int, str, list[Any]]] = {}
        for i, k, values in raw:
            if len(values) < 2 and not isinstance(self.when[i][k], list):
                continue
            name = k if counts[k] == 1 else f"{self.when[i]['signal']}.{k}"
            if name in out:
                name = f"{name}#{i}"
            out[name] = (i, k, values)
        for side in ("on", "off"):
            value = getattr(self, side)
            if isinstance(value, list):
                out[side] = (-1, side, list(value))
        return out

    def count(self) -> int:
        """Number of variants: the product of the axes' lengths (nothing is expanded)."""
        return math.prod(len(values) for _i, _k, values in self._axes().values())

    def expand(self) -> list[Variant]:
        """Every variant of the grid, in the order of the axes (last axis fastest)."""
        axes = self._axes()
        names = list(axes)
        return [
            self._variant(axes, dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(axes[n][2] for n in names))
        ]

    def labels(self) -> list[tuple[str, dict[str, Any]]]:
        """Each variant's name and grid parameters, in :meth:`expand`'s order (no objects)."""
        axes = self._axes()
        names = list(axes)
        shown = [[_fmt(v) for v in axes[n][2]] for n in names]
        out = []
        for combo, text in zip(
            itertools.product(*(axes[n][2] for n in names)),
            itertools.product(*shown),
            strict=True,
        ):
            inner = ",".join(f"{n}={t}" for n, t in zip(names, text, strict=True))
            out.append(
                (
                    f"{self.name}[{inner}]" if inner else self.name,
                    dict(zip(names, combo, strict=True)),
                )
            )
        return out

    def variant_at(self, k: int) -> Variant:
        """Variant ``k`` of :meth:`expand`'s order, without expanding the others."""
        axes = self._axes()
        chosen: dict[str, Any] = {}
        for name in reversed(list(axes)):
            values = axes[name][2]
            k, digit = divmod(k, len(values))
            chosen[name] = values[digit]
        return self._variant(axes, {n: chosen[n] for n in axes})

    def _variant(
        self, axes: dict[str, tuple[int, str, list[Any]]], chosen: dict[str, Any]
    ) -> Variant:
        conds = []
        for i, cond in enumerate(self.when):
            values = {k: v for k, v in cond.items() if k not in ("signal", "op")}
            for n, (j, k, _vals) in axes.items():
                if j == i:
                    values[k] = chosen[n]
            threshold = float(values.pop("threshold"))
            params = _signal_params(cond["signal"], values)
            conds.append(Condition(cond["signal"], params, cond["op"], threshold))
        on = chosen.get("on", self.on)
        off = chosen.get("off", self.off)
        return Variant(self.name, chosen, tuple(conds), _allocation(on), _allocation(off))

    def grid(self) -> RuleGrid:
        """The variants as arrays (see :class:`RuleGrid`), built from the axes, not expanded."""
        axes = self._axes()
        names = list(axes)
        sizes = [len(axes[n][2]) for n in names]
        v = math.prod(sizes)
        flat = np.arange(v, dtype=np.int64)
        digits: dict[str, np.ndarray] = {}
        stride = 1
        for name, size in zip(reversed(names), reversed(sizes), strict=True):
            digits[name] = (flat // stride) % size
            stride *= size
        m = len(self.when)
        keys: list[tuple[str, tuple[tuple[str, Any], ...]]] = []
        signal = np.empty((v, m), dtype=np.int64)
        threshold = np.empty((v, m))
        op = np.empty((v, m), dtype=np.int8)
        for i, cond in enumerate(self.when):
            own = [n for n in names if axes[n][0] == i and axes[n][1] != "threshold"]
            op[:, i] = OPS.index(cond["op"])
            # one signal per combination of this condition's own axes (threshold aside)
            lookup = np.empty(math.prod(len(axes[n][2]) for n in own), dtype=np.int64)
            for c, combo in enumerate(itertools.product(*(axes[n][2] for n in own))):
                values = {
                    k: val for k, val in cond.items() if k not in ("signal", "op", "threshold")
                }
                values.update({axes[n][1]: x for n, x in zip(own, combo, strict=True)})
                keys.append((cond["signal"], _signal_params(cond["signal"], values)))
                lookup[c] = len(keys) - 1
            code = np.zeros(v, dtype=np.int64)
            for n in own:
                code = code * len(axes[n][2]) + digits[n]
            signal[:, i] = lookup[code]
            t_axis = [n for n in names if axes[n][0] == i and axes[n][1] == "threshold"]
            if t_axis:
                threshold[:, i] = np.asarray(axes[t_axis[0]][2], dtype=float)[digits[t_axis[0]]]
            else:
                threshold[:, i] = float(cond["threshold"])
        alloc = {}
        for side in ("on", "off"):
            if side in axes:
                table = np.array([_allocation(x) for x in axes[side][2]], dtype=float)
                alloc[side] = table[digits[side]]
            else:
                alloc[side] = np.tile(np.array(_allocation(getattr(self, side)), float), (v, 1))
        return RuleGrid(tuple(keys), signal, op, threshold, alloc["on"], alloc["off"])


@dataclass(frozen=True, slots=True, eq=False)
class RuleGrid:
    """Variants as arrays: what a chunk of the sweep needs, without one object per variant.

    Attributes
    ----------
    signals : tuple
        Distinct ``(signal, params)`` keys; ``signal[v, j]`` indexes them.
    signal, op, threshold : ndarray, shape (V, M)
        Condition ``j`` of variant ``v``: ``signals[signal[v, j]] OPS[op[v, j]] threshold[v, j]``;
        ``signal`` is -1 where a variant has fewer than ``M`` conditions (always true).
    on, off : ndarray, shape (V, 2)
        Weights (small, large) while every condition holds, and otherwise.
    """

    signals: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    signal: np.ndarray
    op: np.ndarray
    threshold: np.ndarray
    on: np.ndarray
    off: np.ndarray

    def __len__(self) -> int:
        return len(self.signal)

    @staticmethod
    def concat(grids: list[RuleGrid]) -> RuleGrid:
        """One grid of several rules' variants, in order (signal keys shared where equal)."""
        keys: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
        m = max(g.signal.shape[1] for g in grids)
        parts: dict[str, list[np.ndarray]] = {"signal": [], "op": [], "threshold": []}
        for g in grids:
            remap = np.array([keys.setdefault(k, len(keys)) for k in g.signals], dtype=np.int64)
            pad = m - g.signal.shape[1]
            sig = remap[g.signal]
            parts["signal"].append(np.pad(sig, ((0, 0), (0, pad)), constant_values=-1))
            parts["op"].append(np.pad(g.op, ((0, 0), (0, pad))))
            parts["threshold"].append(np.pad(g.threshold, ((0, 0), (0, pad))))
        return RuleGrid(
            tuple(keys),
            np.concatenate(parts["signal"]),
            np.concatenate(parts["op"]),
            np.concatenate(parts["threshold"]),
            np.concatenate([g.on for g in grids]),
            np.concatenate([g.off for g in grids]),
        )


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A loaded rules file."""

    path: Path
    title: str
    frequency: str
    small: str
    large: str
    cash: str
    start: str | None
    end: str | None
    benchmark: str
    mix: float
    costs: Costs
    rules: tuple[Rule, ...]
    robustness: dict[str, int] = field(default_factory=dict)
    max_variants: int = 100_000

    @property
    def n_variants(self) -> int:
        """Number of variants of every rule, from the grids' shapes (nothing is expanded)."""
        return sum(r.count() for r in self.rules)

    def check_size(self) -> int:
        """The variant count, or a ConfigError naming it and the limit when it is too large.

        Called before anything is expanded: a grid of ten million variants is refused at once.
        """
        n = self.n_variants
        if n > self.max_variants:
            raise ConfigError(
                f"{self.path.name}: the grids expand to {n:,} variants, more than "
                f"max_variants = {self.max_variants:,}; shrink a grid or raise max_variants"
            )
        return n

    def variants(self) -> list[Variant]:
        """Every variant of every rule, rules in file order (one object each: for small grids)."""
        self.check_size()
        return [v for r in self.rules for v in r.expand()]

    def labels(self) -> list[tuple[str, dict[str, Any]]]:
        """Every variant's name and parameters, as :meth:`variants` would give them."""
        self.check_size()
        return [label for r in self.rules for label in r.labels()]

    def grid(self) -> RuleGrid:
        """Every variant as arrays (:class:`RuleGrid`), after :meth:`check_size`."""
        self.check_size()
        return RuleGrid.concat([r.grid() for r in self.rules])

    def variant(self, i: int) -> Variant:
        """Variant ``i`` of :meth:`variants`' order, built alone."""
        for r in self.rules:
            n = r.count()
            if i < n:
                return r.variant_at(i)
            i -= n
        raise IndexError(f"variant {i} out of range")

    def rule_of(self) -> np.ndarray:
        """Index of each variant's rule, shape (V,)."""
        return np.repeat(np.arange(len(self.rules)), [r.count() for r in self.rules])


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _allocation(value: Any) -> tuple[float, float]:
    if isinstance(value, str):
        return NAMED_ALLOCATIONS[value]
    w = float(value)
    return (w, 1.0 - w)


def _signal_params(signal: str, given: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    spec = SIGNALS[signal]
    full = dict(spec.params)
    full.update(given)
    return tuple(sorted((k, type(spec.params[k])(v)) for k, v in full.items()))


def _check_number(where: str, key: str, value: Any, kind: type) -> None:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{where}: {key!r} is an empty list; give at least one value")
    for v in values:
        ok = isinstance(v, int) and not isinstance(v, bool)
        if kind is float:
            ok = ok or isinstance(v, float)
        if not ok:
            raise ConfigError(
                f"{where}: {key!r} must be {'a number' if kind is float else 'an integer'} "
                f"or a list of them, got {v!r}"
            )


def _check_allocation(where: str, key: str, value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{where}: {key!r} is an empty list")
    for v in values:
        if isinstance(v, str) and v in NAMED_ALLOCATIONS:
            continue
        if isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0:
            continue
        raise ConfigError(
            f"{where}: {key!r} must be 'small', 'large', 'cash' or a weight of small caps in "
            f"[0, 1] (the rest in large caps), got {v!r}"
        )


def _check_unknown(where: str, got: Mapping[str, Any], valid: set[str] | Mapping[str, Any]) -> None:
    bad = sorted(set(got) - set(valid))
    if bad:
        raise ConfigError(f"{where}: unknown key {bad[0]!r} (valid: {', '.join(sorted(valid))})")


def load_rules(path: Path | str) -> RuleSet:
    """Read and check a rules file; nothing is evaluated as code.

    Parameters
    ----------
    path : Path or str
        A TOML file (see the module docstring).

    Returns
    -------
    RuleSet

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a key, signal, operator, parameter or allocation
        is unknown or of the wrong type; the message names the file, rule and field.
    """
    path = Path(path)
    doc = tomlfile.load(path, what="rules file")  # missing, folder, size, encoding, depth
    return parse_rules(doc, path=path)


def parse_rules(doc: Mapping[str, Any], *, path: Path | str = "<rules>") -> RuleSet:
    """Check a parsed rules document (see :func:`load_rules`)."""
    path = Path(path)
    where = path.name
    _check_unknown(where, doc, TOP_KEYS)
    for key in ("small", "large", "cash"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ConfigError(f"{where}: {key!r} must name a stored series id, e.g. "
                              "'price/IWM/adj_close'")  # fmt: skip
    freq = doc.get("frequency", "M")
    if freq not in FREQUENCIES:
        raise ConfigError(f"{where}: frequency must be 'M' or 'D', got {freq!r}")
    bench = doc.get("benchmark", "large")
    if bench not in BENCHMARKS:
        raise ConfigError(f"{where}: benchmark must be one of {BENCHMARKS}, got {bench!r}")
    mix = doc.get("mix", 0.6)
    _check_number(where, "mix", mix, float)
    if not 0.0 <= float(mix) <= 1.0:
        raise ConfigError(f"{where}: mix (weight of small caps in the mix benchmark) must be in "
                          f"[0, 1], got {mix!r}")  # fmt: skip
    costs_doc = doc.get("costs", {})
    _check_unknown(f"{where} [costs]", costs_doc, COST_KEYS)
    for k, v in costs_doc.items():
        _check_number(f"{where} [costs]", k, v, int if k == "lag" else float)
        if isinstance(v, list) or v < 0:
            raise ConfigError(f"{where} [costs]: {k!r} must be one number >= 0, got {v!r}")
    costs = Costs(**{k: costs_doc.get(k, d) for k, d in COST_KEYS.items()})
    rob_doc = doc.get("robustness", {})
    _check_unknown(f"{where} [robustness]", rob_doc, ROBUST_KEYS)
    for k, v in rob_doc.items():
        _check_number(f"{where} [robustness]", k, v, int)
    robustness = {k: int(rob_doc.get(k, d)) for k, d in ROBUST_KEYS.items()}
    for key in ("start", "end"):
        if key in doc and not isinstance(doc[key], str):
            raise ConfigError(f"{where}: {key!r} must be a date string 'YYYY-MM-DD'")
    raw_rules = doc.get("rule", [])
    if not raw_rules:
        raise ConfigError(f"{where}: no [[rule]] tables; add at least one rule")
    rules = []
    seen: set[str] = set()
    for n, r in enumerate(raw_rules, start=1):
        rules.append(_parse_rule(r, where=f"{where}: rule #{n}"))
        if rules[-1].name in seen:
            raise ConfigError(f"{where}: rule #{n}: name {rules[-1].name!r} used twice")
        seen.add(rules[-1].name)
    max_variants = doc.get("max_variants", 100_000)
    _check_number(where, "max_variants", max_variants, int)
    return RuleSet(
        path=path,
        title=str(doc.get("title", path.stem)),
        frequency=freq,
        small=doc["small"],
        large=doc["large"],
        cash=doc["cash"],
        start=doc.get("start"),
        end=doc.get("end"),
        benchmark=bench,
        mix=float(mix),
        costs=costs,
        rules=tuple(rules),
        robustness=robustness,
        max_variants=int(max_variants),
    )


def _parse_rule(r: Mapping[str, Any], *, where: str) -> Rule:
    _check_unknown(where, r, RULE_KEYS)
    name = r.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    for side in ("on", "off"):
        if side not in r:
            raise ConfigError(f"{where}: missing {side!r} (small, large, cash or a weight)")
        _check_allocation(where, side, r[side])
    when = r.get("when", [])
    if not when:
        raise ConfigError(f"{where}: no [[rule.when]] condition; add one")
    conds = []
    for i, c in enumerate(when, start=1):
        w = f"{where}, condition #{i}"
        sig = c.get("signal")
        if sig not in SIGNALS:
            raise ConfigError(f"{w}: unknown signal {sig!r} (known: {', '.join(sorted(SIGNALS))})")
        spec = SIGNALS[sig]
        _check_unknown(w, c, {"signal", "op", "threshold", *spec.params})
        if c.get("op") not in OPS:
            raise ConfigError(f"{w}: op must be one of {', '.join(OPS)}, got {c.get('op')!r}")
        if "threshold" not in c:
            raise ConfigError(f"{w}: missing 'threshold' (a number or a list of numbers)")
        _check_number(w, "threshold", c["threshold"], float)
        for k, default in spec.params.items():
            if k in c:
                _check_number(w, k, c[k], type(default))
                values = c[k] if isinstance(c[k], list) else [c[k]]
                low = spec.minimum.get(k)
                if low is not None and any(v < low for v in values):
                    raise ConfigError(f"{w}: {k!r} must be >= {low}, got {c[k]!r}")
        conds.append(dict(c))
    return Rule(name, str(r.get("text", name)), tuple(conds), r["on"], r["off"])
