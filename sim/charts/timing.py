"""How soon: the cumulative share of replicates whose first event has happened by each day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.stats import cumulative_incidence, failed_mask
from sim.charts.common import RunInfo, day_label, figure_of, new_figure, stamp_run_info

CURVE_COLOR = "#c44e52"


def time_to_incident_chart(
    outcomes: pd.DataFrame,
    info: RunInfo,
    horizon: int | None = None,
    ax: Axes | None = None,
    *,
    column: str = "first_armed_incident_day",
    event: str = "armed incident",
    start_date: dt.date | str | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Share of replicates with a first event by each day (empirical CDF), with a Wilson band.

    Replicates where the event never happened stay in the denominator as "never", so the curve
    ends at the event's probability within the horizon, not at 1; the label and a note at the
    end of the curve say so. The band is pointwise: each day's share has its own Wilson
    interval (see :func:`sim.analysis.stats.cumulative_incidence`).

    Args:
        outcomes: one row per replicate; ``column`` holds the day of the first event or NA.
        info: the run shown.
        horizon: last day of the run; default the ``days`` column's maximum.
        ax: axes to draw into; a new figure when None.
        column: the first-event-day column.
        event: words for the event, used in labels.
        start_date: calendar date of day 0, for the axis label.
        confidence: two-sided confidence level of the band.

    Returns:
        The figure drawn into.
    """
    ok = outcomes.loc[~failed_mask(outcomes)]
    if column not in ok.columns:
        raise ValueError(f"the outcomes table has no '{column}' column")
    if horizon is None:
        if "days" in ok.columns and len(ok):
            horizon = int(pd.to_numeric(ok["days"]).max())
        else:
            horizon = int(np.nan_to_num(pd.to_numeric(ok[column]).astype("Float64").max(), nan=0))
    curve = cumulative_incidence(ok[column], horizon, confidence)
    if ax is None:
        fig = new_figure(9.0, 4.8)
        ax = fig.add_subplot()
    else:
        fig = figure_of(ax)

    day = curve["day"].to_numpy()
    est = curve["estimate"].to_numpy(dtype=float)
    ax.fill_between(
        day,
        curve["ci_low"],
        curve["ci_high"],
        step="post",
        color=CURVE_COLOR,
        alpha=0.2,
        linewidth=0,
        label=f"{confidence:.0%} Wilson interval (pointwise)",
    )
    ax.step(
        day,
        est,
        where="post",
        color=CURVE_COLOR,
        linewidth=2,
        gid="cdf",
        label=f"share of replicates with a first {event} by this day\n"
        f"(replicates without one count as never, so the curve ends below 1)",
    )
    final = float(est[-1]) if est.size else float("nan")
    ax.axhline(final, color="0.4", linestyle=":", linewidth=1)
    ax.annotate(
        f"{final:.3f} by day {horizon}; {1 - final:.3f} never",
        xy=(day[-1], final),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=9,
        color="0.25",
    )
    # A rare event would hug the floor on a 0-1 axis; scale to the band, and say so by ticks.
    top = float(np.nanmax(curve["ci_high"])) if len(curve) else 1.0
    ax.set_ylim(0.0, min(1.0, max(0.05, top * 1.25)))
    ax.set_xlim(0, horizon)
    ax.set_xlabel(day_label(start_date))
    ax.set_ylabel("share of replicates (cumulative probability)")
    ax.set_title(f"When does the first {event} happen?", loc="left", fontweight="bold")
    ax.grid(color="0.92")
    # Below a rising curve the lower right is empty; the upper part holds the final-share note.
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    stamp_run_info(fig, info)
    return fig
