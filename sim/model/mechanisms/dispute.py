"""The dispute record of each world, in the terms of the Correlates of War MID data.

A militarized act is an aimed daily move at hostility level >= 2 (threat 2, display 3, use of
force 4, war 5), an aimed lasting measure started at such a level, or an accident (level 4).
The first act is the dispute's onset; its actor is the initiator and its target the target
(the more hostile act first when several fall on one day). The dispute is reciprocated when the
target answers with a militarized act aimed at the initiator; it lasts from onset to the last
militarized act; its hostility level is the highest level of any act (1 when there was none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.state import NONE

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


def acts(
    m: EscalationModel,
    choice: np.ndarray,
    accident: np.ndarray,
    starts: list[tuple[int, int, int, np.ndarray]],
) -> np.ndarray:
    """(R, N, N) today's hostility level of a's militarized acts against b (0: none)."""
    t = m.tables
    n, na = m.n, t.n_actors
    h = np.zeros((n, na, na), dtype=np.int64)
    target = t.entry_target[choice]
    level = t.cow[t.entry_rung[choice]]
    aimed = (target >= 0) & (level >= 2) & m.state.alive[:, None]
    r, a = np.nonzero(aimed)
    h[r, a, target[r, a]] = level[r, a]
    for a, b, hostility, worlds in starts:
        h[:, a, b] = np.where(worlds, np.maximum(h[:, a, b], hostility), h[:, a, b])
    h = np.where(accident, np.maximum(h, 4), h)
    return h


def record(m: EscalationModel, day: int, h: np.ndarray) -> None:
    """Add one day's acts to the record."""
    st = m.state
    n, na, _ = h.shape
    flat = h.reshape(n, na * na)
    top = flat.max(axis=1)
    any_act = top >= 2
    if not any_act.any():
        return
    new = any_act & (st.onset == NONE)
    if new.any():
        first = flat.argmax(axis=1)
        st.onset = np.where(new, day, st.onset)
        st.initiator = np.where(new, first // na, st.initiator)
        st.target = np.where(new, first % na, st.target)
    going = st.onset != NONE
    rows = np.arange(n)
    ini = np.where(going, st.initiator, 0)
    tgt = np.where(going, st.target, 0)
    st.reciprocated |= going & (h[rows, tgt, ini] >= 2)
    st.last_act = np.where(any_act, day, st.last_act)
    st.hostility = np.maximum(st.hostility, np.where(any_act, top, 1))
