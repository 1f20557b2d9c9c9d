"""``smallcaps backtest``: the table, the verdict, JSON, and kind errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smallcaps.backtest import default_rules_path, run_file
from smallcaps.cli import app
from smallcaps.store import Store

runner = CliRunner()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("│")[1:-1]]


def test_backtest_shipped_rules_prints_table_and_verdict(mirror_home: Path) -> None:
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        want = run_file(default_rules_path(), store)  # in process, on the same store
    assert want.robustness is not None
    got = runner.invoke(app, ["backtest", "rules/rotation.toml", "--home", str(mirror_home)])
    assert got.exit_code == 0, got.output
    out = got.stdout
    lines = out.splitlines()
    assert "best 10 variants by Sharpe" in out and "benchmarks" in out
    verdict = [ln for ln in lines if ln.startswith("verdict: the best variant ")]
    assert verdict == [f"verdict: the best variant {want.robustness.word}"]
    # the first row of the table is the best variant, with the result's CAGR and Sharpe
    first = _cells(lines[next(i for i, ln in enumerate(lines) if ln.startswith("┡")) + 1])
    best = want.best_row
    assert first[0] == best.rule
    assert first[2:4] == [f"{best.cagr:.2%}", f"{best.sharpe:.2f}"]
    assert f"robustness of the best variant ({best.name}):" in out
    for line in want.robustness.figures():  # DSR, PBO, SPA and walk-forward figures
        assert f"  {line}" in lines
    for reason in want.robustness.reasons:
        assert f"  - {reason}" in lines
    rows = {c[0]: c for c in map(_cells, lines) if c and c[0] in set(want.benchmarks.index)}
    for row in want.benchmark_rows:
        assert rows[row.name][1:3] == [f"{row.cagr:.2%}", f"{row.sharpe:.2f}"]


def test_backtest_json_with_window(mirror_home: Path) -> None:
    got = runner.invoke(
        app, ["backtest", "--from", "1960-01-01", "--to", "2019-12-31", "--json",
              "--home", str(mirror_home)],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        want = run_file(default_rules_path(), store, start="1960-01-01", end="2019-12-31")
    assert doc == json.loads(json.dumps(want.to_dict()))
    assert doc["start"] >= "1960-01-01" and doc["end"] <= "2019-12-31"
    assert doc["n_variants"] == 54 and isinstance(doc["robustness"]["survives"], bool)
    assert doc["rules_file"].endswith("rotation.toml")


def test_backtest_bad_rules_file_exits_2(tmp_path: Path, cli: Callable[..., Any]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('small = "a"\nlarge = "b"\ncash = "c"\nfrequency = "W"\n', encoding="utf-8")
    done = cli("backtest", str(bad), home=tmp_path / "home", timeout=120)
    assert done.returncode == 2, done.stderr
    assert "bad.toml: frequency must be 'M' or 'D', got 'W'" in done.stderr
    assert "Traceback" not in done.stderr
