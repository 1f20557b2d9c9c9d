"""The test language of a claim: comparisons, ranges and tolerances over named figures.

A thesis file is data, so its tests are parsed here by a small recursive-descent parser and
evaluated by walking the tree; nothing in a TOML file is ever handed to ``eval``.

Grammar (keywords and names are case-sensitive)::

    expr       := disj
    disj       := conj ("or" conj)*
    conj       := neg ("and" neg)*
    neg        := "not" neg | "(" expr ")" | comparison
    comparison := value "~" value ("+-" | "±") tolerance      # |a - b| <= tolerance
                | value (op value)+                             # a chain: 4% <= x <= 7%
    op         := "<" | "<=" | ">" | ">=" | "==" | "!="
    tolerance  := number ["rel"]                               # "rel": a share of |b|
    value      := number | STRING | DATE | NAME | FUNC "(" NAME ")"
    number     := ["-"] DIGITS ["%" | "bp" | "x"]              # 5.8% = 0.058, 25bp = 0.0025
    FUNC       := "min" | "max" | "mean" | "median" | "count" | "sum"

``NAME`` is a figure: a name the claim maps to a path into its measurement's result, or such a
path itself when it is a plain dotted name (``current.leader``). ``STRING`` is double-quoted;
``DATE`` is ``YYYY-MM-DD`` or ``YYYY-MM`` (the first of the month). A figure compared with a date
is read as a date; numbers compare with numbers, strings and dates only with their own kind.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from smallcaps.errors import ConfigError

MAX_LENGTH = 500  # characters in one test
MAX_DEPTH = 20  # nested parentheses / "not"
MAX_ABS = 1e12  # a literal beyond this is an error, not a number to compare with

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
FUNCS: dict[str, Callable[[Sequence[float]], float]] = {
    "min": min,
    "max": max,
    "mean": statistics.fmean,
    "median": statistics.median,
    "count": lambda xs: float(len(xs)),
    "sum": math.fsum,
}
UNITS = {"%": 0.01, "bp": 0.0001, "x": 1.0, "": 1.0}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<date>\d{4}-\d{2}(?:-\d{2})?)(?![\w.])
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?P<unit>%|bp\b|x\b)?
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op><=|>=|==|!=|<|>|\+-|±|~|\(|\)|-)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Literal:
    """A number (float), string or date (Timestamp) written in the test."""

    value: float | str | pd.Timestamp
    percent: bool = False  # written with a % sign: figures compared with it read as percents


@dataclass(frozen=True, slots=True)
class Figure:
    """A named figure, optionally reduced by a function over a list of values."""

    name: str
    func: str | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    """``a op b op c ...``: true when every adjacent pair holds."""

    operands: tuple[Literal | Figure, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """``a ~ b +- tol``: |a - b| <= tol, or <= tol x |b| when ``relative``."""

    left: Literal | Figure
    right: Literal | Figure
    tolerance: float
    relative: bool
    percent: bool = False  # the stated value or tolerance was written with a % sign


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more parts, or ``not`` over one."""

    op: str
    parts: tuple[Node, ...]


Node = Chain | Near | BoolOp


@dataclass(frozen=True, slots=True)
class Test:
    """A parsed test: its source text and tree."""

    text: str
    tree: Node

    @property
    def names(self) -> tuple[str, ...]:
        """The figure names used, in order of first use."""
        seen: dict[str, None] = {}

        def walk(node: Node | Literal | Figure) -> None:
            if isinstance(node, Figure):
                seen.setdefault(node.name)
            elif isinstance(node, Chain):
                for o in node.operands:
                    walk(o)
            elif isinstance(node, Near):
                walk(node.left)
                walk(node.right)
            elif isinstance(node, BoolOp):
                for p in node.parts:
                    walk(p)

        walk(self.tree)
        return tuple(seen)

    @property
    def percent(self) -> bool:
        """Whether any number in the test was written as a percent (for display)."""
        return "%" in self.text

    @property
    def percent_names(self) -> frozenset[str]:
        """Figures compared with a number written as a percent: shown as percents."""
        found: set[str] = set()

        def walk(node: Node) -> None:
            if isinstance(node, BoolOp):
                for p in node.parts:
                    walk(p)
                return
            operands: tuple[Literal | Figure, ...]
            if isinstance(node, Near):
                operands, pct = (node.left, node.right), node.percent
            else:
                operands = node.operands
                pct = any(isinstance(o, Literal) and o.percent for o in operands)
            if pct:
                found.update(o.name for o in operands if isinstance(o, Figure))

        walk(self.tree)
        return frozenset(found)

    def evaluate(self, figures: Mapping[str, Any]) -> bool:
        """Whether the test holds for ``figures`` (name -> value or list of values).

        Raises
        ------
        ConfigError
            A figure is missing, of the wrong kind for its comparison, or not a list where a
            function needs one.
        MissingFigureError
            A figure's value is None or NaN (the data did not say).
        """
        return _eval(self.tree, figures, self.text)


