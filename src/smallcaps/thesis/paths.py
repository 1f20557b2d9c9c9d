"""Figure paths: where in a measurement's ``to_dict()`` a claim's figure lives.

A path is a chain of keys separated by dots. A key may be quoted (``rolling_last."Lo 20 - Hi
20".mean``) and may carry one selector in brackets when its value is a list:

- ``table[window=0..+21, leg=small]``: the one row whose fields equal those values (compared as
  text; quote a value that holds ``,`` or ``]``);
- ``cycles[-1]``: a row by position;
- ``focus[*]``: every row; the keys after it are read from each row, giving a list (reduce it in
  the test with ``min``, ``max``, ``mean``, ``median``, ``count`` or ``sum``).

Paths are data: they are read by this parser, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smallcaps.errors import ConfigError

MAX_PATH = 300


@dataclass(frozen=True, slots=True)
class Step:
    """One key and its optional selector: ``None``, ``"*"``, an int, or ((field, value), ...)."""

    key: str
    select: str | int | tuple[tuple[str, str], ...] | None = None


class PathError(LookupError):
    """A path does not match the result (a key or row is absent)."""


_KEY = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^.\[\]"\s][^.\[\]"]*?))\s*(?=[.\[]|$)')
_COND = re.compile(r'\s*([^=,\]\s][^=,\]]*?)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\]"]*?))\s*(?=[,\]])')


def parse_path(text: str) -> tuple[Step, ...]:
    """Parse a figure path; a malformed one raises ConfigError naming the column."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"a figure path must be a non-empty string, not {text!r}")
    if len(text) > MAX_PATH:
        raise ConfigError(f"figure path is {len(text)} characters long; the limit is {MAX_PATH}")
    steps: list[Step] = []
    pos = 0
    while True:
        m = _KEY.match(text, pos)
        if m is None:
            raise ConfigError(f"figure path {text!r}: expected a key at column {pos + 1}")
        key = m.group(1) if m.group(1) is not None else m.group(2).strip()
        pos = m.end()
        select: str | int | tuple[tuple[str, str], ...] | None = None
        if pos < len(text) and text[pos] == "[":
            close = _closing(text, pos)
            select = _selector(text, text[pos + 1 : close], pos)
            pos = close + 1
        steps.append(Step(key, select))
        if pos == len(text):
            return tuple(steps)
        if text[pos] != ".":
            raise ConfigError(f"figure path {text!r}: expected '.' at column {pos + 1}")
        pos += 1


def _closing(text: str, start: int) -> int:
    quoted = False
    for i in range(start + 1, len(text)):
        c = text[i]
        if c == '"' and text[i - 1] != "\\":
            quoted = not quoted
        elif c == "]" and not quoted:
            return i
    raise ConfigError(f"figure path {text!r}: '[' at column {start + 1} is never closed")


def _selector(text: str, inner: str, at: int) -> str | int | tuple[tuple[str, str], ...]:
    body = inner.strip()
    if body == "*":
        return "*"
    if re.fullmatch(r"-?\d{1,6}", body):
        return int(body)
    conds: list[tuple[str, str]] = []
    pos = 0
    probe = inner + "]"
    while pos < len(inner):
        m = _COND.match(probe, pos)
        if m is None:
            raise ConfigError(
                f"figure path {text!r}: selector at column {at + 1} must be *, a row number or "
                "field=value pairs"
            )
        value = m.group(2) if m.group(2) is not None else m.group(3)
        conds.append((m.group(1).strip(), value))
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ConfigError(f"figure path {text!r}: expected ',' in the selector")
            pos += 1
    if not conds:
        raise ConfigError(f"figure path {text!r}: empty selector at column {at + 1}")
    return tuple(conds)


def resolve(doc: Any, steps: tuple[Step, ...], *, path: str = "") -> Any:
    """The value at ``steps`` in ``doc``; a list when a ``[*]`` step is crossed.

    Raises
    ------
    PathError
        A key, row or match is absent; the message lists what is there.
    """
    return _walk(doc, steps, path or ".".join(s.key for s in steps))


def _walk(node: Any, steps: tuple[Step, ...], path: str) -> Any:
    if not steps:
        return node
    step, rest = steps[0], steps[1:]
    if not isinstance(node, Mapping):
        raise PathError(f"{path}: {step.key!r} asked of a {type(node).__name__}, not a table")
    if step.key not in node:
        known = ", ".join(sorted(map(str, node)))[:400]
        raise PathError(f"{path}: no key {step.key!r} (there are: {known})")
    value = node[step.key]
    if step.select is None:
        return _walk(value, rest, path)
    if not isinstance(value, list):
        raise PathError(f"{path}: {step.key!r} is not a list, so it takes no [...] selector")
    if step.select == "*":
        return [_walk(row, rest, path) for row in value]
    if isinstance(step.select, int):
        if not -len(value) <= step.select < len(value):
            raise PathError(f"{path}: {step.key} has {len(value)} rows, no row {step.select}")
        return _walk(value[step.select], rest, path)
    conds = step.select
    assert isinstance(conds, tuple)
    hits = [row for row in value if isinstance(row, Mapping) and _matches(row, conds)]
    if len(hits) != 1:
        want = ", ".join(f"{k}={v}" for k, v in conds)
        raise PathError(f"{path}: {len(hits)} rows of {step.key} match [{want}], not one")
    return _walk(hits[0], rest, path)


def _matches(row: Mapping[str, Any], conds: tuple[tuple[str, str], ...]) -> bool:
    return all(k in row and _text(row[k]) == v for k, v in conds)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
