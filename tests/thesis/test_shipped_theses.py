"""The three shipped theses about other sleeves judge on the mirror, through the claim shorthand.

Each has at least five claims of the new kinds (sleeves over event, condition or calendar
windows); every claim is judged (none lacks data), each verdict follows from its checks by the
documented rules, and a claim's figures equal the measurement run directly with the claim's
parameters (the shorthand adds nothing of its own).
"""

from __future__ import annotations

import pytest

from smallcaps import registry
from smallcaps.access import StoreView
from smallcaps.thesis import evaluate, load, shipped_theses

NEW = ("value-vs-growth-cycle", "equal-vs-cap-weight", "small-caps-through-the-cycle")


@pytest.fixture(scope="module")
def judged(open_mirror_store):
    with open_mirror_store() as store:
        yield {name: evaluate(load(shipped_theses()[name]), store) for name in NEW}, store


@pytest.mark.parametrize("name", NEW)
def test_each_new_thesis_judges_every_claim(judged, name: str) -> None:
    results, _store = judged
    result = results[name]
    assert result.thesis.source.get("author") and result.thesis.summary
    kinds = [
        c for c in result.claims if all(k.measure == "sleeves.compare" for k in c.claim.checks)
    ]
    assert len(kinds) >= 5 and len(kinds) == len(result.claims)
    for c in result.claims:
        outcomes = [k.outcome for k in c.checks]
        assert "missing" not in outcomes, (c.claim.id, c.reason)
        if all(o == "pass" for o in outcomes):
            assert c.verdict == "supported"
        elif "pass" in outcomes:
            assert c.verdict == "partly supported"
        else:
            misses = {k.miss for k in c.checks}
            assert c.verdict == (misses.pop() if len(misses) == 1 else "contradicted")
            assert c.finding
    assert result.score is not None


@pytest.mark.parametrize("name", NEW)
def test_claim_figures_equal_the_measurement_run_directly(judged, name: str) -> None:
    results, store = judged
    claim = results[name].claims[0]
    check = claim.claim.checks[0]
    direct = registry.run("sleeves.compare", StoreView(store, None), **check.params).to_dict()
    for fig, value in claim.checks[0].figures.items():
        assert value == pytest.approx(direct[fig], rel=1e-12)
