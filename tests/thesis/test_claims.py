"""Thesis files: validation, verdicts and the score, on small series built by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps.errors import ConfigError, UnknownClaimError, UnknownSeriesError
from smallcaps.registry import MemoryView
from smallcaps.thesis import evaluate, load, loads, shipped_theses

DAYS = pd.bdate_range("2025-01-01", "2025-12-31")
# a level that rises 10% by mid-year, then falls back to +5% by the end
LEVEL = pd.Series(
    np.interp(np.arange(len(DAYS)), [0, 130, len(DAYS) - 1], [100.0, 110.0, 105.0]), index=DAYS,
    name="price/X/adj_close",
)  # fmt: skip
DATA = {"price/X/adj_close": LEVEL}


def views(when: pd.Timestamp | None) -> MemoryView:
    return MemoryView(DATA, when)


HEAD = """
title = "A test thesis"
as_of = "latest"
[source]
author = "tester"
"""


def claim(body: str, cid: str = "c1") -> str:
    return f'\n[[claims]]\nid = "{cid}"\nquote = "q"\n' + body


WINDOW = (
    'measure = "returns.window"\n'
    'params = { series = ["price/X/adj_close"], start = "2025-01-01" }\n'
)


def test_verdicts_from_a_hand_computed_return() -> None:
    ret = LEVEL.iloc[-1] / LEVEL.iloc[0] - 1  # +5% by hand
    high_day = LEVEL.idxmax()  # the mid-year high
    assert ret == pytest.approx(0.05)
    r = WINDOW + 'figures = { r = "return" }\n'
    text = HEAD + "".join([
        claim(r + 'test = "r ~ 5% +- 0.5%"', "ok"),
        claim(r + 'test = "r >= 8%"', "over"),
        claim(r + 'test = "r ~ 2% +- 1%"', "under"),
        claim(r + 'test = "r < 0%"', "sign"),
        claim(WINDOW + 'figures = { d = "high_date" }\ntest = "d <= 2025-02-28"', "date"),
        claim(WINDOW + '[[claims.checks]]\ntest = "return >= 8%"\n[[claims.checks]]\n'
              'figures = { d = "high_date" }\ntest = "d <= 2025-02-28"', "mixed"),
        claim('kind = "not-testable"\nreason = "a forecast"', "nt"),
        claim('measure = "returns.window"\nparams = { series = ["price/Y/adj_close"] }\n'
              'test = "return > 0"\nsupply = "fetch Y"', "nodata"),
        claim(WINDOW + '[[claims.checks]]\ntest = "return > 0"\n[[claims.checks]]\n'
              'test = "from_high >= 0"', "two"),
    ])  # fmt: skip
    result = evaluate(loads(text), views)
    got = {c.claim.id: c for c in result.claims}
    assert got["ok"].verdict == "supported" and got["ok"].figures["r"] == pytest.approx(ret)
    assert got["ok"].finding == "" and got["ok"].headline == "5.0%"
    # a stated figure outside its bar fails even though the direction (up) holds
    assert got["over"].verdict == "overstated"
    assert got["over"].finding == "overstated by 3.0 pp (5% against at least 8%)"
    assert got["under"].verdict == "understated"
    assert got["under"].finding == "understated by 3.0 pp (5% against 2% ± 1%)"
    assert got["sign"].verdict == "wrong sign" and "(5% against below 0%)" in got["sign"].finding
    months = (high_day - pd.Timestamp("2025-02-28")).days / 365.25
    assert got["date"].verdict == "wrong date" and months < 1
    assert got["date"].finding.startswith(
        f"wrong date by {(high_day - pd.Timestamp('2025-02-28')).days} days"
    )
    # two checks that miss in different ways: contradicted, with both findings in the reason
    assert got["mixed"].verdict == "contradicted"
    assert [c.miss for c in got["mixed"].checks] == ["overstated", "wrong date"]
    assert "overstated by 3.0 pp" in got["mixed"].reason and "wrong date" in got["mixed"].reason
    assert got["nt"].verdict == "not testable" and got["nt"].reason == "a forecast"
    assert got["nodata"].verdict == "insufficient data" and "fetch Y" in got["nodata"].reason
    # the end (+5%) is below the mid-year high (+10%): one check passes, one fails
    assert got["two"].verdict == "partly supported"
    assert [c.outcome for c in got["two"].checks] == ["pass", "fail"]
    # score by hand: (1 supported + 0.5 x 1 partly) / 7 judged
    assert result.score == pytest.approx((1 + 0.5 * 1) / 7)
    assert result.counts["insufficient data"] == 1 and result.counts["not testable"] == 1
    doc = result.to_dict()
    assert doc["score"]["value"] == pytest.approx(1.5 / 7) and len(doc["claims"]) == 9
    assert doc["claims"][0]["provenance"] == [{"series_id": "price/X/adj_close"}]
    assert doc["claims"][1]["finding"] == got["over"].finding


def test_a_partial_bar_is_refused_with_the_way_to_write_it() -> None:
    text = HEAD + claim(WINDOW + 'test = "return >= 8%"\npartial = "return > 0"')
    with pytest.raises(ConfigError, match=r"claim 'c1': 'partial' is no longer .*claims.checks"):
        loads(text)


def test_as_of_cuts_what_the_measurement_sees() -> None:
    text = HEAD.replace('as_of = "latest"', "as_of = 2025-06-30") + claim(
        WINDOW + 'figures = { r = "return" }\ntest = "r > 8%"'
    )
    thesis = loads(text)
    assert thesis.as_of == pd.Timestamp("2025-06-30 23:59:59.999999")
    then = evaluate(thesis, views)  # the thesis's own date: near the +10% high
    assert then.claims[0].verdict == "supported"
    now = evaluate(thesis, views, as_of=None)  # today: +5%
    assert now.claims[0].verdict == "overstated"
    assert then.claims[0].figures["r"] == pytest.approx(LEVEL[:"2025-06-30"].iloc[-1] / 100 - 1)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('title = "t"\n[[claims]\nid = "x"', r"invalid TOML: .*line 2, column"),
        ('title = "t"', "no claims"),
        ("[[claims]]\nid = 'a'\nquote = 'q'", "missing field 'title'"),
        (HEAD + claim('measure = "size.cycle"\ntest = "x > 0"'),
         r"claim 'c1'.*unknown measurement 'size.cycle'; did you mean size.cycles.*valid: "),
        (HEAD + claim('measure = "size.cycles"\nparams = { treshold = 0.3 }\ntest = "x > 0"'),
         r"claim 'c1'.*unknown parameter 'treshold' \(valid: .*threshold=0.25"),
        (HEAD + claim('measure = "size.cycles"\nparams = { threshold = "high" }\ntest = "x > 0"'),
         "threshold='high' is not a float"),
        (HEAD + claim('measure = "size.cycles"\nparams = { min_obs = 99999999999999999 }\n'
                      'test = "x > 0"'), "out of range"),
        (HEAD + claim('measure = "size.cycles"\nparams = { threshold = inf }\ntest = "x > 0"'),
         "not a finite number"),
        (HEAD + claim('mesure = "size.cycles"\ntest = "x > 0"'),
         "unknown field 'mesure' \\(did you mean 'measure'\\?\\)"),
        (HEAD + claim('kind = "not-testable"'), "needs a reason"),
        (HEAD + claim('kind = "maybe"'), "kind 'maybe' is not one of"),
        (HEAD + claim('measure = "size.cycles"'), "no 'test'"),
        (HEAD + claim('measure = "size.cycles"\ntest = "x >"'), "claim 'c1'.*expected a number"),
        (HEAD + claim('measure = "size.cycles"\ntest = "__import__(1) > 0"'), "claim 'c1'"),
        (HEAD + claim('measure = "size.cycles"\ntest = "x > 0"') * 2, "used twice: c1"),
        (HEAD + claim('measure = "size.cycles"\ntest = 5'), "test must be a string"),
        (HEAD + claim('kind = "vendor-data"\nmeasure = "size.cycles"\ntest = "x > 0"'),
         "needs 'supply'"),
        (HEAD + '\n[[claims]]\nquote = "q"', "missing field 'id'"),
        (HEAD + claim('measure = "size.cycles"\ntest = "x > 0"', cid="bad id!"),
         "may use only letters"),
        ("a = " + "[" * 5000 + "]" * 5000, "invalid TOML"),
    ],
)  # fmt: skip
def test_broken_theses_say_what_is_wrong(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        loads(text, origin="t.toml")


def test_a_file_that_is_not_utf8_or_not_there(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"title = '\xff'")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(bad)
    with pytest.raises(ConfigError, match=r"no such thesis file \(shipped theses: "):
        load(tmp_path / "missing.toml")


def test_shipped_theses_load_and_an_unknown_claim_lists_the_ids() -> None:
    names = shipped_theses()
    assert {"small-cap-renaissance-2026", "first-cut-small-caps"} <= set(names)
    seed = load("small-cap-renaissance-2026")
    with pytest.raises(UnknownClaimError, match="did you mean 'mag7-share'") as got:
        seed.claim("mag7")
    assert got.value.known == sorted(c.id for c in seed.claims)  # every valid id, listed
    assert got.value.exit_code == 2 and not isinstance(got.value, UnknownSeriesError)
