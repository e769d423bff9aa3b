"""Outcome metrics: small named functions, each computing one column of ``outcomes``.

Every function takes the final :class:`~sim.model.state.WorldState` and the scenario's
:class:`~sim.model.tables.Tables` and returns one value per replicate. Outcomes about a
mechanism's actors are named after the actor that holds the role in the scenario (the shipper
and the aligning actor of the shipped scenarios are China, the blockader Poland, the transit
state Belarus), so the columns keep their names for the shipped scenarios and follow the actors
of any other. Scenarios without a mechanism have none of its columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.mechanisms.end_states import classify
from sim.model.state import CAUSES, NONE, WorldState
from sim.model.tables import Tables
from sim.scenario.schema import DeclaredOutcome

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

END_STATES = ("de_escalated", "frozen_crisis", "limited_clash", "regional_war", "nato_russia_war")
"""End-state names from least to most severe (the shipped scenarios use these)."""

Metric = Callable[[WorldState, Tables], Any]


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
    """Whether force was really used across a border (chosen or by accident) at any time."""
    return st.armed.copy()


def first_armed_incident_day(st: WorldState, t: Tables) -> Any:
    """Day of the first real armed incident; <NA> when there was none."""
    return _optional_day(st.first_armed_day)


def first_armed_incident_cause(st: WorldState, t: Tables) -> np.ndarray:
    """What the first armed incident was: 'chosen' (an actor fired), 'accident', or ''."""
    return np.array(CAUSES, dtype=object)[st.first_armed_cause]


def staged_incident(st: WorldState, t: Tables) -> np.ndarray:
    """Whether an incident was staged."""
    return st.staged.copy()


def staged_incident_day(st: WorldState, t: Tables) -> Any:
    """Day of the staged incident; <NA> when there was none."""
    return _optional_day(st.staged_day)


def incursions(st: WorldState, t: Tables) -> np.ndarray:
    """How many missiles, drones or balloons entered a neighbour's airspace."""
    return st.incursions.copy()


def incursions_intercepted(st: WorldState, t: Tables) -> np.ndarray:
    """How many of them the victim's air defence shot down."""
    return st.intercepted.copy()


def incursion_casualties(st: WorldState, t: Tables) -> np.ndarray:
    """Whether an incursion killed people on the ground."""
    return st.incursion_killed.copy()


def incursions_defender_own(st: WorldState, t: Tables) -> np.ndarray:
    """How many incursions were really the defender's own air-defence missiles."""
    return st.incursion_own.copy()


def alignment_final(st: WorldState, t: Tables) -> np.ndarray:
    """The aligning actor's level on its track on the last day (0 = neutral)."""
    return st.alignment.copy()


def alignment_max(st: WorldState, t: Tables) -> np.ndarray:
    """The highest level the aligning actor reached on its track."""
    return st.max_alignment.copy()


def escalation_day(st: WorldState, t: Tables) -> Any:
    """First day the aligning actor stood at or above its escalation level; <NA> if never."""
    return _optional_day(st.escalation_day)


def blockade_days(st: WorldState, t: Tables) -> np.ndarray:
    """Days a transit blockade was in force."""
    return st.blockade_days.copy()


def _cost_of(actor: int) -> Metric:
    def cost(st: WorldState, t: Tables) -> np.ndarray:
        return st.transit_cost[:, actor].copy()

    return cost


def blames_blockade_on(st: WorldState, t: Tables) -> np.ndarray:
    """Whom the shipper blames for the blockade at the end: the blockader, the transit state,
    or 'none' (no blockade)."""
    blame = 1.0 / (1.0 + np.exp(-np.clip(st.blame, -50, 50)))
    ks = t.kind_slots["transit_blockade"]
    blockader = t.names[int(t.slot_actor[ks[0]])]
    transit = t.names[t.transit_state]
    return np.where(st.blockade_ever, np.where(blame > 0.5, blockader, transit), "none").astype(
        object
    )


def end_state(st: WorldState, t: Tables) -> np.ndarray:
    """The first end state in the scenario's list whose conditions hold on the last day."""
    return classify(st, t)


def _belief_of(actor: int) -> Metric:
    def belief(st: WorldState, t: Tables) -> np.ndarray:
        b = st.belief_west(t)[:, actor]
        return np.where(st.incident, b, np.nan)

    return belief


def _blames_incident(actor: int) -> Metric:
    def blames(st: WorldState, t: Tables) -> np.ndarray:
        b = st.belief_west(t)[:, actor]
        return np.where(st.incident, np.where(b > 0.5, "west", "east"), "none").astype(object)

    return blames


def days(st: WorldState, t: Tables) -> np.ndarray:
    """Days simulated (fewer than the horizon when an absorbing end state stopped the world)."""
    return st.days.copy()


def dispute(st: WorldState, t: Tables) -> np.ndarray:
    """Whether any militarized act (hostility >= 2) was aimed at another actor."""
    return st.onset != NONE


def hostility_level(st: WorldState, t: Tables) -> np.ndarray:
    """The highest Correlates of War hostility level reached (1 none ... 5 war)."""
    return st.hostility.copy()


