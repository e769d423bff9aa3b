"""Compiled kernels for the daily decision: utilities, the logit and its inverse CDF.

The step spends most of its time weighing menus and drawing from the logit. As numpy array
operations that is some twenty passes over every (choice, world) element a day, each one a
trip through memory and the interpreter. These kernels do the same arithmetic in a few fused
loops (numba, compiled once and cached on disk).

**Bit-for-bit the numpy rule.** Every element gets the same IEEE operations in the same order
as :func:`sim.model.agents.weigh` and the numpy logit give: products rounded before they are
added (numba compiles without fast-math, so no fused multiply-add), sums over choices taken
in menu order as numpy's reduction over the leading axis takes them, and ``exp`` left to
numpy (its SIMD ``exp`` need not round like the C library's, so the kernel stops before it and
resumes after it). ``tests/test_kernels.py`` checks the kernels against the numpy rule on
random menus, and the golden tables check the model as a whole.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_TILE = 1024  # worlds per tile: a tile of every row a kernel touches stays in the L1 cache


@njit(cache=True, nogil=True)
def utilities(
    s: np.ndarray,
    gidx: np.ndarray,
    gt: np.ndarray,
    s2: np.ndarray,
    aversion: np.ndarray,
    cost: np.ndarray,
    cost_fixed: np.ndarray,
    term_ptr: np.ndarray,
    term_x: np.ndarray,
    term_w: np.ndarray,
    var_ptr: np.ndarray,
    var_x: np.ndarray,
    var_w: np.ndarray,
    x: np.ndarray,
    wv: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Write the (K, R) utilities of K choices into ``out``.

    Choice j, world r: ``s[j] * gt[gidx[j], r] - s2[j] * aversion[r] - cost[j, r]``, then
    ``+ term_w[t] * x[term_x[t], r]`` for its fixed terms ``term_ptr[j]:term_ptr[j+1]`` in order,
    then ``+ wv[var_w[t], r] * x[var_x[t], r]`` for its varying terms likewise. The loops run
    over worlds innermost (contiguous, so they vectorise) within tiles of worlds. A choice
    whose cost is the same in every world (``cost_fixed[j]``) reads ``cost[j, 0]`` only: the
    (K, R) inputs are what makes the step wait on memory.
    """
    k_n, r_n = out.shape
    for r0 in range(0, r_n, _TILE):
        r1 = min(r0 + _TILE, r_n)
        av = aversion[r0:r1]
        for j in range(k_n):
            # Slices of the tile, indexed from 0: numba then vectorises the inner loops.
            o = out[j, r0:r1]
            sj = s[j]
            s2j = s2[j]
            g = gt[gidx[j], r0:r1]
            if cost_fixed[j]:
                cj = cost[j, 0]
                for i in range(o.shape[0]):
                    o[i] = (sj * g[i] - s2j * av[i]) - cj
            else:
                c = cost[j, r0:r1]
                for i in range(o.shape[0]):
                    o[i] = (sj * g[i] - s2j * av[i]) - c[i]
            for t in range(term_ptr[j], term_ptr[j + 1]):
                w = term_w[t]
                xr = x[term_x[t], r0:r1]
                for i in range(o.shape[0]):
                    o[i] = o[i] + w * xr[i]
            for t in range(var_ptr[j], var_ptr[j + 1]):
                wr = wv[var_w[t], r0:r1]
                xr = x[var_x[t], r0:r1]
                for i in range(o.shape[0]):
                    o[i] = o[i] + wr[i] * xr[i]


@njit(cache=True, nogil=True)
def add_inertia(u: np.ndarray, col: np.ndarray, inertia: np.ndarray) -> None:  # pragma: no cover
    """``u[col[r], r] += inertia[r]`` wherever ``col[r] >= 0`` (yesterday's entry)."""
    for r in range(u.shape[1]):
        c = col[r]
        if c >= 0:
            u[c, r] = u[c, r] + inertia[r]


