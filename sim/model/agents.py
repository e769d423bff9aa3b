"""The six actors as Mesa agents. Each one decides for all R worlds at once.

An actor observes the world as it stood at the end of yesterday (features), weighs every move on
its menu by expected utility, and draws one by a logit (quantal-response) rule. Decisions are
written to the model's pending-move array and applied only after every actor has decided, so the
order in which agents are activated never matters.

Utility of move m for an actor (docs/MODEL.md, "Decisions")::

    U(m) = gain * threat * s(m) - aversion * s(m)^2 - cost(m)
           + inertia * [m == yesterday's move] + sum_f w[f, m] * feature_f

with gain = stakes * resolve, aversion = (1 - risk_tolerance) * war_aversion and s(m) the
severity of the move's rung over the top severity. P(m) = exp(U(m)/T) / sum exp(U/T).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.tables import ActorTable, F

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


class Actor(mesa.Agent):
    """Shared machinery of the six actors: observe, weigh the menu, choose."""

    name: str = ""

    def __init__(self, model: EscalationModel, table: ActorTable):
        super().__init__(model)
        self.table = table
        self.index = table.index
        self.label = table.label

    # Arrays here are laid out (moves, replicates) and features (features, replicates): the
    # reductions over a handful of moves then run over contiguous rows of R numbers, which is
    # several times faster than reducing short rows of an (R, K) array.
    def available(self, features: np.ndarray, day: int) -> np.ndarray:
        """(K, R) which menu moves may be chosen today in each world."""
        m = self.model
        st = m.state
        at = self.table
        dyn = m.scenario_spec.dynamics
        now = st.rung[:, self.index][None, :]
        rung = at.move_rung[:, None]
        ok = (rung <= now + dyn.max_step_up) & (rung >= now - dyn.max_step_down)
        ok[at.jump] = True
        for col in at.once_cols:
            ok[col] &= ~st.used[:, at.moves[col]]
        for col, conds in at.requires:
            for c in conds:
                ok[col] &= m.condition(c, day)
        if at.article4_cols.size:
            # Article 4 is asked for only under a threat at or above the commitment threshold.
            ok[at.article4_cols] &= features[F["threat"]] >= m.tables.article4_threshold - 1e-12
        if at.article5_cols.size:
            ok[at.article5_cols] &= m.article5_open()
        if at.align_up_cols.size:
            ok[at.align_up_cols] &= st.alignment < m.tables.n_levels - 1
        if at.align_down_cols.size:
            ok[at.align_down_cols] &= st.alignment > 0
        return ok

    def utilities(self, features: np.ndarray) -> np.ndarray:
        """(K, R) expected utility of every menu move in every world."""
        at = self.table
        st = self.model.state
        u = at.weights.T @ features
        u += at.s[:, None] * (at.gain * features[F["threat"]])[None, :]
        u -= (at.s * at.s)[:, None] * at.aversion[None, :]
        u -= at.cost_t
        u += (st.last_move[:, self.index][None, :] == at.moves[:, None]) * at.inertia[None, :]
        for f, col, w in at.varying:
            u[col] += w * features[f]
        return u

    def weigh(
        self, features: np.ndarray, day: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The logit rule without the draw: (K, R) utilities, availability, weights; (R,) total.

        ``weights / total`` are the choice probabilities. Used by :meth:`decide` and by the
        model's ``advice`` (a player's or a policy's view of the same rule).
        """
        at = self.table
        u = self.utilities(features)
        ok = self.available(features, day)
        # A world where nothing is available (a scenario whose requires block everything) falls
        # back to the lowest-rung move rather than to an undefined choice.
        stuck = ~ok.any(axis=0)
        if stuck.any():
            ok[np.argmin(at.move_rung), stuck] = True
        z = np.where(ok, u * (1.0 / at.temperature)[None, :], -np.inf)
        z -= z.max(axis=0)
        p = np.exp(z, out=z)
        total = p.sum(axis=0)
        return u, ok, p, total

    def decide(self, features: np.ndarray, day: int) -> None:
        """Choose today's move in every world; writes the model's pending moves.

        Args:
            features: (F, R) this actor's view of yesterday's world.
            day: The day being decided.
        """
        m = self.model
        at = self.table
        u, ok, p, total = self.weigh(features, day)
        draw = m.streams.uniform(day, self.index, "choice") * total
        # Inverse CDF over the few moves, row by row: faster than cumsum along a short axis.
        col = np.zeros(p.shape[1], dtype=np.int64)
        acc = np.zeros(p.shape[1])
        for k in range(p.shape[0] - 1):
            acc += p[k]
            col += acc <= draw
        chosen = at.moves[col]
        m.pending[:, self.index] = chosen
        if m.trace is not None:
            m.trace.record_choice(day, self.index, features.T, u.T, ok.T, (p / total).T, chosen)

    def step(self) -> None:  # pragma: no cover - the model drives observe/decide itself
        """Mesa's per-agent hook; the model calls :meth:`decide` with the day's features."""


class Belarus(Actor):
    """Regime security, Chinese backing, Western blame; restrained by fear of real war."""

    name = "belarus"


class Russia(Actor):
    """Draws China into confrontation, keeps Belarus close (Union State)."""

    name = "russia"


class China(Actor):
    """Transit trade, EU ties, SCO prestige, no entanglement; moves on its alignment track."""

    name = "china"


class Ukraine(Actor):
    """No second front from the north; exposes provocations."""

    name = "ukraine"


class Poland(Actor):
    """Border security against hybrid pressure; may close the border and block rail transit."""

    name = "poland"


class Nato(Actor):
    """Deterrence and cohesion; Article 4 and Article 5; wary of escalation with Russia."""

    name = "nato"


ACTOR_CLASSES: dict[str, type[Actor]] = {
    c.name: c for c in (Belarus, Russia, China, Ukraine, Poland, Nato)
}
