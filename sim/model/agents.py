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

from sim import kernels
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


def _slices(cols: np.ndarray) -> list[slice]:
    """Increasing column indices as few slices as possible (runs with a constant step)."""
    out: list[slice] = []
    i = 0
    while i < len(cols):
        step = int(cols[i + 1] - cols[i]) if i + 1 < len(cols) else 1
        e = i + 1
        while e < len(cols) and cols[e] - cols[e - 1] == step:
            e += 1
        out.append(slice(int(cols[i]), int(cols[e - 1]) + 1, step))
        i = e
    return out


def _csr(
    per_choice: list[list[tuple[int, float]]] | list[list[tuple[int, int]]], dtype: type
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pointers, row indices, values) of each choice's list of (row, value) pairs."""
    ptr = np.zeros(len(per_choice) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(t) for t in per_choice])
    idx = np.array([i for t in per_choice for i, _ in t], dtype=np.int64)
    val: np.ndarray = np.array([v for t in per_choice for _, v in t], dtype=dtype)
    return ptr, idx, val


class Weigher:
    """The utility rule of one actor's choices (menu or measures), laid out for its step.

    Everything that does not change from day to day is prepared once: the target group of
    each choice, the aversion term, and the fixed motive terms batched by (feature, group) into
    runs of consecutive choices, so that one array operation adds a term to a whole run.

    Each choice's utility is still the same sum in the same order as :func:`terms` lists it -
    threat, aversion and cost first, then the fixed terms by ascending feature, then the
    terms whose weight varies by replicate - so every utility is bit-for-bit what the plain
    loop over choices and terms gives.
    """

    def __init__(self, at: ActorTable, ch: Choices, view: View):
        self.groups = view.group_of(ch.target)
        self.fixed = terms(ch, self.groups)
        # Each target group's columns as strided slices, so that the threat term is written
        # into u in place (a menu lists a move's targets side by side: groups interleave).
        self.group_slices = [
            (g, sl)
            for g, cols in _group_cols(self.groups)
            for sl in _slices(np.arange(len(ch.ids))[cols])
        ]
        self.k = len(ch.ids)
        self.s = ch.s
        self.at = at
        self.ch = ch
        by_key: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for j, terms_j in enumerate(self.fixed):
            for g, f, w in terms_j:
                by_key.setdefault((f, g), []).append((j, w))
        # (feature, group, first column, (run,) weights) for each run of consecutive choices
        self.runs: list[tuple[int, int, int, np.ndarray]] = []
        for (f, g), cols in sorted(by_key.items()):
            i = 0
            while i < len(cols):
                e = i + 1
                while e < len(cols) and cols[e][0] == cols[e - 1][0] + 1:
                    e += 1
                weights = np.array([wj for _, wj in cols[i:e]])
                self.runs.append((f, g, cols[i][0], weights))
                i = e
        self.varying = [
            (int(self.groups[col]) if FEATURE_NAMES[f] in DIRECTED else 0, f, col, wv)
            for f, col, wv in ch.varying
        ]
        self._compile_program(by_key, view.n)

    def _compile_program(
        self, by_key: dict[tuple[int, int], list[tuple[int, float]]], n: int
    ) -> None:
        """Lay the terms out as flat arrays for :func:`kernels.utilities`.

        Each choice's terms keep the order in which :meth:`numpy_utilities` adds them: fixed
        terms by ascending (feature, group), then the varying ones in list order.
        """
        # np.multiply.outer(s * s, aversion) computes (s * s)[j] * aversion[r]: the kernel
        # forms the same product per element instead of reading a (K, R) array every day.
        self.s2 = self.s * self.s
        cost = self.ch.cost_t
        self.cost_fixed = (
            (cost == cost[:, :1]).all(axis=1) if cost.shape[1] else np.ones(self.k, dtype=bool)
        )
        self.threat_groups = sorted({int(g) for g in self.groups})
        where = {g: i for i, g in enumerate(self.threat_groups)}
        self.gidx = np.array([where[int(g)] for g in self.groups], dtype=np.int64)
        rows: dict[tuple[int, int], int] = {}

        def slot(g: int, f: int) -> int:
            return rows.setdefault((g, f), len(rows))

        fixed: list[list[tuple[int, float]]] = [[] for _ in range(self.k)]
        for (f, g), cols in sorted(by_key.items()):
            for j, w in cols:
                fixed[j].append((slot(g, f), w))
        varying: list[list[tuple[int, int]]] = [[] for _ in range(self.k)]
        wv_rows: list[np.ndarray] = []
        for g, f, col, wv in self.varying:
            varying[col].append((slot(g, f), len(wv_rows)))
            wv_rows.append(np.broadcast_to(np.asarray(wv, dtype=np.float64), (n,)))
        self.rows = list(rows)
        self.terms = _csr([[(i, w) for i, w in t] for t in fixed], np.float64)
        self.var_terms = _csr(varying, np.int64)
        self.wv = np.array(wv_rows, dtype=np.float64).reshape(len(wv_rows), n)

    def __call__(self, view: View) -> np.ndarray:
        """(K, R) utility of each choice, before inertia (the compiled kernel)."""
        n = view.n
        row = view.row
        threat = F["threat"]
        gt = np.empty((len(self.threat_groups), n))
        for i, g in enumerate(self.threat_groups):
            np.multiply(self.at.gain, row(g, threat), out=gt[i])
        x = np.empty((len(self.rows), n))
        for i, (g, f) in enumerate(self.rows):
            x[i] = row(g, f)
        u = np.empty((self.k, n))
        kernels.utilities(
            self.s,
            self.gidx,
            gt,
            self.s2,
            self.at.aversion,
            self.ch.cost_t,
            self.cost_fixed,
            *self.terms,
            *self.var_terms,
            x,
            self.wv,
            u,
        )
        return u

    def numpy_utilities(self, view: View) -> np.ndarray:
        """The same (K, R) utilities by numpy array operations (the kernel's reference)."""
        at = self.at
        row = view.row
        threat = F["threat"]
        u = np.empty((self.k, view.n))
        for g, sl in self.group_slices:
            np.multiply.outer(self.s[sl], at.gain * row(g, threat), out=u[sl])
        u -= np.multiply.outer(self.s * self.s, at.aversion)
        u -= self.ch.cost_t
        for f, g, j, w in self.runs:
            if len(w) == 1:
                u[j] += w[0] * row(g, f)
            else:
                u[j : j + len(w)] += np.multiply.outer(w, row(g, f))
        for g, f, col, wv in self.varying:
            u[col] += wv * row(g, f)
        return u


