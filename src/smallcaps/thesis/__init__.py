"""The claim checker: a thesis as a TOML file of testable claims, each judged against data.

``load(path)`` reads and validates a thesis; ``evaluate(thesis, store)`` runs each claim's
measurement as of the thesis's date and returns a :class:`ThesisResult` of verdicts with their
figures and provenance. The file format is described in the README (section "Checking a
thesis") and by the shipped examples in ``theses/``.
"""

from smallcaps.thesis.claims import (
    VERDICTS,
    Check,
    Claim,
    ClaimResult,
    Thesis,
    ThesisResult,
    as_of_time,
    default_thesis_path,
    evaluate,
    find_thesis,
    load,
    loads,
    shipped_theses,
)
from smallcaps.thesis.judgement import Judgement, judge

__all__ = [
    "VERDICTS", "Check", "Claim", "ClaimResult", "Judgement", "Thesis", "ThesisResult",
    "as_of_time", "default_thesis_path", "evaluate", "find_thesis", "judge", "load", "loads",
    "shipped_theses",
]  # fmt: skip
