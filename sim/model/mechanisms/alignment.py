"""An alignment track: one actor moving toward a side, one level at a time, on a slow clock.

Every ``review_every`` days the aligning actor weighs three options - one level down, stay, one
level up - by a logit with its own temperature:

    U(up)   = sum_f up[f] * feature_f - step_cost * level / top
    U(stay) = hysteresis
    U(down) = sum_f down[f] * feature_f

so it neither drifts by a fresh coin toss each day nor switches without a reason that outweighs
keeping its line. Its level is the ``alignment`` feature every other actor can weigh (what
Minsk and Moscow dare, what Warsaw weighs before a blockade, the West's secondary sanctions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.observe import View
from sim.model.tables import F

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


class AlignmentTrack:
    """The alignment mechanism of one ensemble (absent when the scenario declares none)."""

    def __init__(self, model: EscalationModel):
        s = model.scenario_spec
        assert s.alignment is not None
        self.model = model
        self.spec = s.alignment
        self.actor = model.tables.aligner
        self.top = len(self.spec.track) - 1
        p = model.params
        self.up = [(F[f], p[f"alignment.up.{f}"]) for f in self.spec.up]
        self.down = [(F[f], p[f"alignment.down.{f}"]) for f in self.spec.down]
        self.pending = np.zeros(model.n, dtype=np.int64)

    def review(self, view: View, day: int) -> None:
        """On a review day, decide each world's step (-1, 0, +1); applied by :meth:`apply`."""
        m = self.model
        self.pending[:] = 0
        if day % self.spec.review_every:
            return
        st = m.state
        p = m.params
        level = st.alignment
        u_up = (
            sum(w * view.row(0, f) for f, w in self.up)
            - p["alignment.step_cost"] * level / self.top
        )
        u_down = sum(w * view.row(0, f) for f, w in self.down) + np.zeros(m.n)
        u_stay = p["alignment.hysteresis"] + np.zeros(m.n)
        temp = m.tables.actors[self.actor].temperature
        z = np.stack([u_down, u_stay, u_up]) / temp[None, :]
        z[0] = np.where(level > 0, z[0], -np.inf)
        z[2] = np.where(level < self.top, z[2], -np.inf)
        z -= z.max(axis=0)
        prob = np.exp(z)
        prob /= prob.sum(axis=0)
        u = m.streams.uniform(day, self.actor, "alignment")
        step = np.where(u < prob[0], -1, np.where(u < prob[0] + prob[1], 0, 1))
        self.pending = np.where(st.alive, step, 0)
        if m.trace is not None:
            m.trace.alignment[day] = (np.stack([u_down, u_stay, u_up]), prob, self.pending.copy())

    def apply(self, day: int) -> None:
        """Move each world's level by the step decided today."""
        st = self.model.state
        st.alignment = np.clip(st.alignment + self.pending, 0, self.top)
        st.max_alignment = np.maximum(st.max_alignment, st.alignment)
        lvl = self.model.tables.escalation_level
        st.escalation_day = np.where(
            (st.escalation_day < 0) & (st.alignment >= lvl), day, st.escalation_day
        )
