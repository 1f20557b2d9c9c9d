"""The validation gate: faulty payloads built at test time from the real mirror files.

Each fault is refused with a ParseError naming what is wrong, nothing is stored, and the other
series still load; every real mirror file passes the gate unchanged.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from smallcaps.config import Config
from smallcaps.errors import ConfigError, ParseError
from smallcaps.sources import catalog
from smallcaps.sources.base import Payload, Tidy
from smallcaps.sources.catalog import Spec
from smallcaps.store import Store, gate
from smallcaps.update import update

FF = "french/F-F_Research_Data_Factors_CSV.zip"
FF5 = "french/F-F_Research_Data_5_Factors_2x3.csv"
DFF = "fred/DFF_fredgraph.csv"
AT = datetime(2026, 5, 8, 23, 59, 59, tzinfo=UTC)


def pair(spec: str, data: bytes, at: datetime = AT) -> tuple[Payload, Tidy]:
    kind, _, name = spec.partition(":")
    payload = Payload(kind, f"file:///mirror/{name}", data, at)
    return payload, catalog.tidy_bytes(Spec(kind, name), data, origin=name)


def test_every_mirror_file_passes_the_gate_unchanged(data_dir: Path) -> None:
    seen = 0
    for _f, payload, tidy in catalog.load_all(data_dir):
        assert gate.check(payload, tidy) is tidy
        seen += 1
    assert seen == len(catalog.mirror_files())


def test_rows_dated_after_the_fetch_are_refused(data_dir: Path) -> None:
    real = (data_dir / DFF).read_bytes()
    payload, tidy = pair("fred:DFF", real, datetime(2025, 10, 18, tzinfo=UTC))
    gate.check(payload, tidy)  # the real file: last row 2025-10-09
    late = real.rstrip(b"\r\n") + b"\n2061-03-01,4.33\n"  # decades after the fetch
    payload, tidy = pair("fred:DFF", late, datetime(2025, 10, 18, tzinfo=UTC))
    with pytest.raises(ParseError, match=r"after the fetch date 2025-10-18.*2061-03-01"):
        gate.check(payload, tidy)


def test_grace_is_per_publisher(data_dir: Path) -> None:
    # FRED: not even one day; the same payload a day later is accepted
    real = (data_dir / DFF).read_bytes()
    payload, tidy = pair("fred:DFF", real, datetime(2025, 10, 8, 12, tzinfo=UTC))
    with pytest.raises(ParseError, match="2025-10-09"):
        gate.check(payload, tidy)
    gate.check(replace(payload, retrieved_at=datetime(2025, 10, 9, 0, 1, tzinfo=UTC)), tidy)
    assert gate.GRACE_DAYS["fred"] == 0 and gate.GRACE_DAYS["yahoo"] == 1


def _all_missing(text: str) -> str:
    """Every number of every data row replaced by the publisher's missing marker."""
    out = []
    for line in text.splitlines():
        cells = line.split(",")
        if re.fullmatch(r"\s*\d{4,8}\s*", cells[0]) and len(cells) > 1:
            line = ",".join([cells[0], *["-99.99"] * (len(cells) - 1)])
        out.append(line)
    return "\n".join(out) + "\n"


def test_a_french_file_of_missing_values_only_is_refused(data_dir: Path) -> None:
    text = (data_dir / FF5).read_bytes().decode("utf-8-sig")
    payload, tidy = pair("french:F-F_Research_Data_5_Factors_2x3", _all_missing(text).encode())
    assert np.isnan(tidy.frame["value"].to_numpy()).all()  # the parser reads it, as it should
    with pytest.raises(ParseError, match="every value of its 12 series is missing"):
        gate.check(payload, tidy)


def test_a_renamed_section_is_refused_unless_declared_as_an_alias(data_dir: Path) -> None:
    text = (data_dir / FF5).read_bytes().decode("utf-8-sig")
    assert "Annual Factors: January-December" in text
    renamed = text.replace("Annual Factors: January-December", "Yearly Factors").encode()
    payload, tidy = pair("french:F-F_Research_Data_5_Factors_2x3", renamed)
    assert any("/yearly-factors/" in s for s in tidy.meta)  # the parser made new series
    with pytest.raises(ParseError, match="lacks section 'annual-factors-january-december'"):
        gate.check(payload, tidy)
    schema = gate.FRENCH["F-F_Research_Data_5_Factors_2x3"]
    aliased = {
        "F-F_Research_Data_5_Factors_2x3": replace(
            schema, aliases={"yearly-factors": "annual-factors-january-december"}
        )
    }
    checked = gate.check(payload, tidy, french=aliased)
    _, original = pair("french:F-F_Research_Data_5_Factors_2x3", text.encode())
    assert set(checked.meta) == set(original.meta)  # the old ids, no new series
    assert checked.frame["value"].equals(original.frame["value"])


