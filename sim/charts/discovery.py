"""Scenario-discovery chart: PRIM's coverage-density trade-off, with the chosen box marked."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts.common import outcome_label, stamp_run_info
from sim.charts.sensitivity import _axes, run_info


def tradeoff_chart(result: Any, ax: Axes | None = None) -> Figure:
    """Coverage against density along the peeling trajectory of the first box.

    Each point is a candidate box (colour: how many parameters it restricts); the chosen box is
    ringed and labelled with its rule's coverage and density.

    Args:
        result: A :class:`~sim.analysis.discovery.DiscoveryResult`.
        ax: Axes to draw into (a new figure when ``None``).
    """
    traj = result.trajectory[result.trajectory["box"] == 0]
    fig, ax = _axes(ax, 7.0, 4.6)
    sc = ax.scatter(
        traj["coverage"],
        traj["density"],
        c=traj["restricted"],
        cmap="viridis",
        s=14,
        gid="trajectory",
    )
    from matplotlib.ticker import MaxNLocator

    bar = fig.colorbar(sc, ax=ax, label="parameters restricted")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    if not result.boxes.empty:
        b = result.boxes.iloc[0]
        ax.scatter(
            [b["coverage"]],
            [b["density"]],
            s=120,
            facecolors="none",
            edgecolors="#c44e52",
            linewidths=1.8,
            gid="chosen",
        )
        ax.annotate(
            f"chosen: coverage {b['coverage']:.0%}, density {b['density']:.0%}",
            (b["coverage"], b["density"]),
            xytext=(8, -12),
            textcoords="offset points",
            fontsize=8,
            color="#c44e52",
        )
    ax.axhline(result.base_rate, color="0.5", lw=0.8, ls="--")
    ax.text(
        0.01,
        result.base_rate,
        f" base rate {result.base_rate:.0%}",
        fontsize=7,
        color="0.4",
        va="bottom",
        transform=ax.get_yaxis_transform(),
    )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all worlds with the outcome inside the box)")
    ax.set_ylabel("density (share of worlds in the box with the outcome)")
    ax.set_title(
        f"Scenario discovery (PRIM): {outcome_label(result.outcome)}",
        loc="left",
        fontsize=10,
        fontweight="bold",
    )
    info = run_info(result.info)
    if info is not None:
        stamp_run_info(fig, info)
    return fig
