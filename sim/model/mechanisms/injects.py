"""Injects: scheduled or conditional events that fire with a probability on eligible days."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.tables import NO_TARGET

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

INJECT_ACTOR = 254  # the actor coordinate reserved for inject draws


def fire(m: EscalationModel, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Which injects fire today (decided on yesterday's state) and the moves they force.

    Returns:
        ``forced`` (R, N) menu entries replacing the actor's own choice (-1: none) and
        ``fired`` (R, I) which inject fired in which world.
    """
    st = m.state
    s = m.scenario_spec
    t = m.tables
    forced = np.full((m.n, t.n_actors), -1, dtype=np.int64)
    fired = np.zeros((m.n, len(s.injects)), dtype=bool)
    for i, inj in enumerate(s.injects):
        ok = st.alive.copy()
        if inj.once:
            ok &= ~st.fired[:, i]
        if inj.day is not None:
            ok &= np.rint(m.params[f"injects[{i}].day"]).astype(np.int64) == day
        if inj.window is not None:
            ok &= inj.window[0] <= day <= inj.window[1]
        for c in inj.when:
            ok &= m.condition(c, day)
        if not ok.any():
            continue
        u = m.streams.uniform(day, INJECT_ACTOR, "inject:" + inj.name)
        now = ok & (u < m.params[f"injects[{i}].probability"])
        fired[:, i] = now
        fm = inj.force_move
        if fm is not None:
            a = t.names.index(fm.actor)
            b = t.names.index(fm.target) if fm.target is not None else NO_TARGET
            e = t.entry(a, fm.move, b)
            forced[:, a] = np.where(now, e, forced[:, a])
    if m.trace is not None:
        m.trace.injects[day] = fired.copy()
    return forced, fired


def apply(m: EscalationModel, fired: np.ndarray, day: int) -> None:
    """The injects' other effects: beliefs shifted, flags set, measures started."""
    st = m.state
    t = m.tables
    for i, inj in enumerate(m.scenario_spec.injects):
        f = fired[:, i]
        if not f.any():
            continue
        st.fired[:, i] |= f
        if inj.shift_belief is not None:
            a = t.names.index(inj.shift_belief.actor)
            st.lean[:, a] += np.where(f, m.params[f"injects[{i}].shift_belief.by"], 0.0)
        if inj.set_flag is not None:
            m.set_flag(inj.set_flag, f, day)
        sm = inj.start_measure
        if sm is not None:
            a = t.names.index(sm.actor)
            b = t.names.index(sm.target) if sm.target is not None else NO_TARGET
            k = t.slot(a, sm.measure, b)
            m.switch[:, k] |= f & ~st.on[:, k]