class MissingFigureError(Exception):
    """A figure has no value (None or NaN): the claim gets *insufficient data*."""

    def __init__(self, name: str) -> None:
        super().__init__(f"figure {name!r} has no value")
        self.name = name


def parse(text: str) -> Test:
    """Parse a test; a malformed one raises ConfigError naming the position.

    Examples
    --------
    >>> parse("4% <= x <= 7%").evaluate({"x": 0.05})
    True
    >>> parse('leader == "small" or rebound >= 25%').evaluate({"leader": "large", "rebound": 0.15})
    False
    """
    if not isinstance(text, str):
        raise ConfigError(f"a test must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ConfigError(f"test is {len(text)} characters long; the limit is {MAX_LENGTH}")
    tokens = _tokenize(text)
    parser = _Parser(text, tokens)
    tree = parser.expr(0)
    if parser.pos != len(tokens):
        _kind, value, at = tokens[parser.pos]
        raise ConfigError(f"test {text!r}: unexpected {value!r} at column {at + 1}")
    return Test(text, tree)


Token = tuple[str, Any, int]  # kind, value, column


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            at = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise ConfigError(
                f"test {text!r}: cannot read {text[at : at + 12]!r} at column {at + 1}"
            )
        at = m.start(m.lastgroup or 0)
        if m["date"]:
            tokens.append(("date", _date(m["date"], text), at))
        elif m["number"]:
            value = float(m["number"]) * UNITS[m["unit"] or ""]
            if not math.isfinite(value) or abs(value) > MAX_ABS:
                raise ConfigError(f"test {text!r}: number {m['number']!r} is out of range")
            tokens.append(("number", Literal(value, percent=m["unit"] == "%"), at))
        elif m["string"]:
            raw = m["string"][1:-1]
            tokens.append(("string", re.sub(r"\\(.)", r"\1", raw), at))
        elif m["op"]:
            tokens.append(("op", "+-" if m["op"] == "±" else m["op"], at))
        else:
            word = m["name"]
            kind = "keyword" if word in ("and", "or", "not", "rel") else "name"
            tokens.append((kind, word, at))
        pos = m.end()
    if not tokens:
        raise ConfigError("empty test; write a comparison such as 'share >= 85%'")
    return tokens


def _date(text: str, test: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text if len(text) == 10 else f"{text}-01")
    except ValueError:
        raise ConfigError(f"test {test!r}: {text!r} is not a date") from None


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text, self.tokens, self.pos = text, tokens, 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def fail(self, what: str) -> ConfigError:
        tok = self.peek()
        where = "at the end" if tok is None else f"at column {tok[2] + 1} ({tok[1]!r})"
        return ConfigError(f"test {self.text!r}: expected {what} {where}")

    def accept(self, kind: str, value: str | None = None) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == kind and (value is None or tok[1] == value):
            self.pos += 1
            return True
        return False

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConfigError(f"test {self.text!r}: nested deeper than {MAX_DEPTH} levels")
        parts = [self.conj(depth)]
        while self.accept("keyword", "or"):
            parts.append(self.conj(depth))
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def conj(self, depth: int) -> Node:
        parts = [self.neg(depth)]
        while self.accept("keyword", "and"):
            parts.append(self.neg(depth))
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def neg(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConfigError(f"test {self.text!r}: nested deeper than {MAX_DEPTH} levels")
        if self.accept("keyword", "not"):
            return BoolOp("not", (self.neg(depth + 1),))
        if self.accept("op", "("):
            inner = self.expr(depth + 1)
            if not self.accept("op", ")"):
                raise self.fail("')'")
            return inner
        return self.comparison()

    def comparison(self) -> Node:
        first = self.value()
        if self.accept("op", "~"):
            right = self.value()
            if not self.accept("op", "+-"):
                raise self.fail("'+-' and a tolerance after '~'")
            tol = self.value()
            if not isinstance(tol, Literal) or not isinstance(tol.value, float) or tol.value < 0:
                raise ConfigError(f"test {self.text!r}: the tolerance must be a number >= 0")
            relative = self.accept("keyword", "rel")
            pct = tol.percent or (isinstance(right, Literal) and right.percent)
            return Near(first, right, tol.value, relative, pct)
        operands, ops = [first], []
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in OPS:
            self.pos += 1
            ops.append(tok[1])
            operands.append(self.value())
        if not ops:
            raise self.fail("a comparison (<, <=, >, >=, ==, != or ~)")
        return Chain(tuple(operands), tuple(ops))

    def value(self) -> Literal | Figure:
        tok = self.peek()
        if tok is None:
            raise self.fail("a number, string, date or figure")
        kind, val, _ = tok
        if kind == "op" and val == "-":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt[0] != "number":
                raise self.fail("a number after '-'")
            self.pos += 1
            return Literal(-nxt[1].value, percent=nxt[1].percent)
        if kind == "number":
            self.pos += 1
            return val
        if kind in ("string", "date"):
            self.pos += 1
            return Literal(val)
        if kind == "name":
            self.pos += 1
            if val in FUNCS and self.accept("op", "("):
                arg = self.peek()
                if arg is None or arg[0] != "name":
                    raise self.fail(f"a figure name inside {val}( )")
                self.pos += 1
                if not self.accept("op", ")"):
                    raise self.fail("')'")
                return Figure(arg[1], func=val)
            return Figure(val)
        raise self.fail("a number, string, date or figure")


def _eval(node: Node, figures: Mapping[str, Any], text: str) -> bool:
    if isinstance(node, BoolOp):
        if node.op == "not":
            return not _eval(node.parts[0], figures, text)
        results = (_eval(p, figures, text) for p in node.parts)
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Near):
        a = _number(_value(node.left, figures, text), node.left, text)
        b = _number(_value(node.right, figures, text), node.right, text)
        bound = node.tolerance * abs(b) if node.relative else node.tolerance
        return abs(a - b) <= bound + 1e-12
    values = [_value(o, figures, text) for o in node.operands]
    for i, op in enumerate(node.ops):
        a, b = _comparable(values[i], values[i + 1], node.operands[i], node.operands[i + 1], text)
        if op not in ("==", "!=") and isinstance(a, str):
            raise ConfigError(f"test {text!r}: strings compare only with == or !=")
        if not OPS[op](a, b):
            return False
    return True


def _value(operand: Literal | Figure, figures: Mapping[str, Any], text: str) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    if operand.name not in figures:
        raise ConfigError(f"test {text!r}: no figure named {operand.name!r}")
    value = figures[operand.name]
    if operand.func is not None:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"test {text!r}: {operand.func}({operand.name}) needs a list")
        items = [_number(v, operand, text) for v in value]
        if not items and operand.func != "count":
            raise MissingFigureError(operand.name)
        return float(FUNCS[operand.func](items))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise MissingFigureError(operand.name)
    return value


