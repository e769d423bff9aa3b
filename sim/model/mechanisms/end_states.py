"""End states: the first in the scenario's list whose conditions hold; some stop the world."""

from __future__ import annotations

import numpy as np

from sim.model.state import WorldState
from sim.model.tables import Tables
from sim.scenario.schema import EndState


def holds(es: EndState, st: WorldState, t: Tables) -> np.ndarray:
    """(R,) whether an end state's conditions hold in each world."""
    s = t.scenario
    hit = np.ones(len(st.alive), dtype=bool)
    if es.max_rung_at_least is not None:
        hit &= st.max_rung >= s.rung_index(es.max_rung_at_least)
    if es.final_rung_at_least is not None:
        hit &= st.rung.max(axis=1) >= s.rung_index(es.final_rung_at_least)
    if es.blockade_at_end is not None:
        hit &= st.in_force(t, "transit_blockade") == es.blockade_at_end
    return hit


def stop_absorbed(st: WorldState, t: Tables) -> None:
    """Worlds that reached an absorbing end state stop stepping."""
    for es in t.scenario.end_states:
        if es.absorbing:
            st.alive &= ~(st.alive & holds(es, st, t))


def classify(st: WorldState, t: Tables) -> np.ndarray:
    """Each world's end state name (``unclassified`` when no entry matches)."""
    out = np.full(len(st.alive), "unclassified", dtype=object)
    done = np.zeros(len(st.alive), dtype=bool)
    for es in t.scenario.end_states:
        hit = ~done & holds(es, st, t)
        out[hit] = es.name
        done |= hit
    return out
