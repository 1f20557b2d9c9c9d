"""A thesis judged twice: as of the day it was written and as of the latest data.

"Was it right when written, is it right now?" are the two questions a reader brings to an
article. :func:`judge` answers both from one :class:`~smallcaps.study.Study`, so a measurement
both dates share runs once per date and no more. ``smallcaps check`` and ``smallcaps report``
both print this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from smallcaps.results import Result
from smallcaps.study import Study
from smallcaps.thesis.claims import (
    UNJUDGED,
    WRONG,
    Claim,
    ClaimResult,
    Thesis,
    ThesisResult,
    as_of_time,
    evaluate,
)


@dataclass(frozen=True, slots=True)
class Row:
    """One claim judged then and now."""

    claim: Claim
    then: ClaimResult | None
    now: ClaimResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: id, what the article said, and each date's verdict, figure and finding."""

        def side(r: ClaimResult | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {"verdict": r.verdict, "figure": r.headline, "finding": r.finding}

        return {
            "id": self.claim.id,
            "stated": self.claim.stated,
            "then": side(self.then),
            "now": side(self.now),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Judgement(Result):
    """A thesis's verdicts as of its own date (``then``) and as of the latest data (``now``).

    ``then`` is None for a thesis without a date (``as_of = "latest"``).
    """

    thesis: Thesis
    then: ThesisResult | None
    now: ThesisResult

    @property
    def rows(self) -> list[Row]:
        """One row per claim, in the thesis's order."""
        then = {c.claim.id: c for c in self.then.claims} if self.then is not None else {}
        return [Row(c.claim, then.get(c.claim.id), c) for c in self.now.claims]

    def sentence(self) -> str:
        """The answer in one or two plain sentences, built from the verdicts."""
        return verdict_sentence(self)

    def summary(self) -> str:
        """The sentence, then one line per claim: then and now."""
        lines = [self.sentence(), ""]
        for r in self.rows:
            then = "" if r.then is None else f"{r.then.verdict} ({r.then.headline or '-'}) -> "
            lines.append(f"{r.claim.id}: {then}{r.now.verdict} ({r.now.headline or '-'})")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Claim, what was stated, and each date's verdict and figure."""
        cols = ["id", "stated", "then", "then_figure", "now", "now_figure"]
        return pd.DataFrame(
            [
                {
                    "id": r.claim.id,
                    "stated": r.claim.stated,
                    "then": None if r.then is None else r.then.verdict,
                    "then_figure": None if r.then is None else r.then.headline,
                    "now": r.now.verdict,
                    "now_figure": r.now.headline,
                }
                for r in self.rows
            ],
            columns=cols,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the sentence, both dates' results and the side-by-side rows."""
        return {
            "sentence": self.sentence(),
            "then": None if self.then is None else self.then.to_dict(),
            "now": self.now.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }


def judge(
    thesis: Thesis,
    source: Any,
    *,
    as_of: pd.Timestamp | str | None = None,
    on_claim: Callable[[Claim], None] | None = None,
) -> Judgement:
    """Judge ``thesis`` as of its own date and as of ``as_of`` (default: the latest data).

    Parameters
    ----------
    thesis : Thesis
    source : Study, Store or callable
        As for :func:`smallcaps.thesis.evaluate`; a Study is shared by both dates.
    as_of : Timestamp, str or None
        The "now" side: None for the newest data, or a date.
    on_claim : callable, optional
        Called with each claim before it is evaluated (twice per claim when the thesis is dated).
    """
    when = as_of_time(as_of) if isinstance(as_of, str) else as_of
    study = source if isinstance(source, Study) else Study(source, as_of=when)
    then = None
    if thesis.as_of is not None:
        then = evaluate(thesis, study, as_of=thesis.as_of, on_claim=on_claim)
    now = evaluate(thesis, study, as_of=when, on_claim=on_claim)
    return Judgement(thesis, then, now)


def _when(result: ThesisResult) -> str:
    return "the latest data" if result.as_of is None else f"{result.as_of:%Y-%m-%d}"


def _tally(result: ThesisResult) -> tuple[int, int]:
    """(claims supported, claims judged)."""
    judged = [c for c in result.claims if c.verdict not in UNJUDGED]
    return sum(1 for c in judged if c.verdict == "supported"), len(judged)


def _miss_text(c: ClaimResult) -> str:
    """``mag7-share overstated (44.3% against at least 85%)``: the first failed check's words."""
    first = next((x for x in c.checks if x.outcome == "fail" and x.finding), None)
    if first is None:
        return f"{c.claim.id} {c.verdict}"
    words = first.finding
    if words.startswith(c.verdict):
        return f"{c.claim.id} {words}"
    return f"{c.claim.id} {c.verdict}: {words}"


def verdict_sentence(j: Judgement, *, most: int = 3) -> str:
    """One or two sentences: how many claims hold then and now, and the first misses now.

    Built only from the verdicts: "held" counts *supported* claims among those the data can
    judge (every verdict but insufficient data and not testable).
    """
    now = j.now
    held, judged = _tally(now)
    if j.then is not None:
        held_then, judged_then = _tally(j.then)
        first = (
            f"When written ({_when(j.then)}), {held_then} of the {judged_then} claims the data "
            f"could judge held in full; on {_when(now)}, {held} of {judged} do."
        )
    else:
        first = f"On {_when(now)}, {held} of the {judged} claims the data can judge hold in full."
    misses = [c for c in now.claims if c.verdict in WRONG]
    if not misses:
        return first
    shown = "; ".join(_miss_text(c) for c in misses[:most])
    more = f"; and {len(misses) - most} more" if len(misses) > most else ""
    return f"{first} Wrong now: {shown}{more}."
