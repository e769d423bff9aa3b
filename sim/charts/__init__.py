"""Matplotlib figures of run results: data in, Figure out, no file writes, no pyplot state.

Every chart takes its data and a :class:`RunInfo`, draws into a given ``ax`` or a new figure,
stamps the scenario name, replicate count and seed on the figure, and returns the Figure.
"""

from sim.charts.common import RunInfo, stamp_run_info
from sim.charts.compare import comparison_chart
from sim.charts.draw import draw_all
from sim.charts.ladder import heatmap_chart, ladder_fan_chart
from sim.charts.probabilities import alignment_chart, end_state_chart, probabilities_chart
from sim.charts.timing import time_to_incident_chart

__all__ = [
    "RunInfo",
    "alignment_chart",
    "comparison_chart",
    "draw_all",
    "end_state_chart",
    "heatmap_chart",
    "ladder_fan_chart",
    "probabilities_chart",
    "stamp_run_info",
    "time_to_incident_chart",
]
