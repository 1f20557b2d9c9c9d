"""Size premium: SMB mean and Newey-West t by a plain loop on the zip's CSV; periods; rolling."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcaps.analytics.premium import (
    mean_test,
    newey_west_lags,
    parse_period,
    size_premium,
)
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.sources import french


def smb_rows(path: Path) -> list[tuple[str, float]]:
    """Monthly SMB (decimal) from the factors zip: the first table, read with csv alone."""
    with zipfile.ZipFile(path) as zf:
        text = zf.read(zf.namelist()[0]).decode("ascii")
    rows = list(csv.reader(io.StringIO(text)))
    head = next(i for i, r in enumerate(rows) if r and r[0].strip() == "" and "SMB" in r[1:])
    col = [c.strip() for c in rows[head]].index("SMB")
    out = []
    for r in rows[head + 1 :]:
        if not r or not r[0].strip().isdigit() or len(r[0].strip()) != 6:
            break
        out.append((r[0].strip(), float(r[col]) / 100.0))
    return out


def nw_t(values: list[float], lags: int) -> float:
    """Mean over its Newey-West (Bartlett) standard error, by loops."""
    n = len(values)
    mean = sum(values) / n
    e = [v - mean for v in values]
    s = sum(x * x for x in e) / n
    for lag in range(1, lags + 1):
        gamma = sum(e[t] * e[t - lag] for t in range(lag, n)) / n
        s += 2.0 * (1.0 - lag / (lags + 1.0)) * gamma
    return mean / math.sqrt(s / n)


@pytest.fixture(scope="module")
def factors(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "french" / "F-F_Research_Data_Factors_CSV.zip"
    return french.parse(path.read_bytes(), origin=path.name).tables["Monthly"].frame


def test_smb_mean_and_newey_west_t_full_sample(data_dir: Path, factors) -> None:
    rows = smb_rows(data_dir / "french" / "F-F_Research_Data_Factors_CSV.zip")
    assert rows[0][0] == "192607"
    values = [v for _, v in rows]
    n = len(values)
    lags = math.floor(4 * (n / 100) ** (2 / 9))
    got = size_premium(factors[["SMB"]]).full("SMB")
    assert got["n"] == n
    assert f"{got['start']:%Y%m}" == "192607" and f"{got['end']:%Y%m}" == rows[-1][0]
    assert got["mean"] == pytest.approx(12 * sum(values) / n, rel=1e-12)
    assert got["lags"] == lags
    assert got["t_nw"] == pytest.approx(nw_t(values, lags), rel=1e-9)
    sd = math.sqrt(sum((v - sum(values) / n) ** 2 for v in values) / (n - 1))
    assert got["vol"] == pytest.approx(sd * math.sqrt(12), rel=1e-12)


def test_sub_periods_and_rolling_window(factors) -> None:
    periods = [parse_period("1982-01:1999-12"), parse_period("2000-01:")]
    got = size_premium(factors[["SMB"]], periods=periods, window=120)
    rows = got.table.set_index("period")
    assert rows.loc["1982-01:1999-12", "n"] == 18 * 12
    assert f"{rows.loc['2000-01:', 'start']:%Y-%m}" == "2000-01"
    smb = factors["SMB"]
    sub = smb.loc["1982-01-01":"1999-12-31"].tolist()
    assert rows.loc["1982-01:1999-12", "t_nw"] == pytest.approx(
        nw_t(sub, newey_west_lags(len(sub))), rel=1e-9
    )
    last10 = smb.iloc[-120:].tolist()
    assert got.rolling["SMB"].iloc[-1] == pytest.approx(12 * sum(last10) / 120, rel=1e-9)
    assert got.rolling["SMB"].iloc[:119].isna().all()
    assert "SMB" in got.summary()
    d = got.to_dict()
    assert d["rolling_last"]["SMB"]["mean"] == pytest.approx(got.rolling["SMB"].iloc[-1])


def test_bad_periods_are_clear_errors(factors) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM:YYYY-MM"):
        parse_period("1982-01")
    with pytest.raises(ConfigError, match="starts after it ends"):
        size_premium(factors[["SMB"]], periods=[("2000-01", "1990-01")])
    with pytest.raises(InsufficientDataError, match="period 2030-01:"):
        size_premium(factors[["SMB"]], periods=[("2030-01", None)])
    with pytest.raises(ConfigError, match="window"):
        size_premium(factors[["SMB"]], window=1)
    with pytest.raises(ConfigError, match="lags"):
        mean_test(factors["SMB"], lags=-2)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-0.1, 0.1), min_size=30, max_size=200),
    st.sampled_from([0.5, 2.0, 10.0]),
)
def test_t_is_scale_free_and_mean_scales(values: list[float], c: float) -> None:
    r = pd.Series(values, pd.date_range("1990-01-31", periods=len(values), freq="ME"))
    m1, t1, _ = mean_test(r)
    m2, t2, _ = mean_test(r * c)
    assert m2 == pytest.approx(c * m1, rel=1e-9, abs=1e-15)
    if np.isnan(t1):
        assert np.isnan(t2)
    else:
        assert t2 == pytest.approx(t1, rel=1e-6, abs=1e-9)


def test_constant_returns_have_no_t() -> None:
    r = pd.Series(0.01, pd.date_range("1990-01-31", periods=40, freq="ME"))
    mean, t, _ = mean_test(r)
    assert mean == pytest.approx(0.01) and np.isnan(t)