def _number(value: Any, operand: Literal | Figure, text: str) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise MissingFigureError(operand.name if isinstance(operand, Figure) else "?")
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = operand.name if isinstance(operand, Figure) else repr(value)
        raise ConfigError(f"test {text!r}: {what} is {value!r}, not a number")
    return float(value)


def _comparable(a: Any, b: Any, oa: Literal | Figure, ob: Literal | Figure, text: str) -> Any:
    """Bring two values to one kind: numbers, dates (figure strings parsed) or strings."""
    if isinstance(a, pd.Timestamp) or isinstance(b, pd.Timestamp):
        return _as_date(a, oa, text), _as_date(b, ob, text)
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return _number(a, oa, text), _number(b, ob, text)


def _as_date(value: Any, operand: Literal | Figure, text: str) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp):
        return value
    if isinstance(value, str):
        try:
            return pd.Timestamp(value)
        except ValueError:
            pass
    what = operand.name if isinstance(operand, Figure) else repr(value)
    raise ConfigError(f"test {text!r}: {what} is {value!r}, not a date")


# -- how a test misses ---------------------------------------------------------------------------

MISS_KINDS = ("overstated", "understated", "wrong sign", "wrong date", "contradicted")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True, slots=True)
class Miss:
    """How a failed test misses, read from its first failing comparison.

    ``kind`` is one of :data:`MISS_KINDS`:

    - *overstated*: the claim's figure is above what the data say (data below a lower bar, or
      below a stated value beyond its tolerance);
    - *understated*: the claim's figure is below the data (data above an upper bar);
    - *wrong sign*: the data miss a bar at 0 (a direction), or have the opposite sign of a
      stated value;
    - *wrong date*: a date the data give falls outside the stated dates;
    - *contradicted*: anything else (a different label, two figures in the wrong order).

    ``by`` is the distance from the data to the nearest edge of the stated bar or, for a
    stated value with a tolerance, to the stated value (figure units; days for dates; None when
    it has no size). ``bar`` is the stated bar as ``(words, values)``: e.g. ``("at least",
    (0.85,))``, ``("within", (0.35, 0.10))``, ``("between", (lo, hi))``.
    """

    kind: str
    figure: str
    actual: Any
    bar: tuple[str, tuple[Any, ...]]
    by: float | None = None


