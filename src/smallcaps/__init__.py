"""smallcaps: does the small-cap rotation thesis hold? Public data, measured and backtested.

The names a notebook needs are here, loaded on first use (``import smallcaps`` stays light)::

    import smallcaps as sc
    with sc.Store.from_config(sc.Config.resolve()) as store:
        study = sc.Study(store, as_of="2026-01-10")
        print(study.measure("valuation.gap"))
        print(sc.evaluate(sc.load_thesis("small-cap-renaissance-2026"), study))
        print(sc.judge(sc.load_thesis("small-cap-renaissance-2026"), study))  # then and now
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "smallcaps.config",
    "Store": "smallcaps.store",
    "Study": "smallcaps.study",
    "Run": "smallcaps.study",
    "RunCache": "smallcaps.study",
    "Result": "smallcaps.results",
    "MemoryView": "smallcaps.registry",
    "evaluate": "smallcaps.thesis",
    "judge": "smallcaps.thesis",
    "load_thesis": ("smallcaps.thesis", "load"),
    "build_report": "smallcaps.report",
    "run_file": "smallcaps.backtest",
}

if TYPE_CHECKING:
    from smallcaps.backtest import run_file
    from smallcaps.config import Config
    from smallcaps.registry import MemoryView
    from smallcaps.report import build_report
    from smallcaps.results import Result
    from smallcaps.store import Store
    from smallcaps.study import Run, RunCache, Study
    from smallcaps.thesis import evaluate, judge
    from smallcaps.thesis import load as load_thesis

__all__ = [
    "Config",
    "MemoryView",
    "Result",
    "Run",
    "RunCache",
    "Store",
    "Study",
    "build_report",
    "evaluate",
    "judge",
    "load_thesis",
    "run_file",
]


def __getattr__(name: str) -> Any:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'smallcaps' has no attribute {name!r}")
    module, attr = (where, name) if isinstance(where, str) else where
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value