@njit(cache=True, nogil=True)
def logit_exponents(
    u: np.ndarray, blocked: np.ndarray, inv_temp: np.ndarray, cap: float, fallback: int
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """The (K, R) exponents of the logit: ``clip(u, -cap, cap) / T`` less its maximum.

    Where everything is blocked in a world, entry ``fallback`` is unblocked (``blocked`` is
    written). Blocked entries get exponent 0 (numpy's ``exp`` of 0 is fast; the caller zeroes
    their probability afterwards).
    """
    k_n, r_n = u.shape
    z = np.empty((k_n, r_n))
    free = np.empty(_TILE, dtype=np.bool_)
    mx = np.empty(_TILE)
    for r0 in range(0, r_n, _TILE):
        r1 = min(r0 + _TILE, r_n)
        n = r1 - r0
        free[:n] = False
        for k in range(k_n):
            b = blocked[k, r0:r1]
            for i in range(n):
                free[i] |= not b[i]
        for i in range(n):
            if not free[i]:
                blocked[fallback, r0 + i] = False
        mx[:n] = -np.inf
        it = inv_temp[r0:r1]
        for k in range(k_n):
            b = blocked[k, r0:r1]
            uk = u[k, r0:r1]
            zk = z[k, r0:r1]
            for i in range(n):
                v = min(max(uk[i], -cap), cap) * it[i]
                zk[i] = v
                mx[i] = max(mx[i], -np.inf if b[i] else v)
        for k in range(k_n):
            b = blocked[k, r0:r1]
            zk = z[k, r0:r1]
            for i in range(n):
                zk[i] = 0.0 if b[i] else zk[i] - mx[i]
    return z


@njit(cache=True, nogil=True)
def logit_draw(
    p: np.ndarray, blocked: np.ndarray, draw: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """Normalise ``exp`` of the exponents in place and draw one column per world.

    ``p`` holds exp(z); blocked entries become 0 and each column is divided by its sum
    (taken in menu order). The draw is the inverse CDF: the number of leading entries whose
    cumulative probability is at most the world's uniform number.
    """
    k_n, r_n = p.shape
    col = np.zeros(r_n, dtype=np.int64)
    total = np.empty(_TILE)
    acc = np.empty(_TILE)
    for r0 in range(0, r_n, _TILE):
        r1 = min(r0 + _TILE, r_n)
        n = r1 - r0
        total[:n] = 0.0
        for k in range(k_n):
            b = blocked[k, r0:r1]
            pk = p[k, r0:r1]
            for i in range(n):
                q = 0.0 if b[i] else pk[i]
                pk[i] = q
                total[i] = total[i] + q
        acc[:n] = 0.0
        c = col[r0:r1]
        d = draw[r0:r1]
        for k in range(k_n):
            pk = p[k, r0:r1]
            if k < k_n - 1:
                for i in range(n):
                    q = pk[i] / total[i]
                    pk[i] = q
                    acc[i] = acc[i] + q
                    c[i] += acc[i] <= d[i]
            else:
                for i in range(n):
                    pk[i] = pk[i] / total[i]
    return col


# SplitMix64's constants as uint64: numba, like numpy, would turn uint64 op int64 into float64.
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / (1 << 53)


@njit(cache=True, nogil=True)
def uniform(rep: np.ndarray, key: np.uint64, offset: float) -> np.ndarray:  # pragma: no cover
    """``(mix(rep ^ key) >> 11 + offset) * 2**-53`` per replicate (see :mod:`sim.rng`).

    One pass instead of numpy's nine; integer arithmetic wraps as numpy's does, and the
    top 53 bits convert to float64 exactly, so the numbers are :mod:`sim.rng`'s bit for bit.
    """
    out = np.empty(rep.shape[0])
    for i in range(rep.shape[0]):
        x = rep[i] ^ key
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
        x = x ^ (x >> _S31)
        out[i] = (np.float64(x >> _S11) + offset) * _TO_UNIT
    return out


@njit(cache=True, nogil=True)
def measure_exponents(
    u: np.ndarray,
    on: np.ndarray,
    start_cost: np.ndarray,
    end_cost: np.ndarray,
    temp: np.ndarray,
    cap: float,
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """Clip ``u`` to +-cap in place; return the exponents of the measures' switch rule.

    ``-(-u - end_cost) / T`` where the slot is on, ``-(u - start_cost) / T`` where it is off,
    at most 700 (exp overflows beyond 709).
    """
    k_n, r_n = u.shape
    x = np.empty((k_n, r_n))
    for k in range(k_n):
        uk = u[k]
        ok = on[k]
        sc = start_cost[k]
        ec = end_cost[k]
        xk = x[k]
        for r in range(r_n):
            v = min(max(uk[r], -cap), cap)
            uk[r] = v
            e = -(-v - ec[r]) / temp[r] if ok[r] else -(v - sc[r]) / temp[r]
            xk[r] = min(e, 700.0)
    return x


@njit(cache=True, nogil=True)
def measure_probabilities(
    e: np.ndarray, on: np.ndarray, endable: np.ndarray, can_start: np.ndarray, review: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """``review / (1 + e)`` (e = exp of the exponents), 0 where the slot cannot switch.

    ``endable`` is (K,): whether each slot may be ended once in force.
    """
    k_n, r_n = e.shape
    p = np.empty((k_n, r_n))
    for k in range(k_n):
        ek = e[k]
        ok = on[k]
        cs = can_start[k]
        end_ok = endable[k]
        pk = p[k]
        for r in range(r_n):
            if (ok[r] and not end_ok) or not (ok[r] or cs[r]):
                pk[r] = 0.0
            else:
                pk[r] = review[r] / (1.0 + ek[r])
    return p


# --------------------------------------------------------------------------- the day's effects
# The effects of a day are mostly integer and boolean bookkeeping over (R, N) and (R, N, N)
# arrays: which pair fired at which, who stands at which rung. As numpy that is dozens of small
# passes (and allocations) a day; each kernel below does one mechanism's share in one or two.
# Pair arrays are pair-major (Fortran, see sim.model.state), so loops over worlds run
# innermost where a kernel walks them pair by pair. A target of -1 (NO_TARGET) used as an
# index wraps to the last actor, as numpy's indexing does; the callers keep that behaviour.

_NONE = -1  # sim.model.state.NONE (not imported: sim.model imports this module)


@njit(cache=True, nogil=True)
def postures(
    last: np.ndarray,
    entry_rung: np.ndarray,
    aim: np.ndarray,
    aims: np.ndarray,
    slot_rung: np.ndarray,
    actor_slot: np.ndarray,
    actor_of: np.ndarray,
    pair_slot: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    on: np.ndarray,
    rung: np.ndarray,
    aimed: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Write each actor's posture ``rung`` (R, N) and ``aimed`` (R, N, N) rungs.

    ``rung[r, a]`` is the rung of a's entry ``last[r, a]`` and ``aimed[r, a, b]`` is
    ``aim[a, b, last[r, a]]`` (0 for the pairs no entry aims at, ``aims[a, b]`` False); then
    each slot in force raises its holder's posture (``actor_slot[i]`` held by ``actor_of[i]``)
    and the aimed rung of each of its pairs (``pair_slot[i]`` toward ``(pair_a[i],
    pair_b[i])``) to the slot's rung.
    """
    n, na = last.shape
    ns = on.shape[1]
    held = np.zeros(ns, dtype=np.bool_)  # most slots are in force in no world
    for r in range(n):
        for k in range(ns):
            held[k] |= on[r, k]
    on_k = np.empty((ns, n), dtype=np.bool_)  # each held slot's worlds, contiguous
    for r in range(n):
        for k in range(ns):
            on_k[k, r] = on[r, k]
    col = np.empty(n, dtype=np.int64)  # a's entries, contiguous
    for a in range(na):
        for r in range(n):
            col[r] = last[r, a]
        ra = rung[:, a]
        for r in range(n):
            ra[r] = entry_rung[col[r]]
        for b in range(na):
            o = aimed[:, a, b]
            if aims[a, b]:
                row = aim[a, b]
                for r in range(n):
                    o[r] = row[col[r]]
            else:
                o[:] = 0
    for i in range(actor_slot.shape[0]):
        k = actor_slot[i]
        if held[k]:
            o = rung[:, actor_of[i]]
            ok = on_k[k]
            v = slot_rung[k]
            for r in range(n):
                o[r] = v if ok[r] and o[r] < v else o[r]
    for i in range(pair_slot.shape[0]):
        k = pair_slot[i]
        if held[k]:
            o = aimed[:, pair_a[i], pair_b[i]]
            ok = on_k[k]
            v = slot_rung[k]
            for r in range(n):
                o[r] = v if ok[r] and o[r] < v else o[r]


@njit(cache=True, nogil=True)
def force_events(
    choice: np.ndarray,
    is_force: np.ndarray,
    entry_target: np.ndarray,
    entry_rung: np.ndarray,
    alive: np.ndarray,
    accident: np.ndarray,
    day: int,
    armed_rung: int,
    force: np.ndarray,
    attacked_rung: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled; numpy twin
    """Record today's uses of force and accidents in ``force`` and ``attacked_rung``.

    A live world's actor whose entry is a use of force fires at the entry's target; both
    sides of an accident fire at each other. ``force[r, a, b]`` becomes ``day`` where a fired
    at b; ``attacked_rung[r, b]`` rises to the highest rung of force used against b (an
    accident counts as the armed rung).

    Returns:
        ``chosen`` (R, N) bool: the actor chose to use force; ``chosen_any`` and ``acc_any``
        (R,) bool: some actor chose to, some accident happened.
    """
    n, na = choice.shape
    chosen = np.zeros((n, na), dtype=np.bool_)
    chosen_any = np.zeros(n, dtype=np.bool_)
    acc_any = np.zeros(n, dtype=np.bool_)
    hit = np.full((n, na), _NONE, dtype=np.int64)
    for r in range(n):
        if not alive[r]:
            continue
        for a in range(na):
            e = choice[r, a]
            if is_force[e]:
                chosen[r, a] = True
                chosen_any[r] = True
                b = entry_target[e]
                if b < 0:
                    b += na
                force[r, a, b] = day
                hit[r, b] = max(hit[r, b], entry_rung[e])
    for a in range(na):
        for b in range(na):
            for r in range(n):
                if accident[r, a, b]:
                    force[r, a, b] = day
                    acc_any[r] = True
                    hit[r, b] = max(hit[r, b], armed_rung)
    for r in range(n):
        for b in range(na):
            attacked_rung[r, b] = max(attacked_rung[r, b], hit[r, b])
    return chosen, chosen_any, acc_any


@njit(cache=True, nogil=True)
def accident_chances(
    forces: np.ndarray,
    hybrid_on: np.ndarray,
    target: np.ndarray,
    rate: np.ndarray,
    hybrid_presence: np.ndarray,
    border_a: np.ndarray,
    border_b: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """(B, R) each border's accident chance ``rate * presence(a, b) * presence(b, a)``.

    A side's presence is 1.0 with its forces facing the other (``forces[r, a, b]``), else 0.0,
    raised to ``hybrid_presence`` while it runs hybrid operations (``hybrid_on``) aimed at the
    other; the product is taken in that order, as numpy's.
    """
    nb = border_a.shape[0]
    n = rate.shape[0]
    out = np.empty((nb, n))
    for i in range(nb):
        a = border_a[i]
        b = border_b[i]
        o = out[i]
        for r in range(n):
            pa = 1.0 if forces[r, a, b] else 0.0
            if hybrid_on[r, a] and target[r, a] == b:
                pa = max(pa, hybrid_presence[r])
            pb = 1.0 if forces[r, b, a] else 0.0
            if hybrid_on[r, b] and target[r, b] == a:
                pb = max(pb, hybrid_presence[r])
            o[r] = rate[r] * pa * pb
    return out


@njit(cache=True, nogil=True)
def add_hybrid(
    hybrid: np.ndarray,
    decay: np.ndarray,
    pressure: np.ndarray,
    target: np.ndarray,
    alive: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Fade ``hybrid`` (R, N, N) by ``decay`` (R,), then add today's pressure, capped at 1.

    In live worlds, actor a's ``pressure[r, a] > 0`` lands on its target ``target[r, a]``:
    ``min(hybrid * decay + pressure, 1.0)``, each product rounded before the sum.
    """
    n, na, _ = hybrid.shape
    for b in range(na):
        for a in range(na):
            for r in range(n):
                hybrid[r, a, b] = hybrid[r, a, b] * decay[r]
    for r in range(n):
        if not alive[r]:
            continue
        for a in range(na):
            x = pressure[r, a]
            if x > 0:
                b = target[r, a]
                if b < 0:
                    b += na
                hybrid[r, a, b] = min(hybrid[r, a, b] + x, 1.0)


@njit(cache=True, nogil=True)
def dispute_day(
    choice: np.ndarray,
    entry_target: np.ndarray,
    entry_level: np.ndarray,
    alive: np.ndarray,
    accident: np.ndarray,
    started: np.ndarray,
    start_slot: np.ndarray,
    start_a: np.ndarray,
    start_b: np.ndarray,
    start_level: np.ndarray,
    day: int,
    onset: np.ndarray,
    initiator: np.ndarray,
    target: np.ndarray,
    last_act: np.ndarray,
    hostility: np.ndarray,
    reciprocated: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Add one day's militarized acts to each world's dispute record (in place).

    Per world, the (N, N) hostility levels of today's acts: a live actor's aimed entry at
    level >= 2 (``entry_level``), a militarized slot started today (``started[r,
    start_slot[i]]``, at ``start_level[i]`` from ``start_a[i]`` toward ``start_b[i]``) and
    an accident (level 4). A world with an act of level >= 2 and no dispute yet opens one,
    its initiator and target being the first pair in row-major order at the day's top level;
    a going dispute is reciprocated by an act of the target against the initiator.
    """
    n, na = choice.shape
    # Accidents are rare: find their worlds in one pass (pair-major, contiguous) so that the
    # loop over worlds reads a world's (N, N) accident cells only where there is one.
    has_accident = np.zeros(n, dtype=np.bool_)
    for a in range(na):
        for b in range(na):
            for r in range(n):
                has_accident[r] |= accident[r, a, b]
    h = np.zeros(na * na, dtype=np.int64)  # one world's acts, row-major; zero between worlds
    touched = np.empty(na + start_slot.shape[0] + na * na, dtype=np.int64)
    for r in range(n):
        m = 0  # cells of h set in this world
        if alive[r]:
            for a in range(na):
                e = choice[r, a]
                b = entry_target[e]
                level = entry_level[e]
                if b >= 0 and level >= 2:
                    h[a * na + b] = level
                    touched[m] = a * na + b
                    m += 1
        for i in range(start_slot.shape[0]):
            if started[r, start_slot[i]]:
                c = start_a[i] * na + start_b[i]
                h[c] = max(h[c], start_level[i])
                touched[m] = c
                m += 1
        if has_accident[r]:
            for a in range(na):
                for b in range(na):
                    if accident[r, a, b]:
                        c = a * na + b
                        h[c] = max(h[c], 4)
                        touched[m] = c
                        m += 1
        # Every cell set holds a level >= 2; the top level's first cell in row-major order
        # is numpy's argmax of the world's (N, N) acts.
        top = 0
        first = 0
        for i in range(m):
            c = touched[i]
            if h[c] > top or (h[c] == top and c < first):
                top = h[c]
                first = c
        if top >= 2:
            if onset[r] == _NONE:
                onset[r] = day
                initiator[r] = first // na
                target[r] = first % na
            if h[target[r] * na + initiator[r]] >= 2:
                reciprocated[r] = True
            last_act[r] = day
            hostility[r] = max(hostility[r], top)
        for i in range(m):
            h[touched[i]] = 0


@njit(cache=True, nogil=True)
def close_day(
    alive: np.ndarray,
    rung: np.ndarray,
    aimed: np.ndarray,
    on: np.ndarray,
    day: int,
    max_rung: np.ndarray,
    actor_max: np.ndarray,
    pair_max: np.ndarray,
    ever_on: np.ndarray,
    days: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """The day's running records, in place: highest rungs, slots ever on, days simulated.

    A world that has ended counts its rungs as 0; ``ever_on`` takes every world's slots in
    force, as the numpy rule did.
    """
    n, na = rung.shape
    for r in range(n):
        if alive[r]:
            top = rung[r, 0]
            for a in range(na):
                top = max(top, rung[r, a])
                actor_max[r, a] = max(actor_max[r, a], rung[r, a])
            max_rung[r] = max(max_rung[r], top)
            days[r] = day
        else:
            for a in range(na):
                actor_max[r, a] = max(actor_max[r, a], 0)
            max_rung[r] = max(max_rung[r], 0)
        for k in range(on.shape[1]):
            ever_on[r, k] = ever_on[r, k] or on[r, k]
    for b in range(na):
        for a in range(na):
            for r in range(n):
                if alive[r]:
                    pair_max[r, a, b] = max(pair_max[r, a, b], aimed[r, a, b])


_FOG_BITS = np.uint64(0xFFFF)


@njit(cache=True, nogil=True)
def fog_severity(
    bits: np.ndarray,
    shift: np.uint64,
    misread: np.ndarray,
    aimed: np.ndarray,
    top: int,
    severity: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; tested through its numpy twin
    """(R,) the severity of an aimed rung as perceived through fog.

    ``v`` is the 16-bit field of ``bits`` at ``shift`` over 65536; the rung seen is one up
    when ``v > 1 - misread / 2``, one down when ``v < misread / 2``, clipped to 0..top.
    """
    n = bits.shape[0]
    out = np.empty(n)
    for r in range(n):
        v = np.float64((bits[r] >> shift) & _FOG_BITS) / 65536.0
        half = misread[r] / 2
        s = aimed[r] + (1 if v > 1.0 - half else 0) - (1 if v < half else 0)
        out[r] = severity[min(max(s, 0), top)]
    return out


@njit(cache=True, nogil=True)
def recent(last: np.ndarray, day: int, memory: int) -> np.ndarray:  # pragma: no cover
    """(R,) bool: ``last`` is a day (not -1) within ``memory`` days before ``day``."""
    n = last.shape[0]
    out = np.empty(n, dtype=np.bool_)
    for r in range(n):
        out[r] = last[r] != _NONE and day - last[r] < memory
    return out


@njit(cache=True, nogil=True)
def open_incident(
    lean: np.ndarray, new: np.ndarray, prior: np.ndarray, bias: np.ndarray
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Where an incident opens (``new``), every actor's lean becomes ``prior + bias + lean``.

    ``lean`` is (R, N), ``prior`` (R,) and ``bias`` (N, R): each actor's own bias, added
    after the prior, as numpy's left-to-right sum.
    """
    n, na = lean.shape
    for r in range(n):
        if new[r]:
            for a in range(na):
                lean[r, a] = prior[r] + bias[a, r] + lean[r, a]


@njit(cache=True, nogil=True)
def attribute(
    lean: np.ndarray,
    a: int,
    east: np.ndarray,
    west: np.ndarray,
    nw: np.ndarray,
    dw: np.ndarray,
    q: np.ndarray,
    noise: np.ndarray,
    incident: np.ndarray,
    alive: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through its numpy twin
    """Move actor a's lean (column ``a`` of ``lean``) by one day's narrative and disclosure.

    ``d = east * nw * 2 * q - west * dw * 2 * (1 - q)``, plus ``noise`` where an incident
    has happened (``noise`` is empty without belief noise), then ``lean += d * alive``: the
    numpy rule's operations, in its order.
    """
    noisy = noise.shape[0] > 0
    for r in range(lean.shape[0]):
        d = east[r] * nw[r] * 2.0 * q[r] - west[r] * dw[r] * 2.0 * (1.0 - q[r])
        if noisy:
            d = d + (noise[r] if incident[r] else 0.0)
        lean[r, a] = lean[r, a] + d * (1.0 if alive[r] else 0.0)


@njit(cache=True, nogil=True)
def count_rungs(rung: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - numpy twin
    """``out[a, k]`` = the number of worlds where actor a stands at rung k (``rung`` (R, N))."""
    out[:, :] = 0
    for r in range(rung.shape[0]):
        for a in range(rung.shape[1]):
            k = rung[r, a]
            if k < 0 or k >= out.shape[1]:  # compiled code does not check its indices
                raise ValueError("rung out of range")
            out[a, k] += 1
