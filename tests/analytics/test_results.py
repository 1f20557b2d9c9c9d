"""Every analytics result on the one base: text, notebook and JSON views of real results.

Each result class of :mod:`smallcaps.analytics` is built from the real mirror (through its
measurement) or, for vendor data the mirror does not hold, from the article's own figures; then
``str`` must be the summary, ``_repr_html_`` the escaped summary (and the main table), and
``to_dict`` plain JSON without NaN.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

import smallcaps.analytics
from smallcaps import registry
from smallcaps.analytics.valuation import vendor_pe
from smallcaps.measures.concentration import MAG7
from smallcaps.registry import MemoryView
from smallcaps.results import Result

Load = Callable[[Iterable[str]], dict[str, pd.Series]]
SIZE = ("french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors", "yahoo:IWM",
        "yahoo:SPY")  # fmt: skip
VALUATION = ("french:25_Portfolios_5x5", "shiller:ie_data")
FED = (
    "fred:DFEDTAR", "fred:DFEDTARU", "fred:DFEDTARL", "fred:FEDFUNDS", "events:nber",
    "events:fomc", "yahoo:^RUT", "yahoo:^GSPC", "yahoo:IWM", "yahoo:SPY",
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors_daily",
)  # fmt: skip
MACRO = (
    "fred:GDPC1", "fred:UNRATE", "fred:NFCI", "fred:BAMLH0A0HYM2", "fred:T10Y2Y", "fred:DGS2",
    "fred:DGS10", "yahoo:^RUT", "yahoo:^GSPC", "yahoo:IWM", "yahoo:SPY",
)  # fmt: skip
CONCENTRATION = ("ishares:IVV", "yahoo:SPY", "yahoo:RSP", *(f"yahoo:{t}" for t in MAG7))


def measured(name: str, specs: tuple[str, ...], **params: Any) -> Callable[[Load], Any]:
    return lambda load: registry.run(name, MemoryView(load(specs)), **params)


def article_vendor_pe(load: Load) -> Any:
    # the mirror holds no vendor P/E: the article's forward P/Es (18x vs 32x) on its date
    day = pd.DatetimeIndex(["2026-01-09"])
    return vendor_pe(pd.Series([18.0], day, name="r2k_fpe"), pd.Series([32.0], day, name="spx"))


BUILD: dict[str, Callable[[Load], Any]] = {
    "SizeCycles": measured("size.cycles", SIZE),
    "SizePremium": measured("size.premium", SIZE),
    "ValuationReport": measured("valuation.gap", VALUATION),
    "ValuationGap": lambda load: measured("valuation.gap", VALUATION)(load).gap,
    "LevelInHistory": lambda load: measured("valuation.gap", VALUATION)(load).cape,
    "VendorPE": article_vendor_pe,
    "Concentration": measured("concentration.top", CONCENTRATION),
    "EventStudy": measured("fed.event_study", FED, reps=200, placebo_draws=200),
    "EventPaths": measured("fed.event_paths", FED, reps=100, draws=100),
    "FedPath": measured("fed.path", FED),
    "MeetingCheck": lambda load: measured("fed.path", FED)(load).meetings,
    "EasingCycles": measured("fed.cycles", FED),
    "MacroRegime": measured("macro.regime", MACRO),
    "Comparison": measured(
        "sleeves.compare",
        ("yahoo:RSP", "yahoo:SPY"),
        sleeves=("yahoo:RSP", "yahoo:SPY"),
        each="year",
        reps=200,
    ),
    "InsideOutside": measured(
        "sleeves.compare",
        SIZE,
        sleeves=("french:Portfolios_Formed_on_ME/average-value-weight-returns-monthly/Lo 20",),
        month=1,
        versus="rest",
    ),
    "RateSensitivity": measured("rates.sensitivity", MACRO),
    "CreditRegimes": measured("risk.credit", MACRO),
    "VehicleReport": measured("vehicle.tracking", ("yahoo:IWM", "yahoo:SPY", "yahoo:^RUT")),
    "WindowReturn": measured("returns.window", ("yahoo:^RUT", "yahoo:IWM")),
    "Holdings": measured("vehicle.holdings", ("ishares:IVV",), fund="IVV"),
}


def analytics_result_classes() -> set[str]:
    """Every class defined in a module of smallcaps.analytics that derives from Result."""
    found = set()
    for info in pkgutil.iter_modules(smallcaps.analytics.__path__):
        module = importlib.import_module(f"smallcaps.analytics.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, Result):
                found.add(name)
    return found


class Pre(HTMLParser):
    """The text inside the first ``<pre>`` and whether a ``<table>`` follows."""

    def __init__(self) -> None:
        super().__init__()
        self.text, self.table, self._in = "", False, 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in += tag == "pre"
        self.table |= tag == "table"

    def handle_endtag(self, tag: str) -> None:
        self._in -= tag == "pre"

    def handle_data(self, data: str) -> None:
        if self._in:
            self.text += data


def html_of(result: Result) -> Pre:
    page = Pre()
    page.feed(result._repr_html_())
    page.close()
    return page


@pytest.fixture(scope="module")
def results(mirror_series: Load) -> dict[str, Any]:
    return {name: build(mirror_series) for name, build in BUILD.items()}


def test_every_analytics_result_class_is_covered() -> None:
    assert analytics_result_classes() == set(BUILD)


@pytest.mark.parametrize("name", sorted(BUILD))
def test_text_html_and_json_views(results: dict[str, Any], name: str) -> None:
    r = results[name]
    assert type(r).__name__ == name and isinstance(r, Result)
    assert isinstance(r, registry.Result)  # what the registry and the report rely on
    summary = r.summary()
    assert summary.strip() and str(r) == summary
    page = html_of(r)
    assert page.text == summary  # every character of the summary, escaped and read back
    assert html.escape(summary) in r._repr_html_()
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and page.table == (not frame.empty)
    doc = r.to_dict()
    assert isinstance(doc, dict) and doc
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


def test_markup_in_a_name_is_escaped(results: dict[str, Any]) -> None:
    checked = []
    for name, r in results.items():
        summary = r.summary()
        shown = [
            f.name
            for f in dataclasses.fields(r)
            if isinstance(getattr(r, f.name), str) and len(getattr(r, f.name)) > 2
            and getattr(r, f.name) in summary
        ]  # fmt: skip
        if not shown:  # no name of this result appears in its summary
            continue
        evil = dataclasses.replace(r, **{shown[0]: "<b>x</b> & <script>"})
        assert "<b>x</b> & <script>" in evil.summary(), name
        text = evil._repr_html_()
        assert "<script>" not in text and "<b>x</b>" not in text, name
        assert html_of(evil).text == evil.summary(), name
        checked.append(name)
    assert len(checked) >= len(results) // 2, checked
