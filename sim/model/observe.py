"""What each actor sees: yesterday's world as features, per target, through fog.

An actor's view is an array (G, F, R): one feature vector per *target group* - the undirected
group first (aggregates over all adversaries), then one group per actor its menu entries or
measure slots are aimed at. A choice aimed at b reads the group of b, so "the threat" in the
utility of firing at Ukraine is the threat from Ukraine, not from Poland.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.state import NONE, WorldState
from sim.model.tables import FEATURE_NAMES, NO_TARGET, F, Tables
from sim.rng import Streams

_FOG_MASK = np.uint64(0xFFFF)
DIRECTED = ("threat", "attacked", "forces_facing", "hybrid_pressure")
"""Features that depend on the target; the others are the same in every group."""


SHARED = (
    "bias",
    "exercise",
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
_SHARED_ROWS = [F[f] for f in SHARED]


@dataclass
class View:
    """One actor's features: ``x[g]`` is the (F, R) vector of target group ``g``.

    ``own`` holds what is particular to the actor: in group 0 every feature not in
    :data:`SHARED`, in the other groups the :data:`DIRECTED` ones; ``shared`` is the day's
    common rows (the same array in every actor's view). :meth:`row` reads one feature without
    copying; :attr:`x` assembles the complete (G, F, R) array (for traces and advice).
    """

    groups: list[int]  # target of each group; groups[0] == NO_TARGET
    own: np.ndarray  # (G, F, R), rows filled as described above
    shared: np.ndarray  # (F, R), only the SHARED rows filled
    _full: np.ndarray | None = None

    def row(self, g: int, f: int) -> np.ndarray:
        """(R,) feature ``f`` of target group ``g``."""
        name = FEATURE_NAMES[f]
        if name in DIRECTED:
            return self.own[g, f]
        return self.shared[f] if name in SHARED else self.own[0, f]

    @property
    def x(self) -> np.ndarray:
        """(G, F, R) every feature of every group."""
        if self._full is None:
            full = self.own.copy()
            full[0, _SHARED_ROWS] = self.shared[_SHARED_ROWS]
            for g in range(1, len(self.groups)):
                keep = full[g, [F[f] for f in DIRECTED]]
                full[g] = full[0]
                full[g, [F[f] for f in DIRECTED]] = keep
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
    """Every actor's view of the world at the end of ``day`` (decisions for ``day + 1``)."""
    n = len(st.alive)
    na = t.n_actors
    p = t.params
    s = t.scenario
    misread = p["fog.posture_misread"]

    # Pair arrays are kept (R, N, N); one contiguous (N, N, R) copy each makes every per-pair
    # slice below a contiguous row.
    aimed = np.ascontiguousarray(st.aimed_rung.transpose(2, 1, 0))  # [a, b]: what b aims at a
    memory = s.dynamics.attack_memory_days
    recent = (st.force != NONE) & (day - st.force < memory)  # [r, a, b]: a hit b lately
    attacked_by = np.ascontiguousarray(recent.transpose(2, 1, 0))  # [victim, attacker, r]
    forces = st.forces(t)
    facing = np.ascontiguousarray((forces & forces.transpose(0, 2, 1)).transpose(1, 2, 0))
    hybrid_on = np.ascontiguousarray(st.hybrid.transpose(2, 1, 0))  # [a, b]: b's pressure on a
    # seen[a, b]: the severity a perceives of what b aims at a (fog: a rung off now and then)
    seen = np.zeros((na, na, n))
    top = t.n_rungs - 1
    for a in range(na):
        advs = t.actors[a].adversaries
        for j, b in enumerate(advs):
            if j % 4 == 0:
                bits = streams.bits(day + 1, a, f"fog{j // 4}")
            v = ((bits >> np.uint64(16 * (j % 4))) & _FOG_MASK).astype(np.float64) / 65536.0
            shift = (v > 1.0 - misread / 2).astype(np.int64) - (v < misread / 2)
            r = aimed[a, b] + shift
            np.clip(r, 0, top, out=r)
            seen[a, b] = t.severity[r]
    own_threat = seen.max(axis=1)  # (N, R)
    blockade = st.in_force(t, "transit_blockade")
    belief = st.belief_west(t)
    scale = s.economy.cost_scale_musd
    own_cost = np.minimum(st.cost / scale, 1.0)  # (R, N)
    sanctioned = np.zeros((n, na), dtype=bool)
    for k in t.kind_slots.get("sanctions", np.zeros(0, dtype=np.int64)):
        b = t.slot_target[k]
        if b != NO_TARGET:
            sanctioned[:, b] |= st.on[:, k]
    nuclear = st.nuclear_until >= day  # (R, N)

    base = np.zeros((len(FEATURE_NAMES), n))
    base[F["bias"]] = 1.0
    base[F["exercise"]] = exercise_on
    base[F["incident"]] = st.incident
    base[F["pretext"]] = st.staged
    base[F["armed_incident"]] = st.armed
    base[F["blockade"]] = blockade
    if t.shipper >= 0:
        base[F["shipper_cost"]] = own_cost[:, t.shipper]
        blame = 1.0 / (1.0 + np.exp(-np.clip(st.blame, -50, 50)))
        base[F["blame_blockader"]] = np.where(st.blockade_ever, 2.0 * blame - 1.0, 0.0)
    if t.aligner >= 0:
        base[F["alignment"]] = st.alignment / max(t.n_levels - 1, 1)
        base[F["eu_exposure"]] = p["alignment.exposure"]
    base[F["article4"]] = st.article4
    base[F["article5"]] = st.article5

    views = []
    for at in t.actors:
        a = at.index
        threat = own_threat[a]
        for m, sol in at.partners:
            threat = np.maximum(threat, sol * own_threat[m])
        gx = np.empty((len(groups[a]), len(FEATURE_NAMES), n))
        x = gx[0]
        x[F["threat"]] = threat
        if at.allies:
            x[F["ally_threat"]] = own_threat[at.allies].max(axis=0)
            x[F["ally_attacked"]] = attacked_by[at.allies].any(axis=(0, 1))
        else:
            x[F["ally_threat"]] = 0.0
            x[F["ally_attacked"]] = 0.0
        advs = at.adversaries
        if advs:
            x[F["attacked"]] = attacked_by[a][advs].any(axis=0)
            x[F["forces_facing"]] = facing[a][advs].any(axis=0)
            x[F["hybrid_pressure"]] = np.minimum(hybrid_on[a][advs].sum(axis=0), 1.0)
            x[F["nuclear_signal"]] = nuclear[:, advs].any(axis=1)
        else:
            for f in ("attacked", "forces_facing", "hybrid_pressure", "nuclear_signal"):
                x[F[f]] = 0.0
        x[F["blame_west"]] = np.where(st.incident, 2.0 * belief[:, a] - 1.0, 0.0)
        x[F["own_cost"]] = own_cost[:, a]
        x[F["sanctioned"]] = sanctioned[:, a]
        x[F["committed_elsewhere"]] = at.committed
        for g, b in enumerate(groups[a][1:], start=1):
            y = gx[g]
            y[F["threat"]] = np.maximum(seen[a, b], 0.0)
            y[F["attacked"]] = attacked_by[a, b]
            y[F["forces_facing"]] = facing[a, b]
            y[F["hybrid_pressure"]] = hybrid_on[a, b]
        views.append(View(groups[a], gx, base))
    return views
