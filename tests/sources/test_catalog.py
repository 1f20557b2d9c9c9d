"""The mirror mapping and spec names: every mirror file mapped, every mapping entry present."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smallcaps.errors import ConfigError, UnknownSeriesError
from smallcaps.sources import catalog
from smallcaps.sources.catalog import Spec


def test_every_mirror_file_is_mapped_and_every_entry_exists(data_dir) -> None:
    on_disk = {
        p.relative_to(data_dir).as_posix()
        for p in data_dir.rglob("*")
        if p.is_file() and p.name != "MANIFEST.md"
    }
    mapped = [f.path for f in catalog.mirror_files()]
    assert len(mapped) == len(set(mapped))
    assert set(mapped) == on_disk


def test_captures_of_one_spec_are_ordered_oldest_first() -> None:
    dff = [f for f in catalog.mirror_files() if f.spec == Spec("fred", "DFF")]
    assert [f.path for f in dff] == ["fred/DFF_2024snapshot.csv", "fred/DFF_fredgraph.csv"]
    assert dff[0].retrieved == datetime(2024, 2, 14, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("UNRATE", Spec("fred", "UNRATE")),
        ("unrate", Spec("fred", "UNRATE")),
        ("fred:WALCL", Spec("fred", "WALCL")),  # any FRED id when the kind is given
        ("IWM", Spec("yahoo", "IWM")),  # price history before holdings
        ("ishares:IWM", Spec("ishares", "IWM")),
        ("Portfolios_Formed_on_ME", Spec("french", "Portfolios_Formed_on_ME")),
    ],
)
def test_parse_spec(text: str, spec: Spec) -> None:
    assert catalog.parse_spec(text) == spec


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownSeriesError, match=r"did you mean .*UNRATE"):
        catalog.parse_spec("UNRTE")
    with pytest.raises(UnknownSeriesError, match="unknown source kind 'bloomberg'"):
        Spec("bloomberg", "X")


def test_missing_mirror_file_is_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"DFF_2024snapshot\.csv.*missing"):
        catalog.read_mirror(Spec("fred", "DFF"), tmp_path)


def test_spec_without_mirror_file_is_unknown(tmp_path) -> None:
    with pytest.raises(UnknownSeriesError, match="unknown mirror series 'fred:WALCL'"):
        catalog.read_mirror(Spec("fred", "WALCL"), tmp_path)


def test_broken_mapping_is_config_error(tmp_path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text('[[file]]\npath = "a.csv"\nspec = "fred:A"\n')
    with pytest.raises(ConfigError, match="lacks \\['retrieved'\\]"):
        catalog.mirror_files(bad)
    bad.write_text("[[file]\n")
    with pytest.raises(ConfigError, match=r"m\.toml"):
        catalog.mirror_files(bad)


def test_mirror_series_takes_the_newest_capture(data_dir) -> None:
    got = catalog.mirror_series(data_dir, ["DFF", Spec("yahoo", "IWM")])
    assert got["DFF"].index[-1] == datetime(2025, 10, 9)  # the 2025 download, not the 2024 one
    assert got["DFF"].name == "DFF"
    assert got["price/IWM/adj_close"].index[-1] == datetime(2026, 6, 5)
    assert "price/IWM/close" in got  # only the 2021-2026 capture has traded closes
