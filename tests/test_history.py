"""The historical episodes of DOMAIN.md: what happened must be a plausible outcome.

The test is the probability the model gives to the record (sim.model.history): at least
``PLAUSIBLE`` (50%) for each episode, on 1,500 replicates (the 1,000-day episodes on 600). The
shared ladder dynamics are fitted to the MID record and then weighed by these episodes
(sim.calibration.regional), so this is an in-sample check; the out-of-sample figure is the
calibration's leave-one-episode-out table (docs/MODEL.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import run_replicates
from sim.model.history import EPISODES, PLAUSIBLE, probability_of_record
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("episode", EPISODES, ids=lambda e: e.name)
def test_what_happened_is_a_plausible_outcome(episode):
    s = load_scenario(SCENARIOS / episode.scenario)
    n = 600 if s.horizon_days > 200 else 1500
    out = run_replicates(s, 20240708, np.arange(n)).outcomes
    p = probability_of_record(episode, out)
    assert p >= PLAUSIBLE, f"{episode.name}: P(what happened) = {p:.3f} < {PLAUSIBLE}"
    # and the record is not certain either: the model still sees other outcomes somewhere
    assert episode.check(out).mean() < 1.0 or episode.name == "drills_2011_2018"


def test_a_check_can_fail():
    """The checks are not vacuous: a world with an armed incident fails the 2022-24 record."""
    s = load_scenario(SCENARIOS / "history/belarus_ukraine_2022_2024.yaml")
    out = run_replicates(s, 1, np.arange(300), parameters={"incidents.accident_rate": 0.05})
    ep = next(e for e in EPISODES if e.name == "belarus_ukraine_2022_2024")
    assert probability_of_record(ep, out.outcomes) < PLAUSIBLE
