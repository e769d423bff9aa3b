"""The crisis model: reproducibility, invariants, Mesa integration and replay."""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.model import EscalationModel, run_replicates
from sim.model.replay import replay
from sim.scenario import load_scenario
from sim.scenario.parameters import PARAM_PREFIX, uncertain_parameters

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def combined():
    return load_scenario(SCENARIOS / "combined.yaml")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), rtol=0, atol=0
    )


def test_replicate_alone_equals_replicate_in_a_crowd(combined):
    crowd = run_replicates(combined, 11, np.arange(10_000)).outcomes
    for k in (0, 4321, 9999):
        alone = run_replicates(combined, 11, np.array([k])).outcomes
        _same(alone, crowd.iloc[[k]])


def test_chunking_does_not_change_any_row(combined):
    whole = run_replicates(combined, 5, np.arange(600))
    parts = [run_replicates(combined, 5, np.arange(a, a + 200)) for a in (400, 0, 200)]
    joined = pd.concat([p.outcomes for p in parts]).sort_values("replicate")
    _same(whole.outcomes, joined)
    assert np.array_equal(whole.occupancy, sum(p.occupancy for p in parts))


def test_same_seed_same_outcomes_and_different_seed_differs(combined):
    a = run_replicates(combined, 3, np.arange(300)).outcomes
    b = run_replicates(combined, 3, np.arange(300)).outcomes
    c = run_replicates(combined, 4, np.arange(300)).outcomes
    _same(a, b)
    assert not a.drop(columns="replicate").equals(c.drop(columns="replicate"))
    sampled = [col for col in a.columns if col.startswith(PARAM_PREFIX)]
    assert sampled and (a[sampled].to_numpy() != c[sampled].to_numpy()).mean() > 0.9


def test_each_replicate_draws_its_own_parameters(combined):
    out = run_replicates(combined, 1, np.arange(2000)).outcomes
    declared = uncertain_parameters(combined)
    assert {PARAM_PREFIX + p for p in declared} <= set(out.columns)
    res = out[PARAM_PREFIX + "actors.ukraine.resolve"]
    # beta(7, 3): mean 0.7, sd 0.138
    assert abs(res.mean() - 0.7) < 0.02 and abs(res.std() - 0.138) < 0.02
    assert res.nunique() == len(res)


def test_given_parameters_replace_draws(combined):
    out = run_replicates(
        combined, 1, np.arange(50), parameters={"actors.china.resolve": 0.9}
    ).outcomes
    assert (out[PARAM_PREFIX + "actors.china.resolve"] == 0.9).all()


def _check_invariants(model: EscalationModel) -> None:
    s = model.scenario_spec
    t = model.tables
    out = model.outcomes()
    n_rungs, n_levels = len(s.ladder), t.n_levels
    st = model.state
    assert ((st.rung >= 0) & (st.rung < n_rungs)).all()
    assert ((st.alignment >= 0) & (st.alignment < n_levels)).all()
    belief = st.belief_west(t)
    assert np.isfinite(belief).all() and ((belief >= 0) & (belief <= 1)).all()
    assert ((st.hybrid >= 0) & (st.hybrid <= 1)).all()
    assert np.isfinite(st.lean).all() and np.isfinite(st.blame).all()
    assert np.isfinite(st.cost).all() and (st.cost >= 0).all() and (st.cargo >= 0).all()
    counted = model.occupancy[: model.day + 1].sum(axis=2)
    assert (counted == model.n).all()
    assert (model.alignment_occupancy[: model.day + 1].sum(axis=1) == model.n).all()
    # outcomes agree with the trajectories they summarise
    assert (out.max_rung >= st.rung.max(axis=1)[st.alive]).all() or (~st.alive).any()
    reached = np.flatnonzero(model.occupancy[: model.day + 1, :, :].sum(axis=(0, 1)))
    assert out.max_rung.max() == reached.max()
    assert (out.armed_incident == out.first_armed_incident_day.notna()).all()
    assert (out.armed_incident == (out.first_armed_incident_cause != "")).all()
    assert (out.staged_incident == out.staged_incident_day.notna()).all()
    if "china_escalates" in out:  # the scenario's mechanisms decide which columns exist
        assert (out.china_escalates == out.china_escalation_day.notna()).all()
        assert (out.china_alignment_max >= out.china_alignment_final).all()
    if "blockade" in out:
        assert (out.blockade_days <= out.days).all()
        assert ((out.blockade_days > 0) == out.blockade).all()
        assert ((out.china_blockade_cost_musd > 0) <= out.blockade).all()
    if "china_belief_west" in out:
        assert (out.china_belief_west.isna() == ~st.incident).all()
    assert set(out.end_state) <= {e.name for e in s.end_states}
    # the dispute record
    assert ((out.hostility_level >= 1) & (out.hostility_level <= 5)).all()
    assert (out.dispute == (out.hostility_level >= 2)).all()
    assert (out.dispute == out.dispute_days.notna()).all()
    assert (out.reciprocated <= out.dispute).all()
    assert (~out.armed_incident | (out.hostility_level >= 4)).all()
    assert (out.fatal <= out.armed_incident).all()
    probs = [c for c in out.columns if out[c].dtype == bool]
    assert all(0 <= out[c].mean() <= 1 for c in probs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resolve=st.floats(0, 1),
    risk=st.floats(0, 1),
    evidence=st.floats(0, 1),
    accident=st.floats(0, 1),
    temperature=st.floats(0.05, 5),
    noise=st.floats(0, 3),
    review=st.floats(0, 1),
    seed=st.integers(0, 2**31),
)
def test_invariants_hold_for_any_parameter_values(
    combined, resolve, risk, evidence, accident, temperature, noise, review, seed
):
    params = {
        "actors.belarus.resolve": resolve,
        "actors.russia.risk_tolerance": risk,
        "incidents.staged_evidence_quality": evidence,
        "incidents.accident_rate": accident,
        "actors.ukraine.temperature": temperature,
        "fog.belief_noise": noise,
        "dynamics.measure_review": review,
    }
    model = EscalationModel(
        combined, seed=seed, replicates=64, parameters=params, collect=False
    ).run()
    _check_invariants(model)


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: p.stem)
def test_invariants_hold_for_every_shipped_scenario(path):
    if path.name in ("base.yaml", "ladder_dynamics.yaml") or "broken" in path.parts:
        pytest.skip("not a runnable scenario")
    model = EscalationModel(load_scenario(path), seed=2, replicates=300, collect=False).run()
    _check_invariants(model)


