"""The actors as Mesa agents. Each one decides for all R worlds at once.

An actor observes the world as it stood at the end of yesterday (its :class:`View`), weighs
every entry on its menu by utility and draws one by a logit (quantal-response) rule; on its
slower clock it also reviews each lasting measure it may hold. Decisions are written to the
model's pending arrays and applied only after every actor has decided, so the order in which
agents are activated never matters.

Utility of a choice c (a daily move, or a measure held for one more day) aimed at target b::

    U(c) = gain * threat_b * s(c) - aversion * s(c)^2 - cost(c)
           + inertia * [c == yesterday's move] + sum_f w[f, c] * feature_f(b)

with gain = stakes * resolve, aversion = (1 - risk_tolerance) * war_aversion and s(c) the
severity of the choice's rung over the top severity. A daily move is drawn with probability
exp(U/T) / sum exp(U/T). A measure that is off starts with probability
review * sigmoid((U - start_cost) / T); one in force ends with probability
review * sigmoid((-U - end_cost) / T).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.observe import DIRECTED, View
from sim.model.tables import FEATURE_NAMES, ActorTable, Choices, F

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

_U_CAP = 1e6  # utilities beyond this carry no more information and would overflow exp()


def terms(ch: Choices, groups: np.ndarray) -> list[list[tuple[int, int, float]]]:
    """Per choice, its fixed motive terms as (group, feature, weight), zero weights dropped.

    Features that do not depend on the target are read from the undirected group 0.
    """
    out: list[list[tuple[int, int, float]]] = []
    for j in range(len(ch.ids)):
        row = []
        for f in np.flatnonzero(ch.weights[:, j]):
            g = int(groups[j]) if FEATURE_NAMES[f] in DIRECTED else 0
            row.append((g, int(f), float(ch.weights[f, j])))
        out.append(row)
    return out


def _group_cols(groups: np.ndarray) -> list[tuple[int, np.ndarray | slice]]:
    """The columns of each target group (a slice when they are contiguous)."""
    out: list[tuple[int, np.ndarray | slice]] = []
    for g in np.unique(groups):
        cols = np.flatnonzero(groups == g)
        if cols[-1] - cols[0] + 1 == len(cols):
            out.append((int(g), slice(int(cols[0]), int(cols[-1]) + 1)))
        else:
            out.append((int(g), cols))
    return out


def weigh(
    at: ActorTable,
    ch: Choices,
    view: View,
    groups: np.ndarray,
    fixed: list[list[tuple[int, int, float]]],
    group_cols: list[tuple[int, np.ndarray | slice]],
) -> np.ndarray:
    """(K, R) utility of each choice in ``ch`` for actor ``at``, before inertia."""
    row = view.row
    n = view.own.shape[2]
    threat = F["threat"]
    u = np.empty((len(ch.ids), n))
    for g, cols in group_cols:
        u[cols] = np.multiply.outer(ch.s[cols], at.gain * row(g, threat))
    u -= np.multiply.outer(ch.s * ch.s, at.aversion)
    u -= ch.cost_t
    for j, terms_j in enumerate(fixed):
        uj = u[j]
        for gg, f, w in terms_j:
            uj += w * row(gg, f)
    for f, col, wv in ch.varying:
        g = groups[col] if FEATURE_NAMES[f] in DIRECTED else 0
        u[col] += wv * row(int(g), f)
    return u


class Actor(mesa.Agent):
    """One actor of the scenario: observe, weigh its menu and its measures, choose."""

    def __init__(self, model: EscalationModel, table: ActorTable):
        super().__init__(model)
        self.table = table
        self.index = table.index
        self.name = table.name
        self.label = table.label
        self._menu: tuple[np.ndarray, list, list] | None = None
        self._slots: tuple[np.ndarray, list, list] | None = None

    def available(self, day: int) -> np.ndarray:
        """(K, R) which menu entries may be chosen today in each world."""
        m = self.model
        st = m.state
        at = self.table
        t = m.tables
        dyn = m.scenario_spec.dynamics
        posture = st.rung[:, self.index][None, :]
        move_now = st.move_rung[:, self.index][None, :]
        rung = at.menu.rung[:, None]
        ok = (rung <= posture + dyn.max_step_up) & (rung >= move_now - dyn.max_step_down)
        ok[at.jump] = True
        for col in at.once_cols:
            ok[col] &= ~st.used[:, t.entry_move[at.menu.ids[col]]]
        for col, conds in at.menu.requires:
            for c in conds:
                ok[col] &= m.condition(c, day)
        if at.needs_forces.any():
            # Force is used across a border only where one's own forces stand facing it.
            forces = m.forces_today
            for col in np.flatnonzero(at.needs_forces):
                ok[col] &= forces[:, self.index, at.menu.target[col]]
        return ok

    def utilities(self, view: View) -> np.ndarray:
        """(K, R) utility of every menu entry in every world."""
        at = self.table
        if self._menu is None:
            groups = view.group_of(at.menu.target)
            self._menu = (groups, terms(at.menu, groups), _group_cols(groups))
        u = weigh(at, at.menu, view, *self._menu)
        last = self.model.state.last[:, self.index]
        u += (last[None, :] == at.menu.ids[:, None]) * at.inertia[None, :]
        return u

    def choice_probabilities(self, view: View, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(K, R) utilities and logit probabilities of the menu (zero where unavailable)."""
        at = self.table
        u = self.utilities(view)
        ok = self.available(day)
        # A world where nothing is available falls back to the lowest-rung entry.
        stuck = ~ok.any(axis=0)
        if stuck.any():
            ok[np.argmin(at.menu.rung), stuck] = True
        z = np.clip(u, -_U_CAP, _U_CAP)
        z *= (1.0 / at.temperature)[None, :]
        np.copyto(z, -np.inf, where=~ok)
        z -= z.max(axis=0)
        p = np.exp(z, out=z)
        p /= p.sum(axis=0)
        return u, p

    def decide(self, view: View, day: int) -> None:
        """Choose today's daily move in every world; writes the model's pending entries."""
        m = self.model
        at = self.table
        u, p = self.choice_probabilities(view, day)
        draw = m.streams.uniform(day, self.index, "choice")
        # Inverse CDF over the few entries, row by row: faster than cumsum along a short axis.
        col = np.zeros(p.shape[1], dtype=np.int64)
        acc = np.zeros(p.shape[1])
        for k in range(p.shape[0] - 1):
            acc += p[k]
            col += acc <= draw
        chosen = at.menu.ids[col]
        m.pending[:, self.index] = chosen
        if m.trace is not None:
            m.trace.record_choice(day, self.index, view, u, p, chosen)

    def measure_probabilities(
        self, view: View, day: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(K, R) utilities, switch probabilities and switchability of this actor's measures.

        One row per slot of ``table.measures`` (nothing drawn or changed). The probability is
        today's chance that the actor's own review switches the slot: P(start) for a slot that
        is off and whose requires hold, P(end) for one in force that is endable, else 0.
        ``switchable`` says where a switch would take effect (startable, or in force and
        endable).
        """
        m = self.model
        at = self.table
        ch = at.measures
        st = m.state
        t = m.tables
        if self._slots is None:
            groups = view.group_of(ch.target)
            self._slots = (groups, terms(ch, groups), _group_cols(groups))
        u = np.clip(weigh(at, ch, view, *self._slots), -_U_CAP, _U_CAP)
        on = st.on[:, ch.ids].T  # (K, R)
        can_start = np.ones_like(on)
        for col, conds in ch.requires:
            for c in conds:
                can_start[col] &= m.condition(c, day)
        for col, k in enumerate(ch.ids):
            if t.slot_kind[k] == "collective_defence":
                can_start[col] &= m.commitments.open_for(self.index)
        temp = at.temperature[None, :]
        start = -(u - t.slot_start_cost[:, ch.ids].T) / temp
        end = -(-u - t.slot_end_cost[:, ch.ids].T) / temp
        review = m.params["dynamics.measure_review"][None, :]
        p_start = review / (1.0 + np.exp(np.minimum(start, 700.0)))
        p_end = review / (1.0 + np.exp(np.minimum(end, 700.0)))
        endable = t.slot_endable[ch.ids][:, None]
        p = np.where(on, np.where(endable, p_end, 0.0), p_start)
        p = np.where(on | can_start, p, 0.0)
        switchable = np.where(on, endable, can_start)
        return u, p, switchable

    def measure_draws(self, day: int) -> np.ndarray:
        """(K, R) the uniform numbers this actor's review of its measures uses on ``day``."""
        m = self.model
        return np.stack(
            [m.streams.uniform(day, self.index, f"measure:{k}") for k in self.table.measures.ids]
        )

    def review(self, view: View, day: int) -> None:
        """Reconsider each lasting measure this actor may hold; writes the model's switches."""
        m = self.model
        ch = self.table.measures
        if not len(ch.ids):
            return
        u, p, _ = self.measure_probabilities(view, day)
        flip = self.measure_draws(day) < p
        m.switch[:, ch.ids] = flip.T
        if m.trace is not None:
            m.trace.record_review(day, self.index, u, p, flip)

    def step(self) -> None:  # pragma: no cover - the model drives decide/review itself
        """Mesa's per-agent hook; the model calls :meth:`decide` and :meth:`review`."""
