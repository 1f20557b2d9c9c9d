"""Study: one run per (measurement, parameters, as-of), shared by the checker and the report."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from smallcaps import registry
from smallcaps.access import StoreView
from smallcaps.analytics._jsonready import jsonready
from smallcaps.errors import InsufficientDataError, UnknownMeasurementError, UnknownSeriesError
from smallcaps.registry import MemoryView
from smallcaps.report import build_report
from smallcaps.store import Store
from smallcaps.study import RunCache, Study
from smallcaps.thesis import evaluate, load

AS_OF = pd.Timestamp("2026-01-10 23:59:59")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every call of every registered measurement (the real runner still runs)."""
    counter: Counter[str] = Counter()
    for name, measure in registry.load_all().items():

        def counted(view: Any, *, _run: Any = measure.run, _name: str = name, **kw: Any) -> Any:
            counter[_name] += 1
            return _run(view, **kw)

        monkeypatch.setitem(registry.MEASURES, name, dataclasses.replace(measure, run=counted))
    return counter


@pytest.fixture
def store(mirror_home: Path) -> Iterator[Store]:
    with Store.open(mirror_home / "store.duckdb", mirror_home / "archive") as s:
        yield s


def test_a_run_is_made_once_per_name_parameters_and_as_of(
    store: Store, calls: Counter[str]
) -> None:
    study = Study(store)
    first = study.run("valuation.gap")
    default = registry.get("valuation.gap").params["min_obs"].default
    # the same run: defaults filled in, "120" converted to the declared int
    assert study.run("valuation.gap", min_obs=default) is first
    assert study.run("valuation.gap", min_obs=str(default)) is first
    assert calls["valuation.gap"] == 1 and study.hits == 2
    other = study.run("valuation.gap", min_obs=default * 2)
    past = study.run("valuation.gap", as_of=AS_OF)
    assert calls["valuation.gap"] == 3 and len(study) == 3
    assert other is not first and past.as_of == AS_OF and first.as_of is None
    # the study's figures are the registry's on a fresh view (an independent route)
    direct = registry.run("valuation.gap", StoreView(store, None))
    assert json.dumps(jsonready(direct.to_dict())) == json.dumps(
        jsonready(first.unwrap().to_dict())
    )
    assert {p["series_id"] for p in first.provenance} >= {"shiller/cape"}
    assert all(p["as_of"].startswith("2026-01-10") for p in past.provenance)


def test_a_failed_run_keeps_its_error_and_is_not_retried(store: Store, calls: Counter[str]) -> None:
    study = Study(store)
    run = study.run("vehicle.tracking", fund="NOPE")
    assert not run.ok and run.result is None
    assert isinstance(run.error, InsufficientDataError | UnknownSeriesError)
    with pytest.raises(type(run.error)):
        run.unwrap()
    assert study.run("vehicle.tracking", fund="NOPE") is run and calls["vehicle.tracking"] == 1
    assert str(run) == f"vehicle.tracking: {run.error}"
    assert run.to_dict()["error"] == str(run.error) and run.to_dict()["result"] is None


def test_unknown_names_and_bad_parameters_run_nothing(calls: Counter[str]) -> None:
    study = Study(lambda when: MemoryView({}, when))
    with pytest.raises(UnknownMeasurementError, match=r"did you mean 'size\.cycles'"):
        study.run("size.cycle")
    with pytest.raises(Exception, match="is not a float"):
        study.run("size.cycles", threshold="high")
    assert sum(calls.values()) == 0 and len(study) == 0


def test_a_run_renders_as_its_result(store: Store) -> None:
    run = Study(store).run("size.cycles")
    result = run.unwrap()
    assert str(run) == result.summary() == str(result)
    html = run._repr_html_()
    assert html.startswith("<pre>") and "<table" in html
    assert json.loads(json.dumps(jsonready(run.to_dict())))["name"] == "size.cycles"


