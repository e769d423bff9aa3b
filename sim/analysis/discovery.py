"""Scenario discovery: which combinations of sampled parameters make an outcome likely.

The Patient Rule Induction Method (PRIM; Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", Statistics and Computing 9:123-143), as scenario discovery uses it
(Bryant & Lempert 2010; Kwakkel's EMA Workbench): start with a box holding every world; at each
step peel off the ``alpha`` share of the box's worlds at the low or high end of one parameter,
choosing the peel that leaves the highest share of worlds with the outcome (*density*); stop
when the box holds fewer than ``mass_min`` of all worlds. Each step is a candidate box with its
*coverage* (the share of all worlds with the outcome that lie inside) and density; the
trade-off between the two is the peeling trajectory. Pasting is not done.

A box is then chosen (the best coverage x density with at least ``min_coverage``);
restrictions that the data cannot tell from chance (quasi-p-value above 0.05) or that add less
than ``prune`` to its density are dropped, so the rule reads short, and the rule is said in
words. With ``boxes > 1`` the worlds inside a box are removed and the search repeats
(covering). Functions here take data (a parameter table and a 0/1 outcome), never a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError

DEFAULT_ALPHA = 0.05
DEFAULT_MASS_MIN = 0.05
DEFAULT_MIN_COVERAGE = 0.5
DEFAULT_PRUNE = 0.01


@dataclass(frozen=True)
class Box:
    """Lower and upper limits on each parameter, and how the box does.

    Attributes:
        lower: float64 (params,): inclusive lower limits.
        upper: float64 (params,): inclusive upper limits.
        coverage: Share of all worlds with the outcome that fall inside.
        density: Share of the worlds inside that have the outcome.
        mass: Share of all worlds inside.
        restricted: Indices of the parameters whose limits are tighter than the data's range.
    """

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    mass: float
    restricted: tuple[int, ...]


def _inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.all((x >= lower) & (x <= upper), axis=1)


def _measure(
    x: np.ndarray,
    y: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lo0: np.ndarray,
    hi0: np.ndarray,
    total_y: float,
) -> Box:
    m = _inside(x, lower, upper)
    n_in = int(m.sum())
    hits = float(y[m].sum())
    restricted = tuple(int(j) for j in np.flatnonzero((lower > lo0) | (upper < hi0)))
    return Box(
        lower.copy(),
        upper.copy(),
        hits / total_y if total_y else float("nan"),
        hits / n_in if n_in else float("nan"),
        n_in / len(y),
        restricted,
    )


def peel(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = DEFAULT_ALPHA,
    mass_min: float = DEFAULT_MASS_MIN,
) -> list[Box]:
    """PRIM's peeling trajectory, from the box of all worlds to the last box above ``mass_min``.

    Args:
        x: float64 (worlds, params): parameter values.
        y: 0/1 (worlds,): the outcome.
        alpha: Share of the box's worlds removed by one peel.
        mass_min: Stop before a box would hold fewer than this share of all worlds.

    Returns:
        The boxes in peeling order (the first is the whole data range).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    lo0, hi0 = x.min(axis=0), x.max(axis=0)
    lower, upper = lo0.copy(), hi0.copy()
    total_y = float(y.sum())
    boxes = [_measure(x, y, lower, upper, lo0, hi0, total_y)]
    inside = np.ones(n, dtype=bool)
    while True:
        xi, yi = x[inside], y[inside]
        best: tuple[float, int, int, float, np.ndarray] | None = None
        for j in range(d):
            col = xi[:, j]
            for side in (0, 1):
                if side == 0:
                    cut = float(np.quantile(col, alpha, method="higher"))
                    keep = col >= cut if cut > col.min() else col > cut
                else:
                    cut = float(np.quantile(col, 1 - alpha, method="lower"))
                    keep = col <= cut if cut < col.max() else col < cut
                kept = int(keep.sum())
                if kept == len(col) or kept < mass_min * n or kept == 0:
                    continue
                dens = float(yi[keep].mean())
                # Highest density left; ties go to the peel that removes fewer worlds.
                if best is None or (dens, kept) > (best[0], best[1]):
                    best = (dens, kept, j * 2 + side, cut, keep)
        if best is None:
            break
        _, _, code, _, keep = best
        j, side = divmod(code, 2)
        kept_vals = xi[keep, j]
        if side == 0:
            lower[j] = kept_vals.min()
        else:
            upper[j] = kept_vals.max()
        inside_idx = np.flatnonzero(inside)
        inside[inside_idx[~keep]] = False
        boxes.append(_measure(x, y, lower, upper, lo0, hi0, total_y))
    return boxes


