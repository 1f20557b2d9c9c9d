"""The whole report on the real-data mirror: sections, charts, verdicts, JSON, point in time."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from smallcaps.registry import MemoryView
from smallcaps.report import PILLARS, Report, render_html, write_json
from smallcaps.report.html import anchor
from smallcaps.thesis import VERDICTS, default_thesis_path, evaluate, loads
from smallcaps.thesis.judgement import Judgement

AS_OF = pd.Timestamp("2026-01-10 23:59:59.999999")


class Page(HTMLParser):
    """Section ids, chart divs (and the section holding each), script tags, chip texts."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.charts: dict[str, str] = {}
        self.ids: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.chips: list[str] = []
        self._chip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "section":
            self.sections.append(str(a.get("id")))
        if tag == "div" and "chart" in str(a.get("class", "")).split():
            self.charts[str(a["id"])] = self.sections[-1]
        if tag == "script":
            self.scripts.append(a)
        self._chip = "chip" in str(a.get("class", "")).split()

    def handle_data(self, data: str) -> None:
        if self._chip:
            self.chips.append(data.strip())
            self._chip = False


def page_of(html: str) -> Page:
    p = Page()
    p.feed(html)
    return p


def test_every_section_a_chart_per_pillar_and_every_verdict(mirror_html: Path) -> None:
    html = mirror_html.read_text(encoding="utf-8")
    page = page_of(html)
    expected = ["verdicts", *(p.id for p in PILLARS), "backtest", "sources"]
    assert [s for s in page.sections if s != "other"] == expected
    for pillar in PILLARS:
        assert pillar.id in page.charts.values(), f"no chart in {pillar.id}"
    for name in ("chart-cycles", "chart-valuation", "chart-events", "chart-concentration",
                 "chart-macro", "chart-rates", "chart-credit", "chart-vehicle"):  # fmt: skip
        assert name in page.charts
    # plotly inlined once, nothing loaded from elsewhere
    assert not any(s.get("src") for s in page.scripts)
    assert html.count("Plotly.newPlot") == 1 and html.count("<script>") == 2  # bundle, loader
    assert '<link rel="stylesheet"' not in html
    assert 1e6 < mirror_html.stat().st_size < 12e6


def test_every_claim_has_its_verdict_and_evidence(mirror_report: Report, mirror_html: Path) -> None:
    assert mirror_report.thesis_error is None, mirror_report.thesis_error
    assert mirror_report.thesis is not None
    claims = mirror_report.thesis.claims
    # the claims of the shipped thesis file, read with tomllib, in the file's order
    with default_thesis_path().open("rb") as fh:
        encoded = [c["id"] for c in tomllib.load(fh)["claims"]]
    assert [c.claim.id for c in claims] == encoded
    assert {c.verdict for c in claims} <= set(VERDICTS)
    # the score, recomputed from the verdicts by its published definition
    n = {v: sum(1 for c in claims if c.verdict == v) for v in VERDICTS}
    assert mirror_report.thesis.counts == n
    judged = sum(k for v, k in n.items() if v not in ("insufficient data", "not testable"))
    assert judged > 0
    by_hand = (n["supported"] + 0.5 * n["partly supported"]) / judged
    assert mirror_report.thesis.score == pytest.approx(by_hand, rel=1e-12)
    assert mirror_report.to_dict()["thesis"]["score"]["value"] == pytest.approx(by_hand)
    html = mirror_html.read_text(encoding="utf-8")
    page = page_of(html)
    for c in claims:
        assert anchor(c.claim.id) in page.ids, c.claim.id
    # each claim's verdict now: in the then/now table, in its section's fold summary and on
    # its evidence block (+ the summary counts); then: once more, in the table
    j = mirror_report.judgement
    assert j is not None and j.then is not None and j.now is mirror_report.thesis
    then = [c.verdict for c in j.then.claims]
    for verdict in {c.verdict for c in claims} | set(then):
        n = sum(1 for c in claims if c.verdict == verdict)
        assert page.chips.count(verdict) == 3 * n + then.count(verdict) + 1, verdict
    # the answer: the judgement's sentence, escaped, and each claim's headline figure
    assert str(escape(j.sentence())) in html
    assert all(str(escape(r.now.headline)) in html for r in j.rows)
    # no figure in test grammar: the checks' test expressions are not on the page
    checks = [k for c in mirror_report.thesis.to_dict()["claims"] for k in c["checks"]]
    assert checks and not any(f"<code>{escape(k['test'])}</code>" in html for k in checks)
    named = [f"{n} = {v}" for k in checks for n, v in (k.get("shown") or {}).items()]
    assert any(x.startswith("coef_2y = ") for x in named)
    assert not any(str(escape(x)) in html for x in named)