def test_a_missing_column_is_named(data_dir: Path) -> None:
    text = (data_dir / FF5).read_bytes().decode("utf-8-sig")
    payload, tidy = pair("french:F-F_Research_Data_5_Factors_2x3", text.encode())
    drop = [s for s in tidy.meta if s.endswith("/monthly/RMW")]
    frame = tidy.frame[~tidy.frame["series_id"].isin(drop)].reset_index(drop=True)
    meta = {k: v for k, v in tidy.meta.items() if k not in drop}
    with pytest.raises(ParseError, match=r"section 'monthly' lacks column.*'RMW'"):
        gate.check(payload, Tidy(frame, meta))


def test_changed_units_are_refused(data_dir: Path) -> None:
    payload, tidy = pair("fred:DFF", (data_dir / DFF).read_bytes())
    meta = {k: replace(m, units="basis points") for k, m in tidy.meta.items()}
    with pytest.raises(ParseError, match="DFF is in 'basis points'"):
        gate.check(payload, Tidy(tidy.frame, meta))
    payload, tidy = pair("yahoo:SPY", _first_capture(data_dir, "yahoo:SPY"))
    no_adj = [s for s in tidy.meta if s.endswith("/adj_close")]
    frame = tidy.frame[~tidy.frame["series_id"].isin(no_adj)].reset_index(drop=True)
    meta = {k: v for k, v in tidy.meta.items() if k not in no_adj}
    with pytest.raises(ParseError, match="lacks the column 'adj_close'"):
        gate.check(payload, Tidy(frame, meta))


def _first_capture(data_dir: Path, spec: str) -> bytes:
    kind, _, name = spec.partition(":")
    f = next(f for f in catalog.mirror_files() if f.spec == Spec(kind, name) and not f.params)
    return (data_dir / f.path).read_bytes()


def test_a_zip_whose_member_is_another_dataset_is_refused(data_dir: Path) -> None:
    other = (data_dir / FF5).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("F-F_Research_Data_5_Factors_2x3.csv", other)
    payload, tidy = pair("french:F-F_Research_Data_Factors", buf.getvalue())
    with pytest.raises(ParseError, match=r"zip member 'F-F_Research_Data_5_Factors_2x3\.csv'"):
        gate.check(payload, tidy)
    real = (data_dir / FF).read_bytes()  # the real zip: its member is named for it
    gate.check(*pair("french:F-F_Research_Data_Factors", real))


# ---- end to end: a mirror folder with a faulty file, through update() ------------------------


@pytest.fixture
def mirror(tmp_path: Path, data_dir: Path) -> Path:
    """A mirror folder with the files of fred:DFF and fred:UNRATE copied from the real one."""
    root = tmp_path / "mirror"
    for f in catalog.mirror_files():
        if f.spec in (Spec("fred", "DFF"), Spec("fred", "UNRATE")):
            (root / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_dir / f.path, root / f.path)
    return root


def test_a_future_dated_file_leaves_the_store_as_it_was(tmp_path: Path, mirror: Path) -> None:
    config = Config(home=tmp_path / "home", mirror=mirror)
    store = Store.from_config(config)
    specs = [Spec("fred", "UNRATE"), Spec("fred", "DFF")]
    first = update(store, config, specs)
    assert not any(o.failed for o in first)
    before = store.checksum()
    bad = mirror / DFF
    bad.write_bytes(bad.read_bytes().rstrip(b"\r\n") + b"\n2070-01-01,9.99\n")
    again = update(store, config, specs)
    dff = next(o for o in again if o.spec.name == "DFF")
    assert isinstance(dff.error, ParseError) and "after the fetch date" in str(dff.error)
    assert store.checksum() == before  # no stored row changed
    assert store.vintages("UNRATE")["row_count"].iat[-1] > 900  # the other series still load


def test_a_symlink_out_of_the_mirror_is_refused(tmp_path: Path, mirror: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    shutil.copyfile(mirror / DFF, outside)
    (mirror / DFF).unlink()
    (mirror / DFF).symlink_to(outside)
    f = next(f for f in catalog.mirror_files() if f.path == DFF)
    with pytest.raises(ConfigError, match="leads outside the mirror folder"):
        catalog.mirror_payload(f, mirror)
    config = Config(home=tmp_path / "home", mirror=mirror)
    store = Store.from_config(config)
    (dff,) = update(store, config, [Spec("fred", "DFF")])
    assert isinstance(dff.error, ConfigError)
    assert store.series_ids() == []
    inside = mirror / "fred" / "link.csv"  # a link that stays inside is followed
    inside.symlink_to(mirror / "fred" / "DFF_2024snapshot.csv")
    payload = catalog.mirror_payload(replace(f, path="fred/link.csv"), mirror)
    assert payload.url.endswith("/fred/DFF_2024snapshot.csv")