def reciprocated(st: WorldState, t: Tables) -> np.ndarray:
    """Whether the dispute's target answered with a militarized act aimed at the initiator."""
    return st.reciprocated.copy()


def dispute_days(st: WorldState, t: Tables) -> Any:
    """Days from the dispute's onset to its last militarized act, inclusive; <NA> without one."""
    d = np.where(st.onset != NONE, st.last_act - st.onset + 1, NONE)
    return _optional_day(d)


def fatal(st: WorldState, t: Tables) -> np.ndarray:
    """Whether at least one death occurred (drawn per use of force and per accident)."""
    return st.fatal.copy()


def dispute_initiator(st: WorldState, t: Tables) -> np.ndarray:
    """The actor whose act opened the dispute ('' without one)."""
    names = np.array([*t.names, ""], dtype=object)
    return names[np.where(st.initiator >= 0, st.initiator, len(t.names))]


def _declared(d: DeclaredOutcome, t: Tables) -> Metric:
    s = t.scenario
    if d.track_at_least is not None:
        level = s.alignment_index(d.track_at_least)
        return lambda st, t: st.max_alignment >= level
    if d.measure_used is not None:
        used = {d.measure_used} if isinstance(d.measure_used, str) else set(d.measure_used)
        ks = [k for k, m in enumerate(t.slot_measure) if m in used]
        return lambda st, t: (
            st.ever_on[:, ks].any(axis=1) if ks else np.zeros(len(st.alive), dtype=bool)
        )
    if d.max_rung_between is not None:
        a, b = (t.names.index(x) for x in d.max_rung_between)
        rung = s.rung_index(d.at_least or "")
        return lambda st, t: np.maximum(st.pair_max[:, a, b], st.pair_max[:, b, a]) >= rung
    assert d.rung_reached is not None
    a = t.names.index(d.rung_reached.actor)
    rung = s.rung_index(d.rung_reached.rung)
    return lambda st, t: st.actor_max[:, a] >= rung


def metrics(t: Tables) -> dict[str, Metric]:
    """Every outcome column of a scenario, in column order."""
    out: dict[str, Metric] = {
        "max_rung": max_rung,
        "max_rung_name": max_rung_name,
        "armed_incident": armed_incident,
        "first_armed_incident_day": first_armed_incident_day,
        "first_armed_incident_cause": first_armed_incident_cause,
        "staged_incident": staged_incident,
        "staged_incident_day": staged_incident_day,
    }
    if t.aligner >= 0:
        who = t.names[t.aligner]
        out[f"{who}_alignment_final"] = alignment_final
        out[f"{who}_alignment_max"] = alignment_max
        out[f"{who}_escalation_day"] = escalation_day
    if t.shipper >= 0 and "transit_blockade" in t.kind_slots:
        ks = t.kind_slots["transit_blockade"]
        out["blockade_days"] = blockade_days
        out[f"{t.names[t.shipper]}_blockade_cost_musd"] = _cost_of(t.shipper)
        for a in sorted({int(t.slot_actor[k]) for k in ks}):
            out[f"{t.names[a]}_blockade_cost_musd"] = _cost_of(a)
        out[f"{t.names[t.transit_state]}_blockade_cost_musd"] = _cost_of(t.transit_state)
        out[f"{t.names[t.shipper]}_blames_blockade_on"] = blames_blockade_on
    if t.scenario.incursions:
        out["incursions"] = incursions
        out["incursions_intercepted"] = incursions_intercepted
        out["incursion_casualties"] = incursion_casualties
        out["incursions_defender_own"] = incursions_defender_own
    for name, d in t.scenario.outcomes.declared.items():
        out[name] = _declared(d, t)
    out["end_state"] = end_state
    neutral = [at.index for at in t.actors if at.side == 0 and not at.knows_truth]
    for a in neutral:
        out[f"{t.names[a]}_belief_west"] = _belief_of(a)
        out[f"{t.names[a]}_blames_incident_on"] = _blames_incident(a)
    out["days"] = days
    out["dispute"] = dispute
    out["hostility_level"] = hostility_level
    out["reciprocated"] = reciprocated
    out["dispute_days"] = dispute_days
    out["fatal"] = fatal
    out["dispute_initiator"] = dispute_initiator
    return out


def outcome_names(t: Tables) -> list[str]:
    """The outcome columns of a scenario, in order."""
    return list(metrics(t))


def all_outcomes(st: WorldState, t: Tables) -> dict[str, Any]:
    """Every outcome column for the worlds in ``st``."""
    return {name: f(st, t) for name, f in metrics(t).items()}


def scalar_outcome(model: EscalationModel, name: str) -> Any:
    """One outcome for a Mesa reporter: replicate 0's value, or the mean for numeric outcomes."""
    value = metrics(model.tables)[name](model.state, model.tables)
    arr = np.asarray(value, dtype=object)
    if model.n == 1:
        v = arr[0]
        return None if v is pd.NA else (v.item() if hasattr(v, "item") else v)
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(np.nanmean(x)) if np.isfinite(x).any() else None
