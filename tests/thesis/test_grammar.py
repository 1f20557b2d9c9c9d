"""The claim test language: parsing, evaluation, and hostile input."""

from __future__ import annotations

import builtins

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.errors import ConfigError
from smallcaps.thesis.grammar import MAX_DEPTH, MissingFigureError, parse

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def lit(v: float) -> str:
    return format(v, ".17g")


@pytest.mark.parametrize(
    ("text", "figures", "expected"),
    [
        ("4% <= x <= 7%", {"x": 0.05}, True),
        ("4% <= x <= 7%", {"x": 0.071}, False),
        ("x ~ 5.8% +- 1%", {"x": 0.0386}, False),  # the IWM month: 3.9% vs 5.8%
        ("x ~ 5.8% +- 2%", {"x": 0.0386}, True),
        ("x ~ 90% +- 10% rel", {"x": 0.80}, False),  # |0.80 - 0.90| > 0.09
        ("x ~ 90% +- 12% rel", {"x": 0.80}, True),
        ("x >= 25bp", {"x": 0.0025}, True),
        ("pe < 20x", {"pe": 18.0}, True),
        ('leader == "small"', {"leader": "large"}, False),
        ('leader != "small"', {"leader": "large"}, True),
        ("last <= 2009-12", {"last": "2000-10-31"}, True),
        ("2008-06 <= last <= 2009-12", {"last": "2000-10-31"}, False),
        ("mean(v) > 0 and min(v) < 0", {"v": [0.1, -0.05]}, True),
        ("count(v) == 3", {"v": [1.0, 2.0, 3.0]}, True),
        ("x > 1 or y > 1 and z > 1", {"x": 2, "y": 0, "z": 0}, True),  # and binds tighter
        ("(x > 1 or y > 1) and z > 1", {"x": 2, "y": 0, "z": 0}, False),
        ("not x > 1", {"x": 0}, True),
        ("x > -5%", {"x": -0.04}, True),
        ("a < b", {"a": 1, "b": 2}, True),
    ],
)
def test_examples(text: str, figures: dict, expected: bool) -> None:
    assert parse(text).evaluate(figures) is expected


@given(lo=finite, x=finite, hi=finite)
def test_a_range_is_two_comparisons(lo: float, x: float, hi: float) -> None:
    test = parse(f"{lit(lo)} <= x <= {lit(hi)}")
    assert test.evaluate({"x": x}) == (lo <= x <= hi)


@given(x=finite, p=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
def test_percent_is_a_hundredth(x: float, p: float) -> None:
    assert parse(f"x <= {lit(p)}%").evaluate({"x": x}) == (x <= p * 0.01)


@given(x=finite, c=finite, tol=st.floats(min_value=0, max_value=1e6))
def test_tolerance_is_an_absolute_distance(x: float, c: float, tol: float) -> None:
    got = parse(f"x ~ {lit(c)} +- {lit(tol)}").evaluate({"x": x})
    assert got == (abs(x - c) <= tol + 1e-12)


@given(x=finite, y=finite)
def test_not_inverts_and_de_morgan_holds(x: float, y: float) -> None:
    f = {"x": x, "y": y}
    assert parse("not x > 0").evaluate(f) == (not x > 0)
    assert parse("not (x > 0 and y > 0)").evaluate(f) == parse("not x > 0 or not y > 0").evaluate(f)


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_any_text_parses_or_fails_with_a_config_error(text: str) -> None:
    try:
        test = parse(text)
    except ConfigError as exc:
        assert "test" in str(exc) or "empty" in str(exc)  # noqa: PT017 (says what failed)
    else:
        assert test.text == text and isinstance(test.names, tuple)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty test"),
        ("x >", "expected a number, string, date or figure at the end"),
        ("x 5", "expected a comparison"),
        ("x > 1e400", "out of range"),
        ("x > 1e13", "out of range"),
        ("__import__('os').system('rm -rf /') > 0", "cannot read"),
        ("x.__class__ > 0; exec('1')", "cannot read"),
        ("x ~ 5 +- -1", "tolerance must be a number >= 0"),
        ("x ~ 5", "'\\+-' and a tolerance"),
        ("(x > 1", "expected '\\)'"),
        ("x > 1 y", "unexpected 'y' at column 7"),
        ("mean(3) > 1", "a figure name inside mean"),
        ("x > 2026-13-01", "not a date"),
        ("x" * 600, "limit is 500"),
    ],
)
def test_malformed_tests_name_the_problem(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(text)


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "x > 1" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(ConfigError, match="nested deeper"):
        parse(deep)
    nots = "not " * (MAX_DEPTH + 5) + "x > 1"
    with pytest.raises(ConfigError, match="nested deeper"):
        parse(nots)
    ok = "(" * 5 + "x > 1" + ")" * 5
    assert parse(ok).evaluate({"x": 2})


def test_evaluation_errors() -> None:
    with pytest.raises(ConfigError, match="strings compare only with == or !="):
        parse('x < "b"').evaluate({"x": "a"})
    with pytest.raises(ConfigError, match="no figure named 'y'"):
        parse("y > 0").evaluate({"x": 1})
    with pytest.raises(ConfigError, match="not a number"):
        parse("x > 0").evaluate({"x": "large"})
    with pytest.raises(ConfigError, match="needs a list"):
        parse("mean(x) > 0").evaluate({"x": 1.0})
    with pytest.raises(MissingFigureError, match="'x'"):
        parse("x > 0").evaluate({"x": None})
    with pytest.raises(MissingFigureError):
        parse("x > 0").evaluate({"x": float("nan")})


def test_dates_compare_as_dates_not_text() -> None:
    # as text "2009-3-1" > "2009-12-31"; as dates it is earlier
    assert parse("d < 2009-12-31").evaluate({"d": "2009-3-1"})
    assert parse("d == 2009-03").evaluate({"d": pd.Timestamp("2009-03-01")})


def test_names_and_percent_names() -> None:
    t = parse("a ~ 35% +- 10% and b > 2 and 2008-06 <= c")
    assert t.names == ("a", "b", "c")
    assert t.percent_names == frozenset({"a"})


def test_nothing_is_evaluated_as_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert parse('4% <= x <= 7% and not y == "a"').evaluate({"x": 0.05, "y": "b"})
