"""The engine on the real mirror: known values, hand computations, Dask gives the same result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smallcaps import access
from smallcaps.backtest import (
    BacktestResult,
    DaskScheduler,
    Robustness,
    default_rules_path,
    engine,
    load_rules,
    run_file,
)
from smallcaps.errors import ConfigError, InsufficientDataError
from smallcaps.store import Store

ME = "french/Portfolios_Formed_on_ME/average-value-weight-returns-monthly"
ALWAYS_SMALL = f"""
title = "always small"
frequency = "M"
small = "{ME}/Lo 20"
large = "{ME}/Hi 20"
cash = "french/F-F_Research_Data_Factors/monthly/RF"
start = "1927-01-01"
[costs]
bps = 25.0
[robustness]
spa_reps = 100
[[rule]]
name = "always_small"
on = "small"
off = "small"
  [[rule.when]]
  signal = "size_momentum"
  op = ">"
  threshold = [0.0, 0.5]
"""
DAILY = """
title = "IWM/SPY trend"
frequency = "D"
small = "price/IWM/adj_close"
large = "price/SPY/adj_close"
cash = "french/F-F_Research_Data_Factors_daily/daily/RF"
[costs]
bps = 5.0
[robustness]
spa_reps = 100
[[rule]]
name = "trend"
on = "small"
off = "large"
  [[rule.when]]
  signal = "trend"
  op = ">"
  window = [50, 200]
  threshold = [0.0, 0.02]
[[rule]]
name = "cut"
on = "small"
off = "cash"
  [[rule.when]]
  signal = "periods_since_first_cut"
  op = "<"
  threshold = [126, 252]
