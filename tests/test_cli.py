"""The command line, end to end on the mirror, in a throwaway SMALLCAPS_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, cli) -> Path:
    """A store with DFF, UNRATE and SPY fetched from the mirror (one run, shared)."""
    home = tmp_path_factory.mktemp("home")
    done = cli("fetch", "DFF", "UNRATE", "yahoo:SPY", "--mirror", str(data_dir), home=home)
    assert done.returncode == 0, done.stderr
    return home


def test_fetch_prints_a_table_of_what_was_stored(home: Path, data_dir: Path, cli) -> None:
    again = cli("fetch", "DFF", "--mirror", str(data_dir), home=home)
    assert again.returncode == 0
    assert "fred:DFF" in again.stdout
    # DFF: 2 captures in the mirror, 1954-07-01 .. 2025-10-09 in the newest; both stored, so
    # neither file is read again: the row shows what the store holds
    row = next(line for line in again.stdout.splitlines() if "fred:DFF" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[:6] == ["fred:DFF", "1", "1954-07-01", "2025-10-09", "26,034", "0"]
    assert cells[6] == "0"  # re-fetching identical data adds no vintage
    assert cells[7] == "skipped: unchanged mirror file"


def test_series_list_json_has_every_fetched_series_with_vintages(home: Path, cli) -> None:
    listing = json.loads(cli("series", "list", "--json", home=home).stdout)
    by_id = {row["series_id"]: row for row in listing}
    assert by_id["DFF"]["vintages"] == 2  # the 2024 snapshot and the 2025 download
    assert by_id["UNRATE"]["vintages"] == 1
    assert by_id["UNRATE"]["last"].startswith("2026-07-01")
    assert {"price/SPY/adj_close", "price/SPY/close"} <= set(by_id)


def test_series_show_as_of_honours_the_release_rule(home: Path, cli) -> None:
    # April 2020 unemployment (14.8%) was published Friday 2020-05-08
    before = json.loads(
        cli("series", "show", "UNRATE", "--as-of", "2020-05-07", "--json", home=home).stdout
    )
    after = json.loads(
        cli("series", "show", "UNRATE", "--as-of", "2020-05-08", "--json", home=home).stdout
    )
    assert before["observations"][-1]["date"].startswith("2020-03-01")
    assert after["observations"][-1] == {"date": "2020-04-01T00:00:00.000", "value": 14.8}
    assert after["real_time"] is False  # our first capture of UNRATE is from 2026


def test_series_show_as_of_picks_the_vintage_known_then(home: Path, cli) -> None:
    old = json.loads(
        cli("series", "show", "DFF", "--as-of", "2024-06-01", "--json", home=home).stdout
    )
    assert old["url"].endswith("DFF_2024snapshot.csv")
    dates = [o["date"][:10] for o in old["observations"]]
    # that file ends 2024-01-25; the days after it, published by 2024-06-01, come from the
    # newer capture and the read says so
    assert "2024-01-25" in dates and dates[-1] == "2024-05-30"  # Friday 31st: out Monday
    assert old["extended_from"] is not None and old["real_time"] is False


def test_unknown_series_exit_code_and_suggestion(home: Path, cli) -> None:
    done = cli("series", "show", "UNRAT", home=home)
    assert done.returncode == 5
    assert "unknown series 'UNRAT'; did you mean 'UNRATE'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_date_before_any_publication_is_a_clear_error(home: Path, cli) -> None:
    done = cli("series", "show", "DFF", "--as-of", "1900-01-01", home=home)
    assert done.returncode == 6
    assert "no value of 'DFF' was public by 1900-01-01" in done.stderr


def test_a_failing_series_does_not_stop_the_others(tmp_path: Path, data_dir: Path, cli) -> None:
    done = cli("fetch", "fred:WALCL", "UNRATE", "--mirror", str(data_dir), home=tmp_path)
    assert done.returncode == 1
    assert "unknown mirror series 'fred:WALCL'" in done.stdout
    assert "1 of 2 specs stored" in done.stderr
    listing = json.loads(cli("series", "list", "--json", home=tmp_path).stdout)
    assert [row["series_id"] for row in listing] == ["UNRATE"]


def test_since_skips_what_is_fresh(home: Path, data_dir: Path, cli) -> None:
    # the mirror's UNRATE capture is dated 2026-08-07, so it is fresh for --since 2026-08-01
    done = cli(
        "fetch", "UNRATE", "DFF", "--since", "2026-08-01", "--mirror", str(data_dir), home=home
    )
    assert done.returncode == 0
    assert "skipped: fetched since 2026-08-01" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "fred:DFF" in line)
    # DFF's newest capture is from 2025: not fresh, so its files are looked at (and found stored)
    assert "fetched since" not in row and "unchanged mirror file" in row


def test_bad_mirror_folder_is_a_config_error(tmp_path: Path, cli) -> None:
    done = cli("fetch", "--mirror", str(tmp_path / "nope"), home=tmp_path)
    assert done.returncode == 2
    assert "mirror folder" in done.stderr
    assert "does not exist" in done.stderr


def test_measure_json_carries_provenance_and_as_of(home: Path, data_dir: Path, cli) -> None:
    done = cli("fetch", "french:Portfolios_Formed_on_ME", "--mirror", str(data_dir), home=home)
    assert done.returncode == 0
    doc = json.loads(
        cli("measure", "size.cycles", "--as-of", "2009-03-31", "--json", home=home).stdout
    )
    assert doc["measurement"] == "size.cycles"
    assert doc["as_of"].startswith("2009-03-31")
    # French data for Feb 2009 is out by the end of March; March's is not
    assert {p["last_date"] for p in doc["provenance"]} == {"2009-02-28"}
    assert all(p["real_time"] is False for p in doc["provenance"])  # captured in 2026
    bad = cli("measure", "size.cycles", "--param", "foo=1", home=home)
    assert bad.returncode == 2
    assert "unknown parameter 'foo'" in bad.stderr


def test_as_of_a_date_means_the_end_of_that_day(home: Path, cli) -> None:
    # July 2026 unemployment came out on Friday 2026-08-07 at 8:30 ET: known by the end of
    # that day, not on the 6th
    doc = json.loads(
        cli("series", "show", "UNRATE", "--as-of", "2026-08-07", "--json", home=home).stdout
    )
    assert doc["observations"][-1]["date"].startswith("2026-07-01")
    assert doc["as_of"].startswith("2026-08-07 23:59:59")
    doc = json.loads(
        cli("series", "show", "UNRATE", "--as-of", "2026-08-06", "--json", home=home).stdout
    )
    assert doc["observations"][-1]["date"].startswith("2026-06-01")
    # SPY's close is known the same day
    doc = json.loads(
        cli(
            "series", "show", "price/SPY/adj_close", "--as-of", "2026-01-09", "--json", home=home
        ).stdout
    )
    assert doc["observations"][-1]["date"].startswith("2026-01-09")