def test_thesis_figures_agree_with_the_sections_and_the_files(
    mirror_report: Report, data_dir: Path
) -> None:
    assert mirror_report.thesis is not None, mirror_report.thesis_error
    claims = {c.claim.id: c for c in mirror_report.thesis.claims}
    results = {m.name: m.result for s in mirror_report.sections for m in s.measurements}
    # the claim's figure, read by its path into the JSON form, is the section's typed attribute
    share = claims["mag7-share"].figures["share"]
    assert share == pytest.approx(results["concentration.top"].share, rel=1e-12)
    # its verdict follows the thesis's own rule: >= 85% supported, else overstated (one check)
    assert claims["mag7-share"].verdict == ("supported" if share >= 0.85 else "overstated")
    # IWM's month by hand: the newest capture's closes (auto-adjusted), 21 trading days
    iwm = pd.read_csv(data_dir / "prices" / "yf_ohlcv_2026-06" / "IWM.csv", index_col="Date",
                      parse_dates=True)["Close"].loc[:"2026-01-09"]  # fmt: skip
    month = claims["iwm-month"].figures["month"]
    assert month == pytest.approx(iwm.iloc[-1] / iwm.iloc[-22] - 1, rel=1e-9)


def test_sections_report_what_they_measured(mirror_report: Report) -> None:
    by_id = {s.id: s for s in mirror_report.sections}
    cycles = by_id["cycles"]
    assert cycles.missing == [] and cycles.takeaways[0].startswith("Relative wealth")
    assert {r["series_id"] for r in cycles.provenance} >= {
        "french/Portfolios_Formed_on_ME/average-value-weight-returns-monthly/Lo 20"
    }
    # every headline number carries its provenance as a tooltip
    assert all("vintage" in f.tip and "as of" in f.tip for s in by_id.values() for f in s.facts)
    paths = by_id["macro"].extras["event_paths"]  # a typed EventPaths, run once by the study
    assert paths.paths.shape[1] >= 10 and len(paths.mean) == len(paths.offsets)
    ok = ~(np.isnan(paths.placebo_low) | np.isnan(paths.placebo_high))
    assert (paths.placebo_low[ok] <= paths.placebo_high[ok]).all() and ok.any()


def test_json_export_holds_every_section(mirror_report: Report, tmp_path: Path) -> None:
    doc = json.loads(write_json(mirror_report, tmp_path / "r.json").read_text())
    ids = [s["id"] for s in doc["sections"]]
    assert ids == [p.id for p in PILLARS]
    measured = {n for s in doc["sections"] for n in s["measurements"]}
    assert measured == {m for p in PILLARS for m in p.measures}
    cyc = doc["sections"][0]["measurements"]["size.cycles"]
    assert cyc["result"]["n_cycles"] > 10 and cyc["provenance"][0]["vintage_id"] > 0
    assert doc["provenance"] and "NaN" not in json.dumps(doc)


def test_as_of_reads_nothing_published_later(past_report: Report) -> None:
    prov = past_report.provenance
    assert len(prov) > 20
    for r in prov:
        assert r["as_of"] is not None and r["as_of"].startswith("2026-01-10"), r
        assert r["last_date"] is None or r["last_date"] <= "2026-01-10", r
    # a read before our first fetch is flagged (the mirror was captured after 2026-01-10)
    assert any(not r["real_time"] for r in prov)
    html = render_html(past_report)
    assert "not real-time" in html and "2026-01-10 23:59 UTC" in html
    # concentration has no holdings snapshot by then: the section says so, the rest stands
    conc = next(s for s in past_report.sections if s.id == "concentration")
    assert conc.charts == [] and any("holdings snapshot" in m for m in conc.missing)
    assert next(s for s in past_report.sections if s.id == "cycles").charts
    assert past_report.as_of == AS_OF


