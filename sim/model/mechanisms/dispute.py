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

from sim import kernels
from sim.model.mechanisms import measures
from sim.model.state import NONE, derived, pair_array
from sim.model.tables import NO_TARGET, Tables

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


def step(
    m: EscalationModel, day: int, choice: np.ndarray, accident: np.ndarray, started: np.ndarray
) -> None:
    """Add today's militarized acts to the record, world by world in one pass.

    :func:`sim.kernels.dispute_day` does what :func:`acts` then :func:`record` do
    (:func:`numpy_step`) without building the (R, N, N) array of the day's acts.
    """
    t = m.tables
    st = m.state
    lk = derived(t, _Militarized)
    kernels.dispute_day(
        choice,
        t.entry_target,
        lk.entry_level,
        st.alive,
        accident,
        started,
        lk.slot,
        lk.slot_a,
        lk.slot_b,
        lk.slot_level,
        day,
        st.onset,
        st.initiator,
        st.target,
        st.last_act,
        st.hostility,
        st.reciprocated,
    )


def numpy_step(
    m: EscalationModel, day: int, choice: np.ndarray, accident: np.ndarray, started: np.ndarray
) -> None:
    """:func:`step` by numpy (the reference its kernel is tested against)."""
    record(m, day, acts(m, choice, accident, measures.militarized_starts(m, started)))


class _Militarized:
    """Each entry's hostility level, and the aimed slots whose start is a militarized act."""

    def __init__(self, t: Tables):
        self.entry_level = t.cow[t.entry_rung].astype(np.int64)
        ks = [
            k
            for k in range(t.slot_actor.size)
            if t.slot_target[k] != NO_TARGET and t.slot_hostility[k] >= 2
        ]
        self.slot = np.array(ks, dtype=np.int64)
        self.slot_a = t.slot_actor[self.slot].astype(np.int64)
        self.slot_b = t.slot_target[self.slot].astype(np.int64)
        self.slot_level = t.slot_hostility[self.slot].astype(np.int64)


def acts(
    m: EscalationModel,
    choice: np.ndarray,
    accident: np.ndarray,
    starts: list[tuple[int, int, int, np.ndarray]],
) -> np.ndarray:
    """(R, N, N) today's hostility level of a's militarized acts against b (0: none).

    Levels are 0..5, so the array is int8: an eighth of the memory the day's reductions over
    it would otherwise stream.
    """
    t = m.tables
    n, na = m.n, t.n_actors
    h = pair_array(n, na, np.int8)
    target = t.entry_target[choice]
    level = t.cow[t.entry_rung[choice]]
    aimed = (target >= 0) & (level >= 2) & m.state.alive[:, None]
    r, a = np.nonzero(aimed)
    h[r, a, target[r, a]] = level[r, a]
    for a, b, hostility, worlds in starts:
        np.maximum(h[:, a, b], hostility, out=h[:, a, b], where=worlds)
    np.maximum(h, 4, out=h, where=accident)
    return h


def record(m: EscalationModel, day: int, h: np.ndarray) -> None:
    """Add one day's acts to the record."""
    st = m.state
    n, na, _ = h.shape
    top = h.max(axis=(1, 2))
    any_act = top >= 2
    if not any_act.any():
        return
    new = any_act & (st.onset == NONE)
    if new.any():
        # The first (a, b) in row-major order with the day's top level, in the new worlds only.
        rows = np.flatnonzero(new)
        first = np.zeros(n, dtype=np.int64)
        first[rows] = h[rows].reshape(len(rows), na * na).argmax(axis=1)
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
