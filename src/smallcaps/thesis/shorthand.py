"""The claim shorthand: ``compare``/``sleeve``, ``over`` and ``expect`` in a few readable lines.

A claim written as::

    compare = ["french:Portfolios_Formed_on_BE-ME/value-weight-returns-monthly/Hi 30",
               "french:Portfolios_Formed_on_BE-ME/value-weight-returns-monthly/Lo 30"]
    over = { after = "nber.trough", months = 24 }
    expect = "first beats second in most windows"

is expanded by :func:`expand` into the general form ``measure = "sleeves.compare"``, ``params``
(the sleeves, then every key of ``over``, then the claim's own ``params``), ``figures`` and a
``test`` (one phrase) or ``checks`` (one per phrase of a list). ``sleeve = "..."`` names one
sleeve instead of two. A ``test`` written beside ``expect`` becomes one more check over the same
figures (``mean``, ``median``, ``hit_rate``, ``sign_p``, ``t``, ``t_nw``, ``ci_low``,
``ci_high``, ``n``, ``first_mean``, ``second_mean``; with ``versus = "rest"``: ``mean_in``,
``mean_out``, ``diff``, ``t``, ``n_in``, ``n_out``).

The phrases are a fixed list (:data:`PHRASES`); each maps to one test. ``on average`` and ``in
the median window`` phrases take ``by at least X`` (``X`` as in the test language: ``2%``,
``50bp``, ``0.1``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from smallcaps.errors import ConfigError

MEASURE = "sleeves.compare"
SHORTHAND_KEYS = ("compare", "sleeve", "over", "expect")
OVER_KEYS = (
    "after", "before", "around", "months", "days", "lead", "anchor", "between", "when",
    "lookback", "lag", "month", "each", "start", "end", "versus",
)  # fmt: skip

#: phrase -> (test, figure shown first). Two sleeves: x = first minus second window return.
TWO: dict[str, str] = {
    "first beats second in most windows": "hit_rate > 50%",
    "first beats second on average": "mean > 0%",
    "first beats second in the median window": "median > 0%",
    "first beats second significantly": "t_nw >= 2",
    "first beats second reliably": "ci_low > 0%",
    "second beats first in most windows": "hit_rate < 50%",
    "second beats first on average": "mean < 0%",
    "second beats first in the median window": "median < 0%",
    "second beats first significantly": "t_nw <= -2",
    "second beats first reliably": "ci_high < 0%",
}
#: one sleeve: x = the sleeve's window return
ONE: dict[str, str] = {
    "positive in most windows": "hit_rate > 50%",
    "positive on average": "mean > 0%",
    "positive in the median window": "median > 0%",
    "significantly positive": "t_nw >= 2",
    "reliably positive": "ci_low > 0%",
    "negative in most windows": "hit_rate < 50%",
    "negative on average": "mean < 0%",
    "negative in the median window": "median < 0%",
    "significantly negative": "t_nw <= -2",
    "reliably negative": "ci_high < 0%",
}
#: one sleeve with ``versus = "rest"``: periods inside the windows against all others
REST: dict[str, str] = {
    "higher inside than outside": "diff > 0%",
    "significantly higher inside than outside": "t >= 2",
    "lower inside than outside": "diff < 0%",
    "significantly lower inside than outside": "t <= -2",
}
PHRASES: dict[str, dict[str, str]] = {"two sleeves": TWO, "one sleeve": ONE, "versus rest": REST}
_BY = re.compile(r"^(?P<head>.*?(?:on average|in the median window)) by at least "
                 r"(?P<x>-?[0-9.]+(?:%|bp|pp)?)$")  # fmt: skip


def is_shorthand(item: Mapping[str, Any]) -> bool:
    """Whether a claim table uses the shorthand."""
    return any(k in item for k in SHORTHAND_KEYS)


def phrase_test(phrase: str, family: Mapping[str, str], where: str) -> str:
    """The test of one ``expect`` phrase; an unknown phrase lists the known ones."""
    text = " ".join(str(phrase).lower().split())
    if text in family:
        return family[text]
    m = _BY.match(text)
    if m and m["head"] in family:
        name, op, _ = family[m["head"]].split()
        bar = m["x"].replace("pp", "%")
        if op == ">":
            return f"{name} >= {bar}"
        return f"{name} <= -{bar.lstrip('-')}"
    known = "; ".join(f'"{p}"' for p in family)
    raise ConfigError(
        f"{where}: unknown expect phrase {phrase!r} (known: {known}; 'on average' and 'in the "
        "median window' take 'by at least X')"
    )


def expand(item: Any, where: str) -> Any:
    """The general claim table for a shorthand one (others are returned unchanged).

    Raises
    ------
    ConfigError
        ``compare`` not a list of two sleeve ids, ``over`` not a table or with unknown keys,
        both ``compare`` and ``sleeve``, a ``measure``/``figures`` beside them, or an unknown
        ``expect`` phrase; names the claim.
    """
    if not isinstance(item, dict) or not is_shorthand(item):
        return item
    where = f"{where} ({item['id']!r})" if isinstance(item.get("id"), str) else where
    for key in ("measure", "figures", "checks", "partial"):
        if key in item:
            raise ConfigError(f"{where}: '{key}' does not go with compare/sleeve/over/expect")
    if ("compare" in item) == ("sleeve" in item):
        raise ConfigError(f"{where}: give 'compare' (two sleeves) or 'sleeve' (one)")
    if "compare" in item:
        legs = item["compare"]
        if (
            not isinstance(legs, list)
            or len(legs) != 2
            or not all(isinstance(x, str) for x in legs)
        ):
            raise ConfigError(f"{where}: compare must be a list of two sleeve ids")
    else:
        legs = item["sleeve"]
        if not isinstance(legs, str):
            raise ConfigError(f"{where}: sleeve must be one sleeve id (a string)")
        legs = [legs]
    over = item.get("over", {})
    if not isinstance(over, dict):
        raise ConfigError(f"{where}: over must be a table, e.g. {{ after = \"nber.trough\", "
                          "months = 24 }")  # fmt: skip
    for key in over:
        if key not in OVER_KEYS:
            raise ConfigError(
                f"{where}: over.{key} is not a window key (known: {', '.join(OVER_KEYS)})"
            )
    extra = item.get("params", {})
    if not isinstance(extra, dict):
        raise ConfigError(f"{where}: 'params' must be a table")
    params = {"sleeves": list(legs), **over, **extra}
    family = REST if over.get("versus") == "rest" else (TWO if len(legs) == 2 else ONE)
    raw = item.get("expect", [])
    phrases = [raw] if isinstance(raw, str) else raw
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise ConfigError(f"{where}: expect must be a phrase or a list of phrases")
    tests = [(p, phrase_test(p, family, where)) for p in phrases]
    if "test" in item:
        tests.append((str(item["test"]), str(item["test"])))
    if not tests:
        raise ConfigError(f"{where}: no 'expect' (e.g. expect = \"{next(iter(family))}\")")
    names = [t.split()[0] for _, t in tests if t.split()[0].isidentifier()]
    count = "n_in" if family is REST else "n"
    figures = {n: n for n in dict.fromkeys([*names, count])}
    out = {k: v for k, v in item.items() if k not in (*SHORTHAND_KEYS, "params", "test")}
    out.update(measure=MEASURE, params=params, figures=figures)
    if len(tests) == 1:
        out["test"] = tests[0][1]
    else:
        out["checks"] = [{"label": label, "test": test} for label, test in tests]
    return out
