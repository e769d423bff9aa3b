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
