"""Sensitivity charts: ranked (tornado) bars of the indices and their convergence with N."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts.common import RunInfo, figure_of, new_figure, outcome_label, stamp_run_info

TOTAL_COLOR = "#4c72b0"
FIRST_COLOR = "#dd8452"
FIXED_COLOR = "#8c8c8c"


def run_info(info: dict[str, Any]) -> RunInfo | None:
    """The stamp for an analysis result's ``info`` (``None`` when it names no scenario)."""
    if not info.get("scenario"):
        return None
    return RunInfo(
        str(info["scenario"]),
        str(info.get("title", "")),
        int(info.get("replicates", 0)),
        int(info.get("seed", 0)),
        info.get("label"),
    )


def _axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return figure_of(ax), ax
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def tornado_chart(result: Any, outcome: str, ax: Axes | None = None, top: int = 15) -> Figure:
    """Ranked horizontal bars of one outcome's indices, the most influential on top.

    Sobol: total-order bars with first-order bars inside, each with its bootstrap interval.
    Morris: ``mu*`` bars with their bootstrap interval and ``sigma`` as a marker. Fixed numbers
    screened with ``--screen-fixed`` are drawn hatched, so they are not read as uncertainties.

    Args:
        result: A :class:`~sim.analysis.sensitivity.SensitivityResult`.
        outcome: The outcome to show.
        ax: Axes to draw into (a new figure when ``None``).
        top: How many factors to show.
    """
    df = result.indices[result.indices["outcome"] == outcome]
    if df.empty:
        raise ValueError(f"no indices for outcome {outcome!r}")
    df = df.nsmallest(top, "rank").iloc[::-1]
    fig, ax = _axes(ax, 8.0, 1.2 + 0.32 * len(df))
    pos = np.arange(len(df))
    hatch = ["//" if k == "fixed" else "" for k in df["kind"]]
    if result.method == "sobol":
        st = df["ST"].to_numpy()
        s1 = df["S1"].to_numpy()
        bars = ax.barh(pos, st, height=0.7, color=TOTAL_COLOR, label="total order ST", gid="ST")
        ax.barh(pos, s1, height=0.35, color=FIRST_COLOR, label="first order S1", gid="S1")
        ax.errorbar(
            st,
            pos,
            xerr=np.vstack([st - df["ST_ci_low"], df["ST_ci_high"] - st]).clip(min=0),
            fmt="none",
            ecolor="0.15",
            capsize=2,
        )
        ax.errorbar(
            s1,
            pos,
            xerr=np.vstack([s1 - df["S1_ci_low"], df["S1_ci_high"] - s1]).clip(min=0),
            fmt="none",
            ecolor="0.45",
            capsize=2,
        )
        ax.set_xlabel("Sobol index: share of variance (line: 95% bootstrap interval)")
    else:
        mu = df["mu_star"].to_numpy()
        bars = ax.barh(
            pos, mu, height=0.7, color=TOTAL_COLOR, label="mu* (mean |effect|)", gid="mu_star"
        )
        ax.errorbar(
            mu,
            pos,
            xerr=np.vstack([mu - df["mu_star_ci_low"], df["mu_star_ci_high"] - mu]).clip(min=0),
            fmt="none",
            ecolor="0.15",
            capsize=2,
        )
        ax.plot(df["sigma"], pos, "o", color=FIRST_COLOR, ms=4, label="sigma (interactions)")
        ax.set_xlabel("Morris mu*: outcome change across the range (line: 95% bootstrap)")
    for bar, h in zip(bars, hatch, strict=True):
        if h:
            bar.set_hatch(h)
            bar.set_edgecolor("white")
    ax.set_yticks(pos, [f"{f}" for f in df["factor"]], fontsize=8)
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    kind = "Sobol" if result.method == "sobol" else "Morris"
    noise = result.noise[result.noise["outcome"] == outcome]
    lines = [f"What drives {outcome_label(outcome)} ({kind})"]
    if not noise.empty:
        share = float(noise["noise_share"].iloc[0])
        lines.append(f"chance alone: {share:.0%} of the replicates' variance")
    if "fixed" in set(df["kind"]):
        lines.append("hatched: fixed numbers")
    ax.set_title(lines[0], loc="left", fontsize=10, fontweight="bold")
    if len(lines) > 1:
        ax.text(
            0.0,
            1.01,
            "; ".join(lines[1:]),
            transform=ax.transAxes,
            fontsize=8,
            color="0.3",
            va="bottom",
        )
        ax.set_title(lines[0] + "\n", loc="left", fontsize=10, fontweight="bold")
    info = run_info(result.info)
    if info is not None:
        stamp_run_info(fig, info)
    return fig


def convergence_chart(result: Any, outcome: str, ax: Axes | None = None, top: int = 6) -> Figure:
    """The ranking index of the ``top`` factors against the design size N, with intervals."""
    conv = result.convergence[result.convergence["outcome"] == outcome]
    if conv.empty:
        raise ValueError(f"no convergence data for outcome {outcome!r}")
    n_max = conv["n"].max()
    leaders = conv[conv["n"] == n_max].nsmallest(top, "rank")["factor"].tolist()
    fig, ax = _axes(ax, 7.0, 4.0)
    for name in leaders:
        c = conv[conv["factor"] == name].sort_values("n")
        line = ax.plot(c["n"], c["index"], marker="o", ms=3, label=name, gid=f"conv:{name}")
        ax.fill_between(c["n"], c["ci_low"], c["ci_high"], color=line[0].get_color(), alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (trajectories or base samples)")
    ax.set_ylabel("ST" if result.method == "sobol" else "mu*")
    ax.set_title(
        f"Convergence of the indices: {outcome_label(outcome)}",
        loc="left",
        fontsize=10,
        fontweight="bold",
    )
    ax.legend(fontsize=7, frameon=False)
    info = run_info(result.info)
    if info is not None:
        stamp_run_info(fig, info)
    return fig
