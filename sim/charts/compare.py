"""Two runs side by side: their estimates and the paired difference with its interval."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.transforms import blended_transform_factory

from sim.charts.common import RunInfo, figure_of, new_figure, outcome_label, stamp_run_info

COLOR_A = "#8c8c8c"
COLOR_B = "#4c72b0"
COLOR_UP = "#c44e52"
COLOR_DOWN = "#55a868"
COLOR_NONE = "0.45"


def comparison_chart(
    comparison: pd.DataFrame,
    info_a: RunInfo,
    info_b: RunInfo,
    ax: Axes | None = None,
    *,
    kind: str = "probability",
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Per outcome, the estimates of runs A and B and the paired difference B - A.

    Left panel: A and B estimates joined by a line. Right panel: the difference with its paired
    interval and a zero line; a difference whose interval excludes 0 is coloured (red: B
    higher, green: B lower), the rest are grey. Both runs' scenario, replicates and seed are
    stamped on the figure; different seeds are flagged: the paired intervals stay valid, but the
    runs did not share their random numbers, so they are no narrower than unpaired ones.

    Args:
        comparison: a table from :func:`sim.analysis.stats.compare_paired`.
        info_a: run A (usually the baseline).
        info_b: run B (the variant).
        ax: axes for the difference panel alone; a new two-panel figure when None.
        kind: which rows to show, ``probability`` or ``mean`` (means of different outcomes
            have different units, so mixing them on one axis would mislead).
        title: figure title; a default names both scenarios.
        labels: row name -> readable label (:func:`sim.report.present.chart_labels`); rows
            not in it get their identifier in words.

    Returns:
        The figure drawn into.
    """
    rows = comparison
    if "kind" in rows.columns:
        rows = rows[rows["kind"] == kind]
    rows = rows.reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"the comparison has no {kind} rows")
    conf = float(comparison.attrs.get("confidence", 0.95))
    method = "Newcombe" if kind == "probability" else "paired t"
    unit = "probability" if kind == "probability" else "mean"
    n_rows = len(rows)
    if ax is None:
        fig = new_figure(13.0, 1.9 + 0.34 * n_rows)
        est_ax, diff_ax = fig.subplots(1, 2, sharey=True, width_ratios=[1.0, 1.25])
    else:
        fig, est_ax, diff_ax = figure_of(ax), None, ax

    y = np.arange(n_rows)
    a = rows["estimate_a"].to_numpy(dtype=float)
    b = rows["estimate_b"].to_numpy(dtype=float)
    diff = rows["difference"].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    names = labels or {}
    tick_labels = [names.get(str(o), outcome_label(str(o))) for o in rows["outcome"]]

    if est_ax is not None:
        est_ax.hlines(y, np.minimum(a, b), np.maximum(a, b), color="0.75", linewidth=2)
        est_ax.plot(a, y, "o", color=COLOR_A, label=f"A: {info_a.scenario}", gid="estimate_a")
        est_ax.plot(b, y, "D", color=COLOR_B, label=f"B: {info_b.scenario}", gid="estimate_b")
        est_ax.set_yticks(y, labels=tick_labels)
        if kind == "probability":
            est_ax.set_xlim(0.0, 1.0)
            est_ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        est_ax.set_xlabel("probability" if kind == "probability" else unit)
        est_ax.set_title("Estimates", loc="left", fontweight="bold")
        est_ax.grid(axis="x", color="0.92")
        # Above the panels (constrained layout makes room), where no marker can be.
        fig.legend(loc="outside upper right", ncols=2, fontsize=9, frameon=False)

    excludes_zero = (low > 0) | (high < 0)
    colors = np.where(excludes_zero, np.where(diff > 0, COLOR_UP, COLOR_DOWN), COLOR_NONE)
    diff_ax.axvline(0.0, color="0.2", linewidth=1)
    for color in (COLOR_UP, COLOR_DOWN, COLOR_NONE):
        pick = colors == color
        if pick.any():
            diff_ax.errorbar(
                diff[pick],
                y[pick],
                xerr=np.vstack([diff[pick] - low[pick], high[pick] - diff[pick]]),
                fmt="o",
                color=color,
                ecolor=color,
                elinewidth=1.5,
                capsize=3,
                gid=f"difference-{color}",
            )
    if est_ax is None:
        diff_ax.set_yticks(y, labels=tick_labels)
    diff_ax.set_ylim(n_rows - 0.5, -0.5)  # first row on top (shared with the estimates panel)
    span = float(np.nanmax(np.abs(np.concatenate([low, high, [1e-3]]))))
    diff_ax.set_xlim(-1.1 * span, 1.1 * span)  # symmetric, so the zero line sits in the middle
    if kind == "probability":
        diff_ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:+.0f}pp"))
        unit = "percentage points"
    diff_ax.set_xlabel(f"difference in {unit}, B − A ({conf:.0%} paired {method} interval)")
    diff_ax.set_title(
        "Paired difference (same seed, same replicates)", loc="left", fontweight="bold"
    )
    diff_ax.grid(axis="x", color="0.92")
    column = blended_transform_factory(diff_ax.transAxes, diff_ax.transData)
    for yi, d, lo, hi in zip(y, diff, low, high, strict=True):
        diff_ax.text(
            1.02,
            yi,
            # Percentage points, as the terminal and the report write differences.
            f"{100 * d:+.1f}pp ({100 * lo:+.1f} to {100 * hi:+.1f})"
            if kind == "probability"
            else f"{d:+.3g} ({lo:+.3g} to {hi:+.3g})",
            transform=column,
            va="center",
            ha="left",
            fontsize=8,
            gid="difference-label",
        )

    if title is None:
        title = f"{info_b.scenario} (B) compared with {info_a.scenario} (A)"
        if info_a.seed != info_b.seed:
            title += " - different seeds, so no common random numbers"
    if ax is None:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    else:
        diff_ax.set_title(title, loc="left", fontweight="bold")
    stamp_run_info(fig, info_a, info_b, prefixes=("A: ", "B: "))
    return fig
