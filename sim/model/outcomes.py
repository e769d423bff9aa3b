"""Outcome metrics: small named functions, each computing one column of ``outcomes``.

Every function takes the final :class:`~sim.model.state.WorldState` and the scenario's
:class:`~sim.model.tables.Tables` and returns one value per replicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.state import WorldState
from sim.model.tables import A, Tables

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

END_STATES = ("de_escalated", "frozen_crisis", "limited_clash", "regional_war", "nato_russia_war")
"""End-state names from least to most severe (the shipped scenarios use these)."""


def _optional_day(day: np.ndarray) -> Any:
    out = pd.array(day, dtype="Int64")
    out[day < 0] = pd.NA
    return out


def max_rung(st: WorldState, t: Tables) -> np.ndarray:
    """The highest rung any actor stood on on any day (ladder index)."""
    return st.max_rung.copy()


def max_rung_name(st: WorldState, t: Tables) -> np.ndarray:
    """The name of :func:`max_rung`."""
    names = np.array([r.name for r in t.scenario.ladder], dtype=object)
    return names[st.max_rung]


def armed_incident(st: WorldState, t: Tables) -> np.ndarray:
    """Whether force was really used on a border (a move with ``armed`` effect) at any time."""
    return st.armed.copy()


def first_armed_incident_day(st: WorldState, t: Tables) -> Any:
    """Day of the first real armed incident; <NA> when there was none."""
    return _optional_day(st.first_armed_day)


def staged_incident(st: WorldState, t: Tables) -> np.ndarray:
    """Whether Minsk staged a border incident."""
    return st.staged.copy()


def staged_incident_day(st: WorldState, t: Tables) -> Any:
    """Day of the staged incident; <NA> when there was none."""
    return _optional_day(st.staged_day)


def china_alignment_final(st: WorldState, t: Tables) -> np.ndarray:
    """China's level on its alignment track on the last day (0 = neutral)."""
    return st.alignment.copy()


def china_alignment_max(st: WorldState, t: Tables) -> np.ndarray:
    """The highest level China reached on its alignment track."""
    return st.max_alignment.copy()


def china_escalates(st: WorldState, t: Tables) -> np.ndarray:
    """Whether China reached ``outcomes.china_escalation_level`` (economic support by default)."""
    return st.max_alignment >= t.china_escalation_level


def china_escalation_day(st: WorldState, t: Tables) -> Any:
    """First day China stood at or above the escalation level; <NA> if never."""
    return _optional_day(st.escalation_day)


def blockade(st: WorldState, t: Tables) -> np.ndarray:
    """Whether rail transit was blocked at any time."""
    return st.blockade_ever.copy()


def blockade_days(st: WorldState, t: Tables) -> np.ndarray:
    """Days the rail blockade was in force."""
    return st.blockade_days.copy()


def china_blockade_cost_musd(st: WorldState, t: Tables) -> np.ndarray:
    """China's cumulative blockade cost, million USD."""
    return st.china_cost.copy()


def poland_blockade_cost_musd(st: WorldState, t: Tables) -> np.ndarray:
    """Poland's cumulative blockade cost (lost terminal fees), million USD."""
    return st.poland_cost.copy()


def belarus_blockade_cost_musd(st: WorldState, t: Tables) -> np.ndarray:
    """Belarus's cumulative blockade cost (lost transit fees), million USD."""
    return st.belarus_cost.copy()


def china_blames_blockade_on(st: WorldState, t: Tables) -> np.ndarray:
    """Whom China blames for the blockade at the end: poland, belarus, or none (no blockade)."""
    blame = 1.0 / (1.0 + np.exp(-st.blame_poland))
    return np.where(st.blockade_ever, np.where(blame > 0.5, "poland", "belarus"), "none").astype(
        object
    )


def article4(st: WorldState, t: Tables) -> np.ndarray:
    """Whether NATO held Article 4 consultations."""
    return st.article4.copy()


def article5(st: WorldState, t: Tables) -> np.ndarray:
    """Whether NATO invoked Article 5."""
    return st.article5.copy()


def end_state(st: WorldState, t: Tables) -> np.ndarray:
    """The first end state in the scenario's list whose conditions hold on the last day."""
    s = t.scenario
    out = np.full(len(st.alive), "", dtype=object)
    done = np.zeros(len(st.alive), dtype=bool)
    final = st.rung.max(axis=1)
    for es in s.end_states:
        hit = ~done
        if es.max_rung_at_least is not None:
            hit &= st.max_rung >= s.rung_index(es.max_rung_at_least)
        if es.final_rung_at_least is not None:
            hit &= final >= s.rung_index(es.final_rung_at_least)
        if es.blockade_at_end is not None:
            hit &= st.blockade == es.blockade_at_end
        out[hit] = es.name
        done |= hit
    out[~done] = "unclassified"
    return out


def china_belief_west(st: WorldState, t: Tables) -> np.ndarray:
    """China's final probability that the West caused the incident; NaN with no incident."""
    b = st.belief_west(t)[:, A["china"]]
    return np.where(st.incident, b, np.nan)


def china_blames_incident_on(st: WorldState, t: Tables) -> np.ndarray:
    """Whom China blames for the incident at the end: west, belarus_russia, or none."""
    b = st.belief_west(t)[:, A["china"]]
    return np.where(st.incident, np.where(b > 0.5, "west", "belarus_russia"), "none").astype(object)


def days(st: WorldState, t: Tables) -> np.ndarray:
    """Days simulated (fewer than the horizon when an absorbing end state stopped the world)."""
    return st.days.copy()


OUTCOMES = (
    max_rung,
    max_rung_name,
    armed_incident,
    first_armed_incident_day,
    staged_incident,
    staged_incident_day,
    china_alignment_final,
    china_alignment_max,
    china_escalates,
    china_escalation_day,
    blockade,
    blockade_days,
    china_blockade_cost_musd,
    poland_blockade_cost_musd,
    belarus_blockade_cost_musd,
    china_blames_blockade_on,
    article4,
    article5,
    end_state,
    china_belief_west,
    china_blames_incident_on,
    days,
)
"""Every outcome function, in column order."""

SCALAR_OUTCOMES = tuple(f.__name__ for f in OUTCOMES)


def all_outcomes(st: WorldState, t: Tables, last_day: int | None = None) -> dict[str, Any]:
    """Every outcome column for the worlds in ``st``."""
    return {f.__name__: f(st, t) for f in OUTCOMES}


def scalar_outcome(model: EscalationModel, name: str) -> Any:
    """One outcome for a Mesa reporter: replicate 0's value, or the mean for numeric outcomes."""
    value = dict((f.__name__, f) for f in OUTCOMES)[name](model.state, model.tables)
    arr = np.asarray(value, dtype=object)
    if model.n == 1:
        v = arr[0]
        return None if v is pd.NA else (v.item() if hasattr(v, "item") else v)
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(np.nanmean(x)) if np.isfinite(x).any() else None
