"""The policy interface: the model's own rule through it, personas, external policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stats import compare_paired, mean_interval
from sim.errors import UserError
from sim.model import EscalationModel, run_replicates
from sim.play.policy import (
    PERSONAS,
    Decision,
    Plan,
    decide,
    persona,
    play_day,
    play_out,
    resolve_policies,
)
from sim.scenario import load_scenario
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "staged_provocation.yaml"
POLAND = load_scenario(SCENARIO).actor_names.index("poland")
N = 2000


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def _own_rung(scenario, policies) -> np.ndarray:
    """(R,) each world's mean rung of Poland over the days it ran."""
    model = EscalationModel(scenario, seed=4, replicate_ids=np.arange(N), collect=False)
    total = np.zeros(N)
    days = np.zeros(N)

    def on_day(day, chosen):
        alive = model.state.days == day
        total[alive] += model.state.rung[alive, POLAND]
        days[alive] += 1

    if policies:
        play_out(model, resolve_policies(policies), on_day=on_day)
    else:
        play_out(model, {}, on_day=on_day)
    return total / np.maximum(days, 1)


def test_the_models_own_rule_through_the_interface_is_bit_identical(scenario):
    ids = np.arange(500)
    own = run_replicates(scenario, 3, ids).outcomes
    model = EscalationModel(scenario, seed=3, replicate_ids=ids)
    play_out(model, {a: (lambda d: d.own()) for a in range(model.tables.n_actors)})
    pd.testing.assert_frame_equal(model.outcomes(), own)
    # ... and with every actor's lasting measures decided through the interface too.
    model = EscalationModel(scenario, seed=3, replicate_ids=ids)
    seats = {a: (lambda d: Plan(d.own(), d.own_switches())) for a in range(model.tables.n_actors)}
    play_out(model, seats)
    pd.testing.assert_frame_equal(model.outcomes(), own)
    model = EscalationModel(scenario, seed=3, replicate_ids=ids)
    play_out(model, {POLAND: lambda d: Plan(None, d.own_switches())})
    pd.testing.assert_frame_equal(model.outcomes(), own)


def test_measure_advice_is_the_models_own_review(scenario):
    """A decision's measure probabilities and draws are the ones the model's review uses."""
    model = EscalationModel(scenario, seed=8, replicate_ids=[0, 1, 2, 3], trace=True)
    for _ in range(5):
        d = Decision.from_model(model, POLAND)
        model.step()
        rec = model.trace.reviews[(d.day, POLAND)]
        np.testing.assert_array_equal(rec["p"], d.measure_probabilities.T)
        np.testing.assert_array_equal(rec["utilities"], d.measure_utilities.T)
        np.testing.assert_array_equal(rec["flip"], d.own_switches())
    assert "rail_blockade@belarus" in d.measure_names
    assert not (d.measure_probabilities > 0)[~d.measure_switchable].any()


def test_advice_changes_nothing_and_matches_the_trace(scenario):
    model = EscalationModel(scenario, seed=8, replicate_ids=[0, 1, 2], trace=True)
    for _ in range(4):
        model.step()
    before = model.state.take(np.arange(3))
    d = Decision.from_model(model, POLAND)
    assert all(
        np.array_equal(getattr(before, f), getattr(model.state, f))
        for f in before.__dataclass_fields__
        if f != "day"
    )
    model.step()
    rec = model.trace.choices[(5, POLAND)]
    np.testing.assert_array_equal(rec["probabilities"], d.probabilities.T)
    np.testing.assert_array_equal(rec["features"][:, 0, :], d.features.T)
    np.testing.assert_array_equal(rec["chosen"], d.own())
    assert not (d.probabilities > 0)[~d.available].any()
    np.testing.assert_allclose(d.probabilities.sum(axis=0), 1.0)


