"""Commands read well at 80 and 120 columns: ids never cut, a line per claim, a short start."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smallcaps.cli import app, dataset_of
from smallcaps.store import Store
from smallcaps.thesis import evaluate, load

ELLIPSIS = "\u2026"


def run(home: Path, *args: str, columns: int = 80) -> tuple[int, str, str]:
    got = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns),
                                                   "SMALLCAPS_HOME": str(home)})  # fmt: skip
    return got.exit_code, got.stdout, got.stderr


@pytest.fixture(scope="module")
def listing(mirror_home: Path) -> list[str]:
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        return list(store.series_list()["series_id"])


@pytest.mark.parametrize("columns", [80, 120])
def test_series_list_shows_one_line_per_dataset(
    mirror_home: Path, listing: list[str], columns: int
) -> None:
    code, stdout, stderr = run(mirror_home, "series", "list", columns=columns)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert all(len(line) <= columns for line in lines)
    datasets = sorted({dataset_of(s) for s in listing})
    shown = [line.split()[0] for line in lines[1:] if line.strip() and not line[0].isspace()]
    assert shown == datasets  # every dataset once, in order, its name never cut
    assert f"{len(listing):,} series in {len(datasets):,} datasets" in stderr
    assert len(listing) > 10 * len(lines)  # the point: far fewer lines than series


@pytest.mark.parametrize("columns", [80, 120])
def test_one_dataset_lists_every_full_id(
    mirror_home: Path, listing: list[str], columns: int
) -> None:
    wanted = [s for s in listing if dataset_of(s) == "french/25_Portfolios_5x5"]
    code, stdout, _ = run(mirror_home, "series", "list", "french/25_Portfolios_5x5",
                          columns=columns)  # fmt: skip
    assert code == 0
    lines = stdout.splitlines()
    # only an id longer than the terminal overflows it, whole, on a line of its own
    assert all(len(line) <= columns or line in wanted for line in lines)
    assert lines[0] == "french/25_Portfolios_5x5"  # the heading, then the ids
    assert sorted(line for line in lines[1:] if line.startswith("french/")) == sorted(wanted)
    # and no id is cut anywhere: an ellipsis only ends a title
    for line in lines:
        for token in line.split():
            assert not (token.startswith("french/") and ELLIPSIS in token), line


def test_filters_narrow_the_list_and_name_what_is_unknown(mirror_home: Path, cli) -> None:
    code, stdout, _ = run(mirror_home, "series", "list", "--source", "fred", "--match", "DGS")
    assert code == 0 and {"DGS10", "DGS2"} <= {line.split()[0] for line in stdout.splitlines()[1:]}
    bad = cli("series", "list", "--source", "fredd", home=mirror_home)  # through main()
    assert bad.returncode == 5 and "did you mean 'fred'" in bad.stderr
    bad = cli("series", "list", "french/25_Portfolios", home=mirror_home)
    assert bad.returncode == 5 and "french/25_Portfolios_5x5" in bad.stderr
    assert "Traceback" not in bad.stderr
    code, stdout, _ = run(mirror_home, "series", "list", "--match", "dgs10", "--json")
    assert [r["series_id"] for r in json.loads(stdout)] == ["DGS10"]


def test_search_finds_a_series_by_what_it_is(mirror_home: Path) -> None:
    code, stdout, _ = run(mirror_home, "search", "10-year", "yield")
    assert code == 0 and stdout.splitlines()[1].split()[0] == "DGS10"
    code, stdout, _ = run(mirror_home, "search", "high", "yield", "spread", "--json")
    assert json.loads(stdout)[0]["series_id"] == "BAMLH0A0HYM2"
    code, _, stderr = run(mirror_home, "search", "no", "such", "thing")
    assert code == 1 and "no stored series matches" in stderr


def test_check_prints_one_line_per_claim_at_80_columns(mirror_home: Path) -> None:
    code, stdout, stderr = run(mirror_home, "check")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) <= 40 and all(len(line) <= 80 for line in lines)
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as store:
        then = evaluate(load("small-cap-renaissance-2026"), store)
        now = evaluate(load("small-cap-renaissance-2026"), store, as_of=None)
    rows = {line.split()[0]: line for line in lines if line.split()}
    for t, n in zip(then.claims, now.claims, strict=True):
        # the id whole, then both verdicts computed in-process: as of the article, and now
        pattern = rf"{re.escape(t.claim.id)}\s+{t.verdict}\s+{n.verdict}\b"
        assert re.match(pattern, rows[t.claim.id]), rows[t.claim.id]
    assert any(line.startswith(f"then (2026-01-10): score {then.score:.2f}") for line in lines)
    assert any(line.startswith(f"now (latest data): score {now.score:.2f}") for line in lines)


def test_no_arguments_print_a_short_start_and_help_has_no_stray_markup(mirror_home: Path) -> None:
    code, stdout, _ = run(mirror_home)
    assert code == 0 and len(stdout.splitlines()) <= 10
    assert all(f"smallcaps {c}" in stdout for c in ("report", "check", "search"))
    code, stdout, _ = run(mirror_home, "report", "--help")
    assert code == 0 and "<bool>" not in stdout
    assert "(default: smallcaps-report.html or .json)" in " ".join(stdout.split())
    assert "(env SMALLCAPS_HOME; ~/.smallcaps)" in " ".join(stdout.split())  # brackets kept


def test_fetch_prints_json_when_asked(tmp_path: Path, data_dir: Path) -> None:
    code, stdout, _ = run(tmp_path, "fetch", "UNRATE", "--mirror", str(data_dir), "--json")
    (row,) = json.loads(stdout)
    assert code == 0 and row["spec"] == "fred:UNRATE" and row["new_vintages"] == 1
    assert row["first"] == "1948-01-01" and not row["failed"]


@pytest.mark.parametrize("columns", [80, 120])
def test_vintages_fit_and_agree_with_the_json(mirror_home: Path, columns: int) -> None:
    code, stdout, _ = run(mirror_home, "series", "vintages", "DFF", columns=columns)
    assert code == 0
    lines = stdout.splitlines()
    assert all(len(line) <= columns for line in lines)
    _, raw, _ = run(mirror_home, "series", "vintages", "DFF", "--json")
    records = json.loads(raw)
    rows = [line.split() for line in lines[2:]]
    assert [int(r[0]) for r in rows] == [v["vintage_id"] for v in records]
    for r, v in zip(rows, records, strict=True):
        assert r[3] == f"{v['row_count']:,}" and r[6] == v["sha256"][:12]
        assert r[4] == v["first_date"][:10] and r[5] == v["last_date"][:10]
    assert ("from" in lines[1]) == (columns >= 90)  # the source only where it fits


def test_measure_list_has_json_with_declared_types(mirror_home: Path) -> None:
    code, stdout, _ = run(mirror_home, "measure", "--list", "--json")
    listed = {m["name"]: m for m in json.loads(stdout)}
    assert code == 0 and "fed.event_paths" in listed
    assert listed["rates.sensitivity"]["params"]["hac_lags"] == {"type": "int | None",
                                                                 "default": None}  # fmt: skip