def test_the_report_runs_each_measurement_once_and_shares_it_with_the_thesis(
    store: Store, calls: Counter[str]
) -> None:
    study = Study(store)
    report = build_report(store, study=study)
    assert report.thesis is not None, report.thesis_error
    # every (measurement, parameters, as-of) ran exactly once
    keys = Counter((r.name, tuple(sorted(r.params.items())), r.as_of) for r in study.runs)
    assert set(keys.values()) == {1}
    assert sum(calls.values()) == len(study.runs)
    pillar = {m.name for s in report.sections for m in s.measurements}
    claimed = {c.claim.checks[0].measure for c in report.thesis.claims if c.claim.checks}
    shared = pillar & claimed
    assert len(shared) >= 5 and all(calls[name] >= 1 for name in shared)
    assert study.hits >= len(shared)  # the checker reused the pillar runs
    # sharing changes nothing: the same thesis judged on its own gives the same document
    alone = evaluate(load(report.thesis.thesis.path), store, as_of=None)
    assert json.dumps(jsonready(alone.to_dict()), sort_keys=True) == json.dumps(
        jsonready(report.thesis.to_dict()), sort_keys=True
    )


def test_a_cache_keeps_runs_between_studies_until_the_store_or_code_changes(
    store: Store, calls: Counter[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = RunCache(tmp_path / "runs")
    first = Study(store, cache=cache).run("size.cycles")
    assert calls["size.cycles"] == 1 and len(list(cache.root.glob("*.pkl"))) == 1
    again = Study(store, cache=cache)
    kept = again.run("size.cycles")
    assert calls["size.cycles"] == 1 and again.disk_hits == 1  # read back, not recomputed
    assert json.dumps(jsonready(kept.to_dict())) == json.dumps(jsonready(first.to_dict()))
    assert kept.provenance == first.provenance
    # a damaged file is ignored and replaced
    (damaged,) = cache.root.glob("*.pkl")
    damaged.write_bytes(b"not a pickle")
    assert Study(store, cache=cache).run("size.cycles").ok and calls["size.cycles"] == 2
    # other code (a different digest) or another store content: computed afresh
    monkeypatch.setattr("smallcaps.study.code_digest", lambda: "other code")
    Study(store, cache=cache).run("size.cycles")
    assert calls["size.cycles"] == 3
    monkeypatch.setattr(Store, "fingerprint", lambda self: "another store")
    Study(store, cache=cache).run("size.cycles")
    assert calls["size.cycles"] == 4
    # failed runs are not kept on disk
    Study(store, cache=cache).run("vehicle.tracking", fund="NOPE")
    Study(store, cache=cache).run("vehicle.tracking", fund="NOPE")
    assert calls["vehicle.tracking"] == 2


def test_the_fingerprint_moves_with_every_new_vintage(tmp_path: Path, data_dir: Path) -> None:
    from smallcaps.config import Config
    from smallcaps.sources.catalog import Spec
    from smallcaps.update import update

    config = Config.resolve(home=tmp_path, mirror=data_dir, env={})
    with Store.open(config.store_path, config.archive_path) as s:
        empty = s.fingerprint()
        update(s, config, [Spec("fred", "DFF")])
        one = s.fingerprint()
        update(s, config, [Spec("fred", "DFF")])  # the same file again: nothing new
        assert s.fingerprint() == one
        update(s, config, [Spec("fred", "UNRATE")])
        assert len({empty, one, s.fingerprint()}) == 3


def test_remember_computes_once_across_studies(store: Store, tmp_path: Path) -> None:
    cache = RunCache(tmp_path / "runs")
    computed: list[int] = []

    def compute() -> dict[str, int]:
        computed.append(1)
        return {"answer": 42}

    assert Study(store, cache=cache).remember("thing", ("a", 1), compute) == {"answer": 42}
    assert Study(store, cache=cache).remember("thing", ("a", 1), compute) == {"answer": 42}
    assert len(computed) == 1
    Study(store, cache=cache).remember("thing", ("a", 2), compute)
    assert len(computed) == 2


def test_the_package_exports_what_a_notebook_needs() -> None:
    import smallcaps

    assert smallcaps.Study is Study and smallcaps.RunCache is RunCache
    assert smallcaps.load_thesis is load and smallcaps.evaluate is evaluate
    assert set(smallcaps.__all__) <= set(dir(smallcaps)) | set(smallcaps._EXPORTS)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = smallcaps.nope
