"""Uses of force, accidents, staged incidents and how incidents are attributed.

- **Chosen force**: a daily move with ``effects.force`` aimed at a target; every such move is
  an actor's decision (see :mod:`sim.model.agents`).
- **Accidents**: on each border, a daily chance ``accident_rate * presence_a * presence_b``
  of an unplanned exchange of fire, where a side's presence is 1 with its forces deployed facing
  the other and ``hybrid_presence`` while it runs hybrid operations there. An accident is an
  armed incident that both sides must then decide how to answer.
- **Staged incidents** are pretexts: they move beliefs and set the ``pretext`` feature; they
  fire no shot at the target, but the target's forces facing the stager may answer the staged
  shots (``staging_exchange``): a real exchange of fire, as an accident is.
- **Attribution** follows the first incident only: beliefs are log-odds moved by narrative
  (weighted by evidence quality q) and disclosure (weighted by 1 - q).
- **Deaths**: each day of a use of force kills someone with the move's ``fatality``; an
  accident with ``incidents.accident_fatality``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kernels
from sim.model.state import NONE, derived, pair_array
from sim.model.tables import Tables

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

EVENT_ACTOR = 253  # the actor coordinate reserved for accident and fatality draws


def accidents(m: EscalationModel, day: int, choice: np.ndarray) -> np.ndarray:
    """(R, N, N) symmetric: an accidental exchange of fire on the border of a and b today.

    Every border's chance in one pass (:func:`sim.kernels.accident_chances`); a border draws
    its uniform numbers only where some world has a chance, as :func:`numpy_accidents` does.
    """
    t = m.tables
    st = m.state
    n, na = m.n, t.n_actors
    out = pair_array(n, na, bool, False)
    if not t.borders:
        return out
    rate = m.params["incidents.accident_rate"]
    if not np.any(rate > 0):
        return out
    lk = derived(t, _Borders)
    chances = kernels.accident_chances(
        m.forces_today,
        t.per_entry(t.hybrid, choice) > 0,  # (R, N) a runs hybrid operations today
        t.entry_target[choice],
        rate,
        m.params["incidents.hybrid_presence"],
        lk.a,
        lk.b,
    )
    for i, (a, b) in enumerate(t.borders):
        chance = chances[i]
        if not chance.any():
            continue
        u = m.streams.uniform(day, EVENT_ACTOR, f"accident:{i}")
        hit = st.alive & (u < chance)
        out[:, a, b] |= hit
        out[:, b, a] |= hit
    return out


def staging_exchanges(m: EscalationModel, day: int, choice: np.ndarray) -> np.ndarray:
    """(R, N, N) symmetric: a staging today that the target's forces answered with fire.

    A staged 'armed provocation' stages shots on one's own side of the border; where the
    target's forces stand facing the stager, they may answer them (``staging_exchange``), and
    the staging becomes a real exchange of fire - the way a pretext leads to fire without
    anyone having chosen to fire.
    """
    t = m.tables
    st = m.state
    out = pair_array(m.n, t.n_actors, bool, False)
    chance = m.params["incidents.staging_exchange"]
    if not np.any(chance > 0):
        return out
    for a in derived(t, _Stagers).stagers:
        staging = t.stage[choice[:, a]] & st.alive
        if not staging.any():
            continue
        u = m.streams.uniform(day, a, "staging-exchange")
        target = t.entry_target[choice[:, a]]
        for b in np.unique(target[staging]):
            hit = staging & (target == b) & (u < chance) & m.forces_today[:, b, a]
            out[:, a, b] |= hit
            out[:, b, a] |= hit
    return out


def apply(
    m: EscalationModel,
    day: int,
    choice: np.ndarray,
    accident: np.ndarray,
    answered: np.ndarray | None = None,
) -> None:
    """Record today's uses of force and incidents (:func:`sim.kernels.force_events`, then
    deaths, the first armed incident and staged incidents as in :func:`numpy_apply`)."""
    t = m.tables
    st = m.state
    chosen_force, chosen_any, acc_any = kernels.force_events(
        choice,
        t.force,
        t.entry_target,
        t.entry_rung,
        st.alive,
        accident,
        day,
        t.armed_rung,
        st.force,
        st.attacked_rung,
    )
    _deaths_and_incidents(m, day, choice, chosen_force, chosen_any, acc_any, answered=answered)


def _deaths_and_incidents(
    m: EscalationModel,
    day: int,
    choice: np.ndarray,
    chosen_force: np.ndarray,
    chosen_any: np.ndarray,
    acc_any: np.ndarray,
    numpy: bool = False,
    answered: np.ndarray | None = None,
) -> None:
    """Deaths, the first armed incident and staged incidents, after today's force events.

    ``numpy``: shift beliefs by the numpy rule (for :func:`numpy_apply`) instead of a kernel.
    """
    t = m.tables
    st = m.state
    p = m.params
    n, na = m.n, t.n_actors
    alive = st.alive
    # Deaths: one draw per actor using force, one per accident border.
    if chosen_any.any():
        fat = t.per_entry(t.fatality, choice)
        for a in range(na):
            if chosen_force[:, a].any():
                u = m.streams.uniform(day, a, "fatality")
                st.fatal |= chosen_force[:, a] & (u < fat[:, a])
    if acc_any.any():
        u = m.streams.uniform(day, EVENT_ACTOR, "accident-fatality")
        st.fatal |= acc_any & (u < p["incidents.accident_fatality"])

    armed_now = (chosen_any | acc_any) & alive & ~st.armed
    unchosen = 2 if answered is None else np.where(answered, 3, 2)
    st.first_armed_cause = np.where(
        armed_now, np.where(chosen_any, 1, unchosen), st.first_armed_cause
    )
    st.first_armed_day = np.where(armed_now, day, st.first_armed_day)
    st.armed |= armed_now

    lk = derived(t, _Stagers)
    staged_now = np.zeros(n, dtype=bool)
    for a in lk.stagers:
        staged_now |= t.stage[choice[:, a]]
    staged_now &= alive
    # A staging is recorded whenever it is made (a pretext even after an earlier incident);
    # only the first incident of a world opens the attribution question.
    staged_first = staged_now & ~st.staged
    st.staged |= staged_now
    st.staged_day = np.where(staged_first, day, st.staged_day)
    staged_now &= ~st.incident
    real_now = armed_now & ~st.incident & ~staged_now
    new = staged_now | real_now
    if new.any():
        west_fired = _any_column(chosen_force, lk.west)
        east_fired = _any_column(chosen_force, lk.east)
        # Who fired first in an accident (or when both chose to fire) is unknowable: a coin.
        coin = m.streams.uniform(day, EVENT_ACTOR, "first-shot") < 0.5
        by_west = np.where(west_fired != east_fired, west_fired, coin)
        q = np.where(
            staged_now,
            p["incidents.staged_evidence_quality"],
            p["incidents.real_incident_ambiguity"],
        )
        q = np.clip(q, 1e-6, 1 - 1e-6)
        prior = np.log(q / (1 - q))
        if numpy:
            for at in t.actors:
                st.lean[:, at.index] = np.where(
                    new, prior + at.bias + st.lean[:, at.index], st.lean[:, at.index]
                )
        else:
            kernels.open_incident(st.lean, new, prior, derived(t, _Biases).bias)
        st.evidence = np.where(new, q, st.evidence)
        st.truth_west = np.where(real_now, by_west, st.truth_west)
        st.incident |= new


class _Stagers:
    """Which actors can stage an incident, and which are on each side (from the layout)."""

    def __init__(self, t: Tables):
        self.stagers = [at.index for at in t.actors if t.stage[at.menu.ids].any()]
        self.west = [at.index for at in t.actors if at.side == 1]
        self.east = [at.index for at in t.actors if at.side == -1]


class _Biases:
    """(N, R) every actor's attribution bias, one row per actor (for the kernels)."""

    def __init__(self, t: Tables):
        self.bias = np.stack([at.bias for at in t.actors]).astype(np.float64)


