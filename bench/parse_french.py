"""Time smallcaps' French parser against pandas-datareader's on every French file in the mirror.

    python bench/parse_french.py [--mirror DIR] [--repeat N]

For each file both parsers read the same local bytes in the same run (pandas-datareader's
``FamaFrenchReader`` is subclassed so that its ``_read_zipfile`` returns them instead of
downloading). Tables are matched in file order and compared after converting units back:
pandas-datareader keeps percent, ``-99.99`` and a PeriodIndex. A file it cannot read as served
is retried with CRLF line ends (what the publisher's zips contain) and marked so; its tables it
splits differently (``len(chunk) < 800``) are reported, not fatal. Timings are the best of N.

One ``name: value`` line per figure (per file ``<file>_tables``, ``_smallcaps_ms``, ``_pdr_ms``,
``_ratio``, ``_pdr_read``, ``_equal_tables``; then the overall ratios and ``note_<i>`` lines).
The exit code is 1 only when the two parsers disagree: a table with the same shape, columns and
dates whose values differ.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smallcaps.sources import french

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = Path(os.environ.get("SMALLCAPS_MIRROR") or REPO.parent / "shared" / "data")


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def pdr_reader(data: bytes, *, crlf: bool) -> Callable[[], dict[Any, Any]]:
    """A call that parses `data` with pandas-datareader 0.11's Fama-French code, no network."""
    from pandas_datareader.famafrench import FamaFrenchReader

    class LocalReader(FamaFrenchReader):
        def _read_zipfile(self, url: str) -> str:  # the download step, fed local bytes
            raw = data
            if raw[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                    raw = zf.read(zf.namelist()[0])
            text = raw.decode("utf-8", "ignore")  # as pandas-datareader decodes
            if crlf:
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
            return text

    reader = LocalReader("local", start="1800-01-01", end="2200-01-01")  # built once, untimed

    def run() -> dict[Any, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reader.read()

    return run


def to_ours(frame: pd.DataFrame) -> pd.DataFrame:
    """A pandas-datareader table in smallcaps' conventions (publisher units kept)."""
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        stamps = index.to_timestamp(how="end").normalize() if index.freqstr != "D" else None
        index = stamps if stamps is not None else index.to_timestamp()
    out = frame.astype(float).replace([-99.99, -999.0], np.nan)
    out.index = pd.DatetimeIndex(index).as_unit("ns")
    out.columns = [str(c).strip() for c in out.columns]
    return out


def compare(ours: french.FrenchFile, theirs: dict[Any, Any]) -> tuple[int, list[str]]:
    """Tables equal to ours, and the problems found, matching tables in file order."""
    tables = list(ours.tables.values())
    keys = sorted(k for k in theirs if k != "DESCR")
    notes: list[str] = []
    equal = 0
    if len(keys) != len(tables):
        notes.append(f"pdr found {len(keys)} tables, smallcaps {len(tables)}")
    for key, table in zip(keys, tables, strict=False):
        try:
            other = to_ours(theirs[key])
        except (TypeError, ValueError) as exc:
            notes.append(f"table {key} ({table.title}): pdr result unusable: {exc}")
            continue
        mine = table.frame * (100.0 if table.publisher_units == "percent" else 1.0)
        if other.shape != mine.shape:
            notes.append(f"table {key} ({table.title}): pdr shape {other.shape}, ours {mine.shape}")
            continue
        if list(other.columns) != list(mine.columns) or not other.index.equals(mine.index):
            notes.append(f"table {key} ({table.title}): columns or dates differ")
            continue
        a, b = mine.to_numpy(), other.to_numpy()
        if not np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True):
            diff = np.nanmax(np.abs(a - b))
            notes.append(f"table {key} ({table.title}): values differ (max {diff:g})")
            continue
        equal += 1
    return equal, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    folder = args.mirror / "french"
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".zip"))
    if not paths:
        raise SystemExit(f"no French files in {folder}; pass --mirror")

    rows, details = [], []
    for path in paths:
        data = path.read_bytes()
        ours_s, parsed = best_of(lambda d=data, n=path.name: french.parse(d, origin=n), args.repeat)
        how, pdr_s, notes, equal = "as served", float("nan"), [], 0
        for crlf in (False, True):
            try:
                pdr_s, theirs = best_of(pdr_reader(data, crlf=crlf), args.repeat)
            except Exception as exc:  # report whatever pandas-datareader raises
                notes.append(
                    f"pdr failed{' with CRLF' if crlf else ''}: {type(exc).__name__}: "
                    f"{str(exc).strip()[:120]}"
                )
                continue
            how = "CRLF" if crlf else "as served"
            equal, problems = compare(parsed, theirs)
            notes += problems
            break
        else:
            how = "failed"
        rows.append((path.name, len(parsed.tables), ours_s, pdr_s, how, equal))
        details += [f"{path.name}: {n}" for n in notes]

    for name, n, ours_s, pdr_s, how, equal in rows:
        stem = name.rsplit(".", 1)[0]
        print(f"{stem}_tables: {n}")
        print(f"{stem}_smallcaps_ms: {ours_s * 1e3:.2f}")
        print(f"{stem}_pdr_ms: {pdr_s * 1e3:.2f}")
        print(f"{stem}_ratio: {pdr_s / ours_s:.2f}")
        print(f"{stem}_pdr_read: {how}")
        print(f"{stem}_equal_tables: {equal}/{n}")
    for label, keep in (("as_served", ("as served",)), ("incl_crlf", ("as served", "CRLF"))):
        both = [(o, p) for _, _, o, p, how, _ in rows if how in keep]
        if both:
            ours_total, pdr_total = sum(o for o, _ in both), sum(p for _, p in both)
            print(f"files_{label}: {len(both)}")
            print(f"pdr_ms_total_{label}: {pdr_total * 1e3:.1f}")
            print(f"smallcaps_ms_total_{label}: {ours_total * 1e3:.1f}")
            print(f"ratio_pdr_vs_smallcaps_{label}: {pdr_total / ours_total:.2f}")
    for i, line in enumerate(details):
        print(f"note_{i + 1}: {line}")
    disagree = [line for line in details if "values differ" in line]
    print(f"parsers_agree: {'no' if disagree else 'yes'}")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
