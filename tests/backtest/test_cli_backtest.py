"""``smallcaps backtest``: the table, the verdict, JSON, and kind errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from smallcaps.cli import app

runner = CliRunner()


def test_backtest_shipped_rules_prints_table_and_verdict(mirror_home: Path) -> None:
    got = runner.invoke(app, ["backtest", "rules/rotation.toml", "--home", str(mirror_home)])
    assert got.exit_code == 0, got.output
    out = got.stdout
    assert "best 10 variants by Sharpe" in out and "benchmarks" in out
    assert "Deflated Sharpe Ratio" in out and "PBO (CSCV" in out and "Hansen SPA" in out
    assert "walk-forward: OOS Sharpe" in out
    assert "verdict: the best variant survives" in out or "variant does not survive" in out
    assert "buy and hold large" in out


def test_backtest_json_with_window(mirror_home: Path) -> None:
    got = runner.invoke(
        app, ["backtest", "--from", "1960-01-01", "--to", "2019-12-31", "--json",
              "--home", str(mirror_home)],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["start"] >= "1960-01-01" and doc["end"] <= "2019-12-31"
    assert doc["n_variants"] == 54 and isinstance(doc["robustness"]["survives"], bool)
    assert doc["rules_file"].endswith("rotation.toml")


def test_backtest_bad_rules_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('small = "a"\nlarge = "b"\ncash = "c"\nfrequency = "W"\n', encoding="utf-8")
    env = {**os.environ, "SMALLCAPS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "smallcaps.cli", "backtest", str(bad)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "bad.toml: frequency must be 'M' or 'D', got 'W'" in done.stderr
    assert "Traceback" not in done.stderr
