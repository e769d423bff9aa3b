"""The Python interface: ``run``, ``compare``, ``resume``, ``load_run`` and their results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from test_runner import BASE, STAGED, fails_on_some

import sim
from sim import api
from sim.errors import UserError
from sim.runner.engine import ReplicateFailed
from sim.runner.executors import InProcessExecutor, ProcessPoolExecutor
from sim.runner.store import RunFolderError
from sim.scenario.loader import load_scenario

BASELINE = BASE.parent / "baseline.yaml"


def test_run_in_memory_returns_tables_and_charts():
    r = api.run(STAGED, replicates=400, seed=2, workers=1)
    assert r.path is None and r.seed == 2 and r.replicates == 400 and r.failed == 0
    assert r.outcomes["replicate"].tolist() == list(range(400))
    assert r.outcomes.columns[0] == "replicate" and "error" in r.outcomes.columns
    assert list(r.summary.columns) == ["outcome", "estimate", "ci_low", "ci_high", "n", "kind"]
    scenario = load_scenario(STAGED)
    days, rungs, levels = scenario.horizon_days + 1, len(scenario.ladder), 6
    assert r.occupancy.shape == (days, 6, rungs)
    assert r.alignment_occupancy.shape == (days, levels)
    # Every replicate stands on exactly one rung per actor and one level per day.
    assert (r.occupancy.sum(axis=2) == 400).all()
    assert (r.alignment_occupancy.sum(axis=1) == 400).all()
    assert r.manifest.status == "complete"
    figs = r.plot()
    assert figs and all(isinstance(f, Figure) for f in figs.values())


def test_sim_exports_run_and_compare():
    assert sim.run is api.run and sim.compare is api.compare


def test_run_accepts_scenario_objects_trees_and_overrides(tmp_path):
    scenario = load_scenario(STAGED)
    by_path = api.run(STAGED, replicates=200, seed=9, workers=1)
    by_object = api.run(scenario, replicates=200, seed=9, workers=1)
    by_tree = api.run(scenario.model_dump(mode="json"), replicates=200, seed=9, workers=1)
    pd.testing.assert_frame_equal(by_path.outcomes, by_object.outcomes)
    pd.testing.assert_frame_equal(by_path.outcomes, by_tree.outcomes)

    r = api.run(STAGED, replicates=200, seed=9, workers=1, out=tmp_path / "o", charts=False,
                overrides=["actors.china.resolve=0.9"])  # fmt: skip
    assert r.manifest.spec.overrides == ("actors.china.resolve=0.9",)
    assert r.scenario.actors["china"].resolve == 0.9
    assert "param.actors.china.resolve" not in r.outcomes.columns  # now fixed, not sampled
    assert r.label == "staged_provocation actors.china.resolve=0.9"
    with pytest.raises(UserError, match="need a scenario file path"):
        api.run(scenario, overrides=["actors.china.resolve=0.9"])


def test_an_executor_can_be_passed_in():
    # The seam a Dask executor plugs into: any object with run(fn, tasks).
    pool = ProcessPoolExecutor(workers=2, start_method="spawn")
    a = api.run(BASE, replicates=600, seed=4, chunk_size=200, executor=pool)
    b = api.run(BASE, replicates=600, seed=4, chunk_size=600, workers=1)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    assert a.manifest.execution is not None
    assert a.manifest.execution.model_dump() == {"executor": "process-pool", "workers": 2}


def test_scheduler_and_executor_are_exclusive():
    with pytest.raises(UserError, match="either scheduler/dask_local or executor"):
        api.run(BASE, replicates=10, scheduler="tcp://127.0.0.1:8786", executor=InProcessExecutor())


def test_compare_on_common_random_numbers(tmp_path):
    c = api.compare(BASELINE, STAGED, replicates=500, seed=6, workers=1)
    assert c.path is None
    assert c.a.seed == c.b.seed == 6
    assert np.array_equal(c.a.outcomes["replicate"], c.b.outcomes["replicate"])
    t = c.table.set_index("outcome")
    assert np.allclose(t["difference"], t["estimate_b"] - t["estimate_a"], equal_nan=True)
    staged = t.loc["staged_incident"]
    # Calibrated, the staging happens in about half the worlds (fire often comes first).
    assert staged["estimate_a"] < 0.02 and staged["ci_low"] > 0.3
    assert isinstance(c.plot(), Figure)

    saved = api.compare(BASELINE, STAGED, replicates=500, seed=6, workers=1,
                        out=tmp_path / "cmp", charts=False)  # fmt: skip
    pd.testing.assert_frame_equal(saved.table, c.table)
    info = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert info["a"]["path"] == "a" and info["b"]["scenario"] == "staged_provocation"
    again = api.compare(tmp_path / "cmp" / "a", tmp_path / "cmp" / "b")
    pd.testing.assert_frame_equal(again.table, c.table, check_dtype=False)


def test_compare_refuses_unpairable_runs(tmp_path):
    api.run(BASE, replicates=100, seed=1, workers=1, out=tmp_path / "s1", charts=False)
    api.run(BASE, replicates=100, seed=2, workers=1, out=tmp_path / "s2", charts=False)
    api.run(BASE, replicates=150, seed=1, workers=1, out=tmp_path / "n150", charts=False)
    with pytest.raises(UserError, match="seeds differ"):
        api.compare(tmp_path / "s1", tmp_path / "s2")
    with pytest.raises(UserError, match="replicate ids differ"):
        api.compare(tmp_path / "s1", tmp_path / "n150")
    with pytest.raises(UserError, match="two scenario files or two run folders"):
        api.compare(tmp_path / "s1", BASE)


def test_unfinished_run_loads_only_after_resume(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(ReplicateFailed):
        api.run(BASE, replicates=300, seed=5, chunk_size=100, workers=1, out=out,
                model=fails_on_some, fail_fast=True, charts=False)  # fmt: skip
    with pytest.raises(RunFolderError, match=r"not finished .* --resume"):
        api.load_run(out)
    # Resuming without --fail-fast records the failures and finishes the run; the replicate
    # function must be named again (a results folder never chooses code to run).
    with pytest.raises(RunFolderError, match=r"--model \S+:fails_on_some"):
        api.resume(out, workers=1)
    r = api.resume(out, workers=1, model=fails_on_some)
    assert r.failed == 3 and r.replicates == 300
    before = {p.name: p.read_bytes() for p in out.glob("*.parquet")}
    # Resuming a finished run changes nothing.
    again = api.resume(out, model=fails_on_some)
    assert again.notes == ["the run was already complete"]
    assert {p.name: p.read_bytes() for p in out.glob("*.parquet")} == before
