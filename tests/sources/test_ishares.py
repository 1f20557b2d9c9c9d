"""iShares holdings CSVs: known weights and counts from the real IVV and IJR files, fetch."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
import pandas as pd
import pytest

from smallcaps.errors import FetchError, ParseError, UnknownSeriesError
from smallcaps.sources import ishares

NO_WAIT = {"sleep": lambda _s: None}
MAG7 = ("NVDA", "AAPL", "MSFT", "AMZN", "GOOGL", "GOOG", "META", "TSLA")
IVV_NAME = "IVV_holdings_2026-06-19.csv"
IJR_NAME = "IJR_holdings_2026-06-19.csv"


@pytest.fixture(scope="module")
def ivv_bytes(data_dir: Path) -> bytes:
    return (data_dir / "valuation" / IVV_NAME).read_bytes()


@pytest.fixture(scope="module")
def ijr_bytes(data_dir: Path) -> bytes:
    return (data_dir / "valuation" / IJR_NAME).read_bytes()


@pytest.fixture(scope="module")
def ivv(ivv_bytes: bytes) -> ishares.Holdings:
    return ishares.parse(ivv_bytes, origin=IVV_NAME)


@pytest.fixture(scope="module")
def ijr(ijr_bytes: bytes) -> ishares.Holdings:
    return ishares.parse(ijr_bytes, origin=IJR_NAME)


def test_ivv_preamble_and_counts(ivv: ishares.Holdings) -> None:
    assert ivv.fund == "IVV"  # recognised from the fund name on line 1
    assert ivv.fund_name == "iShares Core S&P 500 ETF"
    assert ivv.as_of == pd.Timestamp("2026-06-19")
    assert len(ivv.frame) == 508  # 504 equities, cash, collateral, money market, futures
    assert len(ivv.equities) == 504
    assert ivv.frame["asset_class"].value_counts().to_dict() == {
        "Equity": 504,
        "Money Market": 1,
        "Cash": 1,
        "Cash Collateral and Margins": 1,
        "Futures": 1,
    }
    assert list(ivv.frame.columns) == list(ishares.COLUMNS)


@pytest.mark.parametrize(
    ("ticker", "percent"),
    [
        ("NVDA", 7.90),
        ("AAPL", 6.78),
        ("MSFT", 4.37),
        ("AMZN", 3.71),
        ("GOOGL", 3.34),
        ("GOOG", 2.69),
        ("META", 1.96),
        ("TSLA", 1.75),
    ],
)
def test_ivv_mag7_weights(ivv: ishares.Holdings, ticker: str, percent: float) -> None:
    assert ivv.weight(ticker) == pytest.approx(percent / 100)


def test_ivv_mag7_total_and_first_last_lines(ivv: ishares.Holdings) -> None:
    assert ivv.weight(*MAG7) == pytest.approx(0.325)
    first, last = ivv.frame.iloc[0], ivv.frame.iloc[-1]
    assert (first["ticker"], first["name"], first["sector"]) == (
        "NVDA",
        "NVIDIA CORP",
        "Information Technology",
    )
    assert first["market_value"] == pytest.approx(66_485_993_542.11)
    assert first["quantity"] == 315_563_119.0 and first["price"] == 210.69
    assert (last["ticker"], last["asset_class"]) == ("ESU6", "Futures")
    assert last["notional_value"] == pytest.approx(980_412_125.00) and last["weight"] == 0.0
    assert last["location"] is None  # "-" placeholder
    assert math.isnan(first["notional_weight"])  # IVV has no Notional Weight column
    assert ivv.frame["weight"].sum() == pytest.approx(0.9987)


def test_ijr_header_by_name(ijr: ishares.Holdings) -> None:
    assert ijr.fund == "IJR" and ijr.as_of == pd.Timestamp("2026-06-19")
    assert len(ijr.frame) == 665 and len(ijr.equities) == 657
    form = ijr.frame.iloc[0]
    assert (form["ticker"], form["type"], form["weight"], form["notional_weight"]) == (
        "FORM",
        "EQUITY",
        pytest.approx(0.0066),
        pytest.approx(0.0065),
    )
    xtsla = ijr.frame.iloc[-1]  # money market: market weight 1.50, notional weight -0.37
    assert xtsla["ticker"] == "XTSLA" and xtsla["asset_class"] == "Money Market"
    assert xtsla["weight"] == pytest.approx(0.015)
    assert xtsla["notional_weight"] == pytest.approx(-0.0037)
    types = ijr.equities["type"].value_counts().to_dict()
    assert types == {"EQUITY": 604, "SWAP": 51, "WARRANT": 2}
    warrants = ijr.frame[ijr.frame["type"] == "WARRANT"]
    assert warrants["ticker"].isna().all()  # ticker "-"
    cash = ijr.frame[ijr.frame["ticker"] == "CASH"]  # Pathward Financial, a stock
    assert set(cash["asset_class"]) == {"Equity"} and set(cash["type"]) == {"EQUITY", "SWAP"}
    assert ijr.weight("CASH") == pytest.approx(0.0010)  # the swap line has no market weight
    with pytest.raises(UnknownSeriesError, match="unknown IJR holding 'USD'"):
        ijr.weight("USD")  # cash is not an equity line


def test_tidy_ivv(ivv_bytes: bytes) -> None:
    tidy = ishares.tidy(ivv_bytes, origin=IVV_NAME, fund="IVV")
    assert len(tidy.meta) == 504
    assert set(tidy.frame["date"]) == {pd.Timestamp("2026-06-19")}
    w = tidy.frame.set_index("series_id")["value"]
    assert w["ishares/IVV/weight/NVDA"] == pytest.approx(0.079)
    assert w["ishares/IVV/weight/GOOG"] == pytest.approx(0.0269)  # GOOG and GOOGL apart
    assert w["ishares/IVV/weight/GOOGL"] == pytest.approx(0.0334)
    assert sum(w[f"ishares/IVV/weight/{t}"] for t in MAG7) == pytest.approx(0.325)
    assert "ishares/IVV/weight/USD" not in w and "ishares/IVV/weight/ESU6" not in w
    meta = tidy.meta["ishares/IVV/weight/NVDA"]
    assert meta.units.startswith("decimal weight") and meta.publisher_units == "percent"
    assert meta.publisher_vintage == "2026-06-19" and "Information Technology" in meta.notes


def test_tidy_ijr_leaves_out_swaps_and_unweighted_lines(ijr_bytes: bytes) -> None:
    tidy = ishares.tidy(ijr_bytes, origin=IJR_NAME, fund="IJR")
    # 604 share lines, of which VITL, PRAA and CABO have weight "-"; 51 swaps, 2 warrants
    assert len(tidy.meta) == 601
    w = tidy.frame.set_index("series_id")["value"]
    assert w["ishares/IJR/weight/CASH"] == pytest.approx(0.0010)  # the share line, not the swap
    assert w["ishares/IJR/weight/JXN"] == pytest.approx(0.0017)
    assert "ishares/IJR/weight/VITL" not in w
    assert w.sum() == pytest.approx(0.9774)


def test_fund_from_origin_and_mismatch(ivv_bytes: bytes) -> None:
    renamed = ivv_bytes.replace(b"iShares Core S&P 500 ETF", b"Some Other Fund", 1)
    assert ishares.parse(renamed, origin="x/IVV_holdings.csv").fund == "IVV"
    with pytest.raises(ParseError, match=r"cannot tell which fund 'Some Other Fund'.*fund="):
        ishares.parse(renamed, origin="holdings.csv")
    with pytest.raises(ParseError, match=r"holds 'iShares Core S&P 500 ETF' \(IVV\), not IJR"):
        ishares.parse(ivv_bytes, origin=IVV_NAME, fund="IJR")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda ls: [ls[0], *ls[2:]], "no 'Fund Holdings as of' line"),
        (lambda ls: [*ls[:9], *ls[10:]], "no header line starting with 'Ticker'"),
        (
            lambda ls: [*ls[:9], ls[9].replace(b"Weight (%)", b"Wt"), *ls[10:]],
            r"line 10: no column 'Weight \(%\)' or 'Market Weight'",
        ),
        (
            lambda ls: [*ls[:10], ls[10].replace(b'"7.90"', b'"7.9O"'), *ls[11:]],
            r"line 11, field 'Weight \(%\)': cannot read '7.9O' as a number",
        ),
        (
            lambda ls: [*ls[:11], ls[11].replace(b',"NASDAQ"', b""), *ls[12:]],
            r"line 12: expected 15 fields as in the header, found 14",
        ),
        (lambda ls: ls[:10], "no holdings under the header"),
    ],
)
def test_changed_file_names_line_and_field(ivv_bytes: bytes, edit, needle: str) -> None:
    data = b"\n".join(edit(_lines(ivv_bytes)))
    with pytest.raises(ParseError, match=needle) as info:
        ishares.parse(data, origin=IVV_NAME, fund="IVV")
    assert info.value.origin == IVV_NAME


def test_weight_of_unknown_ticker(ivv: ishares.Holdings) -> None:
    with pytest.raises(UnknownSeriesError, match="did you mean 'NVDA'"):
        ivv.weight("NVDAA")
    assert str(ivv) == "IVV holdings as of 2026-06-19: 504 equity lines, largest NVDA 7.90%"


def test_url_table() -> None:
    assert set(ishares.FUNDS) == {"IVV", "IJR", "IWM"}
    iwm = ishares.FUNDS["IWM"]
    url = ishares.URL.format(fund="IWM", product_id=iwm.product_id, slug=iwm.slug)
    assert url == (
        "https://www.ishares.com/us/products/239710/ishares-russell-2000-etf/"
        "1467271812596.ajax?fileType=csv&fileName=IWM_holdings&dataType=fund"
    )


def test_fetch_retries_then_parses_the_same(httpserver, ijr_bytes, ijr) -> None:
    path = "/us/products/239774/ishares-core-sp-smallcap-etf/1467271812596.ajax"
    httpserver.expect_oneshot_request(path).respond_with_data("busy", status=500)
    httpserver.expect_request(
        path, query_string={"fileType": "csv", "fileName": "IJR_holdings", "dataType": "fund"}
    ).respond_with_data(ijr_bytes, content_type="text/csv")
    url = ishares.URL.replace("https://www.ishares.com", httpserver.url_for("").rstrip("/"))
    with httpx.Client() as client:
        payload = ishares.fetch("ijr", client=client, url=url, **NO_WAIT)
    assert "fileName=IJR_holdings" in payload.url and payload.source == "ishares"
    got = ishares.parse(payload.data, origin=payload.url)  # fund found from the name
    assert got.fund == "IJR" and got.as_of == ijr.as_of
    pd.testing.assert_frame_equal(got.frame, ijr.frame)


def test_fetch_html_page_is_a_parse_error(httpserver) -> None:
    page = b"<html><head><title>iShares | Page Not Found</title></head><body></body></html>"
    httpserver.expect_request("/ivv").respond_with_data(page, content_type="text/html")
    with httpx.Client() as client:
        payload = ishares.fetch("IVV", client=client, url=httpserver.url_for("/ivv"), **NO_WAIT)
    with pytest.raises(ParseError, match=re.escape("HTML page titled 'iShares | Page Not Found'")):
        ishares.parse(payload.data, origin=payload.url, fund="IVV")


def test_fetch_unknown_fund_and_404(httpserver) -> None:
    with httpx.Client() as client, pytest.raises(UnknownSeriesError, match=r"'IWN'.*'IWM'"):
        ishares.fetch("IWN", client=client)
    httpserver.expect_request("/x").respond_with_data("gone", status=404)
    with httpx.Client() as client, pytest.raises(FetchError, match="HTTP 404"):
        ishares.fetch("IWN", client=client, url=httpserver.url_for("/x"), **NO_WAIT)
