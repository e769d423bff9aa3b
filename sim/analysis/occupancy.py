"""Ladder occupancy: how many replicates stood on each rung on each day.

The model does not keep every trajectory; it counts, per day and actor, the replicates on each
rung (``occupancy[day, actor, rung]``). Those counts are the exact distribution of an actor's
rung on a day across replicates, so quantiles (fan charts) and shares (heatmaps) computed from
them are exact, not estimates from a subsample of trajectories.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def occupancy_shares(counts: np.ndarray) -> np.ndarray:
    """Share of replicates on each rung: counts divided by their total over the last axis.

    Args:
        counts: non-negative counts with rungs (or levels) on the last axis, e.g.
            ``(days, actors, rungs)`` or ``(days, rungs)``.

    Returns:
        Float array of the same shape; rows summing to 0 give NaN shares.
    """
    arr = np.asarray(counts)
    if np.any(arr < 0):
        raise ValueError("occupancy counts must be non-negative")
    total = arr.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, arr / np.where(total > 0, total, 1), np.nan)


def rung_quantile(counts: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile rung of each count vector: the lowest rung with cumulative share >= q.

    This is the inverse of the empirical distribution function (Hyndman & Fan 1996, "Sample
    quantiles in statistical packages", definition 1), which always lands on a rung, as a
    ladder position must. The comparison is done in integers (``cum * den >= num * total`` with
    ``q = num / den``), so a share of exactly q is never lost to rounding.

    Args:
        counts: non-negative integer counts with rungs on the last axis.
        q: quantile in [0, 1]; written as a decimal (0.05, 0.25, 0.5) it is used exactly.

    Returns:
        Integer array of rung indices with the last axis removed; -1 where a count vector
        is all zero (no replicate to take a quantile of).
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    arr = np.asarray(counts)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError("rung_quantile needs integer counts")
    if np.any(arr < 0):
        raise ValueError("occupancy counts must be non-negative")
    frac = Fraction(str(q)).limit_denominator(1_000_000)
    cum = np.cumsum(arr.astype(np.int64), axis=-1)
    total = cum[..., -1:]
    reached = cum * frac.denominator >= frac.numerator * total
    if frac.numerator == 0:
        # q = 0: the lowest occupied rung, not rung 0 when rung 0 is empty.
        reached = cum > 0
    index = np.argmax(reached, axis=-1)
    return np.where(total[..., 0] > 0, index, -1)
