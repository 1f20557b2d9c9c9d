"""Figure paths into a measurement's JSON result."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallcaps.errors import ConfigError
from smallcaps.thesis.paths import PathError, parse_path, resolve

DOC = {
    "share": 0.44,
    "current": {"leader": "large", "rebound": 0.15},
    "rolling_last": {"Lo 20 - Hi 20": {"mean": -0.027}},
    "table": [
        {"group": "all", "leg": "small", "window": "0..+21", "mean": 0.027},
        {"group": "all", "leg": "large", "window": "0..+21", "mean": 0.011},
        {"group": "soft landing", "leg": "small", "window": "0..+21", "mean": 0.03},
    ],
    "focus": [{"small": -0.02}, {"small": 0.06}],
    "cycles": [{"n": 1}, {"n": 2}, {"n": 3}],
    "vendor_pe": None,
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("share", 0.44),
        ("current.leader", "large"),
        ('rolling_last."Lo 20 - Hi 20".mean', -0.027),
        ("table[group=all, leg=large].mean", 0.011),
        ("table[group=soft landing, leg=small, window=0..+21].mean", 0.03),
        ('table[group="soft landing",leg=small].mean', 0.03),
        ("focus[*].small", [-0.02, 0.06]),
        ("cycles[-1].n", 3),
        ("cycles[0].n", 1),
    ],
)
def test_resolve(path: str, value: object) -> None:
    assert resolve(DOC, parse_path(path)) == value


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("nope", r"no key 'nope' \(there are: current, cycles"),
        ("table[group=all].mean", "2 rows of table match"),
        ("table[group=none].mean", "0 rows of table match"),
        ("cycles[7].n", "has 3 rows, no row 7"),
        ("share[0]", "not a list"),
        ("vendor_pe.pe_small", "asked of a NoneType"),
    ],
)
def test_resolve_errors_say_what_is_there(path: str, match: str) -> None:
    with pytest.raises(PathError, match=match):
        resolve(DOC, parse_path(path))


@pytest.mark.parametrize(
    ("path", "match"),
    [("", "non-empty"), ("a[b", "never closed"), ("a[]", "selector"), ("a..b", "expected a key"),
     ("a" * 400, "limit is 300"), ("a[x=1]b", "expected '.'")],
)  # fmt: skip
def test_malformed_paths(path: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_path(path)


rows = st.lists(
    st.fixed_dictionaries({"k": st.sampled_from(["a", "b", "c", "d"]), "x": st.integers()}),
    min_size=1, max_size=8,
)  # fmt: skip


@given(rows, st.sampled_from(["a", "b", "c", "d"]))
def test_a_selector_finds_what_a_plain_loop_finds(table: list[dict], key: str) -> None:
    hits = [r["x"] for r in table if r["k"] == key]
    path = parse_path(f"t[k={key}].x")
    if len(hits) == 1:
        assert resolve({"t": table}, path) == hits[0]
    else:
        with pytest.raises(PathError):
            resolve({"t": table}, path)
    assert resolve({"t": table}, parse_path("t[*].x")) == [r["x"] for r in table]