def test_thesis_title_and_file_name_are_escaped(mirror_report: Report) -> None:
    evil = "<script>alert('x')</script>"
    text = (
        f'title = "Renaissance {evil}"\n[source]\nauthor = "{evil}"\n'
        f'[[claims]]\nid = "c-1"\npillar = "valuation gap"\nquote = "{evil}"\n'
        f'stated = "{evil}"\nkind = "not-testable"\nreason = "{evil}"\n'
    )
    thesis = evaluate(loads(text), lambda _when: MemoryView({}), as_of=None)
    judgement = Judgement(thesis.thesis, None, thesis)
    report = dataclasses.replace(
        mirror_report, thesis=thesis, judgement=judgement, thesis_file=f"/tmp/{evil}.toml"
    )
    html = render_html(report)
    assert evil not in html
    assert "Renaissance &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "/tmp/&lt;script&gt;" in html and 'id="claim-c-1"' in html


def test_cli_report_offline(data_dir: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "smallcaps-report.html"
    run = cli("report", "--home", str(tmp_path / "home"), "--out", str(out), "--as-of",
              "2026-03-31", mirror=data_dir, timeout=180)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert out.is_file() and str(out.resolve()) in run.stdout.replace("\n", "")
    assert "wrote" in run.stderr and " s" in run.stderr.splitlines()[-1]
    html = out.read_text(encoding="utf-8")
    assert "as of <b>2026-03-31 23:59 UTC</b>" in html
    assert "then: 2026-01-10" in html and "now: 2026-03-31" in html


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--thesis", "{tmp}/missing.toml"], "missing.toml: no such thesis file"),
        (["--thesis", "{tmp}/bad.toml"], "bad.toml: invalid TOML"),
        (["--rules", "{tmp}/bad.toml"], "bad.toml"),
        (["--out", "{tmp}/no/such/dir/x.html"], "no/such/dir does not exist"),
    ],
)
def test_cli_report_mistakes_are_errors(
    data_dir: Path, tmp_path: Path, cli, args: list[str], needle: str
) -> None:
    (tmp_path / "bad.toml").write_text("title = [\n", encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    run = cli("report", "--no-fetch", "--home", str(tmp_path / "home"), *args,
              mirror=data_dir, timeout=60)  # fmt: skip
    assert run.returncode == 2, run.stderr[-2000:]
    lines = [x for x in run.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in run.stderr
    assert not (tmp_path / "no").exists() and not list(tmp_path.glob("*.html"))


def test_no_chromium_is_a_clear_error(tmp_path: Path) -> None:
    from smallcaps.errors import ConfigError
    from smallcaps.report import find_chromium

    with pytest.raises(ConfigError, match="needs a Chromium and none was found"):
        find_chromium({"PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="SMALLCAPS_CHROMIUM='nope'"):
        find_chromium({"PATH": str(tmp_path), "SMALLCAPS_CHROMIUM": "nope"})


def test_failed_fetches_are_said_once_per_publisher_first(mirror_report: Report) -> None:
    """No FRED key: one line for every FRED series, with the fix, above the verdict sentence."""
    import copy

    from smallcaps.errors import AuthError
    from smallcaps.report.html import render_html
    from smallcaps.update import Outcome, Spec

    ids = ("DFF", "UNRATE", "GDPC1")
    refused = [
        Outcome(Spec("fred", sid), series=1,
                error=AuthError("fred", f"https://api.stlouisfed.org/{sid}", "no API key"))
        for sid in ids
    ]  # fmt: skip
    report = copy.copy(mirror_report)
    report.refresh = refused
    html = render_html(report)
    box = html[
        html.index('id="refresh-fail"') : html.index("</div>", html.index('id="refresh-fail"'))
    ]
    assert box.count("<li>") == 1 and "fred: 3 specs not fetched (DFF, UNRATE, GDPC1)" in box
    assert "FRED_API_KEY" in box
    assert html.index('id="refresh-fail"') < html.index('id="verdict-sentence"')
