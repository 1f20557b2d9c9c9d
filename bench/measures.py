"""Time the Analytics I measurements on the whole mirror against loading their inputs.

Run: ``python bench/measures.py [--mirror DIR] [--repeat N]``. The peer, measured in the same
run, is parsing the same publisher files from the mirror (what any user must do first); the
target is all five measurements in under 2 s, i.e. comparable to reading the data once.
One ``name: value`` line per figure; the exit code is 0 (nothing here can disagree).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from smallcaps import registry
from smallcaps.registry import MemoryView
from smallcaps.sources import catalog

NAMES = ("size.cycles", "size.premium", "valuation.gap", "concentration.top", "vehicle.tracking")
SPECS = (
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors",
    "french:25_Portfolios_5x5", "shiller:ie_data", "ishares:IVV", "yahoo:IWM", "yahoo:SPY",
    "yahoo:^RUT", "yahoo:RSP", "yahoo:AAPL", "yahoo:MSFT", "yahoo:NVDA", "yahoo:AMZN",
    "yahoo:GOOGL", "yahoo:GOOG", "yahoo:META", "yahoo:TSLA",
)  # fmt: skip


def main() -> int:
    repo = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__)
    default = os.environ.get("SMALLCAPS_MIRROR") or repo.parent / "shared" / "data"
    parser.add_argument("--mirror", type=Path, default=Path(default))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    registry.load_all()  # import time is not compute time
    loads, runs = [], {name: [] for name in NAMES}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        data = catalog.mirror_series(args.mirror, SPECS)
        loads.append(time.perf_counter() - t0)
        view = MemoryView(data)
        for name in NAMES:
            t0 = time.perf_counter()
            registry.run(name, view)
            runs[name].append(time.perf_counter() - t0)
    best_load = min(loads)
    total = sum(min(v) for v in runs.values())
    for name, times in runs.items():
        best, median = min(times) * 1e3, statistics.median(times) * 1e3
        print(f"{name}_best_ms: {best:.1f}")
        print(f"{name}_median_ms: {median:.1f}")
    print(f"all_five_best_ms: {total * 1e3:.1f}")
    print("all_five_best_ms_target: 2000")
    print(f"all_five_best_ms_met: {'yes' if total * 1e3 < 2000 else 'no'}")
    print(f"peer_load_best_ms: {best_load * 1e3:.1f}")
    print(f"ratio_measurements_vs_loading: {total / best_load:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
