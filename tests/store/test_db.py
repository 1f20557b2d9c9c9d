from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import smallcaps.store.db as db
from smallcaps.errors import ParseError, UnknownSeriesError
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store, StoreError

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
DAYS = pd.bdate_range("2025-01-01", periods=40)


def meta(series_id: str, frequency: str = "D", **kw: object) -> SeriesMeta:
    return SeriesMeta(series_id, "fred", f"title of {series_id}", "percent", frequency, **kw)  # type: ignore[arg-type]


def make_tidy(series: dict[str, pd.Series], **kw: object) -> Tidy:
    frame = pd.concat(
        [long_frame(sid, s.index, s.to_numpy()) for sid, s in series.items()], ignore_index=True
    )
    return Tidy(frame, {sid: meta(sid, **kw) for sid in series})


def payload(data: bytes = b"payload", at: datetime = T0) -> Payload:
    return Payload("fred", f"https://example.test/{data[:8]!r}", data, at)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", tmp_path / "archive")


def stored(store: Store, series_id: str, k: int = -1) -> pd.Series:
    vid = int(store.vintages(series_id)["vintage_id"].iloc[k])
    return store.vintage_data(vid).series(series_id)


def test_round_trip(store: Store) -> None:
    a = pd.Series(np.linspace(1.0, 2.0, len(DAYS)), index=DAYS)
    a.iloc[3] = np.nan  # a holiday without a value
    b = pd.Series(
        [-0.5, 0.0, 1e-12], index=pd.to_datetime(["1926-07-31", "1926-08-31", "2262-01-31"])
    )
    tidy = make_tidy({"DGS10": a, "french/x": b})
    p = payload(b"round trip")
    result = store.write(p, tidy)
    assert set(result.added) == {"DGS10", "french/x"} and result.unchanged == []
    assert result.sha256 == p.sha256 and store.archive.get(p.sha256) == p.data
    for sid in ("DGS10", "french/x"):
        pd.testing.assert_series_equal(
            stored(store, sid), tidy.series(sid), check_names=False, check_index_type=False
        )
        assert stored(store, sid).index.dtype == "datetime64[ns]"
    assert store.series_ids() == ["DGS10", "french/x"]


def test_metadata_and_listing(store: Store) -> None:
    tidy = make_tidy({"price/IWM": pd.Series(1.0, index=DAYS)})
    tidy = Tidy(
        tidy.frame,
        {
            "price/IWM": SeriesMeta(
                "price/IWM",
                "yahoo",
                "iShares Russell 2000",
                "USD",
                "D",
                adjusted=True,
                publisher_vintage="2026-06-05",
                notes="last bar partial",
            )
        },
    )
    store.write(payload(), tidy)
    m = store.meta("price/IWM")
    assert m == tidy.meta["price/IWM"]
    listing = store.series_list()
    assert list(listing.columns) == [
        "series_id",
        "source",
        "title",
        "units",
        "frequency",
        "vintages",
        "latest_fetched_at",
        "first",
        "last",
        "rows",
    ]
    row = listing.iloc[0]
    assert (row["series_id"], row["vintages"], row["rows"]) == ("price/IWM", 1, len(DAYS))
    assert row["first"] == DAYS[0] and row["last"] == DAYS[-1]
    assert row["latest_fetched_at"] == pd.Timestamp(T0)


def test_revision_is_a_new_vintage_and_keeps_the_old(store: Store) -> None:
    a = pd.Series(np.arange(len(DAYS), dtype=float), index=DAYS)
    b = a.copy()
    b.iloc[-3:] += 0.25  # revised
    b[DAYS[-1] + pd.offsets.BDay()] = 99.0  # appended
    ra = store.write(payload(b"A", T0), make_tidy({"DGS10": a}))
    rb = store.write(payload(b"B", T0 + timedelta(days=7)), make_tidy({"DGS10": b}))
    v = store.vintages("DGS10")
    assert list(v["vintage_id"]) == [ra.vintages["DGS10"], rb.vintages["DGS10"]]
    assert list(v["row_count"]) == [len(a), len(b)]
    assert v["fetched_at"].is_monotonic_increasing
    pd.testing.assert_series_equal(
        stored(store, "DGS10", 0), a, check_names=False, check_index_type=False, check_freq=False
    )
    pd.testing.assert_series_equal(
        stored(store, "DGS10", 1), b, check_names=False, check_index_type=False, check_freq=False
    )


