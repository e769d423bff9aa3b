"""Face validity: the shipped scenarios move outcomes the way the domain brief expects, and
headline outcomes come from decisions the actors weigh.

Comparisons run both scenarios on common random numbers (same seed, same replicate ids) and
require the paired 99% interval of the difference to exclude zero, so a pass is not luck.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import EscalationModel, run_replicates
from sim.model.history import PLAUSIBLE
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
N = 4000
SEED = 20240708
# No unchosen fire: no accidents and no staging answered by the target's forces.
NO_ACCIDENTS = ("incidents.accident_rate=0", "incidents.staging_exchange=0")


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(name, overrides=()):
        key = (name, tuple(overrides))
        if key not in cache:
            s = load_scenario(SCENARIOS / f"{name}.yaml", list(overrides))
            cache[key] = run_replicates(s, SEED, np.arange(N))
        return cache[key]

    return get


def paired_lower_bound(a, b, z: float = 2.576) -> float:
    """Lower end of the paired z interval of mean(b - a)."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return d.mean() - z * d.std(ddof=1) / np.sqrt(len(d))


def test_baseline_reproduces_the_historical_record(runs):
    out = runs("baseline").outcomes
    # The July 2024 drills ended without a shot: that must be a plausible outcome, and fire
    # stays rare where nothing gives a reason for it (issue "Force for a reason": <= 10%).
    assert (~out.armed_incident).mean() >= PLAUSIBLE
    assert out.armed_incident.mean() <= 0.10
    assert out.staged_incident.mean() < 0.02
    # China moving to economic support or beyond was under 2% before calibration; calibrated,
    # real fire moves Beijing in about one world in eight (section 15). What happened in July
    # 2024 (China unmoved, no shot) stays plausible: tests/test_history.py.


def test_without_accidents_actors_still_choose_to_fire_somewhere(runs):
    out = runs("whatif_hardliners", NO_ACCIDENTS)
    o = out.outcomes
    assert o.armed_incident.mean() > 0.02
    assert set(o.first_armed_incident_cause[o.armed_incident]) == {"chosen"}
    ladder = load_scenario(SCENARIOS / "base.yaml").ladder
    reached = out.occupancy.sum(axis=(0, 1)) > 0
    clash = [r.name for r in ladder].index("limited_clash")
    missing = [r.name for r, hit in zip(ladder[: clash + 1], reached, strict=False) if not hit]
    assert not missing, f"rungs up to limited clash never reached by choice: {missing}"


def test_chosen_fire_follows_the_shared_restraint(runs):
    # Who fires first is a decision weighed against the cost of force: the lower the shared
    # restraint (a cost, never below 0), the more first shots are chosen (paired worlds).
    cheap = runs("whatif_hardliners", ("dynamics.restraint=0", "dynamics.restraint_spread=0"))
    dear = runs("whatif_hardliners", ("dynamics.restraint=4", "dynamics.restraint_spread=0"))

    def chosen(o):
        return (o.outcomes.first_armed_incident_cause == "chosen").astype(float)

    assert paired_lower_bound(chosen(dear), chosen(cheap)) > 0
    no_acc = runs("baseline", NO_ACCIDENTS).outcomes
    assert set(no_acc.first_armed_incident_cause[no_acc.armed_incident]) <= {"chosen"}


def test_article5_is_not_war_with_russia_in_most_worlds():
    s = load_scenario(SCENARIOS / "whatif_hardliners.yaml")
    out = run_replicates(s, SEED, np.arange(12000)).outcomes
    invoked = out[out.article5]
    assert len(invoked) >= 30, "too few Article 5 worlds to judge"
    war = (invoked.end_state == "nato_russia_war").mean()
    assert war < 0.5


