"""`smallcaps backtest` at scale: the product path against vectorbt, memory, and a read floor.

In one run (``python bench/backtest.py``; needs SMALLCAPS_MIRROR or shared/data next to the
repo, and ``pip install vectorbt`` for the comparison):

1. the mirror loads into a throwaway store (as ``smallcaps fetch --mirror`` does);
2. the product path, :func:`smallcaps.backtest.run_rules` with the DSR (over cash and over
   SPY), PBO, the SPA (1,000 replications) and the walk-forward, on the shipped daily rules
   file (``rules/rotation-daily.toml``: 991 windows x 11 bands = 10,901 IWM/SPY variants),
   twice, each in a fresh process that reports its time and peak RSS; the child also checks
   that the compiled switching path equals the general simulation (to 1e-12) on the
   variants it keeps, and times the returns kernel alone (conditions, net returns, metrics)
   as the product runs it (its chunks on the scheduler's two threads) and on one thread;
3. vectorbt's ``Portfolio.from_orders`` on 1,000 variants of the same grid (bench/sweep.py's
   conventions, where it equals smallcaps' kernel to 1e-9): its variants per second;
4. the product path on the same windows with 101 and 1,009 bands (100,091 and 999,919
   variants), each in a fresh process whose peak RSS is read from /proc while it runs; a run
   that does not finish within its time budget is stopped and reported with its rate so far
   (chunks done) and its peak RSS until then;
5. a one-pass read of the same variants x days float64 values (numpy sum over a 256 MB buffer
   reread, one thread: memory bandwidth, which a second thread barely adds to): the floor any
   kernel that touches each variant-day once pays.

One ``name: value`` line per figure, the targets as ``*_target`` lines and ``*_met: yes/no``.
The exit code is 1 only when results disagree (vectorbt against the kernel, the fast path
against the simulation, or the 10,901 run twice), never because a target is missed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SMALLCAPS_MIRROR") or ROOT.parents[1] / "shared/data")
DAILY = ROOT.parent / "src/smallcaps/rules/rotation-daily.toml"
BUDGET = {100_091: 600.0, 999_919: 1800.0}  # seconds before a large run is stopped
FIGURES = ("best", "sharpe", "dsr", "dsr_benchmark", "pbo", "spa", "wf")


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_home(home: Path) -> None:
    """Load the mirror into a store under ``home``."""
    from smallcaps.config import Config
    from smallcaps.store import Store
    from smallcaps.update import update

    config = Config.resolve(home=home, mirror=DATA, env={})
    with Store.open(config.store_path, config.archive_path) as store:
        failed = [o for o in update(store, config) if o.failed]
    if failed:
        raise SystemExit(f"mirror load failed: {failed[0].spec}")


def rules_with_bands(path: Path, n_bands: int) -> Path:
    """The daily rules file with ``n_bands`` bands from 0 to 5% (991 windows each)."""
    text = DAILY.read_text(encoding="utf-8")
    head, _, _ = text.rpartition("  threshold = [")
    bands = ", ".join(repr(float(b)) for b in np.linspace(0.0, 0.05, n_bands))
    path.write_text(f"{head}  threshold = [{bands}]\n", encoding="utf-8")
    return path


def kernel_seconds(ruleset: Any, view: Any) -> tuple[float, float]:
    """Seconds for the returns kernel alone (conditions, net returns, metrics), per chunk.

    As the product runs it (the scheduler's threads, its chunks), and on one thread.
    """
    from smallcaps.backtest import engine
    from smallcaps.backtest.scheduler import LocalScheduler

    legs = engine.load_legs(ruleset, view)
    _panel, shared = engine.chunk_inputs(ruleset, view, legs)
    t = len(legs.dates)
    chunks = engine._chunks(
        len(shared["on"]), t, engine.FUSED_CHUNK * t if shared["switching"] else None
    )
    engine.evaluate_chunk(chunks[0], **shared)  # compiled code loaded
    out = []
    for threads in (None, 1):
        t0 = time.perf_counter()
        LocalScheduler(threads).map_chunks(engine.evaluate_chunk, chunks, shared)
        out.append(time.perf_counter() - t0)
    return out[0], out[1]


def child(home: str, rules: str, progress_file: str, check: bool) -> None:
    """Run the product path once; print a JSON line of figures."""
    from smallcaps.access import view_of
    from smallcaps.backtest import engine, load_rules, run_rules
    from smallcaps.config import Config
    from smallcaps.store import Store

    config = Config.resolve(home=Path(home), env={})
    ruleset = load_rules(rules)
    marks: list[float] = []
    with open(progress_file, "w", encoding="utf-8") as log:

        def progress(done: int, total: int) -> None:
            marks.append(time.perf_counter())
            log.write(f"{done} {total} {marks[-1] - t0:.3f}\n")
            log.flush()

        with Store.open(config.store_path, config.archive_path) as store, store.session():
            view = view_of(store, None)
            t0 = time.perf_counter()
            r = run_rules(ruleset, view, progress=progress)
            seconds = time.perf_counter() - t0
            doc: dict[str, Any] = {}
            if check:
                doc["kernel_seconds"], doc["kernel_one_thread_seconds"] = kernel_seconds(
                    ruleset, view
                )
                # the fast path against the general simulation on the variants kept
                legs = engine.load_legs(ruleset, view)
                _panel, shared = engine.chunk_inputs(ruleset, view, legs)
                assert shared["switching"]
                slow = engine.evaluate_chunk(r.kept, **{**shared, "switching": False}, keep=True)
                doc["fast_vs_simulation_max_diff"] = float(
                    np.max(np.abs(slow["net"].T - r.returns))
                )
    rob = r.robustness
    assert rob is not None and rob.spa is not None and rob.dsr_benchmark is not None
    doc.update({
        "variants": len(r.variants), "periods": len(r.dates), "seconds": seconds,
        "chunks_seconds": marks[-1] - t0 if marks else float("nan"),
        "peak_rss_mb": rss_mb(), "best": r.best, "sharpe": r.best_row.sharpe,
        "dsr": rob.dsr.dsr, "dsr_benchmark": rob.dsr_benchmark.dsr, "pbo": rob.pbo.pbo,
        "spa": rob.spa.p_consistent, "wf": rob.walk_forward.oos_sharpe,
    })  # fmt: skip
    print(json.dumps(doc))


def _hwm_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a running process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def product(home: Path, rules: Path, *, check: bool = False, budget: float = 1e9) -> dict:
    """The product path in a fresh process; stopped after ``budget`` seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent / "src")}
    progress_file = rules.with_suffix(".progress")
    args = [sys.executable, __file__, "--child", str(home), str(rules), str(progress_file)]
    proc = subprocess.Popen(
        [*args, "check" if check else "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    start, peak = time.perf_counter(), 0.0
    while proc.poll() is None:
        peak = max(peak, _hwm_mb(proc.pid))
        if time.perf_counter() - start > budget:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.25)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode == 0:
        doc = json.loads(out.strip().splitlines()[-1])
        doc["peak_rss_mb"] = max(doc["peak_rss_mb"], peak)
        doc["finished"] = True
        return doc
    lines = progress_file.read_text().split("\n") if progress_file.exists() else []
    marks = [tuple(float(x) for x in line.split()) for line in lines if line.strip()]
    if proc.returncode != -9 or not marks:
        raise SystemExit(f"product path failed on {rules.name}: {err.strip()[-400:]}")
    done, total, at = marks[-1]
    return {"finished": False, "peak_rss_mb": peak, "elapsed": elapsed,
            "fraction_done": done / total, "chunks_done": int(done), "chunks": int(total),
            "at": at}  # fmt: skip


def read_floor(values: int) -> float:
    """Seconds to read ``values`` float64 once (a 256 MB buffer summed again and again)."""
    buf = np.random.default_rng(0).random(32 * 1024 * 1024)
    buf.sum()
    t0 = time.perf_counter()
    left = values
    while left > 0:
        k = min(left, len(buf))
        buf[:k].sum()
        left -= k
    return time.perf_counter() - t0


def vectorbt_rate() -> tuple[float, bool]:
    """vectorbt's variants/s on 1,000 variants of the grid, and whether it equals the kernel."""
    sys.path.insert(0, str(ROOT))
    import sweep  # bench/sweep.py: the same grid under conventions both engines share

    idx, iwm, spy = sweep.load()
    r_iwm = np.r_[0.0, iwm[1:] / iwm[:-1] - 1.0]
    r_spy = np.r_[0.0, spy[1:] / spy[:-1] - 1.0]
    ratio = iwm / spy
    ma = sweep.moving_averages(ratio, sweep.WINDOWS)
    total, sharpe = sweep.smallcaps_sweep(sweep.excess_over_average(ratio, ma), r_iwm, r_spy)
    n = len(sweep.WINDOWS) * len(sweep.BANDS)
    rows = np.sort(np.random.default_rng(0).choice(n, size=sweep.VBT_SUBSET, replace=False))
    sweep.vectorbt_sweep(idx, iwm, spy, ratio, ma, rows[:4])  # numba compiles
    t0 = time.perf_counter()
    vt, vs = sweep.vectorbt_sweep(idx, iwm, spy, ratio, ma, rows)
    rate = len(rows) / (time.perf_counter() - t0)
    ok = bool(np.allclose(total[rows], vt, rtol=1e-9) and np.allclose(sharpe[rows], vs, rtol=1e-9))
    return rate, ok


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def main() -> int:
    agree = True
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        load_home(home)
        daily = Path(tmp) / "daily.toml"
        daily.write_text(DAILY.read_text(encoding="utf-8"), encoding="utf-8")
        first = product(home, daily, check=True)
        again = product(home, daily)
        same = all(first[k] == again[k] for k in FIGURES)
        fast_ok = first["fast_vs_simulation_max_diff"] <= 1e-12
        agree = agree and same and fast_ok
        quicker = min((first, again), key=lambda doc: doc["seconds"])
        seconds = quicker["seconds"]
        rate = first["variants"] / seconds
        n_daily = first["variants"]
        print(f"daily_variants: {n_daily}")
        print(f"daily_periods: {first['periods']}")
        print(f"product_{n_daily}_seconds: {seconds:.2f}")
        print(f"product_{n_daily}_chunks_seconds: {quicker['chunks_seconds']:.2f}")
        print(f"product_{n_daily}_variants_per_s: {rate:.0f}")
        print(
            f"product_{n_daily}_peak_rss_mb: {max(first['peak_rss_mb'], again['peak_rss_mb']):.0f}"
        )
        print(f"product_{n_daily}_best_sharpe: {first['sharpe']:.4f}")
        print(f"product_{n_daily}_dsr_cash: {first['dsr']:.4f}")
        print(f"product_{n_daily}_dsr_benchmark: {first['dsr_benchmark']:.4f}")
        print(f"product_{n_daily}_pbo: {first['pbo']:.4f}")
        print(f"product_{n_daily}_spa_p: {first['spa']:.4f}")
        print(f"product_{n_daily}_wf_oos_sharpe: {first['wf']:.4f}")
        print(f"product_{n_daily}_repeatable: {yes(same)}")
        print(f"fast_path_vs_simulation_max_diff: {first['fast_vs_simulation_max_diff']:.1e}")
        print(f"fast_path_equal_to_simulation: {yes(fast_ok)}")
        try:
            vb_rate, vb_ok = vectorbt_rate()
        except ImportError:
            vb_rate, vb_ok = float("nan"), True
            print("vectorbt_installed: no")
        agree = agree and vb_ok
        print(f"vectorbt_variants_per_s: {vb_rate:.0f}")
        print(f"vectorbt_equal_to_kernel: {yes(vb_ok)}")
        ratio = rate / vb_rate
        print(f"ratio_vs_vectorbt: {ratio:.1f}")
        print("ratio_vs_vectorbt_target: 20")
        print(f"ratio_vs_vectorbt_met: {yes(ratio >= 20)}")
        floor = read_floor(n_daily * first["periods"])
        kernel = first["kernel_seconds"]
        print(f"read_floor_{n_daily}_seconds: {floor:.3f}")
        print(f"kernel_{n_daily}_seconds: {kernel:.2f}")
        print(f"kernel_{n_daily}_one_thread_seconds: {first['kernel_one_thread_seconds']:.2f}")
        print(f"kernel_vs_floor: {kernel / floor:.1f}")
        print("kernel_vs_floor_target: 5")
        print(f"kernel_vs_floor_met: {yes(kernel / floor <= 5)}")
        print(f"product_vs_floor: {seconds / floor:.1f}")
        largest = None
        for bands, budget in zip((101, 1009), BUDGET.values(), strict=True):
            got = product(home, rules_with_bands(Path(tmp) / f"daily-{bands}.toml", bands),
                          budget=budget)  # fmt: skip
            n = 991 * bands
            print(f"product_{n}_finished: {yes(got['finished'])}")
            print(f"product_{n}_peak_rss_mb: {got['peak_rss_mb']:.0f}")
            if got["finished"]:
                largest = n
                print(f"product_{n}_seconds: {got['seconds']:.1f}")
                print(f"product_{n}_variants_per_s: {n / got['seconds']:.0f}")
                print(f"product_{n}_chunks_seconds: {got['chunks_seconds']:.1f}")
            else:
                # the chunk phase's rate so far (the robustness tests after it not reached)
                print(f"product_{n}_stopped_after_seconds: {got['elapsed']:.0f}")
                print(f"product_{n}_chunks_done: {got['chunks_done']} of {got['chunks']}")
                rate_so_far = got["fraction_done"] * n / got["at"]
                print(f"product_{n}_chunk_variants_per_s: {rate_so_far:.0f}")
            if n == 999_919:
                print("product_999919_peak_rss_mb_target: 2048")
                met = got["finished"] and got["peak_rss_mb"] < 2048
                print(f"product_999919_peak_rss_mb_met: {yes(met)}")
        print(f"largest_finished_variants: {largest}")
        print(f"results_agree: {yes(agree)}")
    return 0 if agree else 1


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "check")
        sys.exit(0)
    sys.exit(main())
