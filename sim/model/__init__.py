"""The crisis model: the scenario's actors as Mesa agents stepping an ensemble of worlds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import EscalationModel
from sim.model.state import WorldState
from sim.scenario.schema import Scenario

__all__ = ["ChunkOutput", "EscalationModel", "WorldState", "run_replicates"]


@dataclass
class ChunkOutput:
    """What one ensemble produces: per-replicate outcomes and ladder occupancy counts.

    Attributes:
        outcomes: One row per replicate (``replicate``, ``param.*`` columns, outcomes).
        occupancy: (days+1, actors, rungs) replicates on each rung per day and actor.
        alignment_occupancy: (days+1, levels) replicates on each level of the alignment track.
    """

    outcomes: pd.DataFrame
    occupancy: np.ndarray
    alignment_occupancy: np.ndarray


def run_replicates(
    scenario: Scenario,
    seed: int,
    replicate_ids: np.ndarray,
    parameters: Mapping[str, Any] | None = None,
    policies: Mapping[str, str] | None = None,
) -> ChunkOutput:
    """Run the given replicates of a scenario to the end and collect what they produced.

    A pure function of its arguments: replicate k's row is the same in any chunk or process.

    Args:
        scenario: The validated scenario.
        seed: Run seed.
        replicate_ids: Replicate ids to run.
        parameters: Values replacing sampled parameters, by dotted path.
        policies: Actor name -> persona name (``sim.play.PERSONAS``): those actors' moves are
            chosen by the persona instead of the model's own rule.
    """
    model = EscalationModel(
        scenario, seed=seed, replicate_ids=np.asarray(replicate_ids), parameters=parameters
    )
    if policies:
        from sim.play.policy import play_out, resolve_policies

        play_out(model, resolve_policies(policies))
    else:
        model.run()
    # Worlds that ended early keep standing where they ended, so later days count them too.
    last = model.day
    model.occupancy[last + 1 :] = model.occupancy[last]
    model.alignment_occupancy[last + 1 :] = model.alignment_occupancy[last]
    return ChunkOutput(model.outcomes(), model.occupancy, model.alignment_occupancy)
