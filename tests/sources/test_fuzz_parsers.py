"""Fuzzing: any bytes give a valid result or a ParseError (ConfigError for TOML), never another
exception. Inputs are arbitrary bytes and real mirror files with bytes changed at random.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallcaps.backtest.rules import load_rules
from smallcaps.errors import ConfigError, ParseError
from smallcaps.sources import catalog, usercsv
from smallcaps.sources.base import Tidy, check_tidy
from smallcaps.sources.catalog import Spec
from smallcaps.thesis import claims

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# one real file per parser (the head of it: fuzzing a 5 MB file is slow and finds nothing more)
SPECS = {
    "fred:DFF": "fred/DFF_fredgraph.csv",
    "french:F-F_Research_Data_5_Factors_2x3": "french/F-F_Research_Data_5_Factors_2x3.csv",
    "yahoo:SPY": None,
    "shiller:ie_data": "valuation/ie_data.xls",
    "ishares:IVV": "valuation/IVV_holdings_2026-06-19.csv",
    "events:nber": "events/nber_recessions.csv",
    "events:fomc": "events/FOMC_MEETING_2000-2025.csv",
}
HEAD = 6000


def _real(data_dir: Path, spec: str) -> tuple[bytes, dict]:
    kind, _, name = spec.partition(":")
    path = SPECS[spec]
    f = next(
        f
        for f in catalog.mirror_files()
        if f.spec == Spec(kind, name) and (path is None or f.path == path)
    )
    data = (data_dir / f.path).read_bytes()
    return (data if spec == "shiller:ie_data" else data[:HEAD]), dict(f.params)


def _parse(spec: str, data: bytes, params: dict) -> None:
    kind, _, name = spec.partition(":")
    try:
        tidy = catalog.tidy_bytes(Spec(kind, name), data, origin="fuzz", **params)
    except ParseError:
        return
    assert isinstance(tidy, Tidy)
    check_tidy(tidy.frame, origin="fuzz")  # a result is a valid tidy frame


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, byte in edits:
        if buf:
            buf[pos % len(buf)] = byte
    return bytes(buf)


EDITS = st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), min_size=1, max_size=8)


@pytest.mark.parametrize("spec", sorted(SPECS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_raise_parse_error(spec: str, data: bytes) -> None:
    params = {"ticker": "SPY"} if spec.startswith("yahoo") else {}
    _parse(spec, data, params)


@pytest.mark.parametrize("spec", sorted(SPECS))
@FUZZ
@given(edits=EDITS, cut=st.integers(0, HEAD))
def test_damaged_real_files_parse_or_raise_parse_error(
    data_dir: Path, spec: str, edits: list[tuple[int, int]], cut: int
) -> None:
    real, params = _real(data_dir, spec)
    damaged = _mutate(real, edits)
    _parse(spec, damaged if cut % 3 else damaged[: max(cut, 1)], params)


@FUZZ
@given(
    rows=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=10)), max_size=8),
    raw=st.binary(max_size=200),
)
def test_user_csv_parses_or_raises_parse_error(rows: list[tuple[str, str]], raw: bytes) -> None:
    text = "date,value\n" + "".join(f"{d},{v}\n" for d, v in rows)
    for data in (text.encode("utf-8", "replace"), raw):
        try:
            frame = usercsv.parse(data, origin="fuzz.csv", name="pe")
        except ParseError:
            continue
        check_tidy(frame, origin="fuzz")


TOML = st.recursive(
    st.one_of(st.integers(), st.text(max_size=8), st.booleans(), st.floats(allow_nan=False)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _toml_text(doc: dict) -> str:
    """A crude TOML writer: inline values under top-level keys (good enough to fuzz)."""
    import json

    return "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in doc.items())


@pytest.mark.parametrize("loader", ["rules", "thesis", "mirror"])
@FUZZ
@given(doc=st.dictionaries(st.text(max_size=8), TOML, max_size=4), raw=st.binary(max_size=200))
def test_toml_loaders_load_or_raise_config_error(
    tmp_path: Path, loader: str, doc: dict, raw: bytes
) -> None:
    load = {"rules": load_rules, "thesis": claims.load, "mirror": catalog.mirror_files}[loader]
    for i, content in enumerate((_toml_text(doc).encode(), raw)):
        path = tmp_path / f"fuzz{i}.toml"
        path.write_bytes(content)
        with contextlib.suppress(ConfigError):
            load(path)