@pytest.mark.parametrize(("name", "sign"), [("hawk", 1), ("dove", -1)])
def test_a_persona_moves_its_seat_in_its_direction(scenario, name, sign):
    """Paired on common random numbers: the seat's own mean rung, and the outcomes it drives."""
    base = _own_rung(scenario, None)
    played = _own_rung(scenario, {"poland": name})
    lo, hi = mean_interval(played - base)
    assert (lo > 0) if sign > 0 else (hi < 0), (name, lo, hi)
    # The persona changes the outcomes of the run, paired on the same replicates.
    ids = np.arange(N)
    a = run_replicates(scenario, 4, ids).outcomes
    b = run_replicates(scenario, 4, ids, policies={"poland": name}).outcomes
    table = compare_paired(a, b)
    assert ((table.ci_low > 0) | (table.ci_high < 0)).any()
    # Its lasting measures go its way too: the hawk blockades more, the dove less (paired). In
    # the calibrated staged provocation Warsaw never blockades (no hybrid campaign), so this is
    # measured where it does: the combined scenario.
    combined = load_scenario(REPO / "scenarios" / "combined.yaml")
    a = run_replicates(combined, 4, ids).outcomes
    b = run_replicates(combined, 4, ids, policies={"poland": name}).outcomes
    lo, hi = mean_interval(b.blockade_days.astype(float) - a.blockade_days.astype(float))
    assert (lo > 0) if sign > 0 else (hi < 0), (name, "blockade_days", lo, hi)
    assert (b.blockade.mean() > a.blockade.mean()) if sign > 0 else (b.blockade.sum() == 0)


def test_hawk_never_ends_and_dove_never_starts_a_measure(scenario):
    model = EscalationModel(scenario, seed=2, replicate_ids=np.arange(200), collect=False)
    slots = model.tables.actors[POLAND].measures.ids
    pressure = [
        j
        for j, k in enumerate(slots)
        if model.tables.slot_kind[k] in ("deploy_forces", "close_border", "transit_blockade")
    ]
    for _ in range(10):
        before = model.state.on[:, slots].copy()
        d = Decision.from_model(model, POLAND)
        play_day(model, {POLAND: persona("hawk")})
        after = model.state.on[:, slots]
        alive = model.state.alive[:, None]
        assert not (before & ~after & alive).any()  # nothing ended
        # Every pressure measure that could start did.
        could = d.measure_switchable.T[:, pressure] & ~before[:, pressure] & alive
        assert after[:, pressure][could].all()
    model = EscalationModel(scenario, seed=2, replicate_ids=np.arange(200), collect=False)
    for _ in range(10):
        before = model.state.on[:, slots].copy()
        d = Decision.from_model(model, POLAND)
        play_day(model, {POLAND: persona("dove")})
        after = model.state.on[:, slots]
        alive = model.state.alive[:, None]
        assert not (~before & after).any()  # nothing started
        assert not (after & d.measure_switchable.T & alive).any()  # every endable one ended


def test_tit_for_tat_mirrors_the_deployments_facing_it(scenario):
    model = EscalationModel(scenario, seed=6, replicate_ids=np.arange(300), collect=False)
    tft = persona("tit_for_tat")
    t = model.tables
    mirrored = 0
    for _ in range(10):
        d = Decision.from_model(model, POLAND)
        plan = tft(d)
        own = d.own_switches()
        for j, k in enumerate(d.mirror):
            if k < 0:
                np.testing.assert_array_equal(plan.switches[:, j], own[:, j])
                continue
            assert t.slot_kind[k] == d.measure_kinds[j]
            assert t.slot_actor[k] == t.slot_target[d.measure_slots[j]]
            assert t.slot_target[k] == POLAND
            want = d.measure_switchable[j] & (d.world_on[k] != d.measure_on[j])
            np.testing.assert_array_equal(plan.switches[:, j], want)
            mirrored += 1
        model.step(*(x for x in decide(model, {POLAND: tft})))
    assert mirrored  # some slot of Poland's has a counterpart aimed back


def test_the_explorers_persona_seat_decides_measures_through_the_interface():
    """The explorer's world with poland=hawk equals the model stepped by play_day with hawk."""
    from sim.explore.model import ExplorerModel, Settings

    settings = Settings(SCENARIO, seed=5, policies={"poland": "hawk"})
    world = ExplorerModel(settings)
    model = EscalationModel(load_scenario(SCENARIO), seed=5, replicate_ids=[0], collect=False)
    for _ in range(10):
        world.step()
        play_day(model, {POLAND: persona("hawk")})
    assert np.array_equal(world.state.on, model.state.on)
    assert np.array_equal(world.state.last, model.state.last)
    rail = model.tables.slot_name.index("rail_blockade@belarus")
    assert world.state.on[0, rail]


def test_tit_for_tat_answers_in_kind(scenario):
    model = EscalationModel(scenario, seed=6, replicate_ids=np.arange(300), collect=False)
    tft = persona("tit_for_tat")
    for _ in range(8):
        d = Decision.from_model(model, POLAND)
        moves = tft(d).moves
        cols = np.array([list(d.menu).index(int(m)) for m in moves])
        gap = np.abs(d.severity[cols] - d.feature("threat"))
        best = np.where(d.available, np.abs(d.severity[:, None] - d.feature("threat")), np.inf)
        np.testing.assert_allclose(gap, best.min(axis=0))
        model.step({POLAND: moves})


