"""What each actor sees: yesterday's world as features, per target, through fog.

An actor's view is an array (G, F, R): one feature vector per *target group* - the undirected
group first (aggregates over all adversaries), then one group per actor its menu entries or
measure slots are aimed at. A choice aimed at b reads the group of b, so "the threat" in the
utility of firing at Ukraine is the threat from Ukraine, not from Poland.

A feature row is computed the first time a decision reads it and kept for the rest of the day:
an actor weighs about a third of the features, and most of the ones it weighs are the same for
every actor (:data:`SHARED`). Every row is a pure function of yesterday's state and the day's
fog draws, so when (or whether) it is computed changes no number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import kernels
from sim.model.state import NONE, WorldState
from sim.model.tables import FEATURE_NAMES, NO_TARGET, F, Tables
from sim.rng import Streams

_FOG_MASK = np.uint64(0xFFFF)
DIRECTED = (
    "threat",
    "attacked",
    "forces_facing",
    "hybrid_pressure",
    "deterrence",
    "incursion",
    "incursion_casualties",
)
"""Features that depend on the target; the others are the same in every group."""


SHARED = (
    "bias",
    "incident",
    "pretext",
    "armed_incident",
    "blockade",
    "shipper_cost",
    "blame_blockader",
    "alignment",
    "eu_exposure",
    "article4",
    "article5",
)
"""Features that are the same for every actor: computed once a day, shared by every view."""
_DIRECTED_ROWS = frozenset(F[f] for f in DIRECTED)
_SHARED_ROWS = frozenset(F[f] for f in SHARED)


class _Day:
    """The world at the end of one day, as every actor reads it (rows made on first use).

    Pair arrays of the state are pair-major (see :mod:`sim.model.state`), so every per-pair
    read below is a contiguous column.
    """

    def __init__(
        self, t: Tables, st: WorldState, streams: Streams, day: int, exercise_on: np.ndarray
    ):
        self.t = t
        self.st = st
        self.streams = streams
        self.day = day
        self.exercise_on = exercise_on
        self.n = len(st.alive)
        self._shared: dict[int, np.ndarray] = {}
        self._seen: dict[int, dict[int, np.ndarray]] = {}
        self._own_threat: dict[int, np.ndarray] = {}
        self._attacked: dict[tuple[int, int], np.ndarray] = {}
        self._facing: np.ndarray | None = None
        self._belief: np.ndarray | None = None
        self._zeros: np.ndarray | None = None

    # ------------------------------------------------------------------ building blocks
    def zeros(self) -> np.ndarray:
        """(R,) zeros, shared by every row that is constantly 0 (rows are never written)."""
        if self._zeros is None:
            self._zeros = np.zeros(self.n)
        return self._zeros

    def seen(self, a: int) -> dict[int, np.ndarray]:
        """Adversary b -> (R,) the severity a perceives of what b aims at a (fog: a rung off
        now and then, one 16-bit draw per adversary, four adversaries per 64-bit draw)."""
        out = self._seen.get(a)
        if out is None:
            t = self.t
            misread = t.params["fog.posture_misread"]
            top = t.n_rungs - 1
            out = {}
            bits = np.zeros(0, dtype=np.uint64)
            for j, b in enumerate(t.actors[a].adversaries):
                if j % 4 == 0:
                    bits = self.streams.bits(self.day + 1, a, f"fog{j // 4}")
                out[b] = kernels.fog_severity(
                    bits,
                    np.uint64(16 * (j % 4)),
                    misread,
                    self.st.aimed_rung[:, b, a],
                    top,
                    t.severity,
                )
            self._seen[a] = out
        return out

    def numpy_seen(self, a: int) -> dict[int, np.ndarray]:
        """:meth:`seen` by numpy (the reference its kernel is tested against); not kept."""
        t = self.t
        misread = t.params["fog.posture_misread"]
        top = t.n_rungs - 1
        out = {}
        bits = np.zeros(0, dtype=np.uint64)
        for j, b in enumerate(t.actors[a].adversaries):
            if j % 4 == 0:
                bits = self.streams.bits(self.day + 1, a, f"fog{j // 4}")
            v = ((bits >> np.uint64(16 * (j % 4))) & _FOG_MASK).astype(np.float64) / 65536.0
            shift = (v > 1.0 - misread / 2).astype(np.int64) - (v < misread / 2)
            r = self.st.aimed_rung[:, b, a] + shift
            np.clip(r, 0, top, out=r)
            out[b] = t.severity[r]
        return out

    def own_threat(self, a: int) -> np.ndarray:
        """(R,) the most severe posture a perceives aimed at it (0 without adversaries)."""
        out = self._own_threat.get(a)
        if out is None:
            out = self.zeros()
            for v in self.seen(a).values():
                out = np.maximum(out, v)
            self._own_threat[a] = out
        return out

    def attacked(self, victim: int, attacker: int) -> np.ndarray:
        """(R,) bool: ``attacker`` used force against ``victim`` within the attack memory."""
        key = (victim, attacker)
        out = self._attacked.get(key)
        if out is None:
            last = self.st.force[:, attacker, victim]
            memory = self.t.scenario.dynamics.attack_memory_days
            out = kernels.recent(last, self.day, memory)
            self._attacked[key] = out
        return out

    def numpy_attacked(self, victim: int, attacker: int) -> np.ndarray:
        """:meth:`attacked` by numpy (the reference its kernel is tested against); not kept."""
        last = self.st.force[:, attacker, victim]
        memory = self.t.scenario.dynamics.attack_memory_days
        return (last != NONE) & (self.day - last < memory)

    def facing(self, a: int, b: int) -> np.ndarray:
        """(R,) bool: a's and b's forces are both deployed facing each other."""
        if self._facing is None:
            self._facing = self.st.forces(self.t)
        return self._facing[:, a, b] & self._facing[:, b, a]

    def belief(self) -> np.ndarray:
        """(R, N) each actor's probability that the West caused the incident."""
        if self._belief is None:
            self._belief = self.st.belief_west(self.t)
        return self._belief

    # ------------------------------------------------------------------ rows
    def shared(self, f: int) -> np.ndarray:
        """(R,) a :data:`SHARED` feature."""
        out = self._shared.get(f)
        if out is None:
            out = self._shared[f] = _as_row(self._make_shared(FEATURE_NAMES[f]), self.n)
        return out

    def _make_shared(self, name: str) -> Any:
        t, st, p = self.t, self.st, self.t.params
        if name == "bias":
            return 1.0
        if name in ("incident", "armed_incident", "article4", "article5"):
            return getattr(st, {"armed_incident": "armed"}.get(name, name))
        if name == "pretext":
            return st.staged
        if name == "blockade":
            return st.in_force(t, "transit_blockade")
        if name == "shipper_cost":
            return self.own_cost(t.shipper) if t.shipper >= 0 else 0.0
        if name == "blame_blockader":
            if t.shipper < 0:
                return 0.0
            blame = 1.0 / (1.0 + np.exp(-np.clip(st.blame, -50, 50)))
            return np.where(st.blockade_ever, 2.0 * blame - 1.0, 0.0)
        if name == "alignment":
            return st.alignment / max(t.n_levels - 1, 1) if t.aligner >= 0 else 0.0
        assert name == "eu_exposure", name
        return p["alignment.exposure"] if t.aligner >= 0 else 0.0

    def own_cost(self, a: int) -> np.ndarray:
        """(R,) a's cumulative cost over the cost scale, capped at 1."""
        return np.minimum(self.st.cost[:, a] / self.t.scenario.economy.cost_scale_musd, 1.0)

    def actor_row(self, a: int, name: str) -> Any:
        """Actor a's undirected value of a feature that is neither shared nor per target."""
        t, st = self.t, self.st
        at = t.actors[a]
        advs = at.adversaries
        if name == "threat":
            threat = self.own_threat(a)
            for m, sol in at.partners:
                threat = np.maximum(threat, sol * self.own_threat(m))
            return threat
        if name == "ally_threat":
            if not at.allies:
                return 0.0
            out = self.own_threat(at.allies[0])
            for m in at.allies[1:]:
                out = np.maximum(out, self.own_threat(m))
            return out
        if name == "ally_attacked":
            return _any([self.attacked(m, x) for m in at.allies for x in range(t.n_actors)])
        if name == "attacked":
            return _any([self.attacked(a, b) for b in advs])
        if name == "forces_facing":
            return _any([self.facing(a, b) for b in advs])
        if name == "hybrid_pressure":
            if not advs:
                return 0.0
            total = st.hybrid[:, advs[0], a].copy()
            for b in advs[1:]:  # left to right, as a sum over the adversary axis adds
                total += st.hybrid[:, b, a]
            return np.minimum(total, 1.0)
        if name == "nuclear_signal":
            return _any([st.nuclear_until[:, b] >= self.day for b in advs])
        if name == "blame_west":
            return np.where(st.incident, 2.0 * self.belief()[:, a] - 1.0, 0.0)
        if name == "own_cost":
            return self.own_cost(a)
        if name == "sanctioned":
            ks = t.kind_slots.get("sanctions", np.zeros(0, dtype=np.int64))
            return _any([st.on[:, k] for k in ks if t.slot_target[k] == a])
        if name == "exercise":
            return self.exercise_on if at.in_exercise else 0.0
        if name == "neighbour_exercise":
            return self.exercise_on if at.neighbour_exercise else 0.0
        if name == "deterrence":
            out = self.zeros()
            for b in advs:
                out = np.maximum(out, self.deterrence(a, b))
            return out
        if name in ("incursion", "incursion_casualties"):
            if not t.scenario.incursions:
                return 0.0  # base.yaml weighs them in every scenario; most have no source
            row = self.incursion if name == "incursion" else self.incursion_deaths
            return _any([row(a, b) for b in range(t.n_actors) if b != a])
        assert name == "committed_elsewhere", name
        return at.committed

    def incursion(self, a: int, b: int) -> np.ndarray:
        """(R,) bool: an incursion blamed on b entered a's airspace within the attack memory."""
        memory = self.t.scenario.dynamics.attack_memory_days
        return kernels.recent(self.st.incursion[:, b, a], self.day, memory)

    def incursion_deaths(self, a: int, b: int) -> np.ndarray:
        """(R,) bool: one blamed on b killed people in a's or an ally's territory lately."""
        memory = self.t.scenario.dynamics.attack_memory_days
        out = kernels.recent(self.st.incursion_deaths[:, b, a], self.day, memory)
        for m in self.t.actors[a].allies:
            if m != b:
                out = out | kernels.recent(self.st.incursion_deaths[:, b, m], self.day, memory)
        return out

    def deterrence(self, a: int, b: int) -> np.ndarray:
        """(R,) the answer a expects from b: b's forces facing a, else b's guarantees."""
        t = self.t
        if self._facing is None:
            self._facing = self.st.forces(t)
        out = self._facing[:, b, a].astype(np.float64)
        for sol in t.actors[b].defenders:
            out = np.maximum(out, sol)
        return out

    def pair_row(self, a: int, b: int, name: str) -> Any:
        """Actor a's value of a :data:`DIRECTED` feature toward target b."""
        if name == "threat":
            return self.seen(a).get(b, 0.0)
        if name == "attacked":
            return self.attacked(a, b)
        if name == "forces_facing":
            return self.facing(a, b)
        if name == "deterrence":
            return self.deterrence(a, b)
        if name in ("incursion", "incursion_casualties"):
            if not self.t.scenario.incursions:
                return 0.0
            return (self.incursion if name == "incursion" else self.incursion_deaths)(a, b)
        assert name == "hybrid_pressure", name
        return self.st.hybrid[:, b, a].copy()  # a copy: the state's array is updated in place


