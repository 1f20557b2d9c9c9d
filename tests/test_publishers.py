"""One registration per publisher: the registry, its layering, and what it answers on real files."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from smallcaps import access, publishers, release
from smallcaps.errors import ConfigError, UnknownSeriesError
from smallcaps.publishers import Publisher

SRC = Path(publishers.__file__).resolve().parent
#: the ingest edge may import sources/; store/ sits right above it
EDGE = {"update.py", "cli.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (at any depth: function-level imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def layer_files() -> list[Path]:
    """Modules above store/: access.py and everything after it, plus the bottom modules."""
    files = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("sources", "store") or str(rel) in EDGE:
            continue
        files.append(path)
    return files


def test_nothing_above_store_imports_sources() -> None:
    files = layer_files()
    assert {"access.py", "publishers.py", "release.py"} <= {p.name for p in files}
    assert any(p.parent.name == "measures" for p in files)
    offenders = {
        str(p.relative_to(SRC)): sorted(m for m in imported_modules(p) if "smallcaps.sources" in m)
        for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_registry_and_the_rules_sit_at_the_bottom() -> None:
    ours = {m for m in imported_modules(SRC / "publishers.py") if m.startswith("smallcaps")}
    assert ours <= {
        "smallcaps.errors",
        "smallcaps.errors.ConfigError",
        "smallcaps.errors.UnknownSeriesError",
        "smallcaps.release",
        "smallcaps.release.RuleEntry",
    }
    assert not {m for m in imported_modules(SRC / "release.py") if m.startswith("smallcaps")}
    assert publishers.PLUGINS == "smallcaps.sources"  # found by name, imported by importlib


def test_every_source_module_registers_once_in_order() -> None:
    known = publishers.load_all()
    assert list(known) == [
        "fred",
        "french",
        "yahoo",
        "shiller",
        "ishares",
        "events",
        "stooq",
        "user",
    ]
    assert publishers.spec_kinds() == ("fred", "french", "yahoo", "shiller", "ishares", "events")
    import smallcaps.sources.shiller as shiller

    assert shiller.PUBLISHER is known["shiller"]
    for p in known.values():
        assert p.specs == (p.tidy is not None), p.kind
        assert p.specs or not p.defaults, p.kind
        assert all(key.startswith(p.root) for key in p.release), p.kind


def test_a_second_claim_on_a_kind_or_a_release_row_is_refused() -> None:
    shiller = publishers.get("shiller")
    with pytest.raises(ConfigError, match="'shiller' is registered twice"):
        publishers.register(Publisher("shiller", "again", 99, "x/", "x/", str, {}))
    with pytest.raises(ConfigError, match=r"claims release rows \['price/'\] of 'yahoo'"):
        publishers.register(Publisher("copy", "t", 99, "price/", "price/", str,
                                      {"price/": release.SAME_DAY}))  # fmt: skip
    assert publishers.get("shiller") is shiller
    with pytest.raises(UnknownSeriesError, match="copy"):
        publishers.get("copy")


@pytest.mark.parametrize(
    ("kind", "name", "series_id", "fed"),
    [
        ("fred", "DFF", "DFF", True),
        ("fred", "DFF", "fred/DFF", True),
        ("fred", "DFF", "DFF2", False),
        (
            "french",
            "25_Portfolios_5x5",
            "french/25_Portfolios_5x5/average-market-cap/ME1 BM1",
            True,
        ),
        ("french", "25_Portfolios_5x5", "french/6_Portfolios_2x3/average-market-cap/SMALL", False),
        ("yahoo", "IWM", "price/IWM/adj_close", True),
        ("yahoo", "IWM", "price/IWMX/adj_close", False),
        ("shiller", "ie_data", "shiller/cape", True),
        ("ishares", "IJR", "ishares/IJR/weight/AAPL", True),
        ("events", "nber", "events/fomc/meeting", False),
        ("stooq", "IWM", "stooq/IWM/close", True),
        ("bloomberg", "IWM", "price/IWM/adj_close", False),
    ],
)
def test_feeds(kind: str, name: str, series_id: str, fed: bool) -> None:
    assert publishers.feeds(kind, name, series_id) is fed


def test_id_helpers_build_the_ids_the_parsers_write() -> None:
    assert publishers.series_id("shiller", "cape") == "shiller/cape"
    assert publishers.series_id("yahoo", "iwm", "adj_close") == "price/IWM/adj_close"
    title = "Value Weight Average of BE/ME Calculated for June of t to June of t+1 as:"
    slug = publishers.helper("french", "slug")
    assert slug(title) == "value-weight-average-of-be-me"
    assert slug(slug(title)) == slug(title)  # ids may be built from a title or its slug
    assert publishers.series_id("french", "25_Portfolios_5x5", title, "SMALL LoBM") == (
        "french/25_Portfolios_5x5/value-weight-average-of-be-me/SMALL LoBM"
    )
    with pytest.raises(UnknownSeriesError, match="unknown shiller id helper 'slug'"):
        publishers.helper("shiller", "slug")


def test_every_default_fred_series_has_its_own_release_row() -> None:
    fred = publishers.get("fred")
    assert set(fred.defaults) == set(fred.release)
    assert access.release_rules()["UNRATE"] is release.EMPLOYMENT_SITUATION


def test_doctor_checks_come_from_the_registrations() -> None:
    assert publishers.compares_prices("price/IWM/adj_close", "USD")
    assert publishers.compares_prices("stooq/IWM/close", "USD")
    assert not publishers.compares_prices("price/IWM/volume", "shares")
    assert not publishers.compares_prices("DFF", "percent")
    assert [(c.a, c.b) for c in publishers.cross_checks()] == [("FEDFUNDS", "DFF")]


def test_shiller_lives_in_its_module_alone(data_dir: Path) -> None:
    """The moved publisher: its mirror capture, ids and release rule all come from shiller.py."""
    from smallcaps.sources import catalog

    shiller = publishers.get("shiller")
    (capture,) = shiller.mirror
    files = [f for f in catalog.mirror_files() if f.spec.kind == "shiller"]
    assert [f.path for f in files] == [capture.path]
    ((payload, tidy),) = catalog.read_mirror(files[0].spec, data_dir, files)
    assert payload.source == "shiller"
    ids = set(tidy.frame["series_id"])
    assert publishers.series_id("shiller", "cape") in ids
    assert all(shiller.feeds("ie_data", sid) for sid in ids)
    cape = tidy.frame[tidy.frame["series_id"] == "shiller/cape"].set_index("date")["value"]
    assert cape.loc["2000-01-01"] == pytest.approx(43.772578146937995)
    rule = access.release_rule("shiller/cape", "M")
    assert rule is shiller.release["shiller/"]
    assert rule([pd.Timestamp("2026-03-01")])[0] == pd.Timestamp("2026-05-31")
