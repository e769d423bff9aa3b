"""Face validity: the shipped scenarios move outcomes in the directions the domain brief expects.

Each comparison runs both scenarios on common random numbers (same seed, same replicate ids) and
requires the paired 99% interval of the difference to exclude zero, so a pass is not luck.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import run_replicates
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
N = 4000
SEED = 20240708


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_replicates(
                load_scenario(SCENARIOS / f"{name}.yaml"), SEED, np.arange(N)
            )
        return cache[name]

    return get


def paired_lower_bound(a: np.ndarray, b: np.ndarray, z: float = 2.576) -> float:
    """Lower end of the paired z interval of mean(b - a)."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return d.mean() - z * d.std(ddof=1) / np.sqrt(len(d))


def test_baseline_reproduces_the_historical_record(runs):
    out = runs("baseline").outcomes
    # Joint drills 2011-2018 ended without incident: the large majority of replicates must too.
    assert out.armed_incident.mean() < 0.05
    assert (out.end_state == "de_escalated").mean() > 0.9
    assert not out.staged_incident.any()
    assert out.china_escalates.mean() < 0.02


def test_staged_provocation_raises_armed_incidents_and_china_alignment(runs):
    base, staged = runs("baseline").outcomes, runs("staged_provocation").outcomes
    assert paired_lower_bound(base.armed_incident, staged.armed_incident) > 0
    assert paired_lower_bound(base.china_alignment_max, staged.china_alignment_max) > 0
    assert paired_lower_bound(base.china_escalates, staged.china_escalates) > 0


def test_strong_disclosure_lowers_china_escalation(runs):
    staged = runs("staged_provocation").outcomes
    strong = runs("whatif_strong_disclosure").outcomes
    assert paired_lower_bound(strong.china_escalates, staged.china_escalates) > 0
    assert strong.china_belief_west.mean() < staged.china_belief_west.mean()


def test_blockade_raises_chinas_costs(runs):
    base, blockade = runs("baseline").outcomes, runs("transit_blockade").outcomes
    assert base.china_blockade_cost_musd.sum() == 0
    assert paired_lower_bound(base.china_blockade_cost_musd, blockade.china_blockade_cost_musd) > 0
    hit = blockade[blockade.blockade]
    assert (hit.china_blockade_cost_musd > 0).all()
    assert set(hit.china_blames_blockade_on) <= {"poland", "belarus"}


def test_eu_exposure_restrains_china(runs):
    combined = runs("combined").outcomes
    exposed = runs("whatif_china_exposed").outcomes
    assert paired_lower_bound(exposed.china_alignment_max, combined.china_alignment_max) > 0


def test_every_rung_is_reached_in_some_shipped_scenario(runs):
    ladder = load_scenario(SCENARIOS / "base.yaml").ladder
    reached = np.zeros(len(ladder), dtype=bool)
    for path in SCENARIOS.glob("*.yaml"):
        reached |= runs(path.stem).occupancy.sum(axis=(0, 1)) > 0
    missing = [r.name for r, hit in zip(ladder, reached, strict=True) if not hit]
    assert not missing, f"rungs never reached: {missing}"


@pytest.mark.parametrize(
    ("actor", "param", "outcome"),
    [
        ("belarus", "risk_tolerance", "max_rung"),
        ("belarus", "resolve", "max_rung"),
        ("poland", "resolve", "blockade_days"),
    ],
)
def test_decision_parameters_move_behaviour_in_the_expected_direction(actor, param, outcome):
    s = load_scenario(SCENARIOS / "whatif_hardliners.yaml")
    ids = np.arange(3000)
    low = run_replicates(s, SEED, ids, parameters={f"actors.{actor}.{param}": 0.05}).outcomes
    high = run_replicates(s, SEED, ids, parameters={f"actors.{actor}.{param}": 0.95}).outcomes
    assert paired_lower_bound(low[outcome], high[outcome]) > 0


def test_costlier_moves_are_chosen_less(runs):
    s = load_scenario(SCENARIOS / "transit_blockade.yaml")
    ids = np.arange(3000)
    cheap = run_replicates(s, SEED, ids, parameters={"moves.rail_blockade.cost": 0.5}).outcomes
    dear = run_replicates(s, SEED, ids, parameters={"moves.rail_blockade.cost": 3.0}).outcomes
    assert paired_lower_bound(dear.blockade_days, cheap.blockade_days) > 0
