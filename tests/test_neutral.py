"""Measurements are neutral: no default or text of theirs carries an article's numbers or words.

What an article says lives in its thesis file; a measurement compares with a claim only when a
thesis passes one in.
"""

from __future__ import annotations

import re
from pathlib import Path

import smallcaps
from smallcaps import registry

SRC = Path(smallcaps.__file__).parent


def test_no_claim_parameter_has_a_default_value() -> None:
    for name, measure in registry.load_all().items():
        for p in measure.params.values():
            if p.name.startswith("claim") or p.name == "focus":
                assert p.default in (None, ()), f"{name}: {p.name} defaults to {p.default!r}"


def test_analytics_and_measures_never_speak_of_an_article() -> None:
    words = re.compile(r"\b(article|the seed|seed's|AInvest)\b", re.IGNORECASE)
    for folder in ("analytics", "measures"):
        for path in sorted((SRC / folder).glob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                assert not words.search(line), f"{path.name}:{number}: {line.strip()}"
