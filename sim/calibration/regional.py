"""The region's own record as evidence: the MID posterior updated by the regional episodes.

The MID fit (:func:`sim.calibration.fit.calibrate`) learns the shared dynamics from disputes
that happened somewhere between 1816 and 1991. The region has its own record: the episodes of
``scenarios/history/`` (:data:`sim.model.history.EPISODES`), in none of which state forces
exchanged fire. Each candidate row of the MID posterior is run through every episode
(``per_draw`` worlds with that row's dynamics, the rest of each world drawn as the episode's
scenario declares); the share of worlds consistent with the record estimates the likelihood
of what happened given the row, raised to the episode's repeats. The installed posterior is
the candidates resampled by the product of their likelihoods over the episodes (importance
weighting of the MID posterior; docs/MODEL.md, "The region's record").

The accident rate is not carried over from the MID posterior: it is redrawn for every
candidate from its prior (:data:`LOCAL`). Restraint being a cost, the rival dyad can only
reach the 41% of USSR-NATO disputes with fire through accidents, and its posterior puts the
rate where 1,000 days of forces facing each other on the Belarus-Ukraine border end in fire
almost surely (measured: every episode of 2022-24 had probability 0.000 under every row).
An accident rate is a property of the pair - how its forces meet, at sea and in the air for
the superpowers, across a fortified land border here - so the region's pairs take theirs from
the region's record. A choice made after seeing that check (docs/MODEL.md, section 15).

Leave-one-episode-out: each episode's probability is also computed with the weights of the
other episodes only - the figure that says how well the update predicts an episode it did
not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.abc import Prior
from sim.model import run_replicates
from sim.model.history import EPISODES, Episode
from sim.rng import Streams
from sim.scenario.loader import load_scenario

LOCAL = ("incidents.accident_rate",)
"""Parameters whose candidate values come from their prior, not the MID posterior."""

PER_DRAW = 24
"""Worlds per candidate row and episode: the likelihood's sampling error is about
sqrt(p(1-p)/24) <= 0.1 per row, averaged out over the rows that share the weight."""


@dataclass
class RegionalUpdate:
    """The episodes' likelihood of each candidate row, and what the update gives."""

    likelihood: np.ndarray  # (D, E) P(what happened in episode e | row d), repeats applied
    weights: np.ndarray  # (D,) normalised product over the episodes
    table: pd.DataFrame  # per episode: MID-only, updated (in sample) and leave-one-out
    effective_draws: float  # 1 / sum(w^2): how many candidates the update leaves


def likelihoods(
    draws: np.ndarray,
    paths: Sequence[str],
    scenarios: Path,
    seed: int,
    per_draw: int = PER_DRAW,
    episodes: Sequence[Episode] = EPISODES,
    log: Callable[[str], None] | None = None,
) -> np.ndarray:
    """(D, E) the probability each candidate row gives to what happened in each episode.

    Args:
        draws: (D, P) candidate rows of the fitted parameters.
        paths: The parameter path of each column of ``draws``.
        scenarios: The scenarios folder holding ``history/``.
        seed: Seed of every episode run (worlds differ between rows by their replicate ids).
        per_draw: Worlds per row and episode.
        episodes: The episodes.
        log: Called with a line of progress text.
    """
    d = len(draws)
    ids = np.arange(d * per_draw)
    row = ids // per_draw
    given = {p: draws[row, j] for j, p in enumerate(paths)}
    out = np.empty((d, len(episodes)))
    for e, ep in enumerate(episodes):
        s = load_scenario(scenarios / ep.scenario)
        outcomes = run_replicates(s, seed, ids, parameters=given).outcomes
        ok = ep.check(outcomes).astype(np.float64)
        share = np.bincount(row, weights=ok, minlength=d) / per_draw
        out[:, e] = share**ep.repeats
        if log is not None:
            log(f"episode {ep.name}: mean probability of the record {out[:, e].mean():.3f}")
    return out


def update(likelihood: np.ndarray, episodes: Sequence[Episode] = EPISODES) -> RegionalUpdate:
    """Weights from every episode and the leave-one-episode-out predictions."""
    total = np.prod(likelihood, axis=1)
    if not total.sum() > 0:
        raise ValueError("no candidate row is consistent with every regional episode")
    w = total / total.sum()
    rows = []
    for e, ep in enumerate(episodes):
        others = np.prod(np.delete(likelihood, e, axis=1), axis=1)
        loo = float(others @ likelihood[:, e] / others.sum()) if others.sum() > 0 else np.nan
        rows.append(
            {
                "episode": ep.name,
                "mid_only": float(likelihood[:, e].mean()),
                "updated": float(w @ likelihood[:, e]),
                "leave_one_out": loo,
            }
        )
    table = pd.DataFrame(rows)
    joint = {
        "episode": "joint",
        "mid_only": float(total.mean()),
        "updated": float(w @ total),
        "leave_one_out": float(np.prod(table["leave_one_out"])),
    }
    table = pd.concat([table, pd.DataFrame([joint])], ignore_index=True)
    return RegionalUpdate(likelihood, w, table, float(1.0 / np.sum(w**2)))


def localise(
    candidates: np.ndarray, priors: Sequence[Prior], seed: int, local: Sequence[str] = LOCAL
) -> np.ndarray:
    """The candidates with each :data:`LOCAL` parameter redrawn from its prior."""
    out = candidates.copy()
    streams = Streams(seed, np.arange(len(candidates)))
    for j, p in enumerate(priors):
        if p.path in local:
            u = streams.uniform(0, 0, "regional:" + p.path)
            lo, hi = p.inner(np.array([p.low, p.high]))
            out[:, j] = p.outer(lo + u * (hi - lo))
    return out


def resample(draws: np.ndarray, weights: np.ndarray, n: int, seed: int) -> np.ndarray:
    """(n, P) rows drawn by weight (systematic resampling on a seeded stream)."""
    start = float(Streams(seed, np.array([0])).uniform(0, 0, "regional:resample")[0])
    cum = np.cumsum(weights)
    cum[-1] = 1.0
    picks = np.searchsorted(cum, (start + np.arange(n)) / n, side="right")
    return draws[np.minimum(picks, len(draws) - 1)]
