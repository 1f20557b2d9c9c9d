"""Rules files: grids expand to variants; bad files fail with messages naming file, rule, field."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from smallcaps.backtest import default_rules_path, load_rules
from smallcaps.backtest.rules import OPS, parse_rules
from smallcaps.errors import ConfigError

HEAD = """
title = "t"
frequency = "M"
small = "a"
large = "b"
cash = "c"
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def test_grid_expands_to_the_cartesian_product(tmp_path: Path) -> None:
    rs = load_rules(write(tmp_path, """
[[rule]]
name = "mom"
on = "small"
off = ["large", "cash"]
  [[rule.when]]
  signal = "size_momentum"
  op = ">"
  lookback = [3, 6, 12]
  threshold = [0.0, 0.02]
"""))  # fmt: skip
    variants = rs.variants()
    assert len(variants) == 3 * 2 * 2
    assert rs.rules[0].axes() == {
        "lookback": [3, 6, 12], "threshold": [0.0, 0.02], "off": ["large", "cash"]
    }  # fmt: skip
    names = [v.name for v in variants]
    assert len(set(names)) == len(names)
    assert names[0] == "mom[lookback=3,threshold=0,off=large]"
    v = variants[-1]
    assert v.params == {"lookback": 12, "threshold": 0.02, "off": "cash"}
    assert v.on == (1.0, 0.0) and v.off == (0.0, 0.0)
    assert v.conditions[0].params == (("lookback", 12),)
    assert rs.costs.bps == 10.0 and rs.costs.lag == 1  # defaults


def test_two_conditions_get_prefixed_names(tmp_path: Path) -> None:
    rs = load_rules(write(tmp_path, """
[[rule]]
name = "cut_cheap"
on = 0.8
off = "large"
  [[rule.when]]
  signal = "periods_since_first_cut"
  op = "<"
  threshold = [6, 12]
  [[rule.when]]
  signal = "valuation_z"
  op = ">="
  threshold = [0.5, 1.0, 1.5]
"""))  # fmt: skip
    variants = rs.variants()
    assert len(variants) == 6
    assert list(variants[0].params) == [
        "periods_since_first_cut.threshold",
        "valuation_z.threshold",
    ]
    assert variants[0].on == (0.8, pytest.approx(0.2))
    assert len(variants[0].conditions) == 2


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="magic"\nop=">"\n'
            "threshold=0",
            "rule #1 (r), condition #1: unknown signal 'magic' (known: easing",
        ),
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="trend"\nop="=="\n'
            "threshold=0",
            "op must be one of >, >=, <, <=",
        ),
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="trend"\nop=">"\n'
            "threshold=0\nlookback=3",
            "unknown key 'lookback' (valid: op, signal, threshold, window)",
        ),
        (
            '[[rule]]\nname="r"\non="half"\noff="large"\n[[rule.when]]\nsignal="trend"\nop=">"\n'
            "threshold=0",
            "'on' must be 'small', 'large', 'cash' or a weight",
        ),
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="trend"\nop=">"\n'
            "threshold=0\nwindow=[3.5]",
            "'window' must be an integer",
        ),
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="trend"\nop=">"\n'
            "threshold=0\nwindow=0",
            "'window' must be >= 1",
        ),
        (
            '[[rule]]\nname="r"\non="small"\noff="large"\n[[rule.when]]\nsignal="trend"\nop=">"\n',
            "missing 'threshold'",
        ),
        ("[costs]\nbps = -1\n", "[costs]: 'bps' must be one number >= 0"),
        ("[costz]\nbps = 1\n", "unknown key 'costz'"),
        ("", "no [[rule]] tables"),
        ('[[rule]]\nname="r"\non="small"\noff="large"\n', "no [[rule.when]] condition"),
    ],
)
def test_bad_rules_name_file_rule_and_field(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_rules(write(tmp_path, body))
    assert "rules.toml" in str(err.value)
    assert needle in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("title = [", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_rules(bad)


def test_values_are_data_never_code(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown signal .__import__"):
        parse_rules({"small": "a", "large": "b", "cash": "c", "rule": [
            {"name": "x", "on": "small", "off": "large",
             "when": [{"signal": "__import__('os').system('true')", "op": ">", "threshold": 0}]}
        ]})  # fmt: skip


def test_too_many_variants(tmp_path: Path) -> None:
    rs = load_rules(write(tmp_path, """
max_variants = 5
[[rule]]
name = "mom"
on = "small"
off = "large"
  [[rule.when]]
  signal = "size_momentum"
  op = ">"
  lookback = [1, 2, 3]
  threshold = [0.0, 0.1]
"""))  # fmt: skip
    with pytest.raises(ConfigError, match="6 variants, more than max_variants = 5"):
        rs.variants()


def test_shipped_rules_load() -> None:
    path = default_rules_path()
    assert path.name == "rotation.toml" and path.is_file()
    rs = load_rules(path)
    names = {r.name for r in rs.rules}
    assert {"first_cut", "valuation_extreme", "size_momentum"} <= names
    assert rs.frequency == "M" and rs.costs.expense_small == 0.0019
    assert rs.costs.expense_large == 0.000945
    assert len(rs.variants()) == 54


def test_a_ten_million_variant_grid_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    lookbacks = ", ".join(str(k) for k in range(1, 3163))
    thresholds = ", ".join(f"{k / 1e4}" for k in range(3163))
    rs = load_rules(write(tmp_path, f"""
[[rule]]
name = "mom"
on = "small"
off = "large"
  [[rule.when]]
  signal = "size_momentum"
  op = ">"
  lookback = [{lookbacks}]
  threshold = [{thresholds}]
"""))  # fmt: skip
    assert rs.n_variants == 3162 * 3163 > 10_000_000
    tracemalloc.start()
    try:
        for build in (rs.check_size, rs.variants, rs.grid):
            with pytest.raises(ConfigError, match=r"10,001,406 variants, more than max_var"):
                build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # bytes: the axes' lists, not ten million variants


def test_the_array_grid_equals_the_expanded_variants(tmp_path: Path) -> None:
    rs = load_rules(write(tmp_path, """
[[rule]]
name = "two"
on = [1.0, 0.5]
off = "cash"
  [[rule.when]]
  signal = "size_momentum"
  op = ">"
  lookback = [3, 6]
  threshold = [0.0, 0.1, 0.2]
  [[rule.when]]
  signal = "valuation_z"
  op = "<="
  threshold = 1.5
  window = [0, 120]
[[rule]]
name = "one"
on = "small"
off = "large"
  [[rule.when]]
  signal = "size_momentum"
  op = ">="
  lookback = 6
  threshold = [0.0, 0.3]
"""))  # fmt: skip
    for path in (rs.path, default_rules_path()):
        r = load_rules(path)
        variants, grid = r.variants(), r.grid()
        assert len(grid) == len(variants) == r.n_variants
        for i, v in enumerate(variants):
            assert r.variant(i) == v
            for j, c in enumerate(v.conditions):
                assert grid.signals[grid.signal[i, j]] == (c.signal, c.params)
                assert OPS[grid.op[i, j]] == c.op and grid.threshold[i, j] == c.threshold
            assert (grid.signal[i, len(v.conditions) :] == -1).all()
            assert tuple(grid.on[i]) == v.on and tuple(grid.off[i]) == v.off
        assert r.labels() == [(v.name, v.params) for v in variants]  # names without objects
    # the shared signal (size_momentum, lookback 6) is one row of the bank
    assert len(rs.grid().signals) == 4
