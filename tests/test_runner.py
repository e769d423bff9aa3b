"""The runner: executor equivalence, chunk invariance, failures as data, precision, statistics.

Everything runs the real model on small scenarios; nothing is mocked. The two helper "models"
at the top are real replicate functions (they call the project's model) that raise for chosen
replicate ids: the model itself validates its inputs up front and has no per-replicate failure
mode to trigger, so this is how a genuine exception inside a chunk reaches the runner.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim import api
from sim.errors import UserError
from sim.runner.chunks import ChunkTask, run_chunk
from sim.runner.engine import (
    ReplicateFailed,
    TooManyFailed,
    WorkerCrashed,
    canonical_scenario,
    start_run,
)
from sim.runner.executors import (
    InProcessExecutor,
    ProcessPoolExecutor,
    blas_threads,
    make_executor,
)
from sim.runner.manifest import RUN_SPECIFIC_FIELDS, RunSpec
from sim.runner.store import RunFolderError, parquet_bytes, read_manifest
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
STAGED = ROOT / "scenarios" / "staged_provocation.yaml"
FINAL_FILES = (
    "outcomes.parquet",
    "ladder_occupancy.parquet",
    "alignment_occupancy.parquet",
    "summary.csv",
)
FAILING_IDS = {13, 110, 111, 407}


def fails_on_some(scenario, seed, replicate_ids, parameters=None):
    """The project's model, except that replicates in FAILING_IDS raise (like a model bug)."""
    from sim.model import run_replicates

    bad = sorted(FAILING_IDS.intersection(int(i) for i in replicate_ids))
    if bad:
        raise FloatingPointError(f"utility overflow in replicate {bad[0]}")
    return run_replicates(scenario, seed, replicate_ids, parameters)


def crashes_on_250(scenario, seed, replicate_ids, parameters=None):
    """Kills the worker process outright on replicate 250 (as the OOM killer would)."""
    import os

    if 250 in set(int(i) for i in replicate_ids):
        os._exit(3)
    from sim.model import run_replicates

    return run_replicates(scenario, seed, replicate_ids, parameters)


def fails_always(scenario, seed, replicate_ids, parameters=None):
    """A replicate function that never succeeds."""
    raise RuntimeError("broken model")


def forced_stage_scenario(folder: Path, p: float = 0.3, horizon: int = 5) -> Path:
    """A scenario whose P(staged incident) is ``p`` exactly.

    Neither Belarus nor Russia stages an incident by choice (bias -1000 makes the logit weight
    e^-1000/T, which is 0.0 in floating point); an inject forces the staging on day 1 with
    probability ``p``, drawn once per replicate. So staged_incident ~ Bernoulli(p),
    independently.
    """
    path = folder / "forced_stage.yaml"
    path.write_text(
        f"""extends: {BASE}
name: forced_stage
title: "Staged incident forced on day 1 with probability {p}"
horizon_days: {horizon}
actors:
  belarus:
    motives:
      stage_incident: {{bias: -1000.0}}
  russia:
    motives:
      stage_incident: {{bias: -1000.0}}
injects:
  - name: forced_stage
    day: 1
    probability: {p}
    force_move: {{actor: belarus, move: stage_incident, target: ukraine}}
""",
        encoding="utf-8",
    )
    return path


# ----------------------------------------------------------------------------- executors


def test_executors_yield_every_task_once():
    tasks = list(range(-7, 8))
    for ex in (InProcessExecutor(), ProcessPoolExecutor(workers=2)):
        got = dict(ex.run(abs, tasks))
        assert got == {t: abs(t) for t in tasks}, type(ex).__name__


def test_executors_pull_lazily_and_stop_when_closed():
    # --precision feeds an unbounded stream of chunks and stops reading when the target is met.
    for ex in (InProcessExecutor(), ProcessPoolExecutor(workers=2, in_flight=2)):
        pulled = []

        def tasks(pulled=pulled):
            for i in itertools.count():
                pulled.append(i)
                yield i

        gen = ex.run(operator.neg, tasks())
        results = [next(gen) for _ in range(5)]
        gen.close()
        assert sorted(r for _, r in results) == sorted(-t for t, _ in results)
        # At most workers * in_flight tasks ahead of what was consumed.
        assert len(pulled) <= 5 + 2 * 2