def choose_box(boxes: Sequence[Box], min_coverage: float = DEFAULT_MIN_COVERAGE) -> int:
    """Index of the box with the best coverage x density among those keeping ``min_coverage``.

    Coverage times density is the share of all worlds with the outcome that the box holds,
    weighted by how pure it is (recall x precision); it picks the knee of the trade-off curve
    rather than the last, densest and smallest box, which peeling over-fits. Ties go to the
    larger coverage.
    """
    ok = [i for i, b in enumerate(boxes) if b.coverage >= min_coverage] or [0]
    return max(
        ok, key=lambda i: (round(boxes[i].coverage * boxes[i].density, 12), boxes[i].coverage)
    )


def quasi_p(x: np.ndarray, y: np.ndarray, box: Box, j: int) -> float:
    """How likely the box's density is by chance given the box without its limit on ``j``.

    The one-sided binomial tail of the box's hits among its worlds, at the density of the box
    relaxed on parameter ``j`` (the "quasi-p-value" of Bryant & Lempert 2010, as in the EMA
    Workbench). A large value means the restriction adds nothing the data can tell apart.
    """
    from scipy.stats import binom

    lo0, hi0 = x.min(axis=0), x.max(axis=0)
    lower, upper = box.lower.copy(), box.upper.copy()
    lower[j], upper[j] = lo0[j], hi0[j]
    m_in = _inside(x, box.lower, box.upper)
    m_relaxed = _inside(x, lower, upper)
    n_in = int(m_in.sum())
    hits = int(y[m_in].sum())
    p_relaxed = float(y[m_relaxed].mean())
    return float(binom.sf(hits - 1, n_in, p_relaxed))


def prune(
    x: np.ndarray,
    y: np.ndarray,
    box: Box,
    min_gain: float = DEFAULT_PRUNE,
    max_p: float = 0.05,
) -> Box:
    """Drop restrictions that add little: less than ``min_gain`` density, or p > ``max_p``.

    The restriction with the highest quasi-p-value (see :func:`quasi_p`) goes first, one at a
    time, until every remaining one is both significant and worth ``min_gain``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lo0, hi0 = x.min(axis=0), x.max(axis=0)
    total_y = float(y.sum())
    current = box
    while current.restricted:
        scored = []
        for j in current.restricted:
            lower, upper = current.lower.copy(), current.upper.copy()
            lower[j], upper[j] = lo0[j], hi0[j]
            relaxed = _measure(x, y, lower, upper, lo0, hi0, total_y)
            gain = current.density - relaxed.density
            scored.append((quasi_p(x, y, current, j), -gain, relaxed, gain))
        p, _, relaxed, gain = max(scored, key=lambda t: (t[0], t[1]))
        weakest_gain = min(scored, key=lambda t: t[3])
        if p > max_p:
            current = relaxed
        elif weakest_gain[3] < min_gain:
            current = weakest_gain[2]
        else:
            break
    return current


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def box_conditions(box: Box, names: Sequence[str], x: np.ndarray) -> list[str]:
    """The box's restrictions as text: ``china.resolve > 0.42``, ``0.3 <= x <= 0.6``."""
    lo0, hi0 = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    out = []
    for j in box.restricted:
        name = names[j].removeprefix("param.")
        lo, hi = box.lower[j] > lo0[j], box.upper[j] < hi0[j]
        if lo and hi:
            out.append(f"{_fmt(box.lower[j])} <= {name} <= {_fmt(box.upper[j])}")
        elif lo:
            out.append(f"{name} >= {_fmt(box.lower[j])}")
        else:
            out.append(f"{name} <= {_fmt(box.upper[j])}")
    return out


def rule_text(box: Box, names: Sequence[str], x: np.ndarray, outcome: str) -> str:
    """A box as a sentence with its density, coverage and mass."""
    conds = box_conditions(box, names, x)
    when = " and ".join(conds) if conds else "in every world"
    label = outcome.replace("_", " ").replace("=", " = ")
    return (
        f"when {when}: {label} in {box.density:.0%} of such worlds, which hold "
        f"{box.coverage:.0%} of all worlds where it happens ({box.mass:.0%} of all worlds)"
    )


@dataclass
class DiscoveryResult:
    """PRIM boxes for one outcome of a run.

    Attributes:
        outcome: The outcome (as written).
        parameters: The parameter columns searched (``param.*``).
        trajectory: step, coverage, density, mass, restricted (count), box (index of the box
            this trajectory belongs to), chosen (bool).
        boxes: box, coverage, density, mass, rule, conditions (list) - one row per chosen box.
        limits: box, parameter, lower, upper (restricted parameters only).
        base_rate: Share of all worlds with the outcome.
        info: Run folder, scenario, seed, replicates.
    """

    outcome: str
    parameters: list[str]
    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    limits: pd.DataFrame
    base_rate: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        """Each chosen box as a sentence."""
        return list(self.boxes["rule"])

    def to_df(self) -> pd.DataFrame:
        """The chosen boxes (one row each) with coverage, density, mass and rule."""
        return self.boxes

    def plot(self, ax: Any = None) -> Any:
        """The coverage-density trade-off chart; returns the Figure."""
        from sim.charts.discovery import tradeoff_chart

        return tradeoff_chart(self, ax=ax)


