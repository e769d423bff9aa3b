"""The state of an ensemble of worlds: plain arrays with a leading replicate axis.

Keeping every piece of state in one dataclass of arrays is what lets a world on day d be saved,
subset (one replicate out of many) and used as the starting point of a new ensemble. Shapes:
R replicates, N actors, S measure slots, M moves.

The (R, N, N) pair arrays are kept in Fortran order (see :func:`pair_array`): each pair's values
over the replicates, ``x[:, a, b]``, are one contiguous run of memory. The step reads and writes
them pair by pair and reduces them over the actor axes, which in C order would stride through
the whole array every time (measured: reductions over the actor axes about 100x faster, and
the daily step about a tenth faster, at 10,000 worlds). Values never depend on the layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim import kernels
from sim.model.tables import NO_TARGET, Tables

NONE = -1
"""A day or actor index that has not happened / does not exist."""

CAUSES = ("", "chosen", "accident", "staging answered")
"""Codes of ``first_armed_cause``: 0 none, 1 an actor chose to fire, 2 an accident."""

PAIR_FIELDS = ("aimed_rung", "pair_max", "force", "hybrid", "incursion", "incursion_deaths")
"""The (R, N, N) fields of :class:`WorldState`, kept in pair-major (Fortran) order."""


def pair_array(n: int, na: int, dtype: Any, fill: Any = 0) -> np.ndarray:
    """An (n, na, na) array filled with ``fill``, each ``[:, a, b]`` column contiguous."""
    if not fill:
        # Zeros come from the allocator already zeroed: no pass over the array.
        return np.zeros((n, na, na), dtype=dtype, order="F")
    return np.full((n, na, na), fill, dtype=dtype, order="F")


def pair_major(x: np.ndarray) -> np.ndarray:
    """``x`` (R, N, N) in pair-major (Fortran) order, copied only when it is not already."""
    return np.asfortranarray(x)


class _Postures:
    """Lookups that turn yesterday's entries into postures, derived once per :class:`Tables`.

    ``pairs`` lists every (a, b) whose aimed rung can be above 0 by a daily move, with
    ``rung[e]`` the rung entry ``e`` aims at b (0 when it aims elsewhere, or is not a's).

    The same as arrays for :func:`sim.kernels.postures`: ``aim[a, b]`` is the ``rung`` row
    of (a, b) (zeros for the other pairs, ``aims[a, b]`` False); ``actor_slot``/``actor_of``
    and ``pair_slot``/``pair_a``/``pair_b`` flatten ``t.slots_by_actor`` and
    ``t.slots_by_pair``.
    """

    def __init__(self, t: Tables):
        na = t.n_actors
        self.pairs: list[tuple[int, int, np.ndarray]] = []
        self.aim = np.zeros((na, na, t.entry_rung.size), dtype=np.int64)
        for a in range(na):
            mine = t.entry_actor == a
            for b in range(na):
                aims = mine & (
                    (t.entry_target == b) | ((t.entry_target == NO_TARGET) & t.adversary[a, b])
                )
                if aims.any():
                    self.pairs.append((a, b, np.where(aims, t.entry_rung, 0)))
                    self.aim[a, b] = self.pairs[-1][2]
        by_actor = [(int(k), a) for a, ks in t.slots_by_actor for k in ks]
        by_pair = [(int(k), a, b) for a, b, ks in t.slots_by_pair for k in ks]
        self.actor_slot = np.array([k for k, _ in by_actor], dtype=np.int64)
        self.actor_of = np.array([a for _, a in by_actor], dtype=np.int64)
        self.pair_slot = np.array([k for k, _, _ in by_pair], dtype=np.int64)
        self.pair_a = np.array([a for _, a, _ in by_pair], dtype=np.int64)
        self.pair_b = np.array([b for _, _, b in by_pair], dtype=np.int64)
        self.slot_rung = t.slot_rung.astype(np.int64)  # typed even without slots
        self.aims = self.aim.any(axis=2)


def derived[T](t: Tables, make: Callable[[Tables], T]) -> T:
    """``make(t)``, computed once per :class:`Tables` and kept with it.

    For index lists the step derives from the scenario's layout (which actors have a move
    with some effect, and so on). Kept on the Tables object itself, so it lives exactly as
    long as the model that uses it; ``make`` must depend on nothing but ``t``'s layout.
    """
    cache = t.__dict__.setdefault("_derived", {})
    key = getattr(make, "__qualname__", repr(make))
    if key not in cache:
        cache[key] = make(t)
    return cache[key]


@dataclass
class WorldState:
    """Every mutable quantity of R worlds on one day."""

    day: int
    last: np.ndarray  # (R, N) int: global menu entry each actor chose yesterday
    rung: np.ndarray  # (R, N) int: each actor's posture (its daily move and measures in force)
    move_rung: np.ndarray  # (R, N) int: rung of yesterday's daily move alone
    aimed_rung: np.ndarray  # (R, N, N) int: [a, b] the rung of what a aims at b
    on: np.ndarray  # (R, S) bool: measure slots in force
    ever_on: np.ndarray  # (R, S) bool: measure slots in force at some time
    pair_max: np.ndarray  # (R, N, N) int: highest rung a ever aimed at b
    actor_max: np.ndarray  # (R, N) int: highest posture of each actor
    force: np.ndarray  # (R, N, N) int: [a, b] last day a used force against b, NONE if never
    attacked_rung: np.ndarray  # (R, N) int: highest rung of force used against each actor
    used: np.ndarray  # (R, M) bool: once-only moves already made
    hybrid: np.ndarray  # (R, N, N) hybrid pressure a puts on b, 0..1
    nuclear_until: np.ndarray  # (R, N) int: last day each actor's nuclear signal is felt
    lean: np.ndarray  # (R, N) log-odds that the West caused the incident
    incident: np.ndarray  # (R,) bool
    staged: np.ndarray  # (R,) bool
    armed: np.ndarray  # (R,) bool
    truth_west: np.ndarray  # (R,) bool: the West really caused the incident
    evidence: np.ndarray  # (R,) evidence quality of the incident (0.5 before one)
    blockade_ever: np.ndarray  # (R,) bool
    blockade_age: np.ndarray  # (R,) int: days the current blockade has lasted
    blockade_days: np.ndarray  # (R,) int
    blame: np.ndarray  # (R,) log-odds that the shipper blames the blockader
    cargo: np.ndarray  # (R,) MUSD of cargo value stranded at the crossing
    cost: np.ndarray  # (R, N) cumulative economic cost of the crisis, MUSD
    transit_cost: np.ndarray  # (R, N) the part of ``cost`` due to transit blockades
    article4: np.ndarray  # (R,) bool
    article5: np.ndarray  # (R,) bool
    alignment: np.ndarray  # (R,) int
    max_alignment: np.ndarray  # (R,) int
    exercise_end: np.ndarray  # (R,) int: last exercise day (extensions included)
    fired: np.ndarray  # (R, n_injects) bool: once-only injects already fired
    alive: np.ndarray  # (R,) bool: false once an absorbing end state is reached
    days: np.ndarray  # (R,) int: days simulated
    max_rung: np.ndarray  # (R,) int
    first_armed_day: np.ndarray  # (R,) int
    first_armed_cause: np.ndarray  # (R,) int code, see CAUSES
    staged_day: np.ndarray  # (R,) int
    escalation_day: np.ndarray  # (R,) int
    # the dispute record (Correlates of War terms)
    onset: np.ndarray  # (R,) int day of the first militarized act
    initiator: np.ndarray  # (R,) int actor
    target: np.ndarray  # (R,) int actor
    last_act: np.ndarray  # (R,) int day of the last militarized act
    hostility: np.ndarray  # (R,) int highest hostility level (1 none)
    reciprocated: np.ndarray  # (R,) bool
    fatal: np.ndarray  # (R,) bool
    on_since: np.ndarray  # (R, S) int: day each slot in force was started (0 for initial ones)
    incursion: np.ndarray  # (R, N, N) int: [b, a] last day an incursion blamed on b entered a
    incursion_deaths: np.ndarray  # (R, N, N) int: [b, a] last day one of them killed people
    incursions: np.ndarray  # (R,) int: incursions so far
    intercepted: np.ndarray  # (R,) int: of them shot down by the victim's air defence
    incursion_killed: np.ndarray  # (R,) bool: an incursion killed people on the ground
    incursion_own: np.ndarray  # (R,) int: incursions that were the defender's own missiles

    @classmethod
    def initial(cls, t: Tables, n: int) -> WorldState:
        """Day 0: every actor on its initial move and measures, nothing has happened yet."""
        s = t.scenario
        na = t.n_actors
        last = np.array(
            [t.entry(i, s.actors[a].initial_move) for i, a in enumerate(t.names)],
            dtype=np.int64,
        )
        on = np.tile(t.initial_slots, (n, 1))
        move_rung = np.tile(t.entry_rung[last], (n, 1))
        align = s.alignment.track.index(s.alignment.initial) if s.alignment is not None else 0
        ex_end = s.exercise.end_day if s.exercise is not None else -1
        none = np.full(n, NONE, dtype=np.int64)
        st = cls(
            day=0,
            last=np.tile(last, (n, 1)),
            rung=move_rung.copy(),
            move_rung=move_rung,
            aimed_rung=pair_array(n, na, np.int64),
            on=on,
            ever_on=on.copy(),
            pair_max=pair_array(n, na, np.int64),
            actor_max=np.zeros((n, na), dtype=np.int64),
            force=pair_array(n, na, np.int64, NONE),
            attacked_rung=np.full((n, na), NONE, dtype=np.int64),
            used=np.zeros((n, len(t.move_names)), dtype=bool),
            hybrid=pair_array(n, na, np.float64),
            nuclear_until=np.full((n, na), NONE, dtype=np.int64),
            lean=np.zeros((n, na)),
            incident=np.zeros(n, dtype=bool),
            staged=np.zeros(n, dtype=bool),
            armed=np.zeros(n, dtype=bool),
            truth_west=np.zeros(n, dtype=bool),
            evidence=np.full(n, 0.5),
            blockade_ever=np.zeros(n, dtype=bool),
            blockade_age=np.zeros(n, dtype=np.int64),
            blockade_days=np.zeros(n, dtype=np.int64),
            blame=np.zeros(n),
            cargo=np.zeros(n),
            cost=np.zeros((n, na)),
            transit_cost=np.zeros((n, na)),
            article4=np.zeros(n, dtype=bool),
            article5=np.zeros(n, dtype=bool),
            alignment=np.full(n, align, dtype=np.int64),
            max_alignment=np.full(n, align, dtype=np.int64),
            exercise_end=np.full(n, ex_end, dtype=np.int64),
            fired=np.zeros((n, len(s.injects)), dtype=bool),
            alive=np.ones(n, dtype=bool),
            days=np.zeros(n, dtype=np.int64),
            max_rung=np.zeros(n, dtype=np.int64),
            first_armed_day=none.copy(),
            first_armed_cause=np.zeros(n, dtype=np.int64),
            staged_day=none.copy(),
            escalation_day=np.where(np.full(n, align >= t.escalation_level), 0, NONE).astype(
                np.int64
            ),
            onset=none.copy(),
            initiator=none.copy(),
            target=none.copy(),
            last_act=none.copy(),
            hostility=np.ones(n, dtype=np.int64),
            reciprocated=np.zeros(n, dtype=bool),
            fatal=np.zeros(n, dtype=bool),
            on_since=np.zeros(on.shape, dtype=np.int64),
            incursion=pair_array(n, na, np.int64, NONE),
            incursion_deaths=pair_array(n, na, np.int64, NONE),
            incursions=np.zeros(n, dtype=np.int64),
            intercepted=np.zeros(n, dtype=np.int64),
            incursion_killed=np.zeros(n, dtype=bool),
            incursion_own=np.zeros(n, dtype=np.int64),
        )
        st.refresh_postures(t)
        st.max_rung = st.rung.max(axis=1)
        st.pair_max = st.aimed_rung.copy(order="F")
        st.actor_max = st.rung.copy()
        return st

    def refresh_postures(self, t: Tables) -> None:
        """Recompute ``rung`` and ``aimed_rung`` from today's moves and measures in force.

        An undirected daily move is what every adversary sees; an aimed one only its target. A
        measure in force raises its holder's posture, toward its target or, undirected, toward
        every adversary, to the measure's rung. Rungs are >= 0, so a measure that is off (0)
        never raises anything. One pass of :func:`sim.kernels.postures`; the numbers are
        :meth:`numpy_refresh_postures`'s.
        """
        n, na = self.last.shape
        lk = derived(t, _Postures)
        rung = np.empty((n, na), dtype=np.int64)
        aimed = np.empty((n, na, na), dtype=np.int64, order="F")  # every element is written
        kernels.postures(
            self.last,
            t.entry_rung,
            lk.aim,
            lk.aims,
            lk.slot_rung,
            lk.actor_slot,
            lk.actor_of,
            lk.pair_slot,
            lk.pair_a,
            lk.pair_b,
            self.on,
            rung,
            aimed,
        )
        self.rung = rung
        self.aimed_rung = aimed

    def numpy_refresh_postures(self, t: Tables) -> None:
        """:meth:`refresh_postures` by numpy (the reference its kernel is tested against)."""
        n, na = self.last.shape
        lk = derived(t, _Postures)
        rung = t.entry_rung[self.last]
        aimed = pair_array(n, na, np.int64)
        last = [np.ascontiguousarray(self.last[:, a]) for a in range(na)]
        for a, b, aim in lk.pairs:
            np.take(aim, last[a], out=aimed[:, a, b])
        if t.slot_actor.size and self.on.any():
            on = np.asfortranarray(self.on)  # each slot's column contiguous
            srung = t.slot_rung
            held = on.any(axis=0)  # slots in force in some world (most are in none)
            for a, ks in t.slots_by_actor:
                col = rung[:, a]
                for k in ks:
                    if held[k]:
                        np.maximum(col, srung[k], out=col, where=on[:, k])
            for a, b, ks in t.slots_by_pair:
                col = aimed[:, a, b]
                for k in ks:
                    if held[k]:
                        np.maximum(col, srung[k], out=col, where=on[:, k])
        self.rung = rung
        self.aimed_rung = aimed

    def take(self, rows: np.ndarray) -> WorldState:
        """A copy holding only the given replicate rows (e.g. to branch one world)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, np.ndarray):
                out[f.name] = v
            elif f.name in PAIR_FIELDS:
                out[f.name] = pair_major(v[rows])
            else:
                out[f.name] = v[rows].copy()
        return WorldState(**out)

    def belief_west(self, t: Tables) -> np.ndarray:
        """(R, N) each actor's probability that the West caused the incident."""
        b = 1.0 / (1.0 + np.exp(-np.clip(self.lean, -50.0, 50.0)))
        for at in t.actors:
            if at.knows_truth:
                b[:, at.index] = self.truth_west
        return b

    def belief_west_of(self, t: Tables, a: int) -> np.ndarray:
        """(R,) actor a's column of :meth:`belief_west` (the same numbers, one column)."""
        if t.actors[a].knows_truth:
            return self.truth_west.astype(np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(self.lean[:, a], -50.0, 50.0)))

    def in_force(self, t: Tables, kind: str) -> np.ndarray:
        """(R,) whether any measure of ``kind`` is in force."""
        ks = t.kind_slots.get(kind)
        if ks is None or ks.size == 0:
            return np.zeros(len(self.alive), dtype=bool)
        return self.on[:, ks].any(axis=1)

    def forces(self, t: Tables) -> np.ndarray:
        """(R, N, N) [a, b]: a's forces are deployed facing b (pair-major order)."""
        n, na = self.last.shape
        out = pair_array(n, na, bool, False)
        for k in t.kind_slots.get("deploy_forces", np.zeros(0, dtype=np.int64)):
            b = t.slot_target[k]
            if b != NO_TARGET:
                out[:, t.slot_actor[k], b] |= self.on[:, k]
        return out
