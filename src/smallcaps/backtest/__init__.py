"""Backtests: vectorised rotation rules, costs, metrics and robustness.

``run_file(path, source)`` evaluates every variant of a rules file (see :mod:`.rules`) on what
the as-of door reads (``source``: an :class:`smallcaps.access.StoreView`, or the store) and
judges the best with the Deflated Sharpe Ratio, PBO, Hansen's SPA and a walk-forward
(:class:`Robustness`); the shipped rules are at :func:`default_rules_path`.
"""

from smallcaps.backtest.engine import (
    BacktestResult,
    LookAheadCheck,
    Performance,
    SharpeGrid,
    VariantRow,
    check_no_lookahead,
    default_rules_path,
    run_file,
    run_rules,
)
from smallcaps.backtest.robustness import Robustness
from smallcaps.backtest.rules import RuleSet, load_rules
from smallcaps.backtest.scheduler import DaskScheduler, LocalScheduler, make_scheduler

__all__ = [
    "BacktestResult",
    "DaskScheduler",
    "LocalScheduler",
    "LookAheadCheck",
    "Performance",
    "Robustness",
    "RuleSet",
    "SharpeGrid",
    "VariantRow",
    "check_no_lookahead",
    "default_rules_path",
    "load_rules",
    "make_scheduler",
    "run_file",
    "run_rules",
]
