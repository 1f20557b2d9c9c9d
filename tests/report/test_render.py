"""Renderers from result dicts (verdicts, backtest) on small hand-written fixtures."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from smallcaps.report import backtest_section, render_section, render_verdicts
from smallcaps.report.html import anchor, route_claims

EVIL = '<script>alert("x")</script>'


def thesis_dict() -> dict[str, Any]:
    claims = [
        ("C1", "structural cycles", "size.cycles", "supported"),
        ("C 2", "valuation gap", "valuation.gap", "partly supported"),
        ("C3", "concentration", "concentration.top", "contradicted"),
        ("C4", "macro and fed", None, "not testable"),
        ("C5", "other", None, "insufficient data"),
    ]
    return {
        "title": f"Title {EVIL}",
        "source": {"author": "A", "publisher": "P", "date": "2026-01-10", "url": "https://x"},
        "as_of": None,
        "score": {
            "value": 0.5,
            "supported": 1,
            "partly supported": 1,
            "contradicted": 1,
            "not testable": 1,
            "insufficient data": 1,
            "total": 5,
            "definition": "d",
        },
        "claims": [
            {
                "id": cid,
                "quote": f"quote {cid} {EVIL}",
                "pillar": pillar,
                "verdict": verdict,
                "reason": f"reason {cid}",
                "stated": "s",
                "measure": measure,
                "params": {},
                "figures": {"x": 0.5},
                "checks": [
                    {"label": "l", "test": "x >= 0.4", "outcome": "pass", "figures": {"x": 0.5}}
                ],
                "provenance": [
                    {
                        "series_id": "DFF",
                        "vintage_id": 3,
                        "sha256": "ab",
                        "url": "u",
                        "fetched_at": "2026-01-02T00:00:00",
                        "as_of": None,
                        "real_time": False,
                        "release_rule": "r",
                        "last_date": "2026-01-01",
                    }
                ],
            }
            for cid, pillar, measure, verdict in claims
        ],
    }


def backtest_dict(*, survives: bool = False) -> dict[str, Any]:
    dates = ["2000-01-31", "2000-02-29", "2000-03-31"]
    return {
        "rules_file": "rules.toml",
        "title": "Rotation",
        "frequency": "M",
        "start": dates[0],
        "end": dates[-1],
        "n_variants": 4,
        "costs": {"bps": 10, "expense_small": 0.0019, "expense_large": 0.0009, "lag": 1},
        "benchmarks": [
            {
                "name": "buy and hold large",
                "cagr": 0.1,
                "vol": 0.15,
                "sharpe": 0.6,
                "sortino": 0.9,
                "max_dd": -0.5,
                "max_dd_periods": 20,
                "turnover": 0.0,
                "time_small": 0.0,
                "hit_rate": 0.6,
            }
        ],
        "best": [
            {
                "variant": "momentum(12, 0.0)",
                "rule": "momentum",
                "params": {"lookback": 12},
                "cagr": 0.11,
                "vol": 0.16,
                "sharpe": 0.65,
                "sortino": 1.0,
                "max_dd": -0.45,
                "max_dd_periods": 18,
                "turnover": 2.0,
                "time_small": 0.4,
                "hit_rate": 0.6,
                "excess": {"buy and hold large": 0.01},
            }
        ],
        "robustness": {
            "dsr": {"dsr": 0.97, "significant": True},
            "pbo": {"pbo": 0.6, "overfit": True},
            "spa": {"p_consistent": 0.2, "significant": False},
            "walk_forward": {"oos_sharpe": -0.1},
            "survives": survives,
            "reasons": ["PBO 60% > 50%"],
        },
        "equity": {"dates": dates, "series": {"best": [1.0, 1.1, 1.2], "large": [1, 1.05, 1.1]}},
        "drawdown": {"dates": dates, "series": {"best": [0, 0, -0.1], "large": [0, -0.02, 0]}},
        "grids": [
            {
                "rule": "momentum",
                "x": "lookback",
                "y": "threshold",
                "x_values": [6, 12],
                "y_values": [0.0, 0.1],
                "sharpe": [[0.1, 0.2], [0.3, None]],
            }
        ],
        "definitions": {"cagr": "compound annual growth"},
        "sources": ["french/x"],
        "notes": [],
    }


class Collect(HTMLParser):
    """Ids, classes and text of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.chips: list[str] = []
        self.text: list[str] = []
        self._chip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if a.get("href"):
            self.hrefs.append(str(a["href"]))
        self._chip = "chip" in str(a.get("class", "")).split()
        if tag == "script":
            self.text.append("<SCRIPT-TAG>")

    def handle_data(self, data: str) -> None:
        if self._chip:
            self.chips.append(data)
            self._chip = False
        self.text.append(data)


def parse(html: str) -> Collect:
    c = Collect()
    c.feed(html)
    return c


def test_verdict_table_has_every_claim_linked_and_coloured() -> None:
    t = thesis_dict()
    html = str(render_verdicts(t))
    got = parse(html)
    for claim in t["claims"]:
        assert f"#{anchor(claim['id'])}" in got.hrefs
    # one chip per count in the summary box and one per claim row
    assert got.chips.count("contradicted") == 2 and got.chips.count("supported") == 2
    assert 'class="chip v-partly-supported"' in html
    assert anchor("C 2") == "claim-C-2"
    assert "50%" in html  # the score


def test_user_text_is_escaped_in_the_verdicts() -> None:
    html = str(render_verdicts(thesis_dict()))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<SCRIPT-TAG>" not in parse(html).text


def test_claims_are_routed_to_their_pillar() -> None:
    routed = route_claims(thesis_dict())
    assert [c["id"] for c in routed["cycles"]] == ["C1"]
    assert [c["id"] for c in routed["valuation"]] == ["C 2"]
    assert [c["id"] for c in routed["macro"]] == ["C4"]  # by its pillar name
    assert [c["id"] for c in routed["other"]] == ["C5"]


@pytest.mark.parametrize("survives", [True, False])
def test_backtest_section_from_dict(survives: bool) -> None:
    s = backtest_section(backtest_dict(survives=survives))
    assert [c.id for c in s.charts] == ["chart-equity", "chart-drawdown", "chart-grid-0"]
    assert s.extras["_verdict"] == ("survives" if survives else "does not survive")
    assert s.facts[0].value == s.extras["_verdict"]
    assert s.tables[0].rows[0][0] == "buy and hold large"
    assert s.tables[0].rows[1][2:4] == ("+11.0%", "16.0%")
    html = str(render_section(s))
    assert 'id="chart-grid-0"' in html and "PBO 60% &gt; 50%" in html
    heat = s.charts[2].figure.data[0]
    assert heat.type == "heatmap" and list(heat.x) == ["6", "12"]


def test_missing_backtest_says_why() -> None:
    s = backtest_section(None, "no rules file 'x.toml'")
    assert s.charts == [] and s.missing == ["backtest: no rules file 'x.toml'"]
    assert "no rules file" in str(render_section(s))


def test_claim_blocks_carry_anchor_and_provenance() -> None:
    from smallcaps.report.model import Section

    t = thesis_dict()
    html = str(render_section(Section("valuation", "Valuation"), route_claims(t)["valuation"]))
    got = parse(html)
    assert "claim-C-2" in got.ids
    assert "DFF: vintage 3" in html and ">no<" in html  # not real-time flagged
    assert "<script>" not in html