def test_mesa_batch_run_returns_rows_with_outcomes():
    rows = mesa.batch_run(
        sim.EscalationModel,
        parameters={"scenario": str(SCENARIOS / "staged_provocation.yaml")},
        rng=[1, 2, 3],
        max_steps=400,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 3
    for seed, row in zip([1, 2, 3], rows, strict=True):
        direct = run_replicates(
            load_scenario(SCENARIOS / "staged_provocation.yaml"), seed, np.array([0])
        ).outcomes.iloc[0]
        for key in ("armed_incident", "end_state", "max_rung", "china_alignment_max"):
            assert row[key] == direct[key]


def test_datacollector_records_headline_series_for_a_single_run():
    model = EscalationModel(SCENARIOS / "staged_provocation.yaml", seed=9).run()
    series = model.datacollector.get_model_vars_dataframe()
    assert len(series) == model.day + 1
    assert {"rung_belarus", "china_alignment", "armed_incident"} <= set(series.columns)
    assert series["rung_belarus"].iloc[-1] == model.state.rung[0, 0]


def test_replay_outcomes_equal_the_monte_carlo_row(combined):
    mc = run_replicates(combined, 7, np.arange(300)).outcomes
    k = int(np.flatnonzero((mc.blockade & mc.staged_incident).to_numpy())[0])
    r = replay(combined, 7, k)
    for col, want in mc.iloc[k].items():
        got = r.outcomes[col]
        assert (pd.isna(got) and pd.isna(want)) or got == want, col
    text = r.story
    assert f"replicate {k}" in text
    assert "Stage an incident -> Ukraine" in text and "a pretext" in text
    assert "Poland starts: Block rail transit (Belarus)" in text
    assert "weighed:" in text and "U=" in text and "p=" in text
    assert "Outcomes:" in text


def test_a_world_saved_on_day_d_continues_identically_when_branched(combined):
    model = EscalationModel(combined, seed=3, replicates=40, collect=False)
    for _ in range(10):
        model.step()
    k = 17
    saved = model.state.take(np.array([k]))
    own_params = {p: v[[k]] for p, v in model.params.items()}
    model.run()
    branch = EscalationModel(
        combined, seed=3, replicate_ids=[k], parameters=own_params, start=saved, collect=False
    ).run()
    _same(branch.outcomes(), model.outcomes().iloc[[k]])
    # New replicate ids from the same saved world: a Monte Carlo of what happens next.
    fan = EscalationModel(
        combined,
        seed=3,
        replicate_ids=np.arange(1000, 1300),
        parameters=own_params,
        start=saved,
        collect=False,
    ).run()
    assert fan.occupancy[10].sum(axis=1).tolist() == [300] * 6
    assert (fan.occupancy[10, :, :] > 0).sum() == 6  # everyone starts where world k stood
    assert fan.outcomes().end_state.nunique() >= 1
