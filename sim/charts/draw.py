"""Every chart of one run, drawn from its results, keyed by the file stem to save it under."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts.common import RunInfo
from sim.charts.ladder import heatmap_chart, ladder_fan_chart
from sim.charts.probabilities import alignment_chart, end_state_chart, probabilities_chart
from sim.charts.timing import time_to_incident_chart


def draw_all(
    outcomes: pd.DataFrame,
    summary: pd.DataFrame,
    occupancy: np.ndarray,
    alignment_occupancy: np.ndarray,
    rung_names: Sequence[str],
    level_names: Sequence[str],
    info: RunInfo,
    start_date: dt.date | str | None = None,
    horizon: int | None = None,
    *,
    actor_names: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    end_state_labels: Mapping[str, str] | None = None,
) -> dict[str, Figure]:
    """Draw every chart of a run; the caller saves them (``fig.savefig(dir / f"{stem}.png")``).

    Args:
        outcomes: one row per replicate.
        summary: :func:`sim.analysis.stats.summarize` of ``outcomes``.
        occupancy: ladder counts ``(days+1, actors, rungs)``.
        alignment_occupancy: the alignment track's counts ``(days+1, levels)``. Only used when
            ``outcomes`` lacks the alignment columns; the outcomes also give the highest level.
        rung_names: ladder rungs, lowest first.
        level_names: China's alignment track, neutral first.
        info: the run shown.
        start_date: calendar date of day 0, for day axes.
        horizon: days simulated; default the outcomes' ``days`` column.
        actor_names: actor names in the order of the occupancy's actor axis.
        labels: summary row name -> readable label (:func:`sim.report.present.chart_labels`).
        end_state_labels: end-state name -> its label in the scenario.

    Returns:
        Figures keyed ``probabilities, end_states, ladder_fan, heatmap, time_to_incident,
        china_alignment`` (the last only for a scenario with an alignment track), in that order.
    """
    if actor_names is None:
        actor_names = [f"actor {i}" for i in range(np.asarray(occupancy).shape[1])]
    has_alignment = any(str(c).endswith(("_alignment_max", "_alignment_final")) for c in outcomes)
    alignment_data = outcomes if has_alignment else alignment_occupancy
    figures = {
        "probabilities": probabilities_chart(summary, info, labels=labels),
        "end_states": end_state_chart(summary, info, labels=end_state_labels),
        "ladder_fan": ladder_fan_chart(occupancy, rung_names, actor_names, info, start_date),
        "heatmap": heatmap_chart(
            occupancy, rung_names, info, actor_names=actor_names, start_date=start_date
        ),
        "time_to_incident": time_to_incident_chart(outcomes, info, horizon, start_date=start_date),
    }
    # A scenario without an alignment track has one placeholder level: no chart to draw.
    if len(level_names) > 1:
        figures["china_alignment"] = alignment_chart(alignment_data, level_names, info)
    return figures
