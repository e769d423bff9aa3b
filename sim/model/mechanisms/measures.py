"""Lasting measures: state started and ended by decisions, with a cost for every day in force.

Each actor reviews its measures on its own slower clock (see :meth:`Actor.review`); this module
applies the switches decided today and the immediate effects of starting one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.tables import NO_TARGET

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


def apply(m: EscalationModel, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Turn today's decided switches into measures started and ended.

    Returns:
        ``started`` and ``ended``, (R, S) bool.
    """
    st = m.state
    t = m.tables
    flip = m.switch & st.alive[:, None]
    started = flip & ~st.on
    ended = flip & st.on & t.slot_endable[None, :]
    if any(d is not None or w for d, w in t.slot_duration):
        ended |= _lapsed(m, day) & st.alive[:, None] & ~started
    st.on = (st.on | started) & ~ended
    if started.any():
        st.on_since = np.where(started, day, st.on_since)
    for k in t.kind_slots.get("consultations", ()):
        st.article4 |= started[:, k]
    for k in t.kind_slots.get("collective_defence", ()):
        if started[:, k].any():
            st.article5 |= started[:, k]
            m.commitments.invoke(int(t.slot_actor[k]), started[:, k])
    if m.trace is not None:
        m.trace.measures[day] = (started.copy(), ended.copy())
    return started, ended


def _lapsed(m: EscalationModel, day: int) -> np.ndarray:
    """(R, S) measures in force whose announced time is over today: they end by themselves."""
    st = m.state
    t = m.tables
    out = np.zeros_like(st.on)
    for k, (days, with_exercise) in enumerate(t.slot_duration):
        if days is not None:
            out[:, k] |= st.on[:, k] & (day - st.on_since[:, k] >= days)
        if with_exercise:
            out[:, k] |= st.on[:, k] & (day > st.exercise_end)
    return out


def militarized_starts(
    m: EscalationModel, started: np.ndarray
) -> list[tuple[int, int, int, np.ndarray]]:
    """(actor, target, hostility, worlds) for each aimed measure started at hostility >= 2."""
    t = m.tables
    out = []
    for k in range(t.slot_actor.size):
        b = int(t.slot_target[k])
        if b == NO_TARGET or t.slot_hostility[k] < 2 or not started[:, k].any():
            continue
        out.append((int(t.slot_actor[k]), b, int(t.slot_hostility[k]), started[:, k]))
    return out
