"""Incursions: missiles, drones and balloons entering a neighbour's airspace.

The region's most frequent military events of 2022-2024 were neither exchanges of fire nor
wars: Russian strikes on Ukraine sent missiles and drones across Polish and Romanian airspace,
and at Przewodow (15 November 2022) a Ukrainian air-defence missile killed two people in
Poland (../shared/DOMAIN.md). Each scenario source (``incursions:``) crosses into its victim
with a daily chance while it is active; the victim's air defence intercepts it or not; one that
is not intercepted may kill people on the ground. It is blamed on the launcher, and may really
have been the defender's own missile. None of this is an armed incident or a militarized act of
the dispute record: the victim and its allies answer it through the ``incursion`` and
``incursion_casualties`` features (protests, expulsions, consultations), as they did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

INCURSION_ACTOR = 253  # the actor coordinate reserved for incursion draws


def step(m: EscalationModel, day: int, choice: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Today's incursions, recorded in the state; returns (source, worlds) for traces.

    Decided after today's moves (a source carried by a move crosses on the day it is made).
    """
    s = m.scenario_spec
    if not s.incursions:
        return []
    t = m.tables
    st = m.state
    names = t.names
    out: list[tuple[str, np.ndarray]] = []
    for name, inc in s.incursions.items():
        ok = st.alive.copy()
        for c in inc.requires:
            ok &= m.condition(c, day)
        launcher = names.index(inc.launcher)
        victim = names.index(inc.into)
        if inc.when_move:
            moves = [i for i, mv in enumerate(t.move_names) if mv in inc.when_move]
            ok &= np.isin(t.entry_move[choice[:, launcher]], moves)
        if not ok.any():
            out.append((name, np.zeros(m.n, dtype=bool)))
            continue
        p = m.params
        key = f"incursions.{name}."
        u = m.streams.bits(day, INCURSION_ACTOR, "incursion:" + name)
        # Four 16-bit uniforms from one draw: crossing, whose missile, interception, casualties.
        v = [((u >> np.uint64(16 * i)) & np.uint64(0xFFFF)) / 65536.0 for i in range(4)]
        now = ok & (v[0] < p[key + "daily_rate"])
        own = now & (v[1] < p[key + "defender_own"])
        shot = now & (v[2] < p[key + "intercept"])
        killed = now & ~shot & (v[3] < p[key + "casualties"])
        st.incursion[:, launcher, victim] = np.where(now, day, st.incursion[:, launcher, victim])
        st.incursion_deaths[:, launcher, victim] = np.where(
            killed, day, st.incursion_deaths[:, launcher, victim]
        )
        st.incursions += now
        st.intercepted += shot
        st.incursion_own += own
        st.incursion_killed |= killed
        out.append((name, now))
    return out
