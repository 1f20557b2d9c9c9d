"""Backtests: vectorised rotation rules, costs, metrics and robustness.

``run_file(path, store)`` evaluates every variant of a rules file (see :mod:`.rules`) and judges
the best with the Deflated Sharpe Ratio, PBO, Hansen's SPA and a walk-forward; the shipped rules
are at :func:`default_rules_path`.
"""

from smallcaps.backtest.engine import (
    BacktestResult,
    LookAheadCheck,
    check_no_lookahead,
    default_rules_path,
    run_file,
    run_rules,
)
from smallcaps.backtest.rules import RuleSet, load_rules
from smallcaps.backtest.scheduler import DaskScheduler, LocalScheduler, make_scheduler

__all__ = [
    "BacktestResult",
    "DaskScheduler",
    "LocalScheduler",
    "LookAheadCheck",
    "RuleSet",
    "check_no_lookahead",
    "default_rules_path",
    "load_rules",
    "make_scheduler",
    "run_file",
    "run_rules",
]