def test_identical_rewrite_adds_nothing(store: Store) -> None:
    tidy = make_tidy({"DGS10": pd.Series(1.5, index=DAYS), "DGS2": pd.Series(1.0, index=DAYS)})
    store.write(payload(b"same", T0), tidy)
    before = store.checksum()
    again = store.write(payload(b"same", T0), tidy)
    assert again.added == {} and sorted(again.unchanged) == ["DGS10", "DGS2"]
    assert store.checksum() == before
    later = store.write(payload(b"same", T0 + timedelta(days=1)), tidy)  # a re-fetch, same bytes
    assert later.added == {}
    assert len(store.vintages("DGS10")) == 1


def test_only_changed_sections_get_vintages(store: Store) -> None:
    # a French file where one table changed between two fetches
    idx = pd.date_range("2025-01-31", periods=12, freq="ME")
    sections = {
        f"french/ME/{k}": pd.Series(np.arange(12.0) + i, index=idx) for i, k in enumerate("ABC")
    }
    store.write(payload(b"v1"), make_tidy(sections, frequency="M"))
    sections["french/ME/B"] = sections["french/ME/B"].where(idx < idx[-1], -1.0)
    result = store.write(
        payload(b"v2", T0 + timedelta(days=30)), make_tidy(sections, frequency="M")
    )
    assert list(result.added) == ["french/ME/B"]
    assert sorted(result.unchanged) == ["french/ME/A", "french/ME/C"]
    assert store.series_list().set_index("series_id")["vintages"].to_dict() == {
        "french/ME/A": 1,
        "french/ME/B": 2,
        "french/ME/C": 1,
    }


def test_metadata_follows_the_newest_fetch(store: Store) -> None:
    s = pd.Series(1.0, index=DAYS)
    store.write(
        payload(b"new", T0),
        Tidy(long_frame("X", DAYS, s), {"X": SeriesMeta("X", "fred", "new title", "percent", "D")}),
    )
    old = Tidy(
        long_frame("X", DAYS, s + 1), {"X": SeriesMeta("X", "fred", "old title", "percent", "D")}
    )
    store.write(payload(b"old", T0 - timedelta(days=300)), old)  # back-filling an old vintage
    assert store.meta("X").title == "new title"
    assert len(store.vintages("X")) == 2


@pytest.mark.parametrize(
    ("break_it", "needle"),
    [
        (lambda f: f.loc.__setitem__((1, "date"), f.loc[0, "date"]), "duplicate date"),
        (lambda f: f.loc.__setitem__((2, "value"), np.inf), "infinite"),
        (lambda f: f.loc.__setitem__((2, "date"), pd.Timestamp("2025-01-03 12:00")), "time of day"),
    ],
)
def test_invalid_write_changes_nothing(store: Store, break_it, needle: str) -> None:
    store.write(payload(b"good"), make_tidy({"DGS10": pd.Series(1.0, index=DAYS)}))
    before = store.checksum()
    bad = make_tidy({"DGS10": pd.Series(2.0, index=DAYS)})
    break_it(bad.frame)  # a Tidy's frame is mutable; the store checks again
    with pytest.raises(ParseError, match=needle):
        store.write(payload(b"bad", T0 + timedelta(days=1)), bad)
    assert store.checksum() == before