def test_make_executor_picks_in_process_for_one_worker_or_one_chunk():
    assert isinstance(make_executor(1, 10), InProcessExecutor)
    assert isinstance(make_executor(4, 1), InProcessExecutor)
    assert isinstance(make_executor(None, 2), InProcessExecutor)  # default: small run
    assert isinstance(make_executor(2, 2), ProcessPoolExecutor)  # asked for explicitly
    pool = make_executor(2, 10)
    assert isinstance(pool, ProcessPoolExecutor) and pool.workers == 2
    with pytest.raises(ValueError):
        ProcessPoolExecutor(workers=2, start_method="fork")


# ----------------------------------------------------------------------------- determinism


def test_chunk_rows_do_not_depend_on_the_chunk():
    scenario = load_scenario(STAGED)
    text = canonical_scenario(scenario.model_dump(mode="json", by_alias=True))[2]
    whole = run_chunk(ChunkTask(0, 0, 300, 11, text)).outcomes
    parts = [run_chunk(ChunkTask(i, i * 100, (i + 1) * 100, 11, text)) for i in range(3)]
    joined = pd.concat([p.outcomes for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(whole, joined)
    assert (whole["error"] == "").all()
    total = sum(p.occupancy for p in parts)
    np.testing.assert_array_equal(run_chunk(ChunkTask(0, 0, 300, 11, text)).occupancy, total)


def test_rows_do_not_depend_on_the_blas_thread_count():
    # Executors cap BLAS at one thread (see blas_threads); a notebook or a Dask worker may not.
    text = canonical_scenario(load_scenario(STAGED).model_dump(mode="json", by_alias=True))[2]
    task = ChunkTask(0, 0, 2000, 3, text)
    with blas_threads(1):
        one = run_chunk(task)
    with blas_threads(2):
        two = run_chunk(task)
    pd.testing.assert_frame_equal(one.outcomes, two.outcomes)
    np.testing.assert_array_equal(one.occupancy, two.occupancy)


def test_workers_and_chunk_size_give_byte_identical_files(tmp_path):
    common = dict(replicates=1500, seed=7, charts=False)
    api.run(STAGED, workers=1, chunk_size=300, out=tmp_path / "w1", **common)
    api.run(STAGED, workers=2, chunk_size=300, out=tmp_path / "w2", **common)
    api.run(STAGED, workers=2, chunk_size=700, out=tmp_path / "c7", **common)
    for name in FINAL_FILES:
        ref = (tmp_path / "w1" / name).read_bytes()
        assert (tmp_path / "w2" / name).read_bytes() == ref, name
        assert (tmp_path / "c7" / name).read_bytes() == ref, name
    for i in range(5):
        for f in (f"chunk-{i:06d}.parquet", f"occupancy-{i:06d}.npy"):
            a = (tmp_path / "w1" / "chunks" / f).read_bytes()
            assert (tmp_path / "w2" / "chunks" / f).read_bytes() == a
    m1, m2 = read_manifest(tmp_path / "w1"), read_manifest(tmp_path / "w2")
    assert m1.execution != m2.execution
    strip = lambda m: m.model_dump(exclude=set(RUN_SPECIFIC_FIELDS))  # noqa: E731
    assert strip(m1) == strip(m2)


def test_different_seeds_differ(tmp_path):
    a = api.run(STAGED, replicates=400, seed=1, workers=1)
    b = api.run(STAGED, replicates=400, seed=2, workers=1)
    assert not a.outcomes.equals(b.outcomes)


# ----------------------------------------------------------------------------- statistics


def _count(outcomes: pd.DataFrame, outcome: str) -> tuple[int, int]:
    if "=" in outcome:
        col, cat = outcome.split("=", 1)
        values = outcomes[col].dropna()
        return int((values == cat).sum()), len(values)
    values = outcomes[outcome].dropna().astype(bool)
    return int(values.sum()), len(values)


def test_summary_intervals_equal_direct_computation(tmp_path):
    api.run(STAGED, replicates=2000, seed=3, workers=1, chunk_size=600, out=tmp_path / "r",
            charts=False)  # fmt: skip
    outcomes = pd.read_parquet(tmp_path / "r" / "outcomes.parquet")
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    assert list(summary.columns) == ["outcome", "estimate", "ci_low", "ci_high", "n", "kind"]
    checked = {"probability": 0, "mean": 0, "median": 0}
    for row in summary.itertuples(index=False):
        if row.kind == "probability":
            k, n = _count(outcomes, row.outcome)
            ci = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
            assert (row.n, row.estimate) == (n, pytest.approx(k / n, abs=1e-15))
            assert row.ci_low == pytest.approx(ci.low, abs=1e-12), row.outcome
            assert row.ci_high == pytest.approx(ci.high, abs=1e-12), row.outcome
        elif row.kind == "mean":
            x = outcomes[row.outcome.removeprefix("mean:")].dropna().astype(float).to_numpy()
            assert row.n == len(x) and row.estimate == pytest.approx(x.mean(), rel=1e-12)
            if len(x) >= 2 and x.std() > 0:
                lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
                # The interval is clipped to the observed range: a mean cannot lie outside it.
                lo, hi = max(lo, x.min()), min(hi, x.max())
                assert (row.ci_low, row.ci_high) == (pytest.approx(lo), pytest.approx(hi))
        else:
            x = np.sort(outcomes[row.outcome.removeprefix("median:")].dropna().to_numpy(float))
            assert row.estimate == np.median(x)
            # Order-statistic interval (Conover): ranks from the Binomial(n, 1/2) cdf.
            cdf = sps.binom.cdf(np.arange(len(x) + 1), len(x), 0.5)
            lo_rank = int(np.searchsorted(cdf, 0.025))
            hi_rank = int(np.searchsorted(cdf, 0.975)) + 1
            assert row.ci_low == (x[lo_rank - 1] if lo_rank >= 1 else -math.inf)
            assert row.ci_high == (x[hi_rank - 1] if hi_rank <= len(x) else math.inf)
        checked[row.kind] += 1
    assert checked["probability"] >= 10 and checked["mean"] >= 5 and checked["median"] >= 1


def test_interval_covers_closed_form_probability_in_95_percent_of_seeds(tmp_path):
    p, n, seeds = 0.3, 200, 200
    scenario = load_scenario(forced_stage_scenario(tmp_path, p))
    covered = 0
    estimates = []
    for seed in range(seeds):
        s = api.run(scenario, replicates=n, seed=seed, workers=1).summary
        row = s[s["outcome"] == "staged_incident"].iloc[0]
        covered += row.ci_low <= p <= row.ci_high
        estimates.append(row.estimate)
    # The exact coverage of the 95% Wilson interval for Binomial(200, 0.3), from its pmf...
    ks = np.arange(n + 1)
    ci = [sps.binomtest(int(k), n).proportion_ci(0.95, method="wilson") for k in ks]
    cover_k = np.array([c.low <= p <= c.high for c in ci])
    exact = float(sps.binom.pmf(ks, n, p)[cover_k].sum())
    assert 0.93 < exact < 0.97
    # ...and the seeds' coverage count within a 99.9% binomial band around it.
    lo, hi = sps.binom.ppf([0.0005, 0.9995], seeds, exact)
    assert lo <= covered <= hi, (covered, exact)
    # The estimates themselves average to p (40,000 replicates: sd 0.0023).
    assert abs(np.mean(estimates) - p) < 4 * math.sqrt(p * (1 - p) / (n * seeds))


# ----------------------------------------------------------------------------- failures


def test_failing_replicates_are_recorded_as_data(tmp_path):
    res = api.run(BASE, replicates=500, seed=5, workers=2, chunk_size=100,
                  out=tmp_path / "f", charts=False, model=fails_on_some)  # fmt: skip
    ok = api.run(BASE, replicates=500, seed=5, workers=1, chunk_size=500, out=tmp_path / "ok",
                 charts=False)  # fmt: skip
    out = res.outcomes
    bad = out["error"] != ""
    assert sorted(out.loc[bad, "replicate"]) == sorted(i for i in FAILING_IDS if i < 500)
    assert out.loc[bad, "error"].str.startswith("FloatingPointError: utility overflow").all()
    assert out.loc[bad, "armed_incident"].isna().all()
    assert out["replicate"].tolist() == list(range(500))
    # The other replicates are exactly those of a run without failures.
    good = out.loc[~bad].drop(columns="error").reset_index(drop=True)
    ref = ok.outcomes.loc[~bad.to_numpy()].drop(columns="error").reset_index(drop=True)
    pd.testing.assert_frame_equal(good, ref, check_dtype=False)
    assert (ok.outcomes["error"] == "").all()  # column present even when nothing failed
    assert res.failed == 4 and list(res.manifest.failed_ids) == sorted(FAILING_IDS)
    assert any("4 replicates failed" in n for n in res.notes)
    assert (res.summary["n"] <= 496).all() and (res.summary["n"] == 496).any()
    # Occupancy counts only replicates that ran: one actor's counts sum to 496 per day.
    assert (res.occupancy[:, 0, :].sum(axis=1) == 496).all()
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["spec"]["model"].endswith(":fails_on_some")
    assert [c["failed"] for c in manifest["chunks"]] == [1, 2, 0, 0, 1]


def test_a_chunk_where_everything_fails_keeps_the_schema(tmp_path):
    with pytest.raises(TooManyFailed, match="30 of 30 replicates failed") as info:
        api.run(BASE, replicates=30, seed=1, workers=1, chunk_size=10, model=fails_always,
                out=tmp_path / "r")  # fmt: skip
    assert info.value.exit_code == 1
    res = api.load_run(tmp_path / "r")
    assert res.failed == 30
    assert list(res.outcomes.columns) == ["replicate", "error"]
    assert (res.outcomes["error"] == "RuntimeError: broken model").all()


def test_fail_fast_names_the_replicate(tmp_path):
    with pytest.raises(ReplicateFailed) as info:
        api.run(BASE, replicates=300, seed=5, workers=1, chunk_size=100,
                out=tmp_path / "ff", model=fails_on_some, fail_fast=True)  # fmt: skip
    assert info.value.replicate == 13 and info.value.exit_code == 1
    assert "replicate 13 failed: FloatingPointError: utility overflow" in str(info.value)
    manifest = read_manifest(tmp_path / "ff")
    assert manifest.status == "failed" and manifest.failure is not None
    assert manifest.failure.replicate == 13
    assert "Traceback" in manifest.failure.traceback


def test_a_dead_worker_leaves_a_resumable_folder(tmp_path):
    with pytest.raises(WorkerCrashed, match="finish the run with: escalation run --resume"):
        api.run(BASE, replicates=400, seed=1, chunk_size=100, workers=2, out=tmp_path / "w",
                model=crashes_on_250, charts=False)  # fmt: skip
    manifest = read_manifest(tmp_path / "w")
    assert manifest.status == "interrupted"
    assert manifest.chunks[2].status == "pending"


def test_stale_temporary_files_are_removed_on_resume(tmp_path):
    api.run(BASE, replicates=40, seed=1, chunk_size=20, workers=1, out=tmp_path / "r",
            charts=False)  # fmt: skip
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    m["status"] = "running"
    m["chunks"][1]["status"] = "pending"
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(m))
    (tmp_path / "r" / "chunks" / ".chunk-000001.parquet.tmp-999").write_bytes(b"half a file")
    (tmp_path / "r" / ".outcomes.parquet.tmp-999").write_bytes(b"half a file")
    api.resume(tmp_path / "r")
    assert not list((tmp_path / "r").rglob(".*.tmp-*"))


# ----------------------------------------------------------------------------- precision


def test_precision_stops_at_the_first_chunk_meeting_the_target(tmp_path):
    target, chunk = 0.025, 250
    res = api.run(STAGED, precision=target, chunk_size=chunk, max_replicates=20_000, workers=2,
                  out=tmp_path / "p", charts=False)  # fmt: skip
    n = res.replicates
    assert n % chunk == 0 and n < 20_000
    probs = res.summary[res.summary["kind"] == "probability"]
    assert ((probs["ci_high"] - probs["ci_low"]) / 2).max() <= target
    # One chunk fewer would not have met it.
    from sim.runner.results import summarize_ok

    shorter = summarize_ok(res.outcomes[res.outcomes["replicate"] < n - chunk])
    sp = shorter[shorter["kind"] == "probability"]
    assert ((sp["ci_high"] - sp["ci_low"]) / 2).max() > target
    assert res.manifest.precision is not None and res.manifest.precision.status == "met"
    assert any("precision target met" in note for note in res.notes)
    # Deterministic: the same stopping point in one process.
    again = api.run(STAGED, precision=target, chunk_size=chunk, max_replicates=20_000,
                    workers=1)  # fmt: skip
    assert again.replicates == n
    # No stray chunk files from chunks computed ahead of the stopping point.
    names = sorted(p.name for p in (tmp_path / "p" / "chunks").iterdir())
    assert len(names) == 3 * (n // chunk)


def test_precision_run_resumes_to_the_same_stopping_point(tmp_path):
    kw = dict(precision=0.03, chunk_size=200, max_replicates=10_000, charts=False)
    whole = tmp_path / "whole"
    ref = api.run(STAGED, workers=1, out=whole, **kw)
    last = len(ref.manifest.chunks) - 1
    assert last >= 2
    # Rebuild the state a kill leaves: final files not yet written, the last two chunks not
    # done, and one chunk computed ahead of the stopping point already on disk.
    cut = tmp_path / "cut"
    shutil.copytree(whole, cut)
    for name in FINAL_FILES:
        (cut / name).unlink()
    m = json.loads((cut / "manifest.json").read_text())
    m["status"], m["replicates"] = "running", None
    m["precision"]["status"] = None
    for c in m["chunks"][last - 1 :]:
        c["status"] = "pending"
        (cut / c["files"][0]["path"]).unlink()
    ahead = run_chunk(ChunkTask(last + 1, (last + 1) * 200, (last + 2) * 200, ref.seed,
                                canonical_scenario(m["spec"]["scenario"])[2]))  # fmt: skip
    (cut / "chunks" / f"chunk-{last + 1:06d}.parquet").write_bytes(parquet_bytes(ahead.outcomes))
    (cut / "manifest.json").write_text(json.dumps(m))

    res = api.resume(cut, workers=2)
    assert res.replicates == ref.replicates
    assert sorted(p.name for p in (cut / "chunks").iterdir()) == sorted(
        p.name for p in (whole / "chunks").iterdir()
    )
    for name in FINAL_FILES:
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name


def test_precision_reports_max_replicates_reached():
    res = api.run(STAGED, precision=0.001, chunk_size=300, max_replicates=1000, workers=1)
    assert res.replicates == 1000 and len(res.outcomes) == 1000
    assert res.manifest.precision is not None
    assert res.manifest.precision.status == "max_replicates"
    assert any("max replicates reached (1,000)" in note for note in res.notes)


# ----------------------------------------------------------------------------- folders


def test_occupied_folder_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    spec = RunSpec(scenario=load_scenario(BASE).model_dump(mode="json", by_alias=True), seed=1,
                   replicates=10)  # fmt: skip
    with pytest.raises(UserError, match="not empty"):
        start_run(spec, tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "damage",
    ["not json {", '{"format": "other"}', "[]", "delete-scenario", "bad-chunk", "bad-hash"],
)
def test_damaged_manifest_is_a_folder_error(tmp_path, damage):
    api.run(BASE, replicates=20, seed=1, chunk_size=10, out=tmp_path / "r", workers=1,
            charts=False)  # fmt: skip
    path = tmp_path / "r" / "manifest.json"
    m = json.loads(path.read_text())
    if damage == "delete-scenario":
        del m["spec"]["scenario"]
        text = json.dumps(m)
    elif damage == "bad-chunk":
        m["chunks"][1]["start"] = 3
        m["status"] = "running"
        text = json.dumps(m)
    elif damage == "bad-hash":
        m["spec"]["scenario"]["horizon_days"] = 30
        text = json.dumps(m)
    else:
        text = damage
    path.write_text(text)
    with pytest.raises(RunFolderError) as info:
        api.resume(tmp_path / "r")
    assert "\n" not in str(info.value)


def test_bad_options_are_user_errors():
    for kwargs, msg in [
        ({"replicates": 0}, "replicates must be >= 1"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"chunk_size": -5}, "chunk size must be >= 1"),
        ({"precision": 0.7}, "precision must be between 0 and 0.5"),
        ({"max_replicates": 10}, "only applies with --precision"),
        ({"model": "nope:missing"}, "not found"),
        ({"model": lambda *a: None}, "module-level function"),
    ]:
        with pytest.raises(UserError, match=msg):
            api.run(BASE, **kwargs)


# ----------------------------------------------------------------------------- designs


def _design(points: list[list[float]], k: int = 40) -> tuple[api.Design, list[str]]:
    from sim.scenario.parameters import uncertain_parameters

    names = list(uncertain_parameters(load_scenario(BASE)))[:2]
    table = pd.DataFrame(points, columns=names)
    return api.Design(table, k), names


def test_design_run_runs_every_point_on_common_random_numbers(tmp_path):
    design, names = _design([[0.2, 0.3], [0.7, 0.4], [0.2, 0.3]], k=40)
    a = api.run_design(BASE, design, seed=8, out=tmp_path / "a", workers=2, chunk_size=1)
    out = a.outcomes
    assert list(out.columns[:2]) == ["replicate", "point"]
    assert out["replicate"].tolist() == list(range(40)) * 3
    assert out["point"].tolist() == [0] * 40 + [1] * 40 + [2] * 40
    for name in names:
        np.testing.assert_array_equal(
            out["param." + name].to_numpy(), np.repeat(design.table[name].to_numpy(), 40)
        )
    # Common random numbers: parameters outside the design are drawn alike at every point...
    others = [c for c in out.columns if c.startswith("param.") and c[6:] not in names]
    assert others
    by_point = [out[out["point"] == p].reset_index(drop=True) for p in range(3)]
    for c in others:
        np.testing.assert_array_equal(by_point[0][c], by_point[1][c])
    # ...so a point repeated in the design repeats its outcomes exactly, replicate by replicate.
    pd.testing.assert_frame_equal(
        by_point[0].drop(columns="point"), by_point[2].drop(columns="point")
    )
    assert not by_point[0].drop(columns="point").equals(by_point[1].drop(columns="point"))
    m = read_manifest(tmp_path / "a")
    assert m.spec.design is not None and m.spec.design.columns == tuple(names)
    assert len(m.chunks) == 3 and m.replicates == 120
    # Chunking and workers do not change a byte of the outcomes.
    api.run_design(BASE, design, seed=8, out=tmp_path / "b", workers=1, chunk_size=2)
    assert (tmp_path / "a" / "outcomes.parquet").read_bytes() == (
        tmp_path / "b" / "outcomes.parquet"
    ).read_bytes()


def test_design_run_resumes_and_its_design_is_verified(tmp_path):
    design, _ = _design([[0.2, 0.3], [0.7, 0.4], [0.5, 0.45]], k=30)
    folder = tmp_path / "d"
    ref = api.run_design(BASE, design, seed=2, out=folder, workers=1, chunk_size=1)
    before = (folder / "outcomes.parquet").read_bytes()
    # The state a kill leaves: the last chunk not done, no final tables.
    m = json.loads((folder / "manifest.json").read_text())
    m["status"] = "running"
    m["chunks"][2]["status"] = "pending"
    (folder / "manifest.json").write_text(json.dumps(m))
    (folder / "outcomes.parquet").unlink()
    api.resume(folder, workers=1)
    assert (folder / "outcomes.parquet").read_bytes() == before
    pd.testing.assert_frame_equal(api.load_design_run(folder).outcomes, ref.outcomes)
    # A design file changed behind the manifest's back is refused, naming the file.
    table = pd.read_parquet(folder / "design.parquet")
    table.iloc[0, 0] = 0.9
    (folder / "design.parquet").write_bytes(parquet_bytes(table))
    m = json.loads((folder / "manifest.json").read_text())
    m["status"] = "running"
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(RunFolderError, match=r"design\.parquet: damaged or replaced"):
        api.resume(folder)


def test_bad_designs_are_user_errors():
    design, names = _design([[0.2, 0.3]])
    with pytest.raises(UserError, match="did you mean"):
        api.run_design(BASE, design.table.rename(columns={names[0]: names[0] + "x"}), 5)
    with pytest.raises(UserError, match="finite"):
        api.run_design(BASE, design.table * np.nan, 5)
    with pytest.raises(UserError, match="replicates per point must be >= 1"):
        api.run_design(BASE, design.table, 0)
    with pytest.raises(UserError, match="at least one row"):
        api.run_design(BASE, design.table.iloc[:0], 5)
