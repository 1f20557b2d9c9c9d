"""The shared HTTP layer: retries, backoff, faults, masking; against a local server."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from datetime import UTC, datetime

import httpx
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from smallcaps.errors import STORE_UNCHANGED, AuthError, FetchError, ParseError, RateLimitError
from smallcaps.sources import _http
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame, reject_html, unzip_single


class Sleeps(list[float]):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def client() -> httpx.Client:
    with _http.make_client(timeout=2.0) as c:
        yield c


def test_200_returns_payload_with_hash_and_user_agent(httpserver: HTTPServer, client) -> None:
    httpserver.expect_request("/a.csv", headers={"User-Agent": _http.USER_AGENT}).respond_with_data(
        b"x,y\n1,2\n"
    )
    p = _http.get(client, "test", httpserver.url_for("/a.csv"))
    assert p.data == b"x,y\n1,2\n" and p.source == "test"
    assert p.sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()


def test_500_then_success_retries_with_doubling_backoff(httpserver: HTTPServer, client) -> None:
    httpserver.expect_ordered_request("/r").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/r").respond_with_data("oops", status=502)
    httpserver.expect_ordered_request("/r").respond_with_data("ok")
    sleeps = Sleeps()
    p = _http.get(client, "test", httpserver.url_for("/r"), backoff=0.5, sleep=sleeps)
    assert p.data == b"ok"
    assert sleeps == [0.5, 1.0]


def test_persistent_500_is_fetch_error_naming_url_and_status(
    httpserver: HTTPServer, client
) -> None:
    httpserver.expect_request("/p").respond_with_data("oops", status=500)
    sleeps = Sleeps()
    url = httpserver.url_for("/p")
    with pytest.raises(FetchError, match="HTTP 500") as info:
        _http.get(client, "fred", url, retries=2, sleep=sleeps)
    assert url in str(info.value) and str(info.value).startswith("fred: ")
    assert str(info.value).endswith(STORE_UNCHANGED)
    assert info.value.status == 500 and len(sleeps) == 2


def test_timeout_is_fetch_error_naming_url(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    url = httpserver.url_for("/slow")
    with (
        _http.make_client(timeout=0.05) as fast,
        pytest.raises(FetchError, match="timed out") as info,
    ):
        _http.get(fast, "test", url, retries=1, sleep=Sleeps())
    assert url in str(info.value)


def test_connection_refused_is_fetch_error() -> None:
    with _http.make_client(timeout=0.5) as c, pytest.raises(FetchError, match="could not connect"):
        _http.get(c, "test", "http://127.0.0.1:9/none", retries=0)


def test_empty_body_is_an_error(httpserver: HTTPServer, client) -> None:
    httpserver.expect_request("/e").respond_with_data(b"  \n")
    with pytest.raises(FetchError, match="empty body"):
        _http.get(client, "test", httpserver.url_for("/e"))


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refusal_is_not_retried(httpserver: HTTPServer, client, status: int) -> None:
    httpserver.expect_request("/k").respond_with_data(
        "<html><h1>Forbidden</h1></html>", status=status
    )
    sleeps = Sleeps()
    with pytest.raises(AuthError, match=f"HTTP {status}.*Forbidden"):
        _http.get(client, "test", httpserver.url_for("/k"), sleep=sleeps)
    assert sleeps == []


def test_404_quotes_the_body_and_is_not_retried(httpserver: HTTPServer, client) -> None:
    httpserver.expect_request("/api").respond_with_json(
        {"error_code": 400, "error_message": "Bad Request. The series does not exist."}, status=400
    )
    with pytest.raises(FetchError, match="series does not exist") as info:
        _http.get(client, "fred", httpserver.url_for("/api"), sleep=Sleeps())
    assert info.value.status == 400


def test_429_honours_retry_after_then_gives_rate_limit_error(
    httpserver: HTTPServer, client
) -> None:
    httpserver.expect_request("/t").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3"}
    )
    sleeps = Sleeps()
    with pytest.raises(RateLimitError, match="rate limited"):
        _http.get(client, "test", httpserver.url_for("/t"), retries=2, backoff=0.1, sleep=sleeps)
    assert sleeps == [3.0, 3.0]


def test_429_with_huge_retry_after_fails_fast(httpserver: HTTPServer, client) -> None:
    httpserver.expect_request("/t").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    sleeps = Sleeps()
    with pytest.raises(RateLimitError, match="retry after 3600 s"):
        _http.get(client, "test", httpserver.url_for("/t"), sleep=sleeps)
    assert sleeps == []


def test_api_keys_are_masked_in_payload_and_errors(httpserver: HTTPServer, client) -> None:
    httpserver.expect_request("/obs").respond_with_data("a")
    p = _http.get(
        client, "fred", httpserver.url_for("/obs"), params={"api_key": "SECRET123", "x": 1}
    )
    assert "SECRET123" not in p.url and "api_key=***" in p.url and "x=1" in p.url
    httpserver.expect_request("/bad").respond_with_data("no", status=500)
    with pytest.raises(FetchError) as info:
        _http.get(
            client, "fred", httpserver.url_for("/bad"), params={"api_key": "SECRET123"}, retries=0
        )
    assert "SECRET123" not in str(info.value)


def test_reject_html_quotes_the_title() -> None:
    page = b"\n  <!DOCTYPE html><html><head><title>Sign in</title></head><body>x</body></html>"
    with pytest.raises(ParseError, match="HTML page titled 'Sign in' where CSV was expected"):
        reject_html(page, "https://example.org/f.csv")
    reject_html(b"Date,Value\n2020-01-01,1\n", "ok.csv")  # a CSV passes


def test_unzip_single_rejects_truncated_archive() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("F.csv", "a,b\n" * 5000)
    whole = buf.getvalue()
    assert unzip_single(whole, "f.zip") == b"a,b\n" * 5000
    with pytest.raises(ParseError, match="truncated"):
        unzip_single(whole[: len(whole) // 2], "https://host/f.zip")


def test_tidy_rejects_duplicates_and_mismatched_meta() -> None:
    idx = pd.to_datetime(["2020-01-01", "2020-01-01"])
    meta = {"X": SeriesMeta("X", "t", "X", "percent", "D")}
    with pytest.raises(ParseError, match="duplicate date 2020-01-01 in 'X'"):
        Tidy(long_frame("X", idx, [1.0, 2.0]), meta)
    ok = long_frame("X", idx[:1], [1.0])
    with pytest.raises(ValueError, match="missing \\['X'\\]"):
        Tidy(ok, {})
    assert Tidy(ok, meta).series("X").iloc[0] == 1.0
    assert isinstance(Payload("s", "u", b"d").sha256, str)


FIXED = datetime(2026, 8, 21, 14, 0, 0, tzinfo=UTC)


def test_429_with_retry_after_as_an_http_date_waits_until_then(
    httpserver: HTTPServer, client
) -> None:
    headers = {"Retry-After": "Fri, 21 Aug 2026 14:00:07 GMT"}
    httpserver.expect_ordered_request("/d").respond_with_data("busy", status=429, headers=headers)
    httpserver.expect_ordered_request("/d").respond_with_data("ok")
    sleeps = Sleeps()
    p = _http.get(client, "test", httpserver.url_for("/d"), backoff=0.5, sleep=sleeps,
                  now=lambda: FIXED)  # fmt: skip
    assert p.data == b"ok" and sleeps == [7.0]


def test_429_with_a_far_http_date_fails_fast(httpserver: HTTPServer, client) -> None:
    headers = {"Retry-After": "Fri, 21 Aug 2026 15:00:00 GMT"}
    httpserver.expect_request("/f").respond_with_data("busy", status=429, headers=headers)
    sleeps = Sleeps()
    with pytest.raises(RateLimitError, match="retry after 3600 s"):
        _http.get(client, "test", httpserver.url_for("/f"), sleep=sleeps, now=lambda: FIXED)
    assert sleeps == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("Fri, 21 Aug 2026 14:00:07 GMT", 7.0),
        ("Friday, 21-Aug-26 14:01:00 GMT", 60.0),  # RFC 850, still allowed
        ("Fri Aug 21 14:00:30 2026", 30.0),  # asctime
        ("Fri, 21 Aug 2026 13:59:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": value} if value else {})
    assert _http.retry_after(response, lambda: FIXED) == seconds