def test_staged_provocation_moves_china_but_fires_no_shot_by_itself(runs):
    base, staged = runs("baseline").outcomes, runs("staged_provocation").outcomes
    assert paired_lower_bound(base.china_alignment_max, staged.china_alignment_max) > 0
    assert paired_lower_bound(base.china_escalates, staged.china_escalates) > 0
    # A pretext is not a shot: without accidents, the staging adds no fire of its own to the
    # baseline's (paired worlds; the upper end of the difference's interval under 2 points).
    no_acc = runs("staged_provocation", NO_ACCIDENTS).outcomes
    base_no_acc = runs("baseline", NO_ACCIDENTS).outcomes
    assert -paired_lower_bound(no_acc.armed_incident, base_no_acc.armed_incident) < 0.02


def test_strong_disclosure_lowers_china_escalation(runs):
    staged = runs("staged_provocation").outcomes
    strong = runs("whatif_strong_disclosure").outcomes
    assert paired_lower_bound(strong.china_escalates, staged.china_escalates) > 0
    assert strong.china_belief_west.mean() < staged.china_belief_west.mean()


def test_china_exposure_moves_chinas_line(runs):
    combined = runs("combined").outcomes
    exposed = runs("whatif_china_exposed").outcomes
    assert paired_lower_bound(exposed.china_alignment_max, combined.china_alignment_max) > 0
    # Before calibration exposure also lengthened the blockade (Minsk's hybrid pressure follows
    # China's line); calibrated, that effect is lost in the noise (+0.04 days, paired 99%
    # interval -0.11..+0.03): docs/MODEL.md, section 15, "What the model still gets wrong".


def test_chinas_alignment_changes_an_outcome_that_is_not_about_china(runs):
    # China's level enters Warsaw's blockade motive (-1 per level): a China held at its initial
    # line (no reason to move up outweighs a bias of -20) leaves Warsaw freer to block the rail
    # corridor. Calibrated, the effect is small (+0.09 blockade days) but excludes zero.
    combined = runs("combined").outcomes
    frozen = runs("combined", ("alignment.up.bias=-20",)).outcomes
    assert paired_lower_bound(frozen.china_alignment_max, combined.china_alignment_max) > 0
    assert paired_lower_bound(combined.blockade_days, frozen.blockade_days) > 0


def test_blockade_raises_chinas_costs(runs):
    base, blockade = runs("baseline").outcomes, runs("transit_blockade").outcomes
    assert paired_lower_bound(base.china_blockade_cost_musd, blockade.china_blockade_cost_musd) > 0
    hit = blockade[blockade.blockade]
    assert (hit.china_blockade_cost_musd > 0).all()
    assert set(hit.china_blames_blockade_on) <= {"poland", "belarus"}


def test_a_blockade_persists_through_polands_daily_moves_and_ends_only_by_its_decision():
    s = load_scenario(SCENARIOS / "transit_blockade.yaml")
    m = EscalationModel(s, seed=SEED, replicates=200, trace=True, collect=False).run()
    t = m.tables
    poland = t.names.index("poland")
    slot = t.slot(poland, "rail_blockade", t.names.index("belarus"))
    tr = m.trace
    held_through_changes = 0
    for r in range(m.n):
        on = np.array([tr.states[d].on[r, slot] for d in range(m.day + 1)])
        moves = np.array([tr.states[d].last[r, poland] for d in range(m.day + 1)])
        for d in range(1, m.day + 1):
            if on[d - 1] and not on[d]:
                # the only way a blockade ends: Poland's review flipped it that day
                assert tr.reviews[(d, poland)]["flip"][r][
                    int(np.flatnonzero(t.actors[poland].measures.ids == slot)[0])
                ]
        spells = on[1:] & on[:-1]
        if spells.any() and len(set(moves[1:][spells])) > 1:
            held_through_changes += 1
    assert held_through_changes >= 10


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


def test_costlier_measures_are_held_less():
    s = load_scenario(SCENARIOS / "transit_blockade.yaml")
    ids = np.arange(3000)
    path = "measures.rail_blockade.cost_per_day"
    cheap = run_replicates(s, SEED, ids, parameters={path: 0.0}).outcomes
    dear = run_replicates(s, SEED, ids, parameters={path: 1.5}).outcomes
    assert paired_lower_bound(dear.blockade_days, cheap.blockade_days) > 0
