"""What every chart shares: the run it shows, the stamp that says so, labels and figures.

Figures are built with :class:`matplotlib.figure.Figure` directly rather than ``pyplot``, so no
global figure registry keeps them alive and nothing here depends on a display.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

STAMP_GID = "run-info"
"""``gid`` of the figure text that names the run(s); tests and callers find it by this."""

DISCLAIMER = "an exploration of stated assumptions, not a forecast"

_STAMP_FONTSIZE = 8.0
_LINE_HEIGHT_PT = 11.0


@dataclass(frozen=True)
class RunInfo:
    """The run a chart shows: printed on every figure so a chart never travels unlabelled.

    Attributes:
        scenario: scenario name (file stem, e.g. ``staged_provocation``).
        title: scenario title, one line.
        replicates: number of replicates the statistics are over.
        seed: run seed.
        label: optional extra words (e.g. ``"A"``, ``"--set china.resolve=0.8"``).
    """

    scenario: str
    title: str
    replicates: int
    seed: int
    label: str | None = None

    def stamp(self) -> str:
        """``scenario <name> · <replicates> replicates · seed <seed>[ · <label>]``."""
        worlds = f"{self.replicates} replicate{'' if self.replicates == 1 else 's'}"
        text = f"scenario {self.scenario} · {worlds} · seed {self.seed}"
        return f"{text} · {self.label}" if self.label else text


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout (no overlapping labels), not registered with pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_of(ax: Axes) -> Figure:
    """The top-level figure an axes belongs to (through any subfigures)."""
    fig = ax.get_figure(root=True)
    if not isinstance(fig, Figure):
        raise ValueError("the axes given does not belong to a figure")
    return fig


def stamp_run_info(fig: Figure, *infos: RunInfo, prefixes: tuple[str, ...] = ()) -> None:
    """Write which run(s) a figure shows along its bottom edge, with the scenario titles.

    Replaces an earlier stamp on the same figure, so a chart drawn into a caller's axes twice
    keeps one stamp. With constrained layout, the layout is told to leave room for it.

    Args:
        fig: the figure to stamp.
        *infos: one RunInfo per run shown (two for a comparison).
        prefixes: optional per-run prefixes such as ``("A: ", "B: ")``.
    """
    if not infos:
        raise ValueError("stamp_run_info needs at least one RunInfo")
    lines = []
    for i, info in enumerate(infos):
        prefix = prefixes[i] if i < len(prefixes) else ""
        lines.append(f"{prefix}{info.stamp()} · {info.title}")
    # Long scenario titles would run off narrow figures; wrap to the figure width (about 15
    # characters per inch at 8 pt).
    width_chars = max(40, int(fig.get_figwidth() * 15) - len(DISCLAIMER))
    wrapped = [w for line in lines for w in textwrap.wrap(line, width_chars) or [""]]
    for text in [t for t in fig.texts if t.get_gid() in (STAMP_GID, STAMP_GID + "-note")]:
        text.remove()
    fig.text(
        0.01,
        0.008,
        "\n".join(wrapped),
        ha="left",
        va="bottom",
        fontsize=_STAMP_FONTSIZE,
        color="0.25",
        gid=STAMP_GID,
    )
    fig.text(
        0.99,
        0.008,
        DISCLAIMER,
        ha="right",
        va="bottom",
        fontsize=_STAMP_FONTSIZE,
        color="0.45",
        style="italic",
        gid=STAMP_GID + "-note",
    )
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        height_pt = fig.get_figheight() * 72.0
        bottom = min(0.3, (len(wrapped) * _LINE_HEIGHT_PT + 6.0) / height_pt)
        engine.set(rect=(0.0, bottom, 1.0, 1.0 - bottom))


def stamp_text(fig: Figure) -> str:
    """The run stamp currently on a figure ("" when there is none)."""
    return "\n".join(t.get_text() for t in fig.texts if t.get_gid() == STAMP_GID)


def day_label(start_date: dt.date | str | None) -> str:
    """Axis label for simulation days, e.g. ``day (0 = 6 July 2024)``.

    Args:
        start_date: calendar date of day 0 (a date or an ISO string), or None if unknown.
    """
    if start_date is None:
        return "day of the scenario"
    date = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    return f"day (0 = {date.day} {date:%B} {date.year})"


def outcome_label(outcome: str) -> str:
    """A readable label for a summary row name.

    ``armed_incident`` -> ``armed incident``; ``end_state=limited_clash`` ->
    ``end state: limited clash``; ``mean:blockade_days`` -> ``mean blockade days``.
    """
    text = outcome.replace("mean:", "mean ").replace("median:", "median ")
    text = text.replace("=", ": ")
    return text.replace("_", " ")


def name_label(name: str) -> str:
    """``nato_russia_war`` -> ``nato russia war``: identifiers as words."""
    return name.replace("_", " ")