"""


def open_store(home: Path) -> Store:
    return Store.open(home / "store.duckdb", home / "archive")


@pytest.fixture(scope="module")
def shipped(mirror_home: Path) -> BacktestResult:
    with open_store(mirror_home) as store:
        return run_file(default_rules_path(), store)


def test_shipped_rules_on_the_mirror(shipped: BacktestResult) -> None:
    r = shipped
    assert len(r.variants) == 54 and r.returns.shape == (len(r.dates), 54)
    assert r.dates[0] == pd.Timestamp("1927-03-31")  # 1927-01 start, lag 1: first held period
    assert r.dates[-1] == pd.Timestamp("2026-02-28")
    assert list(r.benchmarks.index) == [
        "buy and hold small", "buy and hold large", "60%/40% small/large"
    ]  # fmt: skip
    frame = r.to_frame()
    assert frame["sharpe"].is_monotonic_decreasing
    assert frame.iloc[0]["variant"] == r.variants[r.best].name
    assert ((frame["time_small"] >= 0) & (frame["time_small"] <= 1)).all()
    assert (frame["max_dd"] <= 0).all() and (frame["turnover"] >= 0).all()
    rob = r.robustness
    assert isinstance(rob, Robustness)
    assert rob.dsr.n_trials == 54 and len(rob.reasons) == 5 and rob.dsr.best == r.best
    assert rob.dsr_benchmark is not None and rob.dsr_benchmark.best == r.best
    assert 0 <= rob.pbo.pbo <= 1 and rob.spa is not None and 0 <= rob.spa.p_consistent <= 1
    assert rob.survives == (
        rob.dsr.significant and rob.pbo.pbo <= 0.5 and rob.spa.significant
        and rob.walk_forward.oos_sharpe > 0 and rob.dsr_benchmark.significant
    )  # fmt: skip
    assert r.survives == rob.survives and r.verdict == rob.word
    best = r.best_row
    assert best.name == r.variants[r.best].name == r.top[0].name and len(r.top) == 10
    assert best.sharpe == r.table["sharpe"].max() and best.cagr == r.table["cagr"][r.best]
    assert [b.name for b in r.benchmark_rows] == list(r.benchmarks.index)
    assert ("survives" if r.survives else "does not survive") in r.summary()


def test_benchmark_by_hand(shipped: BacktestResult, mirror_home: Path) -> None:
    # buy and hold large caps by a plain loop over French Hi 20 minus SPY's expense ratio
    with open_store(mirror_home) as store:
        large = access.read(store, f"{ME}/Hi 20").values
        rf = access.read(store, "french/F-F_Research_Data_Factors/monthly/RF").values
    large = large["1927-03-31":"2026-02-28"]
    value = 1.0
    for ret in large:
        value *= 1 + ret - 0.000945 / 12
    n = len(large)
    row = shipped.benchmarks.loc["buy and hold large"]
    assert row["cagr"] == pytest.approx(value ** (12 / n) - 1, rel=1e-12)
    ex = (large - 0.000945 / 12 - rf.reindex(large.index)).to_numpy()
    assert row["sharpe"] == pytest.approx(ex.mean() / ex.std(ddof=1) * np.sqrt(12), rel=1e-10)
    assert row["turnover"] == 0 and row["time_small"] == 0
    assert row["max_dd"] == pytest.approx(-0.829, abs=0.001)  # 1929-32


def test_always_small_equals_buy_and_hold_small_to_the_cent(
    mirror_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "always.toml"
    path.write_text(ALWAYS_SMALL, encoding="utf-8")
    with open_store(mirror_home) as store:
        r = run_file(path, store)
        small = access.read(store, f"{ME}/Lo 20").values[r.dates[0] : r.dates[-1]]
    assert len(small) == len(r.dates)
    dollars = 10_000.0
    for ret in small:  # a plain loop: $10,000 in small caps less IWM's 0.19% a year
        dollars *= 1 + ret - 0.0019 / 12
    for j in range(2):
        variant = 10_000.0 * np.prod(1 + r.returns[:, j])
        assert abs(variant - dollars) < 0.005, (variant, dollars)
    bench = 10_000.0 * np.prod(1 + r.bench_returns["buy and hold small"])
    assert abs(bench - dollars) < 0.005
    assert (r.table["turnover"] == 0).all() and (r.table["time_small"] == 1).all()


def test_daily_iwm_spy_with_as_of(mirror_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "daily.toml"
    path.write_text(DAILY, encoding="utf-8")
    with open_store(mirror_home) as store:
        r = run_file(path, store, start="2004-01-01", as_of="2020-01-01T00:00")
        spy = access.read(store, "price/SPY/adj_close", "2020-01-01T00:00").values
    assert r.frequency == "D" and len(r.variants) == 6
    assert r.dates[0] >= pd.Timestamp("2004-01-01")
    assert r.dates[-1] <= pd.Timestamp("2019-12-31")  # nothing published after the as-of date
    ret = spy.pct_change()[r.dates[0] : r.dates[-1]] - 0.000945 / 252
    growth = float(np.prod(1 + ret.to_numpy()))
    bench = r.benchmarks.loc["buy and hold large"]
    assert bench["cagr"] == pytest.approx(growth ** (252 / len(ret)) - 1, rel=1e-10)
    cut = r.table[r.table["rule"] == "cut"]
    assert (cut["time_small"] < 0.5).all()  # mostly in cash: two easing cycles in 2004-2019
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["frequency"] == "D" and doc["costs"]["bps"] == 5.0


def test_to_dict_shape_for_the_report(shipped: BacktestResult) -> None:
    doc = json.loads(json.dumps(shipped.to_dict()))
    assert set(doc) == {
        "rules_file", "title", "frequency", "start", "end", "n_variants", "costs",
        "benchmarks", "best", "robustness", "equity", "drawdown", "grids", "definitions",
        "sources", "notes",
    }  # fmt: skip
    assert doc["start"] == "1927-03-31" and doc["n_variants"] == 54
    assert set(doc["costs"]) == {"bps", "expense_small", "expense_large", "lag"}
    assert len(doc["best"]) == 10
    sharpe = [b["sharpe"] for b in doc["best"]]
    assert sharpe == sorted(sharpe, reverse=True)
    assert set(doc["best"][0]["excess"]) == {b["name"] for b in doc["benchmarks"]}
    n = len(doc["equity"]["dates"])
    assert len(doc["equity"]["series"]) == 4  # best variant and three benchmarks
    assert all(len(v) == n for v in doc["drawdown"]["series"].values())
    by_rule = {g["rule"]: g for g in doc["grids"]}
    g = by_rule["size_momentum"]
    assert (g["x"], g["y"]) == ("lookback", "threshold")
    assert len(g["sharpe"]) == len(g["y_values"]) and len(g["sharpe"][0]) == len(g["x_values"])
    table = shipped.table.set_index("variant")
    assert g["sharpe"][1][2] == pytest.approx(
        table.loc["size_momentum[lookback=12,threshold=0]", "sharpe"]
    )
    assert "easing" not in by_rule  # one grid axis: no heatmap
    assert doc["robustness"]["spa"]["benchmark"] == "buy and hold large"
    assert "DFEDTAR" in doc["sources"] and set(doc["definitions"]) >= {"sharpe", "max_dd"}


def test_dask_cluster_gives_identical_results(
    shipped: BacktestResult, mirror_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster

    monkeypatch.setattr(engine, "CHUNK_ELEMENTS", 10 * len(shipped.dates))  # 6 chunks
    seen: list[tuple[int, int]] = []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        open_store(mirror_home) as store,
    ):
        r = run_file(default_rules_path(), store, scheduler=DaskScheduler(client),
                     progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert seen[-1] == (6, 6) and len(seen) == 6
    np.testing.assert_array_equal(r.returns, shipped.returns)
    pd.testing.assert_frame_equal(r.table, shipped.table)
    assert r.robustness is not None and shipped.robustness is not None
    assert r.robustness.to_dict() == shipped.robustness.to_dict()


def test_bad_inputs_fail_kindly(mirror_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(DAILY.replace('frequency = "D"', 'frequency = "D"').replace(
        "price/IWM/adj_close", f"{ME}/Lo 20"), encoding="utf-8")  # fmt: skip
    with open_store(mirror_home) as store:
        with pytest.raises(ConfigError, match=r"frequency 'D' but .*Lo 20' is 'M'"):
            run_file(path, store)
        with pytest.raises(InsufficientDataError, match="only 0 periods"):
            run_file(default_rules_path(), store, start="2030-01-01")
    rs = load_rules(default_rules_path())
    assert rs.small.endswith("Lo 20")


def test_result_round_trips_through_json_and_prints_its_summary(shipped: BacktestResult) -> None:
    doc = shipped.to_dict()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert str(shipped) == shipped.summary()
    assert shipped.best_row.summary() in shipped.summary()
    assert shipped.robustness is not None
    assert str(shipped.robustness) == shipped.robustness.summary()
    assert doc["robustness"] == shipped.robustness.to_dict()
    assert doc["best"][0] == shipped.best_row.to_dict()
    assert "logits" not in doc["robustness"]["pbo"]
    # the curves are the best variant's and the benchmarks' compounded returns
    best = shipped.variants[shipped.best].name
    assert list(shipped.equity.columns) == [best, *shipped.bench_returns]
    assert shipped.equity[best].iloc[-1] == pytest.approx(
        np.prod(1 + shipped.returns[:, shipped.best]), rel=1e-12
    )
    assert doc["equity"]["series"][best] == shipped.equity[best].tolist()


def test_provenance_of_every_read_is_on_the_result(
    shipped: BacktestResult, mirror_home: Path
) -> None:
    ids = [p["series_id"] for p in shipped.provenance]
    assert sorted(ids) == sorted(shipped.sources)
    with open_store(mirror_home) as store:
        for record in shipped.provenance:
            got = access.read(store, str(record["series_id"]))
            assert record["vintage_id"] == got.vintage_id and record["sha256"] == got.sha256
            assert record["as_of"] is None


def test_run_file_reads_through_the_view_it_is_given(mirror_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "always.toml"
    path.write_text(ALWAYS_SMALL, encoding="utf-8")
    when = access.as_timestamp("2020-01-01T00:00")
    with open_store(mirror_home) as store:
        view = access.StoreView(store, when)
        view.series("DFF")  # an earlier read of another series stays off the result
        r = run_file(path, view)
        with pytest.raises(ConfigError, match="the view reads as of"):
            run_file(path, view, as_of="2010-01-01")
    assert {p["series_id"] for p in r.provenance} == set(r.sources)
    assert all(p["as_of"] == when.isoformat() for p in r.provenance)
    assert r.dates[-1] < when and "DFF" in view.reads


def test_repr_html_escapes_user_text(mirror_home: Path, tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>'
    path = tmp_path / "evil.toml"
    text = ALWAYS_SMALL.replace('title = "always small"', f"title = '{evil}'")
    path.write_text(text.replace('name = "always_small"', f"name = '{evil}'"), encoding="utf-8")
    with open_store(mirror_home) as store:
        r = run_file(path, store)
    page = r._repr_html_()
    assert evil in r.summary() and "<script>" not in page
    assert "&lt;script&gt;" in page and "<table" in page  # the summary, then the variants
    assert "<script>" not in r.best_row._repr_html_()


def test_engine_and_signals_do_not_import_the_store() -> None:
    import ast
    import inspect

    from smallcaps.backtest import signals

    for module in (engine, signals):
        tree = ast.parse(inspect.getsource(module))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.startswith("smallcaps.store")], module.__name__


def test_streamed_statistics_equal_the_tests_on_the_full_matrix(
    shipped: BacktestResult, mirror_home: Path
) -> None:
    # the shipped file keeps every series (54 <= KEEP_ALL): the robustness functions on the
    # full (T, N) matrix are the non-streaming path the chunk statistics must reproduce
    from smallcaps.backtest import robustness as rb

    r, rob = shipped, shipped.robustness
    assert rob is not None and rob.spa is not None and rob.dsr_benchmark is not None
    assert r.returns.shape == (len(r.dates), 54) and list(r.kept) == list(range(54))
    rs = load_rules(default_rules_path())
    with open_store(mirror_home) as store:
        legs = engine.load_legs(rs, access.view_of(store, None), start=pd.Timestamp(rs.start))
    rf = legs.r_cash[2:]  # lag 1: from the second period
    x = r.returns - rf[:, None]
    bench = np.asarray(r.bench_returns["buy and hold large"])  # the SPA benchmark
    dsr = rb.deflated_sharpe(x, periods_per_year=12, best=r.best)
    assert dsr.dsr == pytest.approx(rob.dsr.dsr, abs=1e-10)
    assert dsr.expected_max_sharpe == pytest.approx(rob.dsr.expected_max_sharpe, abs=1e-10)
    over = rb.deflated_sharpe(r.returns - bench[:, None], periods_per_year=12, best=r.best)
    assert over.dsr == pytest.approx(rob.dsr_benchmark.dsr, abs=1e-10)
    p = rb.pbo(x, n_splits=rob.pbo.n_splits, periods_per_year=12)
    assert p.pbo == rob.pbo.pbo
    np.testing.assert_allclose(p.logits, rob.pbo.logits, atol=1e-10)
    s = rb.spa(bench, r.returns, reps=1000, seed=0)
    assert (s.p_lower, s.p_consistent, s.p_upper) == (
        rob.spa.p_lower,
        rob.spa.p_consistent,
        rob.spa.p_upper,
    )
    wf = rb.walk_forward(x, train=120, test=12, periods_per_year=12)
    assert wf.chosen == rob.walk_forward.chosen
    assert wf.oos_sharpe == pytest.approx(rob.walk_forward.oos_sharpe, abs=1e-10)


SWITCHING = """
title = "IWM/SPY switching"
frequency = "D"
small = "price/IWM/adj_close"
large = "price/SPY/adj_close"
cash = "french/F-F_Research_Data_Factors_daily/daily/RF"
[costs]
bps = {bps}
expense_small = 0.0019
expense_large = 0.000945
lag = {lag}
[[rule]]
name = "trend"
on = "small"
off = "large"
  [[rule.when]]
  signal = "trend"
  op = ">"
  window = [10, 50, 200]
  threshold = [0.0, 0.02]
