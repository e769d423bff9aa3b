"""The policy interface: the model's own rule through it, personas, external policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stats import compare_paired, mean_interval
from sim.errors import UserError
from sim.model import EscalationModel, run_replicates
from sim.play.policy import PERSONAS, Decision, persona, play_out, resolve_policies
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


def test_tit_for_tat_answers_in_kind(scenario):
    model = EscalationModel(scenario, seed=6, replicate_ids=np.arange(300), collect=False)
    tft = persona("tit_for_tat")
    for _ in range(8):
        d = Decision.from_model(model, POLAND)
        moves = tft(d)
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
