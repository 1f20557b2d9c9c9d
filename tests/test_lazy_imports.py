"""`smallcaps --help` stays fast: importing the command line loads no heavy library.

A property of the import graph, not a wall clock: each check runs in a fresh interpreter and
inspects ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "duckdb", "statsmodels", "plotly", "httpx", "yfinance", "arch")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return {m.partition(".")[0] for m in modules}


def test_the_probe_sees_a_heavy_import() -> None:
    # the check below could fail: importing pandas shows up in sys.modules
    assert "pandas" in _loaded_after("import pandas")


@pytest.mark.parametrize("module", ["smallcaps", "smallcaps.cli"])
def test_importing_loads_no_heavy_library(module: str) -> None:
    assert not _loaded_after(f"import {module}") & set(HEAVY)


@pytest.mark.parametrize("args", [["--help"], ["check", "--help"], ["series", "show", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    code = (
        f"import sys; sys.argv = ['smallcaps', *{args!r}]\n"
        "from smallcaps.cli import app\n"
        "try:\n    app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code"
    )
    assert not _loaded_after(code) & set(HEAVY)
