"""`smallcaps backtest` at scale: the product path against vectorbt, memory, and a read floor.

In one run (``python bench/backtest.py``; needs SMALLCAPS_MIRROR or shared/data next to the
repo, and ``pip install vectorbt`` for the comparison):

1. the mirror loads into a throwaway store (as ``smallcaps fetch --mirror`` does);
2. the product path, :func:`smallcaps.backtest.run_rules` with the DSR (over cash and over
   SPY), PBO, the SPA (1,000 replications) and the walk-forward, on the shipped daily rules
   file (``rules/rotation-daily.toml``: 991 windows x 11 bands = 10,901 IWM/SPY variants), in
   a fresh process that reports its time and peak RSS;
3. vectorbt's ``Portfolio.from_orders`` on 1,000 variants of the same grid (bench/sweep.py's
   conventions, equal to smallcaps' kernel to 1e-9 there): its variants per second;
4. the product path on the same windows with 101 and 1,009 bands (100,091 and 999,919
   variants), each in a fresh process: time and peak RSS;
5. a one-pass read of 10,901 x T float64 values (numpy sum over a 256 MB buffer reread): the
   floor any kernel that touches each variant-day once pays.

One ``name: value`` line per figure, then ``targets:``. The exit code is 1 only when results
disagree (vectorbt against the kernel, or the 10,901 run twice), never because a target is
missed.
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

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SMALLCAPS_MIRROR") or ROOT.parents[1] / "shared/data")
DAILY = ROOT.parent / "src/smallcaps/rules/rotation-daily.toml"


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


def child(home: str, rules: str) -> None:
    """Run the product path once; print a JSON line of figures."""
    from smallcaps.access import view_of
    from smallcaps.backtest import load_rules, run_rules
    from smallcaps.config import Config
    from smallcaps.store import Store

    config = Config.resolve(home=Path(home), env={})
    ruleset = load_rules(rules)
    with Store.open(config.store_path, config.archive_path) as store, store.session():
        t0 = time.perf_counter()
        r = run_rules(ruleset, view_of(store, None))
        seconds = time.perf_counter() - t0
    rob = r.robustness
    assert rob is not None and rob.spa is not None and rob.dsr_benchmark is not None
    print(json.dumps({
        "variants": len(r.variants), "periods": len(r.dates), "seconds": seconds,
        "peak_rss_mb": rss_mb(), "best": r.best, "sharpe": r.best_row.sharpe,
        "dsr": rob.dsr.dsr, "dsr_benchmark": rob.dsr_benchmark.dsr, "pbo": rob.pbo.pbo,
        "spa": rob.spa.p_consistent, "wf": rob.walk_forward.oos_sharpe,
    }))  # fmt: skip


def product(home: Path, rules: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent / "src")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(home), str(rules)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"product path failed on {rules.name}: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        load_home(home)
        first = product(home, DAILY)
        again = product(home, DAILY)
        same = {k: v for k, v in first.items() if k not in ("seconds", "peak_rss_mb")} == {
            k: v for k, v in again.items() if k not in ("seconds", "peak_rss_mb")
        }
        rate = first["variants"] / min(first["seconds"], again["seconds"])
        print(f"daily_variants: {first['variants']}")
        print(f"daily_periods: {first['periods']}")
        print(f"product_10901_seconds: {min(first['seconds'], again['seconds']):.2f}")
        print(f"product_10901_variants_per_s: {rate:.0f}")
        print(f"product_10901_peak_rss_mb: {max(first['peak_rss_mb'], again['peak_rss_mb']):.0f}")
        print(f"product_10901_best_sharpe: {first['sharpe']:.4f}")
        print(f"product_10901_dsr_cash: {first['dsr']:.4f}")
        print(f"product_10901_dsr_benchmark: {first['dsr_benchmark']:.4f}")
        print(f"product_10901_pbo: {first['pbo']:.4f}")
        print(f"product_10901_spa_p: {first['spa']:.4f}")
        print(f"product_10901_wf_oos_sharpe: {first['wf']:.4f}")
        print(f"product_10901_repeatable: {'yes' if same else 'NO'}")
        try:
            vb_rate, vb_ok = vectorbt_rate()
        except ImportError:
            vb_rate, vb_ok = float("nan"), True
            print("vectorbt: not installed (pip install vectorbt)")
        print(f"vectorbt_variants_per_s: {vb_rate:.0f}")
        print(f"vectorbt_equal_to_kernel: {'yes' if vb_ok else 'NO'}")
        ratio = rate / vb_rate
        print(f"ratio_vs_vectorbt: {ratio:.1f}")
        big = {}
        for bands in (101, 1009):
            got = product(home, rules_with_bands(Path(tmp) / f"daily-{bands}.toml", bands))
            big[got["variants"]] = got
            print(f"product_{got['variants']}_seconds: {got['seconds']:.1f}")
            print(
                f"product_{got['variants']}_variants_per_s: {got['variants'] / got['seconds']:.0f}"
            )
            print(f"product_{got['variants']}_peak_rss_mb: {got['peak_rss_mb']:.0f}")
        floor = read_floor(first["variants"] * first["periods"])
        print(f"read_floor_10901_seconds: {floor:.3f}")
        vs_floor = min(first["seconds"], again["seconds"]) / floor
        print(f"product_vs_read_floor: {vs_floor:.1f}")
    million = big.get(max(big))
    targets = {
        ">= 20x vectorbt": ratio >= 20,
        "1,000,000 variants < 2 GB": million is not None and million["peak_rss_mb"] < 2048,
        "within 5x of the read floor": vs_floor <= 5,
    }
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    return 0 if same and vb_ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