def test_failure_inside_the_transaction_rolls_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(payload(b"good"), make_tidy({"DGS10": pd.Series(1.0, index=DAYS)}))
    before = store.checksum()
    real_insert = db._insert_observations

    def insert_then_fail(con: object, frame: pd.DataFrame) -> None:
        real_insert(con, frame)  # the rows are in, then the disk fills up
        raise OSError("disk full")

    monkeypatch.setattr(db, "_insert_observations", insert_then_fail)
    changed = make_tidy({"DGS10": pd.Series(2.0, index=DAYS), "DGS2": pd.Series(3.0, index=DAYS)})
    with pytest.raises(OSError, match="disk full"):
        store.write(payload(b"doomed", T0 + timedelta(days=1)), changed)
    assert store.checksum() == before
    assert store.series_ids() == ["DGS10"]
    monkeypatch.setattr(db, "_insert_observations", real_insert)
    assert set(store.write(payload(b"retry", T0 + timedelta(days=1)), changed).added) == {
        "DGS10",
        "DGS2",
    }
    assert store.checksum() != before


def test_write_many_stores_each_payload_on_its_own(store: Store) -> None:
    good = make_tidy({"DGS10": pd.Series(1.0, index=DAYS)})
    bad = make_tidy({"DGS2": pd.Series(2.0, index=DAYS)})
    bad.frame.loc[1, "date"] = bad.frame.loc[0, "date"]
    later = make_tidy({"DGS10": pd.Series(3.0, index=DAYS)})
    items = [(payload(b"1"), good), (payload(b"2"), bad), (payload(b"3", T0 + timedelta(1)), later)]
    with pytest.raises(ParseError, match="duplicate date"):
        store.write_many(items)
    assert store.series_ids() == ["DGS10"] and len(store.vintages("DGS10")) == 1
    results = store.write_many([items[0], items[2]])
    assert [r.summary()[:16] for r in results] == ["0 new vintage(s)", "1 new vintage(s)"]


def test_unknown_series_suggests_close_matches(store: Store) -> None:
    store.write(payload(), make_tidy({"UNRATE": pd.Series(4.0, index=DAYS)}))
    with pytest.raises(UnknownSeriesError, match="did you mean 'UNRATE'"):
        store.vintages("UNRTAE")
    with pytest.raises(UnknownSeriesError, match="unknown series 'nope'"):
        store.meta("nope")


def test_reopen_keeps_data_and_sees_other_writers(tmp_path: Path) -> None:
    one = Store.open(tmp_path / "s.duckdb", tmp_path / "a")
    one.write(payload(b"1"), make_tidy({"DGS10": pd.Series(1.0, index=DAYS)}))
    assert len(one.vintages("DGS10")) == 1  # now cached in `one`
    two = Store.open(tmp_path / "s.duckdb", tmp_path / "a")
    two.write(
        payload(b"2", T0 + timedelta(days=1)), make_tidy({"DGS10": pd.Series(2.0, index=DAYS)})
    )
    assert len(one.vintages("DGS10")) == 2  # the cache noticed the file changed
    assert one.checksum() == two.checksum()


def test_not_a_store_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"store\.duckdb"):
        Store.open(path, tmp_path / "archive")


# -- several processes -----------------------------------------------------------------------

CHILD = """
import sys, time
from datetime import datetime, timedelta, UTC
from pathlib import Path
import numpy as np, pandas as pd
from smallcaps.sources.base import Payload, SeriesMeta, Tidy, long_frame
from smallcaps.store import Store

path, archive, series_id, go = sys.argv[1:5]
store = Store.open(path, archive)
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.01)
days = pd.bdate_range("2000-01-03", periods=5000)
for i in range(6):
    values = np.arange(len(days), dtype=float) + i
    tidy = Tidy(long_frame(series_id, days, values),
                {series_id: SeriesMeta(series_id, "fred", series_id, "percent", "D")})
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)
    store.write(Payload("fred", "u", f"{series_id}{i}".encode(), at), tidy)
print("done", flush=True)
"""