def miss(test: Test, figures: Mapping[str, Any]) -> Miss | None:
    """How ``test`` misses for ``figures``; None when it holds.

    Raises what :meth:`Test.evaluate` raises for missing or ill-typed figures.
    """
    return _miss(test.tree, figures, test.text)


def _miss(node: Node, figures: Mapping[str, Any], text: str) -> Miss | None:
    if isinstance(node, BoolOp):
        if node.op == "and":
            for part in node.parts:
                found = _miss(part, figures, text)
                if found is not None:
                    return found
            return None
        if _eval(node, figures, text):
            return None
        if node.op == "or":
            return _miss(node.parts[0], figures, text)
        return Miss("contradicted", _first_name(node), None, ("not", ()))
    if _eval(node, figures, text):
        return None
    if isinstance(node, Near):
        return _near_miss(node, figures, text)
    values = [_value(o, figures, text) for o in node.operands]
    for i, op in enumerate(node.ops):
        a, b = _comparable(values[i], values[i + 1], node.operands[i], node.operands[i + 1], text)
        if OPS[op](a, b):
            continue
        left, right = node.operands[i], node.operands[i + 1]
        if isinstance(left, Figure) and isinstance(right, Literal):
            name, actual, stated, rel = left.name, a, b, op
        elif isinstance(left, Literal) and isinstance(right, Figure):
            name, actual, stated, rel = right.name, b, a, _FLIP[op]
        else:
            return Miss("contradicted", _first_name(node), a, (op, (b,)))
        bar = _chain_bar(node, values, name, rel, stated)
        return _bound_miss(name, actual, stated, rel, bar)
    return None  # pragma: no cover - _eval said it fails, so some pair fails


def _near_miss(node: Near, figures: Mapping[str, Any], text: str) -> Miss:
    a = _number(_value(node.left, figures, text), node.left, text)
    b = _number(_value(node.right, figures, text), node.right, text)
    if isinstance(node.left, Literal) and isinstance(node.right, Figure):
        a, b = b, a
    fig = node.left if isinstance(node.left, Figure) else node.right
    name = fig.name if isinstance(fig, Figure) else "?"
    tol = node.tolerance * abs(b) if node.relative else node.tolerance
    bar = ("within", (b, tol))
    if b != 0 and a * b < 0:
        return Miss("wrong sign", name, a, bar, abs(a - b))
    return Miss("overstated" if a < b else "understated", name, a, bar, abs(a - b))


def _chain_bar(
    node: Chain, values: Sequence[Any], name: str, rel: str, stated: Any
) -> tuple[str, tuple[Any, ...]]:
    """A range ``lo <= x <= hi`` reads as "between"; a single bound as its words."""
    ops, operands = node.ops, node.operands
    if (
        len(ops) == 2
        and isinstance(operands[1], Figure)
        and operands[1].name == name
        and all(isinstance(o, Literal) for o in (operands[0], operands[2]))
        and ops[0] in ("<", "<=")
        and ops[1] in ("<", "<=")
    ):
        return ("between", (values[0], values[2]))
    words = {">=": "at least", ">": "above", "<=": "at most", "<": "below", "==": "",
             "!=": "other than"}  # fmt: skip
    return (words[rel], (stated,))


def _bound_miss(name: str, actual: Any, stated: Any, rel: str, bar: tuple[str, tuple[Any, ...]]
                ) -> Miss:  # fmt: skip
    if isinstance(actual, pd.Timestamp):
        return Miss("wrong date", name, actual, bar, abs((actual - stated).days))
    if isinstance(actual, str) or rel == "!=":
        return Miss("contradicted", name, actual, bar)
    if stated == 0 and rel != "==":  # a direction: the data point the other way
        return Miss("wrong sign", name, actual, bar, abs(actual - stated))
    kind = "overstated" if actual < stated else "understated"
    return Miss(kind, name, actual, bar, abs(actual - stated))


def _first_name(node: Node) -> str:
    return Test("", node).names[0] if Test("", node).names else "?"