def _any_column(x: np.ndarray, cols: list[int]) -> np.ndarray:
    """(R,) whether any of the given columns of an (R, N) bool array is set."""
    out = np.zeros(len(x), dtype=bool)
    for c in cols:
        out |= x[:, c]
    return out


def _pushes(
    m: EscalationModel, narrative: np.ndarray, disclosure: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's narrative and disclosure, primed before an incident, and the belief noise sd."""
    weight = np.where(m.state.incident, 1.0, m.params["incidents.priming_weight"])
    return narrative * weight, disclosure * weight, m.params["fog.belief_noise"]


def attribution(
    m: EscalationModel, day: int, narrative: np.ndarray, disclosure: np.ndarray
) -> None:
    """Narrative pushes beliefs toward 'the West did it', disclosure toward the truth."""
    t = m.tables
    st = m.state
    q = st.evidence
    nw, dw, noise_sd = _pushes(m, narrative, disclosure)
    noisy = bool(np.any(noise_sd > 0))
    none = np.zeros(0)
    for at in t.actors:
        if at.knows_truth:
            continue
        # The normal numbers stay numpy's (scipy's ndtri); the arithmetic is one kernel pass.
        noise = noise_sd * m.streams.normal(day, at.index, "belief") if noisy else none
        kernels.attribute(
            st.lean,
            at.index,
            at.receptiveness_east,
            at.receptiveness_west,
            nw,
            dw,
            q,
            noise,
            st.incident,
            st.alive,
        )


def numpy_attribution(
    m: EscalationModel, day: int, narrative: np.ndarray, disclosure: np.ndarray
) -> None:
    """:func:`attribution` by numpy (the reference its kernel is tested against)."""
    t = m.tables
    st = m.state
    q = st.evidence
    nw, dw, noise_sd = _pushes(m, narrative, disclosure)
    for at in t.actors:
        if at.knows_truth:
            continue
        d = at.receptiveness_east * nw * 2 * q - at.receptiveness_west * dw * 2 * (1 - q)
        if np.any(noise_sd > 0):
            d = d + np.where(st.incident, noise_sd * m.streams.normal(day, at.index, "belief"), 0.0)
        st.lean[:, at.index] += d * st.alive


class _Borders:
    """The borders as two index arrays (for :func:`sim.kernels.accident_chances`)."""

    def __init__(self, t: Tables):
        self.a = np.array([a for a, _ in t.borders], dtype=np.int64)
        self.b = np.array([b for _, b in t.borders], dtype=np.int64)


def numpy_accidents(m: EscalationModel, day: int, choice: np.ndarray) -> np.ndarray:
    """:func:`accidents` by numpy (the reference its kernel is tested against)."""
    t = m.tables
    st = m.state
    n, na = m.n, t.n_actors
    out = pair_array(n, na, bool, False)
    if not t.borders:
        return out
    rate = m.params["incidents.accident_rate"]
    if not np.any(rate > 0):
        return out
    forces = m.forces_today
    hyb = t.per_entry(t.hybrid, choice) > 0  # (R, N) a runs hybrid operations today
    target = t.entry_target[choice]
    hybrid_presence = m.params["incidents.hybrid_presence"]

    def presence(a: int, b: int) -> np.ndarray:
        """(R,) a's presence on its border with b: 1 with forces facing b, else at least
        ``hybrid_presence`` while a runs hybrid operations aimed at b."""
        out = forces[:, a, b].astype(np.float64)
        there = hyb[:, a] & (target[:, a] == b)
        np.maximum(out, hybrid_presence, out=out, where=there)
        return out

    for i, (a, b) in enumerate(t.borders):
        chance = rate * presence(a, b) * presence(b, a)
        if not chance.any():
            continue
        u = m.streams.uniform(day, EVENT_ACTOR, f"accident:{i}")
        hit = st.alive & (u < chance)
        out[:, a, b] |= hit
        out[:, b, a] |= hit
    return out


def numpy_apply(
    m: EscalationModel,
    day: int,
    choice: np.ndarray,
    accident: np.ndarray,
    answered: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`apply` by numpy (the reference its kernel is tested against)."""
    t = m.tables
    st = m.state
    n, na = m.n, t.n_actors
    alive = st.alive
    rows = np.arange(n)[:, None]
    chosen_force = t.force[choice] & alive[:, None]  # (R, N)
    target = t.entry_target[choice]
    events = pair_array(n, na, bool, False)
    r, a = np.nonzero(chosen_force)
    events[r, a, target[r, a]] = True
    chosen_any = chosen_force.any(axis=1)
    acc_any = accident.any(axis=(1, 2))
    events |= accident
    np.copyto(st.force, day, where=events)  # in place: the state owns its arrays
    rung = np.where(chosen_force, t.entry_rung[choice], NONE)  # (R, N)
    hit_rung = np.full((n, na), NONE, dtype=np.int64)
    for a in range(na):
        b = target[:, a]
        ok = chosen_force[:, a]
        if ok.any():
            rr = np.flatnonzero(ok)
            hit_rung[rr, b[rr]] = np.maximum(hit_rung[rr, b[rr]], rung[rr, a])
    acc_victim = accident.any(axis=1)
    hit_rung = np.where(acc_victim, np.maximum(hit_rung, t.armed_rung), hit_rung)
    st.attacked_rung = np.maximum(st.attacked_rung, hit_rung)

    _deaths_and_incidents(
        m, day, choice, chosen_force, chosen_any, acc_any, numpy=True, answered=answered
    )
    del rows
    return events
