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
    assert ret == pytest.approx(0.05)
    text = HEAD + "".join([
        claim(WINDOW + 'figures = { r = "return" }\ntest = "r ~ 5% +- 0.5%"', "ok"),
        claim(WINDOW + 'figures = { r = "return" }\ntest = "r >= 8%"\npartial = "r > 0"', "half"),
        claim(WINDOW + 'figures = { r = "return" }\ntest = "r < 0"', "wrong"),
        claim('kind = "not-testable"\nreason = "a forecast"', "nt"),
        claim('measure = "returns.window"\nparams = { series = ["price/Y/adj_close"] }\n'
              'test = "return > 0"\nsupply = "fetch Y"', "nodata"),
        claim(WINDOW + '[[claims.checks]]\ntest = "return > 0"\n[[claims.checks]]\n'
              'test = "from_high >= 0"', "two"),
    ])  # fmt: skip
    result = evaluate(loads(text), views)
    got = {c.claim.id: c for c in result.claims}
    assert got["ok"].verdict == "supported" and got["ok"].figures["r"] == pytest.approx(ret)
    assert got["half"].verdict == "partly supported"
    assert "misses `r >= 8%` but meets `r > 0`" in got["half"].reason
    assert got["wrong"].verdict == "contradicted" and "r = 0.05 misses" in got["wrong"].reason
    assert got["nt"].verdict == "not testable" and got["nt"].reason == "a forecast"
    assert got["nodata"].verdict == "insufficient data" and "fetch Y" in got["nodata"].reason
    # the end (+5%) is below the mid-year high (+10%): one check passes, one fails
    assert got["two"].verdict == "partly supported"
    assert [c.outcome for c in got["two"].checks] == ["pass", "fail"]
    # score by hand: (1 supported + 0.5 x 2 partly) / 4 judged
    assert result.score == pytest.approx((1 + 0.5 * 2) / 4)
    assert result.counts["insufficient data"] == 1 and result.counts["not testable"] == 1
    doc = result.to_dict()
    assert doc["score"]["value"] == pytest.approx(0.5) and len(doc["claims"]) == 6
    assert doc["claims"][0]["provenance"] == [{"series_id": "price/X/adj_close"}]


def test_as_of_cuts_what_the_measurement_sees() -> None:
    text = HEAD.replace('as_of = "latest"', "as_of = 2025-06-30") + claim(
        WINDOW + 'figures = { r = "return" }\ntest = "r > 8%"'
    )
    thesis = loads(text)
    assert thesis.as_of == pd.Timestamp("2025-06-30 23:59:59.999999")
    then = evaluate(thesis, views)  # the thesis's own date: near the +10% high
    assert then.claims[0].verdict == "supported"
    now = evaluate(thesis, views, as_of=None)  # today: +5%
    assert now.claims[0].verdict == "contradicted"
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