def discover(
    params: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    alpha: float = DEFAULT_ALPHA,
    mass_min: float = DEFAULT_MASS_MIN,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    boxes: int = 1,
    prune_below: float = DEFAULT_PRUNE,
    info: dict[str, Any] | None = None,
) -> DiscoveryResult:
    """Find up to ``boxes`` PRIM boxes where an outcome is concentrated.

    Args:
        params: One column per sampled parameter, one row per world.
        y: 0/1 per world (NaN rows are dropped).
        outcome: Name for the text.
        alpha: Peeling share.
        mass_min: Smallest box, as a share of all worlds.
        min_coverage: Coverage the chosen box must keep.
        boxes: Boxes to find (covering: each next search leaves out the worlds in earlier ones).
        prune_below: Drop restrictions adding less than this to density.
        info: Description kept on the result.

    Raises:
        UserError: no parameters, too few worlds, or an outcome that never (or always) happens.
    """
    if params.shape[1] == 0:
        raise UserError(
            "no sampled parameters (param.* columns) in the run: discovery needs a scenario "
            "with uncertain parameters"
        )
    if not 0 < alpha < 0.5 or not 0 < mass_min < 1 or not 0 <= min_coverage <= 1:
        raise UserError("alpha must be in (0, 0.5), mass-min in (0, 1), min-coverage in [0, 1]")
    y = np.asarray(y, dtype=np.float64)
    ok = ~np.isnan(y) & params.notna().all(axis=1).to_numpy()
    x_all = params.to_numpy(dtype=np.float64)[ok]
    y_all = y[ok]
    n = len(y_all)
    if n < 20:
        raise UserError(f"discovery needs at least 20 worlds with the outcome known, got {n}")
    hits = int(y_all.sum())
    if hits == 0 or hits == n:
        what = "never" if hits == 0 else "always"
        raise UserError(f"outcome {outcome} {what} happens in this run: nothing to discover")
    names = list(params.columns)
    traj_rows, box_rows, limit_rows = [], [], []
    remaining = np.ones(n, dtype=bool)
    total_y = float(y_all.sum())
    for b in range(boxes):
        x, yy = x_all[remaining], y_all[remaining]
        if len(yy) < 20 or yy.sum() == 0:
            break
        traj = peel(x, yy, alpha, mass_min)
        pick = choose_box(traj, min_coverage)
        chosen = prune(x, yy, traj[pick], prune_below)
        # Coverage against all worlds with the outcome (not only those left by earlier boxes).
        m = _inside(x_all, chosen.lower, chosen.upper) & remaining
        cov = float(y_all[m].sum()) / total_y
        dens = float(y_all[m].mean()) if m.any() else float("nan")
        final = Box(chosen.lower, chosen.upper, cov, dens, float(m.mean()), chosen.restricted)
        if b > 0 and not dens > float(yy.mean()):
            break  # a later box no denser than what is left explains nothing
        for i, bx in enumerate(traj):
            traj_rows.append(
                {
                    "box": b,
                    "step": i,
                    "coverage": bx.coverage,
                    "density": bx.density,
                    "mass": bx.mass,
                    "restricted": len(bx.restricted),
                    "chosen": i == pick,
                }
            )
        conds = box_conditions(final, names, x_all)
        box_rows.append(
            {
                "box": b,
                "coverage": final.coverage,
                "density": final.density,
                "mass": final.mass,
                "lift": final.density / (total_y / n),
                "rule": rule_text(final, names, x_all, outcome),
                "conditions": "; ".join(conds),
            }
        )
        for j in final.restricted:
            limit_rows.append(
                {
                    "box": b,
                    "parameter": names[j],
                    "lower": final.lower[j],
                    "upper": final.upper[j],
                    "data_low": float(x_all[:, j].min()),
                    "data_high": float(x_all[:, j].max()),
                }
            )
        remaining &= ~m
        if not final.restricted:
            break
    return DiscoveryResult(
        outcome,
        names,
        pd.DataFrame(traj_rows),
        pd.DataFrame(box_rows),
        pd.DataFrame(
            limit_rows, columns=["box", "parameter", "lower", "upper", "data_low", "data_high"]
        ),
        total_y / n,
        dict(info or {}),
    )
