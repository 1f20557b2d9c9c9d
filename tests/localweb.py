"""A local internet for tests: every publisher the default config fetches, on 127.0.0.1.

:class:`LocalWeb` installs on a pytest-httpserver the answers each publisher gives, in its real
response shape, built at test time from the newest capture of each spec in the mirror folder
(``SMALLCAPS_MIRROR``; nothing is copied into the repository):

===========  =================================================================================
``/fred``    FRED's API: ``series``, ``series/observations`` (``limit``/``offset`` pages),
             ``series/release``, ``release/dates``; FRED's 400 body for an unknown series
``/fredgraph``  FRED's keyless CSV route, which refuses scripts (403) as FRED does now
``/french``  Ken French's ``<dataset>_CSV.zip`` (the mirror's zip, or its CSV zipped)
``/ishares``  the holdings CSV at iShares' ajax path
``/shiller``  Shiller's page, linking ``ie_data.xls``, and the workbook
``/nber``    NBER's ``business_cycle_dates.json``
``/yahoo``   Yahoo's cookie, crumb and chart API as yfinance calls them, the host kept as the
             first path segment (:func:`smallcaps.sources.yahoo.redirected_session`)
===========  =================================================================================

A spec the mirror has no file for is answered 404 (FRED: its "series does not exist" 400), as
the publisher answers a name it does not know. :meth:`LocalWeb.env` gives the
``SMALLCAPS_URL_<NAME>`` settings that point the program at the server.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from smallcaps.sources import catalog, ishares, yahoo
from smallcaps.sources.catalog import MirrorFile, Spec

ZONE = "America/New_York"
CRUMB = "local-crumb"
KEY = "abcdefghijklmnopqrstuvwxyz012345"  # FRED keys are 32 lower-case letters and digits
YAHOO_HOSTS = ("query1.finance.yahoo.com", "query2.finance.yahoo.com")
_FREQ = {"D": ("D", "Daily"), "W": ("W", "Weekly"), "M": ("M", "Monthly"),
         "Q": ("Q", "Quarterly"), "A": ("A", "Annual")}  # fmt: skip


def chart(prices: yahoo.Prices, symbol: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Epoch seconds of each bar (09:30 New York, as Yahoo stamps daily bars) and the rest."""
    frame = prices.frame
    opens = (frame.index + pd.Timedelta(hours=9, minutes=30)).tz_localize(ZONE)
    stamps = (opens.tz_convert("UTC").asi8 // 10**9).astype(np.int64)
    close = frame["close"].to_numpy()
    adj = frame["adj_close"].to_numpy() if "adj_close" in frame else close
    # Yahoo's dividend events: the cash each step of adj/close stands for (rounding left out)
    cash = yahoo.implied_dividends(frame["close"], pd.Series(adj, index=frame.index))
    steps = np.flatnonzero(cash.reindex(frame.index).fillna(0.0).to_numpy() > 0)
    dividends = {
        str(stamps[i]): {"amount": float(cash.iloc[i]), "date": int(stamps[i])} for i in steps
    }
    last = int(stamps[-1])
    period = {"timezone": "EDT", "start": last, "end": last + 23400, "gmtoffset": -14400}
    meta = {
        "currency": "USD", "symbol": symbol, "exchangeName": "PCX", "fullExchangeName": "NYSEArca",
        "instrumentType": "ETF", "firstTradeDate": int(stamps[0]), "regularMarketTime": last,
        "hasPrePostMarketData": True, "gmtoffset": -14400, "timezone": "EDT",
        "exchangeTimezoneName": ZONE, "regularMarketPrice": float(close[-1]),
        "chartPreviousClose": float(close[0]), "priceHint": 2, "dataGranularity": "1d",
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }  # fmt: skip

    def column(name: str) -> list[float | None]:
        values = frame[name].to_numpy() if name in frame else close
        return [None if np.isnan(v) else float(v) for v in values]

    body = {
        "meta": meta,
        "events": {"dividends": dividends},
        "quote": {f: column(f) for f in ("open", "high", "low", "close")}
        | {"volume": [None if np.isnan(v) else int(v) for v in frame["volume"].to_numpy()]},
        "adjclose": [None if np.isnan(v) else float(v) for v in adj],
    }
    return stamps, body


def answer(stamps: np.ndarray, body: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
    """The chart JSON for the rows the query selects: ``range`` or ``period1``/``period2``."""
    if "period1" in args or "period2" in args:
        lo, hi = int(args.get("period1", -(2**62))), int(args.get("period2", 2**62))
        rows = np.flatnonzero((stamps >= lo) & (stamps < hi))
    else:
        span = args.get("range", "1mo")
        first = pd.Timestamp(int(stamps[-1]), unit="s")
        if span == "max":
            since = pd.Timestamp.min
        elif span == "1d":
            since = first
        else:  # 5d, 1mo, ... as Yahoo counts them: back from the last bar
            offsets = {"5d": pd.Timedelta(days=5), "1mo": pd.DateOffset(months=1)}
            offsets |= {"3mo": pd.DateOffset(months=3), "1y": pd.DateOffset(years=1)}
            since = first - offsets[span]
        rows = np.flatnonzero(pd.to_datetime(stamps, unit="s") >= since)
    picked = {str(stamps[i]) for i in rows}
    quote = {k: [v[i] for i in rows] for k, v in body["quote"].items()}
    result = {
        "meta": body["meta"] | {"range": args.get("range", "")},
        "timestamp": [int(stamps[i]) for i in rows],
        "events": {
            "dividends": {k: v for k, v in body["events"]["dividends"].items() if k in picked}
        },
        "indicators": {
            "quote": [quote],
            "adjclose": [{"adjclose": [body["adjclose"][i] for i in rows]}],
        },
    }
    return {"chart": {"result": [result], "error": None}}


def newest_captures(root: Path) -> dict[Spec, MirrorFile]:
    """The newest mirror capture of every spec (the file a publisher would serve today)."""
    out: dict[Spec, MirrorFile] = {}
    for f in catalog.mirror_files():  # oldest first within each spec
        if (root / f.path).is_file():
            out[f.spec] = f
    return out


def fred_document(
    rows: list[dict[str, str]], today: str, *, offset: int = 0, limit: int = 100000
) -> dict[str, Any]:
    """A ``series/observations`` answer in FRED's JSON shape (one page of ``rows``)."""
    return {
        "realtime_start": today, "realtime_end": today, "observation_start": "1600-01-01",
        "observation_end": "9999-12-31", "units": "lin", "output_type": 1, "file_type": "json",
        "order_by": "observation_date", "sort_order": "asc", "count": len(rows),
        "offset": offset, "limit": limit, "observations": rows[offset : offset + limit],
    }  # fmt: skip


class LocalWeb:
    """Every publisher's answers for the mirror's newest captures, on one local server.

    Parameters
    ----------
    server : HTTPServer
    root : Path
        The mirror folder.
    today : str
        FRED's real-time day (``realtime_start``/``end`` of its answers).
    release_dates : mapping, optional
        FRED series id to ``(release id, release name, [dates])``: what ``series/release`` and
        ``release/dates`` answer; a series not named has no release (FRED's 400).
    """

    def __init__(
        self,
        server: HTTPServer,
        root: Path,
        *,
        today: str = "2026-09-01",
        release_dates: Mapping[str, tuple[int, str, list[str]]] | None = None,
    ) -> None:
        self.server, self.root, self.today = server, root, today
        self.captures = newest_captures(root)
        self.release_dates = dict(release_dates or {})
        self._fred: dict[str, tuple[list[dict[str, str]], Any]] = {}
        self._charts: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
        self.asked: list[str] = []  # every path asked, in order

    # -- settings ------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """``SMALLCAPS_URL_<NAME>`` for every publisher, aimed at this server."""
        base = self.server.url_for("").rstrip("/")
        names = ("fred", "fredgraph", "french", "ishares", "shiller", "nber", "yahoo")
        urls = {n: f"{base}/{n}" for n in names}
        urls["fredgraph"] += "/graph/fredgraph.csv?id={series_id}"
        urls["shiller"] += "/"
        return {f"SMALLCAPS_URL_{n.upper()}": u for n, u in urls.items()}

    def install(self) -> LocalWeb:
        """Answer every publisher's paths on the server (call once)."""
        routes = {"/fred/": self._fred_api, "/fredgraph/": self._fredgraph,
                  "/french/": self._french, "/ishares/": self._ishares,
                  "/shiller/": self._shiller, "/nber/": self._nber,
                  "/yahoo/": self._yahoo}  # fmt: skip

        def handle(request: Request) -> Response:
            self.asked.append(request.path)
            for prefix, answer in routes.items():
                if request.path.startswith(prefix):
                    return answer(request, request.path.removeprefix(prefix.rstrip("/")))
            return Response("not found", status=404)

        self.server.expect_request(re.compile(".*")).respond_with_handler(handle)
        return self

    def _capture(self, kind: str, name: str) -> MirrorFile | None:
        return self.captures.get(Spec(kind, name))

    # -- FRED ----------------------------------------------------------------------------------

    def _fred_rows(self, series_id: str) -> tuple[list[dict[str, str]], Any] | None:
        if series_id not in self._fred:
            f = self._capture("fred", series_id)
            if f is None:
                return None
            tidy = catalog.parse_mirror(f, catalog.mirror_payload(f, self.root))
            frame = tidy.frame
            rows = [
                {"realtime_start": self.today, "realtime_end": self.today,
                 "date": f"{d:%Y-%m-%d}", "value": "." if np.isnan(v) else repr(float(v))}
                for d, v in zip(frame["date"], frame["value"], strict=True)
            ]  # fmt: skip
            self._fred[series_id] = (rows, tidy.meta[series_id])
        return self._fred[series_id]

    def _fred_api(self, request: Request, path: str) -> Response:
        args = request.args
        if args.get("api_key") != KEY:
            body = {"error_code": 400, "error_message": "Bad Request.  The value for variable "
                    "api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/"
                    "api_key.html for more information."}  # fmt: skip
            return _json(body, 400)
        if path == "/release/dates":
            rid = int(args.get("release_id", "0"))
            found = [v for v in self.release_dates.values() if v[0] == rid]
            if not found:
                return _json({"error_code": 400, "error_message": "Bad Request.  The release "
                              "does not exist."}, 400)  # fmt: skip
            dates = found[0][2]
            limit = min(int(args.get("limit", 10000)), 10000)
            offset = int(args.get("offset", 0))
            doc = {
                "realtime_start": self.today, "realtime_end": self.today,
                "order_by": "release_date", "sort_order": "asc", "count": len(dates),
                "offset": offset, "limit": limit,
                "release_dates": [{"release_id": rid, "date": d}
                                  for d in dates[offset : offset + limit]],
            }  # fmt: skip
            return _json(doc)
        sid = args.get("series_id", "")
        got = self._fred_rows(sid)
        missing = {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
        if got is None:
            return _json(missing, 400)
        rows, meta = got
        if path == "/series/observations":
            limit = min(int(args.get("limit", 100000)), 100000)
            offset = int(args.get("offset", 0))
            return _json(fred_document(rows, self.today, offset=offset, limit=limit))
        if path == "/series":
            short, word = _FREQ[meta.frequency]
            units = "Percent" if meta.units == "percent" else meta.units
            item = {
                "id": sid, "realtime_start": self.today, "realtime_end": self.today,
                "title": meta.title, "observation_start": rows[0]["date"],
                "observation_end": rows[-1]["date"], "frequency": word,
                "frequency_short": short, "units": units, "units_short": units,
                "seasonal_adjustment": "Not Seasonally Adjusted",
                "seasonal_adjustment_short": "NSA",
                "last_updated": f"{self.today} 07:01:02-05", "popularity": 80,
            }  # fmt: skip
            return _json({"realtime_start": self.today, "realtime_end": self.today,
                          "seriess": [item]})  # fmt: skip
        if path == "/series/release":
            if sid not in self.release_dates:
                return _json(missing, 400)
            rid, name, _ = self.release_dates[sid]
            release = {"id": rid, "realtime_start": self.today, "realtime_end": self.today,
                       "name": name, "press_release": True}  # fmt: skip
            return _json({"realtime_start": self.today, "realtime_end": self.today,
                          "releases": [release]})  # fmt: skip
        return Response("not found", status=404)

    def _fredgraph(self, request: Request, path: str) -> Response:
        return Response("<html><title>403 Forbidden</title></html>", status=403,
                        content_type="text/html")  # fmt: skip

    # -- Ken French, iShares, Shiller, NBER ----------------------------------------------------

    def _french(self, request: Request, path: str) -> Response:
        name = path.lstrip("/").removesuffix("_CSV.zip")
        f = self._capture("french", name)
        if f is None or not path.endswith("_CSV.zip"):
            return Response("not found", status=404)
        data = (self.root / f.path).read_bytes()
        if not data.startswith(b"PK"):  # a CSV in the mirror: French serves it zipped
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(f"{name}.csv", data)
            data = buf.getvalue()
        return Response(data, content_type="application/x-zip-compressed")

    def _ishares(self, request: Request, path: str) -> Response:
        fund = request.args.get("fileName", "").removesuffix("_holdings")
        known = ishares.FUNDS.get(fund)
        f = self._capture("ishares", fund)
        if (
            known is None
            or f is None
            or path != f"/{known.product_id}/{known.slug}/1467271812596.ajax"
        ):
            return Response("not found", status=404)
        return Response((self.root / f.path).read_bytes(), content_type="text/csv")

    def _shiller(self, request: Request, path: str) -> Response:
        f = self._capture("shiller", "ie_data")
        if f is None:
            return Response("not found", status=404)
        if path == "/":
            page = ('<html><body><a href="downloads/ie_data.xls?ver=1">U.S. Stock Markets '
                    "1871-Present and CAPE Ratio</a></body></html>")  # fmt: skip
            return Response(page, content_type="text/html")
        if path == "/downloads/ie_data.xls":
            data = (self.root / f.path).read_bytes()
            return Response(data, content_type="application/vnd.ms-excel")
        return Response("not found", status=404)

    def _nber(self, request: Request, path: str) -> Response:
        f = self._capture("events", "nber")
        if f is None or path != "/business_cycle_dates.json":
            return Response("not found", status=404)
        table = pd.read_csv(self.root / f.path, dtype=str, keep_default_na=False)
        return _json(table.to_dict(orient="records"))

    # -- Yahoo through yfinance ----------------------------------------------------------------

    def _yahoo(self, request: Request, path: str) -> Response:
        host, _, rest = path.lstrip("/").partition("/")
        if host == "fc.yahoo.com":
            return Response("", status=200)
        if host in YAHOO_HOSTS and rest == "v1/test/getcrumb":
            return Response(CRUMB, content_type="text/plain")
        if host in YAHOO_HOSTS and rest.startswith("v8/finance/chart/"):
            symbol = rest.removeprefix("v8/finance/chart/")
            if symbol not in self._charts:
                f = self._capture("yahoo", symbol)
                if f is None:
                    body = {"chart": {"result": None, "error": {
                        "code": "Not Found", "description": "No data found, symbol may be "
                        "delisted"}}}  # fmt: skip
                    return _json(body, 404)
                data = (self.root / f.path).read_bytes()
                prices = yahoo.parse(data, origin=f.path, ticker=symbol)
                self._charts[symbol] = chart(prices, symbol)
            stamps, body = self._charts[symbol]
            return _json(answer(stamps, body, dict(request.args)))
        return Response("not found", status=404)


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json")