def weigh(
    at: ActorTable,
    ch: Choices,
    view: View,
    groups: np.ndarray,
    fixed: list[list[tuple[int, int, float]]],
    group_cols: list[tuple[int, np.ndarray | slice]],
) -> np.ndarray:
    """(K, R) utility of each choice in ``ch`` for actor ``at``, before inertia.

    The plain statement of the rule, one choice and one term at a time; the step uses
    :class:`Weigher`, which computes the same numbers with fewer array operations.
    """
    row = view.row
    n = view.n
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


def inverse_cdf(p: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """(R,) the column each world's uniform number picks from its (K, R) probabilities.

    The number of leading entries whose cumulative probability is at most the draw, summed in
    menu order: the numpy statement of :func:`sim.kernels.logit_draw`'s draw, which gives the
    same column for the same probabilities.
    """
    col = np.zeros(p.shape[1], dtype=np.int64)
    acc = np.zeros(p.shape[1])
    for k in range(p.shape[0] - 1):
        acc += p[k]
        col += acc <= draw
    return col


class Actor(mesa.Agent):
    """One actor of the scenario: observe, weigh its menu and its measures, choose."""

    def __init__(self, model: EscalationModel, table: ActorTable):
        super().__init__(model)
        self.table = table
        self.index = table.index
        self.name = table.name
        self.label = table.label
        self._menu: Weigher | None = None
        self._slots: Weigher | None = None
        self._step_block: np.ndarray | None = None
        self._menu_col: np.ndarray | None = None
        self._inv_temp = 1.0 / table.temperature
        ids = table.measures.ids
        t = model.tables
        self._start_cost = np.ascontiguousarray(t.slot_start_cost[:, ids].T)  # (K, R)
        self._end_cost = np.ascontiguousarray(t.slot_end_cost[:, ids].T)
        self._endable = np.ascontiguousarray(t.slot_endable[ids], dtype=np.bool_)  # (K,)
        self._defence_cols = [
            col for col, k in enumerate(ids) if t.slot_kind[k] == "collective_defence"
        ]

    def _blocked(self, day: int) -> np.ndarray:
        """(K, R) True where a menu entry may not be chosen today (see :meth:`available`)."""
        m = self.model
        st = m.state
        at = self.table
        t = m.tables
        nr = t.n_rungs
        if self._step_block is None:
            # The step limits depend only on (posture, yesterday's move rung): one column of
            # this table per pair replaces five array operations a day by one gather.
            dyn = m.scenario_spec.dynamics
            posture, move_now = np.divmod(np.arange(nr * nr), nr)
            rung = at.menu.rung[:, None]
            ok = (rung <= posture + dyn.max_step_up) & (rung >= move_now - dyn.max_step_down)
            # Above an exchange of fire the ladder is climbed one rung (max_step_up_armed) a
            # day: strikes follow fire, an offensive follows strikes, never fire overnight.
            ok &= (rung <= t.armed_rung) | (rung <= posture + dyn.max_step_up_armed)
            ok[at.jump] = True
            if not at.in_exercise:
                # Only a participant can prolong an exercise.
                ok[t.extend[at.menu.ids] > 0] = False
            self._step_block = np.ascontiguousarray(~ok)
        a = self.index
        blocked = np.take(self._step_block, st.rung[:, a] * nr + st.move_rung[:, a], axis=1)
        for col in at.once_cols:
            blocked[col] |= st.used[:, t.entry_move[at.menu.ids[col]]]
        for col, conds in at.menu.requires:
            for c in conds:
                blocked[col] |= ~m.condition(c, day)
        if at.needs_forces.any():
            # Force is used across a border only where one's own forces stand facing it.
            forces = m.forces_today
            for col in np.flatnonzero(at.needs_forces):
                blocked[col] |= ~forces[:, a, at.menu.target[col]]
        return blocked

    def available(self, day: int) -> np.ndarray:
        """(K, R) which menu entries may be chosen today in each world.

        An entry is available when its rung is at most ``max_step_up`` above the actor's
        posture (``max_step_up_armed`` above the armed-incident rung) and at least
        ``max_step_down`` below yesterday's move (``jump`` entries are exempt), an
        exercise's extension is the participants', a once-only move has not been made, its
        requires hold, and - for a use of force - the actor's forces stand facing the target.
        """
        return ~self._blocked(day)

    def utilities(self, view: View) -> np.ndarray:
        """(K, R) utility of every menu entry in every world."""
        at = self.table
        if self._menu is None:
            self._menu = Weigher(at, at.menu, view)
            col = np.full(len(self.model.tables.entry_actor), -1, dtype=np.int64)
            col[at.menu.ids] = np.arange(len(at.menu.ids))
            self._menu_col = col
        assert self._menu_col is not None
        u = self._menu(view)
        # Inertia is added to yesterday's entry only (the others would add exactly 0).
        kernels.add_inertia(u, self._menu_col[self.model.state.last[:, self.index]], at.inertia)
        return u

    def _logit(
        self, view: View, day: int, draw: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(K, R) utilities, logit probabilities (zero where unavailable) and the drawn column."""
        at = self.table
        u = self.utilities(view)
        blocked = self._blocked(day)
        # A world where nothing is available falls back to the lowest-rung entry.
        z = kernels.logit_exponents(
            u, blocked, self._inv_temp, _U_CAP, int(np.argmin(at.menu.rung))
        )
        p = np.exp(z, out=z)
        col = kernels.logit_draw(p, blocked, draw)
        return u, p, col

    def choice_probabilities(self, view: View, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(K, R) utilities and logit probabilities of the menu (zero where unavailable)."""
        u, p, _ = self._logit(view, day, np.zeros(view.n))
        return u, p

    def numpy_choice_probabilities(self, view: View, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The same as :meth:`choice_probabilities` by numpy array operations (the reference)."""
        at = self.table
        if self._menu is None:
            self.utilities(view)
        assert self._menu is not None and self._menu_col is not None
        u = self._menu.numpy_utilities(view)
        col = self._menu_col[self.model.state.last[:, self.index]]
        worlds = np.flatnonzero(col >= 0)
        u[col[worlds], worlds] += at.inertia[worlds]
        blocked = self._blocked(day)
        stuck = blocked.all(axis=0)
        if stuck.any():
            blocked[np.argmin(at.menu.rung), stuck] = False
        z = np.clip(u, -_U_CAP, _U_CAP)
        z *= self._inv_temp[None, :]
        np.copyto(z, -np.inf, where=blocked)
        z -= z.max(axis=0)
        np.copyto(z, 0.0, where=blocked)
        p = np.exp(z, out=z)
        np.copyto(p, 0.0, where=blocked)
        p /= p.sum(axis=0)
        return u, p

    def decide(self, view: View, day: int) -> None:
        """Choose today's daily move in every world; writes the model's pending entries."""
        m = self.model
        at = self.table
        draw = m.streams.uniform(day, self.index, "choice")
        u, p, col = self._logit(view, day, draw)
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
        if self._slots is None:
            self._slots = Weigher(at, at.measures, view)
        on, can_start = self._switch_state(day)
        u = self._slots(view)
        x = kernels.measure_exponents(
            u, on, self._start_cost, self._end_cost, at.temperature, _U_CAP
        )
        p = kernels.measure_probabilities(
            np.exp(x, out=x),
            on,
            self._endable,
            can_start,
            m.params["dynamics.measure_review"],
        )
        switchable = np.where(on, self._endable[:, None], can_start)
        return u, p, switchable

    def _switch_state(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(K, R) which of this actor's slots are in force, and which could start today."""
        m = self.model
        ch = self.table.measures
        on = np.ascontiguousarray(m.state.on[:, ch.ids].T)
        can_start = np.ones_like(on)
        for col, conds in ch.requires:
            for c in conds:
                can_start[col] &= m.condition(c, day)
        for col in self._defence_cols:
            can_start[col] &= m.commitments.open_for(self.index)
        return on, can_start

    def numpy_measure_probabilities(
        self, view: View, day: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The same as :meth:`measure_probabilities` by numpy array operations (the reference)."""
        m = self.model
        at = self.table
        if self._slots is None:
            self._slots = Weigher(at, at.measures, view)
        on, can_start = self._switch_state(day)
        u = np.clip(self._slots.numpy_utilities(view), -_U_CAP, _U_CAP)
        temp = at.temperature[None, :]
        start = -(u - self._start_cost) / temp
        end = -(-u - self._end_cost) / temp
        review = m.params["dynamics.measure_review"][None, :]
        # P(start) = review * sigmoid((U - start_cost) / T) where off, P(end) likewise where
        # on: one formula on whichever argument applies gives both, elementwise the same.
        x = np.where(on, end, start)
        np.minimum(x, 700.0, out=x)
        p = review / (1.0 + np.exp(x, out=x))
        endable = self._endable[:, None]
        np.copyto(p, 0.0, where=on & ~endable)
        np.copyto(p, 0.0, where=~(on | can_start))
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
