"""The five Analytics I measurements on the full mirror, checked against the files read by hand.

Each figure is recomputed from the publisher's file with plain Python/pandas (no smallcaps
parser), or checked against a second measurement of the same thing. Timings live in
bench/measures.py.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.registry import MemoryView

NAMES = ("size.cycles", "size.premium", "valuation.gap", "concentration.top", "vehicle.tracking")
SPECS = (
    "french:Portfolios_Formed_on_ME", "french:F-F_Research_Data_Factors",
    "french:25_Portfolios_5x5", "shiller:ie_data", "ishares:IVV", "yahoo:IWM", "yahoo:SPY",
    "yahoo:^RUT", "yahoo:RSP", "yahoo:AAPL", "yahoo:MSFT", "yahoo:NVDA", "yahoo:AMZN",
    "yahoo:GOOGL", "yahoo:GOOG", "yahoo:META", "yahoo:TSLA",
)  # fmt: skip


def first_monthly_block(text: str, header_start: str) -> pd.DataFrame:
    """The first table of a French CSV whose header starts with ``header_start``, in decimals.

    Rows run while the first cell is a ``YYYYMM`` month; the index is the month end.
    """
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    cols = [c.strip() for c in lines[at].split(",")][1:]
    rows = []
    for line in lines[at + 1 :]:
        cells = [c.strip() for c in line.split(",")]
        if not (len(cells[0]) == 6 and cells[0].isdigit()):
            break
        rows.append(cells)
    index = pd.to_datetime([r[0] for r in rows], format="%Y%m") + pd.offsets.MonthEnd(0)
    return pd.DataFrame([[float(x) / 100 for x in r[1:]] for r in rows], index, cols)


@pytest.fixture(scope="module")
def results(data) -> dict[str, registry.Result]:
    view = MemoryView(data)
    return {name: registry.run(name, view) for name in NAMES}


def test_all_five_say_what_they_are_in_plain_json(results) -> None:
    for name, result in results.items():
        doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert doc["measure"] == name and doc["sources"], name


def test_relative_wealth_and_cycle_moves_by_hand(results, data_dir: Path) -> None:
    text = (data_dir / "french" / "Portfolios_Formed_on_ME.csv").read_text()
    vw = first_monthly_block(text, ",<= 0")  # value-weighted monthly returns
    wealth = (1 + vw["Lo 20"]).cumprod() / (1 + vw["Hi 20"]).cumprod()
    got = results["size.cycles"]
    doc = got.to_dict()
    assert doc["first_date"] == f"{wealth.index[0]:%Y-%m-%d}"
    assert doc["last_date"] == f"{wealth.index[-1]:%Y-%m-%d}"
    assert doc["relative_wealth_last"] == pytest.approx(wealth.iloc[-1], rel=1e-9)
    # every completed leg's move is the hand-made wealth at its end over its start
    assert len(got.cycles) > 10
    for leg in got.cycles.itertuples():
        assert leg.move == pytest.approx(wealth[leg.end] / wealth[leg.start] - 1, rel=1e-9)
        assert (leg.move > 0) == (leg.leader == "small")  # small caps lead when it rises
        assert abs(leg.move) >= got.threshold / (1 + got.threshold) - 1e-12  # a real reversal


def test_smb_full_sample_mean_by_hand(results, data_dir: Path) -> None:
    with zipfile.ZipFile(data_dir / "french" / "F-F_Research_Data_Factors_CSV.zip") as z:
        text = io.TextIOWrapper(z.open(z.namelist()[0]), encoding="latin-1").read()
    smb = first_monthly_block(text, ",Mkt-RF")["SMB"]
    full = results["size.premium"].full("SMB")
    assert full["n"] == len(smb) and full["start"] == smb.index[0] and full["end"] == smb.index[-1]
    assert full["mean"] == pytest.approx(12 * smb.mean(), rel=1e-9)
    assert full["vol"] == pytest.approx(math.sqrt(12) * smb.std(ddof=1), rel=1e-9)
    assert full["positive"] == pytest.approx((smb > 0).mean(), rel=1e-12)


def test_concentration_adds_up_and_spy_return_by_hand(results, data_dir: Path) -> None:
    got = results["concentration.top"]
    assert got.share == pytest.approx(got.table["share"].sum(), rel=1e-12)
    contribution = got.table["weight_start"] * got.table["return"]
    assert got.table["contribution"].to_numpy() == pytest.approx(contribution.to_numpy())
    assert got.share == pytest.approx(got.table["contribution"].sum() / got.index_return)
    spy = pd.read_csv(data_dir / "prices" / "yf_ohlcv_2026-06" / "SPY.csv", index_col="Date",
                      parse_dates=True)["Close"]  # fmt: skip
    by_hand = spy[: got.end].iloc[-1] / spy[: got.start].iloc[-1] - 1
    assert got.index_return == pytest.approx(by_hand, rel=1e-6)  # adjusted closes, one capture


def test_trailing_year_of_iwm_agrees_with_returns_window_and_the_file(
    results, data, data_dir: Path
) -> None:
    row = results["vehicle.tracking"].to_dict()["trailing"][0]
    assert row["series"] == "IWM"
    window = registry.run("returns.window", MemoryView(data), series=("price/IWM/adj_close",),
                          start=row["1y_from"], end=row["date"])  # fmt: skip
    assert window.ret == pytest.approx(row["1y"], rel=1e-12)
    iwm = pd.read_csv(data_dir / "prices" / "yf_ohlcv_2026-06" / "IWM.csv", index_col="Date",
                      parse_dates=True)["Close"]  # fmt: skip
    by_hand = iwm[row["date"]] / iwm[row["1y_from"]] - 1
    assert row["1y"] == pytest.approx(by_hand, rel=1e-9)


def test_valuation_discount_is_the_gap_in_price_terms(results) -> None:
    got = results["valuation.gap"]
    frame = got.gap.to_frame()
    last = frame.iloc[-1]
    assert got.discount == pytest.approx(1 - math.exp(-last["gap"]), rel=1e-12)
    assert got.gap.percentile == pytest.approx((frame["gap"] <= last["gap"]).mean(), rel=1e-12)
    assert got.gap.wide_since <= got.gap.date and 0 < got.gap.percentile <= 1
