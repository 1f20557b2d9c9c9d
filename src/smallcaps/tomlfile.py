"""Reading the user's TOML files (theses, rules, mirror mappings) with the same guards for all.

Every loader goes through :func:`read_text` and :func:`parse` (or :func:`load`, both at once),
so a file that is missing, a folder, too large, not UTF-8, not TOML or nested too deeply gets a
one-line :class:`~smallcaps.errors.ConfigError` naming the file, never a traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from smallcaps.errors import ConfigError

MAX_BYTES = 2_000_000  # a thesis of 200 claims is ~100 kB; anything this large is a mistake
MAX_DEPTH = 24  # tables and arrays within each other; our files nest four deep at most


def read_text(path: Path | str, *, what: str = "TOML file", max_bytes: int = MAX_BYTES) -> str:
    """The text of a small UTF-8 file, or a ConfigError that names it and says what is wrong.

    Parameters
    ----------
    path : Path or str
    what : str
        What the file is, for messages (``"rules file"``).
    max_bytes : int
        Larger files are refused before they are read.
    """
    path = Path(path)
    shown = f"{what} {str(path)!r}"
    try:
        if path.is_dir():
            raise ConfigError(f"{shown} is a folder; give the path of a .toml file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{shown} is {size:,} bytes; the limit is {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{shown} not found") from None
    except PermissionError:
        raise ConfigError(f"{shown} cannot be read (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"{shown} cannot be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # grew while we looked
        raise ConfigError(f"{shown} is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None


def parse(text: str, *, origin: str, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse TOML text; broken or too deeply nested TOML is a ConfigError naming ``origin``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: invalid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{origin}: invalid TOML: nested too deeply") from None
    found = depth(doc)
    if found > max_depth:
        raise ConfigError(
            f"{origin}: invalid TOML: nested {found} levels deep; the limit is {max_depth}"
        )
    return doc


def load(
    path: Path | str,
    *,
    what: str = "TOML file",
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """:func:`read_text` then :func:`parse`: a TOML file as a dict, or one ConfigError."""
    text = read_text(path, what=what, max_bytes=max_bytes)
    return parse(text, origin=str(path), max_depth=max_depth)


def depth(value: object) -> int:
    """How deeply tables and arrays nest in ``value`` (a scalar is 0); no recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest
