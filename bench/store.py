"""Store timings: as-of reads over many vintages, and loading the whole mirror.

Run as ``python bench/store.py`` (``--quick`` for fewer reads). Targets on the project's
2-core machine:

1. an as-of read of a daily series with 20 vintages of ~10k rows: warm median < 5 ms;
2. loading every file of the mirror (``SMALLCAPS_MIRROR`` or ``../shared/data``) into a fresh
   store: < 20 s, reported next to plain ``pandas.read_csv`` of the same files.

For (2) the parsers come from ``smallcaps.sources.mirror.load_all`` or, failing that,
``smallcaps.sources.catalog.load_all``; when neither imports, the FRED CSVs are read with pandas
into Tidy frames here. The script says which path ran.

One ``name: value`` line per figure, targets as ``*_target`` and ``*_met: yes/no``. The exit
code is 1 only when results disagree: re-loading the same payloads adds vintages.
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from smallcaps.access import align, read
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("SMALLCAPS_MIRROR") or ROOT.parent / "shared" / "data")


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# -- (1) as-of reads -----------------------------------------------------------------------------


def bench_asof(tmp: Path, n_reads: int) -> None:
    rng = np.random.default_rng(0)
    days = pd.bdate_range("1986-01-01", periods=10_000)
    values = rng.normal(0, 0.05, len(days)).cumsum() + 5
    meta = {"DGS10": SeriesMeta("DGS10", "fred", "10-year Treasury", "percent", "D")}
    store = Store.open(tmp / "asof.duckdb", tmp / "archive")
    first = datetime(2024, 6, 1, tzinfo=UTC)
    for i in range(20):
        values = values.copy()
        values[-60:] += rng.normal(0, 0.01, 60)  # each fetch revises the recent past
        tidy = Tidy(long_frame("DGS10", days, values), meta)
        store.write(Payload("fred", f"bench/{i}", f"v{i}".encode(), first + timedelta(7 * i)), tidy)
    span = pd.Timestamp(days[0]), pd.Timestamp(first).tz_localize(None) + pd.Timedelta(days=200)
    as_of = span[0] + (span[1] - span[0]) * rng.uniform(0.3, 1.0, n_reads)

    cold = Store.open(tmp / "asof.duckdb", tmp / "archive")
    t_cold = timed(lambda: read(cold, "DGS10", as_of[0]))
    for t in as_of[:20]:
        read(store, "DGS10", t)
    warm = [timed(lambda t=t: read(store, "DGS10", t)) for t in as_of]
    uncached = Store.open(tmp / "asof.duckdb", tmp / "archive", cache=False)
    no_cache = [timed(lambda t=t: read(uncached, "DGS10", t)) for t in as_of[:30]]
    calendar = pd.bdate_range("2000-01-03", "2025-12-31")
    t_align = timed(lambda: align(store, ["DGS10"], calendar))
    ms = 1e3
    warm_ms = statistics.median(warm) * ms
    # as-of read of a daily series with 20 vintages x 10,000 rows
    print(f"asof_reads: {n_reads}")
    print(f"asof_warm_median_ms: {warm_ms:.2f}")
    print(f"asof_warm_p95_ms: {np.percentile(warm, 95) * ms:.2f}")
    print("asof_warm_median_ms_target: 5")
    print(f"asof_warm_median_ms_met: {'yes' if warm_ms < 5 else 'no'}")
    print(f"asof_cold_first_read_ms: {t_cold * ms:.1f}")
    print(f"asof_no_cache_median_ms: {statistics.median(no_cache) * ms:.1f}")  # DuckDB open ~15 ms
    print(f"align_business_days: {len(calendar)}")
    print(f"align_ms: {t_align * ms:.1f}")


# -- (2) the whole mirror -----------------------------------------------------------------------


def mirror_pairs(mirror: Path) -> tuple[str, Iterator[tuple[Payload, Tidy]], list[Path]]:
    """(which path ran, the (Payload, Tidy) pairs, the files they come from)."""
    for name in ("smallcaps.sources.mirror", "smallcaps.sources.catalog"):
        try:
            module = importlib.import_module(name)
            load_all = module.load_all
        except (ImportError, AttributeError):
            continue
        files = (
            [mirror / f.path for f in module.mirror_files()]
            if hasattr(module, "mirror_files")
            else []
        )

        def pairs(
            load_all: Callable[[Path], Iterator[tuple]] = load_all,
        ) -> Iterator[tuple[Payload, Tidy]]:
            for item in load_all(mirror):
                yield item[-2], item[-1]  # (Payload, Tidy) or (MirrorFile, Payload, Tidy)

        return f"{name}.load_all", pairs(), files
    files = sorted((mirror / "fred").glob("*.csv"))
    return "fallback: FRED CSVs read with pandas here", fred_pairs(files), files


def fred_pairs(files: list[Path]) -> Iterator[tuple[Payload, Tidy]]:
    for path in files:
        raw = pd.read_csv(path)
        sid = f"fred/{path.stem}"
        dates = pd.to_datetime(raw.iloc[:, 0], format="mixed")
        values = pd.to_numeric(raw.iloc[:, 1], errors="coerce")
        tidy = Tidy(
            long_frame(sid, dates, values.to_numpy()),
            {sid: SeriesMeta(sid, "fred", sid, "percent", "D")},
        )
        yield (
            Payload("mirror", path.as_uri(), path.read_bytes(), datetime(2026, 1, 1, tzinfo=UTC)),
            tidy,
        )


def plain_read_csv(files: list[Path]) -> tuple[float, int]:
    """Seconds and rows for pandas.read_csv of the same files (those pandas can read as a table)."""
    seconds, rows = 0.0, 0
    for path in files:
        if path.suffix.lower() not in (".csv", ".zip"):
            continue  # e.g. Shiller's .xls: no read_csv equivalent
        t = time.perf_counter()
        try:
            frame = pd.read_csv(
                path,
                on_bad_lines="skip",
                encoding_errors="replace",
                header=None,
                engine="c",
                low_memory=False,
            )
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            continue
        seconds += time.perf_counter() - t
        rows += frame.size
    return seconds, rows


def bench_mirror(tmp: Path) -> bool:
    """Load the mirror; False when re-loading the same payloads adds vintages."""
    if not MIRROR.is_dir():
        print("mirror_load: skipped (no mirror; set SMALLCAPS_MIRROR)")
        return True
    path, pairs, files = mirror_pairs(MIRROR)
    t = time.perf_counter()
    loaded = list(pairs)
    t_parse = time.perf_counter() - t
    store = Store.open(tmp / "mirror.duckdb", tmp / "archive")
    t = time.perf_counter()
    added = sum(len(r.added) for r in store.write_many(loaded))
    t_store = time.perf_counter() - t
    loop = Store.open(tmp / "loop.duckdb", tmp / "archive")
    t_loop = timed(lambda: [loop.write(p, tidy) for p, tidy in loaded])
    rows = sum(len(tidy.frame) for _, tidy in loaded)
    mb = sum(len(p.data) for p, _ in loaded) / 1e6
    t_csv, csv_cells = plain_read_csv(files)
    again: list[int] = []
    t_again = timed(lambda: again.append(sum(len(r.added) for r in store.write_many(loaded))))
    total = t_parse + t_store
    print(f"mirror_loader: {path}")
    print(f"mirror_payloads: {len(loaded)}")
    print(f"mirror_mb: {mb:.1f}")
    print(f"mirror_rows: {rows}")
    print(f"mirror_new_vintages: {added}")
    print(f"mirror_parse_seconds: {t_parse:.2f}")
    print(f"mirror_store_seconds: {t_store:.2f}")
    print(f"mirror_load_seconds: {total:.2f}")
    print("mirror_load_seconds_target: 20")
    print(f"mirror_load_seconds_met: {'yes' if total < 20 else 'no'}")
    print(f"store_m_rows_per_s: {rows / t_store / 1e6:.2f}")
    print(f"store_write_per_payload_seconds: {t_loop:.2f}")  # one Store.write per payload
    print(f"read_csv_seconds: {t_csv:.2f}")
    print(f"read_csv_cells: {csv_cells}")
    print(f"ratio_load_vs_read_csv: {total / t_csv:.1f}")
    print(f"reload_seconds: {t_again:.2f}")
    print(f"reload_new_vintages: {again[0]}")
    print(f"store_file_mb: {(tmp / 'mirror.duckdb').stat().st_size / 1e6:.0f}")
    return again[0] == 0


def bench_bulk(tmp: Path) -> None:
    n_series, days = 300, pd.bdate_range("1990-01-01", periods=10_000)
    ids = [f"bulk/{i}" for i in range(n_series)]
    frame = pd.DataFrame(
        {
            "series_id": np.repeat(ids, len(days)),
            "date": np.tile(days.values, n_series),
            "value": np.random.default_rng(1).normal(size=n_series * len(days)),
        }
    )
    tidy = Tidy(frame, {s: SeriesMeta(s, "user", s, "x", "D") for s in ids})
    store = Store.open(tmp / "bulk.duckdb", tmp / "archive")
    t = timed(lambda: store.write(Payload("user", "bulk", b"bulk"), tidy))
    print(f"bulk_write_rows: {len(frame)}")
    print(f"bulk_write_series: {n_series}")
    print(f"bulk_write_seconds: {t:.2f}")
    print(f"bulk_write_m_rows_per_s: {len(frame) / t / 1e6:.2f}")


def main() -> int:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        bench_asof(Path(tmp), 100 if quick else 1000)
        ok = bench_mirror(Path(tmp))
        bench_bulk(Path(tmp))
    print(f"results_agree: {'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