def _any(rows: list[np.ndarray]) -> np.ndarray | float:
    """Elementwise OR of bool rows (0.0 when there are none)."""
    if not rows:
        return 0.0
    out = rows[0].copy()
    for r in rows[1:]:
        out |= r
    return out


def _as_row(value: Any, n: int) -> np.ndarray:
    """A feature value as an (R,) float64 row (scalars broadcast, bools as 0/1)."""
    v = np.asarray(value)
    if v.ndim == 0:
        return np.full(n, float(v))
    return v.astype(np.float64, copy=False)


class View:
    """One actor's features: ``x[g]`` is the (F, R) vector of target group ``g``.

    :meth:`row` computes a feature on first use (see the module docstring) and keeps it;
    :attr:`x` assembles the complete (G, F, R) array (for traces and advice). Rows are shared
    with other views and must not be written to.
    """

    def __init__(self, a: int, groups: list[int], day: _Day):
        self.actor = a
        self.groups = groups  # target of each group; groups[0] == NO_TARGET
        self.n = day.n
        self._day = day
        self._rows: dict[tuple[int, int], np.ndarray] = {}
        self._full: np.ndarray | None = None

    def row(self, g: int, f: int) -> np.ndarray:
        """(R,) feature ``f`` of target group ``g``."""
        if f in _SHARED_ROWS:
            return self._day.shared(f)
        if f not in _DIRECTED_ROWS:
            g = 0
        key = (g, f)
        out = self._rows.get(key)
        if out is None:
            name = FEATURE_NAMES[f]
            if g == 0:
                value = self._day.actor_row(self.actor, name)
            else:
                value = self._day.pair_row(self.actor, self.groups[g], name)
            out = self._rows[key] = _as_row(value, self.n)
        return out

    @property
    def x(self) -> np.ndarray:
        """(G, F, R) every feature of every group."""
        if self._full is None:
            full = np.empty((len(self.groups), len(FEATURE_NAMES), self.n))
            for g in range(len(self.groups)):
                for f in range(len(FEATURE_NAMES)):
                    full[g, f] = self.row(g, f)
            self._full = full
        return self._full

    def group_of(self, targets: np.ndarray) -> np.ndarray:
        """Group index of each target (NO_TARGET -> 0)."""
        index = {g: i for i, g in enumerate(self.groups)}
        return np.array([index[int(b)] for b in targets], dtype=np.int64)


def target_groups(t: Tables) -> list[list[int]]:
    """For each actor, the targets its entries and slots are aimed at (undirected first)."""
    out = []
    for at in t.actors:
        aimed = set(at.menu.target.tolist()) | set(at.measures.target.tolist())
        aimed.discard(NO_TARGET)
        out.append([NO_TARGET, *sorted(aimed)])
    return out


def observe(
    t: Tables,
    st: WorldState,
    streams: Streams,
    day: int,
    groups: list[list[int]],
    exercise_on: np.ndarray,
) -> list[View]:
    """Every actor's view of the world at the end of ``day`` (decisions for ``day + 1``).

    The views read ``st`` when a row is first asked for: use them before the state changes
    (the model's step does; traces and advice copy what they keep).
    """
    d = _Day(t, st, streams, day, exercise_on)
    return [View(at.index, groups[at.index], d) for at in t.actors]
