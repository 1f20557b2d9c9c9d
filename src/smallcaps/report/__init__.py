"""The report: run everything as of a date and write one self-contained HTML (or JSON) file.

>>> with Store.open(config.store_path, config.archive_path) as store:   # doctest: +SKIP
...     report = build_report(store, as_of=None)
...     write_html(report, Path("smallcaps-report.html"))
"""

from smallcaps.report.build import build_report, refresh, stages
from smallcaps.report.html import (
    render_html,
    render_section,
    render_verdicts,
    write_html,
    write_json,
)
from smallcaps.report.model import PILLARS, Report, Section
from smallcaps.report.pdf import find_chromium, write_pdf
from smallcaps.report.sections import backtest_section

__all__ = [
    "PILLARS",
    "Report",
    "Section",
    "backtest_section",
    "build_report",
    "find_chromium",
    "refresh",
    "render_html",
    "render_section",
    "render_verdicts",
    "stages",
    "write_html",
    "write_json",
    "write_pdf",
]