def test_external_policies_are_checked(scenario):
    model = EscalationModel(scenario, seed=1, replicate_ids=[0, 1])

    def unavailable(d):
        col = int(np.flatnonzero(~d.available.any(axis=1))[0])
        return np.full(d.worlds, d.menu[col])

    with pytest.raises(UserError, match="not available"):
        play_out(model, {POLAND: unavailable})
    with pytest.raises(UserError, match="move indices"):
        play_out(model, {POLAND: lambda d: np.zeros(5)})

    def starts_the_impossible(d):
        flips = d.hold()
        flips[:, d.measure_names.index("article4")] = True  # not endable once started
        return Plan(d.own(), flips)

    with pytest.raises(UserError, match="measure switches"):
        play_out(model, {POLAND: lambda d: Plan(d.own(), np.zeros((2, 1), dtype=bool))})
    # Article 4 requested (through the model's hook) cannot be ended by a policy afterwards.
    model2 = EscalationModel(scenario, seed=1, replicate_ids=[0, 1])
    request = np.zeros((2, len(_names(model2))), dtype=bool)
    request[:, _names(model2).index("article4")] = True
    model2.step(switches={POLAND: request})
    with pytest.raises(UserError, match="cannot end 'article4'"):
        play_out(model2, {POLAND: starts_the_impossible})
    with pytest.raises(UserError, match="unknown persona"):
        persona("berserker")
    with pytest.raises(UserError, match="unknown actor"):
        resolve_policies({"atlantis": "hawk"}, model.tables.names)
    with pytest.raises(UserError, match="unknown actor"):
        play_out(model, resolve_policies({"atlantis": "hawk"}))
    assert set(PERSONAS) == {"hawk", "dove", "tit_for_tat"}


def test_run_policy_through_the_cli_moves_outcomes_its_way(escalation, tmp_path):
    """``escalation run --policy`` and ``escalation compare`` of the folders, paired."""
    common = ["-n", "1500", "--seed", "12", "--quiet", "--no-charts", "--workers", "1"]
    runs = {}
    for name, extra in (("model", []), ("hawk", ["--policy", "poland=hawk"]),
                        ("dove", ["--policy", "poland=dove"])):  # fmt: skip
        out = tmp_path / name
        r = escalation("run", str(SCENARIO), *common, *extra, "-o", str(out))
        assert r.returncode == 0, r.stderr
        runs[name] = out
    manifest = (runs["hawk"] / "manifest.json").read_text()
    assert '"sim.play.runs:poland=hawk"' in manifest
    # Poland's mean rung over every day and world, from the runs' ladder occupancy counts.
    from sim.api import load_run

    def poland_rung(folder):
        r = load_run(folder)
        occ = r.occupancy[:, r.scenario.actor_names.index("poland"), :]
        return float((occ * np.arange(occ.shape[1])).sum() / occ.sum())

    assert poland_rung(runs["dove"]) < poland_rung(runs["model"]) < poland_rung(runs["hawk"])
    # The personas decide Poland's measures in the run too: the hawk blockades, the dove does not.
    blockade = {
        name: float(load_run(folder).summary.set_index("outcome").loc["blockade", "estimate"])
        for name, folder in runs.items()
    }
    assert blockade["dove"] <= blockade["model"] < blockade["hawk"], blockade
    for name in ("hawk", "dove"):
        out = tmp_path / f"cmp-{name}"
        r = escalation(
            "compare", str(runs["model"]), str(runs[name]), "-o", str(out), "--no-charts"
        )
        assert r.returncode == 0, r.stderr
        table = pd.read_csv(out / "comparison.csv")
        assert ((table.ci_low > 0) | (table.ci_high < 0)).any(), name  # paired: a real change

    r = escalation("run", str(SCENARIO), "-n", "10", "--policy", "atlantis=hawk")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    from tests.test_play import _main

    for bad in ("poland", "poland=berserker", "poland=hawk,poland=dove"):
        code, err = _main("run", str(SCENARIO), "-n", "10", "--policy", bad, "-o", str(tmp_path))
        assert code == 2 and len(err.strip().splitlines()) == 1, (bad, err)


def _names(model):
    t = model.tables
    return [t.slot_name[int(k)] for k in t.actors[POLAND].measures.ids]