def spawn(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path, archive, go = tmp_path / "s.duckdb", tmp_path / "a", tmp_path / "go"
    Store.open(path, archive)
    kids = [spawn(CHILD, path, archive, sid, go) for sid in ("DGS2", "DGS10")]
    for kid in kids:
        assert kid.stdout is not None and kid.stdout.readline().strip() == "ready"
    go.touch()  # both start writing now
    for kid in kids:
        out, err = kid.communicate(timeout=120)
        assert kid.returncode == 0, err
        assert out.strip() == "done"
    store = Store.open(path, archive)
    for sid in ("DGS2", "DGS10"):
        assert len(store.vintages(sid)) == 6
        assert stored(store, sid).iloc[0] == 5.0  # the last write of each process
    assert len(store.checksum()) == 64


KILLED = """
import sys, time
from datetime import datetime, UTC
from pathlib import Path
import numpy as np, pandas as pd
import smallcaps.store.db as db
from smallcaps.sources.base import Payload, SeriesMeta, Tidy
from smallcaps.store import Store

path, archive, flag = sys.argv[1:4]
real_insert = db._insert_observations
def insert(con, frame):
    Path(flag).touch()
    real_insert(con, frame)
    time.sleep(60)  # never reaches the commit: the parent kills us
db._insert_observations = insert
n_series, days = 200, pd.bdate_range("1990-01-01", periods=10_000)
ids = [f"big/{i}" for i in range(n_series)]
frame = pd.DataFrame({
    "series_id": np.repeat(ids, len(days)),
    "date": np.tile(days.values, n_series),
    "value": np.random.default_rng(0).normal(size=n_series * len(days)),
})
tidy = Tidy(frame, {s: SeriesMeta(s, "user", s, "x", "D") for s in ids})
big = Payload("user", "big", b"big", datetime(2026, 2, 1, tzinfo=UTC))
Store.open(path, archive).write(big, tidy)
print("committed", flush=True)
"""


def test_killed_writer_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    path, archive, flag = tmp_path / "s.duckdb", tmp_path / "a", tmp_path / "inserting"
    store = Store.open(path, archive)
    store.write(payload(b"before"), make_tidy({"DGS10": pd.Series(1.25, index=DAYS)}))
    before, values = store.checksum(), stored(store, "DGS10")
    kid = spawn(KILLED, path, archive, flag)
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert kid.poll() is None, kid.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # two million rows are going in
    os.kill(kid.pid, signal.SIGKILL)
    out, _ = kid.communicate(timeout=30)
    assert kid.returncode == -signal.SIGKILL and "committed" not in out
    store.clear_cache()
    assert store.checksum() == before
    assert store.series_ids() == ["DGS10"]
    pd.testing.assert_series_equal(stored(store, "DGS10"), values)
    result = store.write(
        payload(b"after", T0 + timedelta(days=1)), make_tidy({"DGS10": pd.Series(2.0, index=DAYS)})
    )
    assert result.added and store.checksum() != before


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(30)
"""


def test_lock_held_too_long_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store.open(path, tmp_path / "a")
    store.write(payload(), make_tidy({"DGS10": pd.Series(1.0, index=DAYS)}))
    before = store.checksum()
    kid = spawn(HOLDER, path)
    try:
        assert kid.stdout is not None and kid.stdout.readline().strip() == "holding"
        store.lock_timeout = 0.3
        started = time.monotonic()
        with pytest.raises(
            StoreError, match=r"s\.duckdb.*another smallcaps process \(PID \d+\)"
        ) as err:
            store.write(payload(b"blocked"), make_tidy({"DGS10": pd.Series(9.0, index=DAYS)}))
        assert 0.3 <= time.monotonic() - started < 5
        assert "Nothing in the store was changed" in str(err.value)
    finally:
        kid.kill()
        kid.communicate()
    assert store.checksum() == before


def test_reloading_an_older_capture_adds_nothing(store: Store) -> None:
    # a mirror holds two captures of one series; loading the folder twice must not duplicate
    old = make_tidy({"DFF": pd.Series(1.0, index=DAYS)})
    new = make_tidy({"DFF": pd.Series(2.0, index=DAYS)})
    store.write_many([(payload(b"old", T0), old), (payload(b"new", T0 + timedelta(days=9)), new)])
    before = store.checksum()
    again = store.write_many(
        [(payload(b"old", T0), old), (payload(b"new", T0 + timedelta(days=9)), new)]
    )
    assert [r.added for r in again] == [{}, {}]
    assert store.checksum() == before
    assert len(store.vintages("DFF")) == 2
    # but the publisher reverting to the old values later is a real new vintage
    assert store.write(payload(b"old", T0 + timedelta(days=20)), old).added
