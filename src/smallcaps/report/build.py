"""Run everything as of a date and gather it into a typed :class:`~.model.Report` (no HTML here).

:func:`build_report` opens one :class:`~smallcaps.study.Study` over the store: each pillar's
measurements, the thesis's claims and the sections' supporting runs share it, so each
(measurement, parameters, as-of) is computed once and keeps the provenance of its reads. A part
that fails leaves its section with a message saying what is missing and how to supply it.
:func:`refresh` is the fetch stage that comes before.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd

from smallcaps.errors import SmallcapsError
from smallcaps.report.model import PILLARS, Report, Section
from smallcaps.study import Study

if TYPE_CHECKING:
    from smallcaps.access import StoreView
    from smallcaps.backtest.engine import BacktestResult
    from smallcaps.config import Config
    from smallcaps.store import Store
    from smallcaps.thesis.judgement import Judgement
    from smallcaps.update import Outcome, Spec


STALE_AFTER = pd.Timedelta(days=1)  # a series fetched longer ago than this is refreshed


# -- stages ------------------------------------------------------------------------------------


def refresh(
    store: Store,
    config: Config,
    *,
    stale_after: pd.Timedelta = STALE_AFTER,
    on_spec: Callable[[Spec], None] | None = None,
) -> list[Outcome]:
    """Fetch what is missing or older than ``stale_after``; failures are recorded, not raised.

    Returns
    -------
    list of Outcome
        One per spec; a failure carries its exception and ``hint``.
    """
    from smallcaps.update import update

    since = pd.Timestamp.now(tz=UTC).tz_localize(None) - stale_after
    return update(store, config, since=since, on_spec=on_spec)


def stages() -> list[str]:
    """Names of the stages of :func:`build_report`, in order (for a progress bar)."""
    return [f"measuring {m}" for p in PILLARS for m in p.measures] + [
        "checking the thesis",
        "running the backtest",
        "drawing charts",
    ]


def build_report(
    store: Store,
    *,
    as_of: pd.Timestamp | None = None,
    thesis_path: Path | None = None,
    rules_path: Path | None = None,
    refreshed: list[Outcome] | None = None,
    on_stage: Callable[[str], None] | None = None,
    study: Study | None = None,
) -> Report:
    """Measure every pillar, check the thesis, run the backtest, and draw the charts.

    Parameters
    ----------
    store : Store
        An open store.
    as_of : Timestamp, optional
        Use only what was published by then (None: the newest data).
    thesis_path, rules_path : Path, optional
        A thesis TOML and backtest rules; default the shipped ones.
    refreshed : list of Outcome, optional
        Outcomes of :func:`refresh`, shown in the header and in the sections they feed.
    on_stage : callable, optional
        Called with each stage's name (see :func:`stages`) before it runs.
    study : Study, optional
        Share measurements already run (default: a new study over ``store`` as of ``as_of``).
    """
    from smallcaps.report import sections as sec

    started = time.perf_counter()
    with store.session():  # one connection for every read of the report
        step = on_stage or (lambda _name: None)
        study = study if study is not None else Study(store, as_of=as_of)
        failed = [o for o in refreshed or [] if o.failed]
        sections = []
        for pillar in PILLARS:
            s = Section(pillar.id, pillar.title, pillar.question)
            for name in pillar.measures:
                step(f"measuring {name}")
                s.measurements.append(study.run(name, as_of=as_of))
            sections.append(s)
        report = Report(
            as_of=as_of,
            generated_at=pd.Timestamp.now(tz=UTC).tz_localize(None).floor("s"),
            sections=sections,
            refresh=list(refreshed or []),
        )
        step("checking the thesis")
        report.judgement, report.thesis_error, report.thesis_file = _thesis(
            study, as_of, thesis_path
        )
        report.thesis = None if report.judgement is None else report.judgement.now
        step("running the backtest")
        report.backtest, report.backtest_error = _backtest(study, as_of, rules_path)
        step("drawing charts")
        for s in sections:
            sec.decorate(s, study, failed)
        report.backtest_section = sec.backtest_section(report.backtest, report.backtest_error)
    report.seconds = time.perf_counter() - started
    return report


def _thesis(
    study: Study, as_of: pd.Timestamp | None, path: Path | None
) -> tuple[Judgement | None, str | None, str | None]:
    """The thesis judged as of its own date and as of ``as_of`` (or why it was not)."""
    from smallcaps import thesis as th

    try:
        path = Path(path) if path is not None else th.default_thesis_path()
        result = th.judge(th.load(path), study, as_of=as_of)
    except SmallcapsError as exc:
        return None, str(exc), None if path is None else str(path)
    return result, None, str(path)


def _backtest(
    study: Study, as_of: pd.Timestamp | None, path: Path | None
) -> tuple[BacktestResult | None, str | None]:
    from smallcaps import backtest as bt

    try:
        path = Path(path) if path is not None else bt.default_rules_path()
        view = cast("StoreView", study.view(as_of))  # build_report's study reads a store
        try:
            digest: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:  # run_file says what is wrong with the file
            digest = None
        if digest is None:
            result = bt.run_file(path, view, as_of=as_of)
        else:  # through the as-of door; kept between commands like the measurements
            result = study.remember(
                "backtest", (digest, as_of), lambda: bt.run_file(path, view, as_of=as_of)
            )
    except SmallcapsError as exc:
        return None, str(exc)
    return result, None
