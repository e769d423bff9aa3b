"""Sweep charts: a response curve with its interval band (one key), a heat map (two keys)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts.common import outcome_label, stamp_run_info
from sim.charts.sensitivity import _axes, run_info

THRESHOLD_COLOR = "#c44e52"


def response_curve(result: Any, outcome: str, ax: Axes | None = None) -> Figure:
    """The outcome against the swept key, with its interval band and threshold crossings.

    Args:
        result: A :class:`~sim.analysis.sweep.SweepResult` with one key.
        outcome: The outcome to show.
        ax: Axes to draw into (a new figure when ``None``).
    """
    key = result.keys[0]
    t = result.table[result.table["outcome"] == outcome].sort_values(key)
    if t.empty:
        raise ValueError(f"no sweep estimates for outcome {outcome!r}")
    fig, ax = _axes(ax, 7.0, 4.2)
    kind = t["kind"].iloc[0]
    band = "Wilson" if kind == "probability" else "t"
    ax.fill_between(
        t[key],
        t["ci_low"],
        t["ci_high"],
        color="#4c72b0",
        alpha=0.25,
        label=f"95% {band} interval",
        gid="band",
    )
    ax.plot(t[key], t["estimate"], marker="o", ms=3, color="#4c72b0", label="estimate", gid="curve")
    if result.threshold is not None:
        ax.axhline(result.threshold, color=THRESHOLD_COLOR, lw=0.8, ls="--", gid="threshold")
        for x in result.crossing.get(outcome, []):
            ax.axvline(x, color=THRESHOLD_COLOR, lw=1.2, gid="crossing")
            ax.annotate(
                f"crosses {result.threshold:g} at {x:.3g}",
                (x, result.threshold),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=8,
                color=THRESHOLD_COLOR,
            )
    ax.set_xlabel(key)
    ax.set_ylabel(
        ("P(" + outcome_label(outcome) + ")") if kind == "probability" else outcome_label(outcome)
    )
    if kind == "probability":
        ax.set_ylim(-0.02, 1.02)
    ax.set_title(
        f"{outcome_label(outcome)} against {key}", loc="left", fontsize=10, fontweight="bold"
    )
    ax.legend(fontsize=8, frameon=False, loc="best")
    info = run_info(result.info)
    if info is not None:
        stamp_run_info(fig, info)
    return fig


def heatmap(result: Any, outcome: str, ax: Axes | None = None) -> Figure:
    """The outcome over a two-key grid, with the threshold contour when one is set."""
    kx, ky = result.keys[1], result.keys[0]
    t = result.table[result.table["outcome"] == outcome]
    if t.empty:
        raise ValueError(f"no sweep estimates for outcome {outcome!r}")
    piv = t.pivot_table(index=ky, columns=kx, values="estimate")
    fig, ax = _axes(ax, 7.0, 5.0)
    xs, ys = piv.columns.to_numpy(dtype=float), piv.index.to_numpy(dtype=float)
    z = piv.to_numpy(dtype=float)
    kind = t["kind"].iloc[0]
    prob = kind == "probability"
    mesh = ax.pcolormesh(
        xs,
        ys,
        z,
        shading="nearest",
        cmap="viridis",
        vmin=0.0 if prob else None,
        vmax=1.0 if prob else None,
    )
    mesh.set_gid("heatmap")
    fig.colorbar(
        mesh,
        ax=ax,
        label=("P(" + outcome_label(outcome) + ")")
        if kind == "probability"
        else outcome_label(outcome),
    )
    if result.threshold is not None and np.nanmin(z) < result.threshold < np.nanmax(z):
        cs = ax.contour(
            xs, ys, z, levels=[result.threshold], colors=[THRESHOLD_COLOR], linewidths=1.5
        )
        cs.set_gid("threshold")
        ax.clabel(cs, fmt=f"{result.threshold:g}", fontsize=8)
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    ax.set_title(
        f"{outcome_label(outcome)} over {ky} and {kx}", loc="left", fontsize=10, fontweight="bold"
    )
    info = run_info(result.info)
    if info is not None:
        stamp_run_info(fig, info)
    return fig
