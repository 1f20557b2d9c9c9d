"""Fixtures of the report tests: a report built once on the mirror, latest and as of 2026-01-10."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from smallcaps.report import Report, build_report, write_html
from smallcaps.store import Store

AS_OF = pd.Timestamp("2026-01-10") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


@pytest.fixture(scope="session")
def mirror_report(open_mirror_store: Callable[[], Store]) -> Report:
    """The report on the whole mirror (newest data), built in-process; reads only."""
    with open_mirror_store() as store:
        return build_report(store, as_of=None)


@pytest.fixture(scope="session")
def mirror_html(mirror_report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mirror_report`` written as HTML."""
    return write_html(mirror_report, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="session")
def past_report(open_mirror_store: Callable[[], Store]) -> Report:
    """The report as of the end of 2026-01-10."""
    with open_mirror_store() as store:
        return build_report(store, as_of=AS_OF)
