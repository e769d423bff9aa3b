"""The state of an ensemble of worlds: plain arrays with a leading replicate axis.

Keeping every piece of state in one dataclass of arrays is what lets a world on day d be saved,
subset (one replicate out of many) and used as the starting point of a new ensemble.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.model.tables import A, Tables


@dataclass
class WorldState:
    """Every mutable quantity of R worlds on one day (arrays of length R, or R x 6 by actor)."""

    day: int
    rung: np.ndarray  # (R, 6) int: each actor's rung
    last_move: np.ndarray  # (R, 6) int: global index of yesterday's move
    used: np.ndarray  # (R, K) bool: once-only moves already made
    hybrid: np.ndarray  # (R, 6) hybrid pressure each actor is under, 0..1
    lean: np.ndarray  # (R, 6) log-odds that the West caused the incident (prior lean before)
    incident: np.ndarray  # (R,) bool
    staged: np.ndarray  # (R,) bool
    armed: np.ndarray  # (R,) bool
    truth_west: np.ndarray  # (R,) bool: the West really caused the incident
    evidence: np.ndarray  # (R,) evidence quality of the incident (0.5 before one)
    blockade: np.ndarray  # (R,) bool
    blockade_ever: np.ndarray  # (R,) bool
    blame_poland: np.ndarray  # (R,) log-odds that China blames Poland for the blockade
    border_closed: np.ndarray  # (R,) bool
    article4: np.ndarray  # (R,) bool
    article5: np.ndarray  # (R,) bool
    alignment: np.ndarray  # (R,) int
    exercise_end: np.ndarray  # (R,) int: last exercise day (extensions included)
    fired: np.ndarray  # (R, n_injects) bool: once-only injects already fired
    alive: np.ndarray  # (R,) bool: false once an absorbing end state is reached
    days: np.ndarray  # (R,) int: days simulated
    max_rung: np.ndarray  # (R,) int
    max_alignment: np.ndarray  # (R,) int
    first_armed_day: np.ndarray  # (R,) int, -1 when none
    staged_day: np.ndarray  # (R,) int, -1 when none
    escalation_day: np.ndarray  # (R,) int, -1 when none
    blockade_days: np.ndarray  # (R,) int
    china_cost: np.ndarray  # (R,) MUSD
    poland_cost: np.ndarray
    belarus_cost: np.ndarray

    @classmethod
    def initial(cls, t: Tables, n: int) -> WorldState:
        """Day 0: every actor on its initial rung, nothing has happened yet."""
        s = t.scenario
        rung = np.array([s.rung_index(s.actors[a].initial_rung) for a in A], dtype=np.int64)
        index = {m: i for i, m in enumerate(t.move_names)}
        last = np.array(
            [
                index[s.actors[a].initial_move]
                if s.actors[a].initial_move is not None
                else _first_move_at(t, A[a], rung[A[a]])
                for a in A
            ],
            dtype=np.int64,
        )
        align = s.alignment_index(s.initial_alignment)
        ex_end = s.exercise.end_day if s.exercise is not None else -1
        zeros_f = np.zeros(n)
        none = np.full(n, -1, dtype=np.int64)
        return cls(
            day=0,
            rung=np.tile(rung, (n, 1)),
            last_move=np.tile(last, (n, 1)),
            used=np.zeros((n, len(t.move_names)), dtype=bool),
            hybrid=np.zeros((n, 6)),
            lean=np.zeros((n, 6)),
            incident=np.zeros(n, dtype=bool),
            staged=np.zeros(n, dtype=bool),
            armed=np.zeros(n, dtype=bool),
            truth_west=np.zeros(n, dtype=bool),
            evidence=np.full(n, 0.5),
            blockade=np.zeros(n, dtype=bool),
            blockade_ever=np.zeros(n, dtype=bool),
            blame_poland=zeros_f.copy(),
            border_closed=np.zeros(n, dtype=bool),
            article4=np.zeros(n, dtype=bool),
            article5=np.zeros(n, dtype=bool),
            alignment=np.full(n, align, dtype=np.int64),
            exercise_end=np.full(n, ex_end, dtype=np.int64),
            fired=np.zeros((n, len(s.injects)), dtype=bool),
            alive=np.ones(n, dtype=bool),
            days=np.zeros(n, dtype=np.int64),
            max_rung=np.full(n, rung.max(), dtype=np.int64),
            max_alignment=np.full(n, align, dtype=np.int64),
            first_armed_day=none.copy(),
            staged_day=none.copy(),
            escalation_day=np.where(np.full(n, align >= t.china_escalation_level), 0, -1).astype(
                np.int64
            ),
            blockade_days=np.zeros(n, dtype=np.int64),
            china_cost=zeros_f.copy(),
            poland_cost=zeros_f.copy(),
            belarus_cost=zeros_f.copy(),
        )

    def take(self, rows: np.ndarray) -> WorldState:
        """A copy holding only the given replicate rows (e.g. to branch one world)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v[rows].copy() if isinstance(v, np.ndarray) else v
        return WorldState(**out)

    def belief_west(self, t: Tables) -> np.ndarray:
        """(R, 6) each actor's probability that the West caused the incident."""
        b = 1.0 / (1.0 + np.exp(-self.lean))
        for at in t.actors:
            if at.knows_truth:
                b[:, at.index] = self.truth_west
        return b


def _first_move_at(t: Tables, actor: int, rung: int) -> int:
    at = t.actors[actor]
    same = np.flatnonzero(at.move_rung == rung)
    return int(at.moves[same[0]] if same.size else at.moves[np.argmin(at.move_rung)])