[[rule]]
name = "against"
on = "large"
off = "small"
  [[rule.when]]
  signal = "trend"
  op = "<="
  window = [20]
  threshold = [-0.01, 0.01]
"""


@pytest.mark.parametrize(("bps", "lag"), [(5.0, 1), (0.0, 0), (25.0, 2)])
def test_switching_fast_path_equals_the_full_simulation(
    mirror_home: Path, tmp_path: Path, bps: float, lag: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "switching.toml"
    path.write_text(SWITCHING.format(bps=bps, lag=lag), encoding="utf-8")
    rs = load_rules(path)
    with open_store(mirror_home) as store:
        view = access.view_of(store, None)
        legs = engine.load_legs(rs, view, start=pd.Timestamp("2010-01-01"))
        _panel, shared = engine.chunk_inputs(rs, view, legs)
    assert engine.all_in(shared["on"], shared["off"])
    shared["switching"] = True  # the compiled path, whatever the grid's size
    n = len(legs.dates) - lag - 1
    stats = {
        "r_bench": legs.r_large[lag + 1 :] - 0.0001,
        "pbo_edges": engine.robustness.pbo_edges(n, 8),
        "wf_windows": engine.robustness.walk_forward_windows(n, 504, 126, 126),
        "spa_weights": engine.robustness.spa_plan(n, reps=50).weights,
        "spa_block": 5,
    }
    rows = np.arange(rs.n_variants)
    slow = engine.evaluate_chunk(rows, **{**shared, "switching": False}, **stats, keep=True)

    def no_simulation(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fast path simulated")

    monkeypatch.setattr(engine.kernels, "simulate", no_simulation)
    fast = engine.evaluate_chunk(rows, **shared, **stats, keep=True)
    assert set(fast) == set(slow)
    for key in fast:
        if key == "spa":
            assert fast[key]["best"] == slow[key]["best"]
            np.testing.assert_allclose(fast[key]["max_sim"], slow[key]["max_sim"], atol=1e-12)
        else:
            np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-12, err_msg=key)
    assert (fast["turnover"] > 0).all() and (fast["time_small"] > 0).all()


def test_compiled_sweep_is_the_same_on_dask_and_equals_numpy(
    mirror_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster

    path = tmp_path / "switching.toml"
    path.write_text(SWITCHING.format(bps=5.0, lag=1), encoding="utf-8")
    with open_store(mirror_home) as store:
        numpy_run = run_file(path, store, start="2012-01-01")
        monkeypatch.setattr(engine, "COMPILED_FROM", 0)
        monkeypatch.setattr(engine, "FUSED_CHUNK", 3)  # 3 chunks of the 8 variants
        local = run_file(path, store, start="2012-01-01")
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            seen: list[tuple[int, int]] = []
            on_dask = run_file(path, store, start="2012-01-01", scheduler=DaskScheduler(client),
                               progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert seen[-1] == (3, 3)
    pd.testing.assert_frame_equal(on_dask.table, local.table)
    np.testing.assert_array_equal(on_dask.returns, local.returns)
    assert on_dask.robustness is not None and local.robustness is not None
    assert on_dask.robustness.to_dict() == local.robustness.to_dict()
    # the compiled path and numpy agree (summation order apart)
    pd.testing.assert_frame_equal(local.table, numpy_run.table, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(local.returns, numpy_run.returns, rtol=0, atol=1e-15)
    assert numpy_run.robustness is not None
    a, b = local.robustness, numpy_run.robustness
    assert a.pbo.pbo == b.pbo.pbo and list(a.pbo.chosen) == list(b.pbo.chosen)
    assert a.spa is not None and b.spa is not None
    assert (a.spa.p_consistent, a.spa.best) == (b.spa.p_consistent, b.spa.best)
    assert a.dsr.dsr == pytest.approx(b.dsr.dsr, abs=1e-12)
    assert a.walk_forward.chosen == b.walk_forward.chosen
