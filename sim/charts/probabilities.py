"""Bar charts of probabilities with their Wilson intervals: headline outcomes, end states and
China's alignment level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import ColorType

from sim.analysis.stats import END_STATES, category_shares, failed_mask, headline_probabilities
from sim.charts.common import (
    RunInfo,
    figure_of,
    name_label,
    new_figure,
    outcome_label,
    stamp_run_info,
)

BAR_COLOR = "#4c72b0"
INTERVAL_COLOR = "0.15"


def _confidence(table: pd.DataFrame) -> float:
    return float(table.attrs.get("confidence", 0.95))


def _interval_label(confidence: float) -> str:
    return f"{confidence:.0%} Wilson interval"


def _probability_label(confidence: float) -> str:
    # The key lives in the axis label rather than a legend, which could sit on a bar.
    return f"probability (bar: estimate, line: {_interval_label(confidence)})"


def _value_label(
    ax: Axes, pos: float, est: float, high: float, bar_color: ColorType, *, horizontal: bool
) -> None:
    """Print an estimate just past its interval, or inside the bar when that is near 1."""
    inside = high > 0.88
    where = est - 0.01 if inside else high + 0.01
    # Inside a bar the text must contrast with the bar: dark on light bars, white on dark ones.
    red, green, blue = to_rgb(bar_color)
    light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.6
    color = ("0.1" if light else "white") if inside else "0.1"
    if horizontal:
        ax.text(
            where,
            pos,
            f"{100 * est:.1f}%",
            va="center",
            ha="right" if inside else "left",
            fontsize=7,
            color=color,
            gid="estimate-label",
        )
    else:
        ax.text(
            pos,
            where + (0.0 if inside else 0.01),
            f"{100 * est:.1f}%",
            ha="center",
            va="top" if inside else "bottom",
            fontsize=9,
            color=color,
            gid="estimate-label",
        )


def probabilities_chart(
    summary: pd.DataFrame,
    info: RunInfo,
    ax: Axes | None = None,
    *,
    outcomes: Sequence[str] | None = None,
    title: str = "How likely is each outcome?",
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Horizontal bars of outcome probabilities with their Wilson intervals.

    Each bar's length is the estimated probability; the black line is its confidence interval;
    the estimate and interval are printed to the right of the axes. Bars run top to bottom in
    summary order.

    Args:
        summary: a table from :func:`sim.analysis.stats.summarize`.
        info: the run shown.
        ax: axes to draw into; a new figure when None.
        outcomes: the probability rows to show, in this order. Default: every probability row
            except the end states, which :func:`end_state_chart` shows by severity, and the
            ``=none`` categories (no blockade, no incident: the complements of rows shown).
        title: axes title.
        labels: row name -> axis label (:func:`sim.report.present.chart_labels`); rows not in
            it get their identifier in words.

    Returns:
        The figure drawn into.
    """
    rows = headline_probabilities(summary)
    if outcomes is None:
        names = rows["outcome"].astype(str)
        rows = rows[~names.str.startswith("end_state=") & ~names.str.endswith("=none")]
    else:
        missing = [o for o in outcomes if o not in set(rows["outcome"])]
        if missing:
            raise ValueError(f"not probability rows of the summary: {', '.join(missing)}")
        rows = rows.set_index("outcome").loc[list(outcomes)].reset_index()
    rows = rows.reset_index(drop=True)
    if ax is None:
        fig = new_figure(9.0, 1.6 + 0.34 * max(len(rows), 1))
        ax = fig.add_subplot()
    else:
        fig = figure_of(ax)

    est = rows["estimate"].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    y = np.arange(len(rows))
    conf = _confidence(summary)
    ax.barh(y, est, height=0.62, color=BAR_COLOR, alpha=0.85, label="estimate")
    _interval_bars(ax, y, est, low, high, horizontal=True, capsize=3, label=_interval_label(conf))
    named = labels or {}
    ax.set_yticks(y, labels=[named.get(str(o), outcome_label(str(o))) for o in rows["outcome"]])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    ax.set_xlim(0.0, 1.0)
    # Percentages, as the terminal summary and the report write them.
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(_probability_label(conf))
    ax.set_title(title, loc="left", fontweight="bold")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    # The numbers sit in a column right of the axes, so they never collide with bars or
    # interval caps whatever the estimate.
    column = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, e, lo, hi in zip(y, est, low, high, strict=True):
        ax.text(
            1.02,
            float(yi),
            f"{100 * e:.1f}%  ({100 * lo:.1f}–{100 * hi:.1f}%)",
            transform=column,
            va="center",
            ha="left",
            fontsize=8,
            gid="estimate-label",
        )
    ax.text(
        1.02,
        -0.5,
        f"estimate ({conf:.0%} CI)",
        transform=column,
        va="bottom",
        ha="left",
        fontsize=8,
        color="0.35",
    )
    stamp_run_info(fig, info)
    return fig


def end_state_chart(
    summary: pd.DataFrame,
    info: RunInfo,
    ax: Axes | None = None,
    *,
    end_states: Sequence[str] = END_STATES,
    title: str = "How does the crisis end?",
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Probability of each end state, least to most severe, with Wilson intervals.

    Args:
        summary: a table from :func:`sim.analysis.stats.summarize` (rows ``end_state=<name>``).
        info: the run shown.
        ax: axes to draw into; a new figure when None.
        end_states: end-state names from least to most severe; end states in the summary but
            not in this list are drawn after them.
        title: axes title.
        labels: end-state name -> its label in the scenario; others get the name in words.

    Returns:
        The figure drawn into.
    """
    rows = headline_probabilities(summary)
    rows = rows[rows["outcome"].astype(str).str.startswith("end_state=")].copy()
    rows["state"] = rows["outcome"].astype(str).str.slice(len("end_state="))
    order = list(end_states) + [s for s in rows["state"] if s not in end_states]
    known = rows.set_index("state")
    missing = [s for s in order if s not in known.index]
    if missing:
        raise ValueError(f"the summary has no row for end state(s): {', '.join(missing)}")
    rows = known.loc[order].reset_index()
    if ax is None:
        fig = new_figure(max(7.0, 1.3 * len(rows) + 1.5), 4.6)
        ax = fig.add_subplot()
    else:
        fig = figure_of(ax)

    est = rows["estimate"].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    x = np.arange(len(rows))
    # Colour darkens with severity so the order reads without the labels.
    colors = colormaps["OrRd"](np.linspace(0.3, 0.95, len(rows)))
    conf = _confidence(summary)
    ax.bar(x, est, width=0.65, color=colors, edgecolor="0.3", linewidth=0.5)
    _interval_bars(ax, x, est, low, high, horizontal=False, capsize=4, label=_interval_label(conf))
    for xi, e, hi in zip(x, est, high, strict=True):
        _value_label(ax, float(xi), e, hi, colors[xi], horizontal=False)
    names = labels or {}
    ax.set_xticks(x, labels=[names.get(str(s), name_label(str(s))) for s in rows["state"]])
    ax.set_ylim(0.0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(_probability_label(conf))
    ax.set_xlabel("end state, least to most severe")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.grid(axis="y", color="0.9")
    ax.set_axisbelow(True)
    stamp_run_info(fig, info)
    return fig


_ALIGNMENT_SERIES = (
    ("_alignment_max", "highest level reached", "#c44e52"),
    ("_alignment_final", "level on the last day", "#8c8c8c"),
)
"""Column suffixes of the aligning actor's outcomes (``<actor>_alignment_max``, ...)."""


def alignment_chart(
    data: pd.DataFrame | np.ndarray,
    level_names: Sequence[str],
    info: RunInfo,
    ax: Axes | None = None,
    *,
    confidence: float = 0.95,
    title: str = "How far does the aligning actor move along its track?",
) -> Figure:
    """Distribution of China's alignment level with Wilson intervals, neutral at the bottom.

    From the outcomes table it shows both the highest level reached and the level on the last
    day; from alignment occupancy counts (``(days+1, levels)`` or one ``(levels,)`` row) it
    shows the last day only, since the highest level cannot be recovered from daily counts.

    Args:
        data: the outcomes DataFrame, or alignment occupancy counts.
        level_names: China's alignment track, neutral first.
        info: the run shown.
        ax: axes to draw into; a new figure when None.
        confidence: two-sided confidence level of the intervals.
        title: axes title.

    Returns:
        The figure drawn into.
    """
    levels = list(range(len(level_names)))
    series: list[tuple[str, str, pd.DataFrame]] = []
    if isinstance(data, pd.DataFrame):
        ok = data.loc[~failed_mask(data)]
        for suffix, label, color in _ALIGNMENT_SERIES:
            for column in [c for c in ok.columns if str(c).endswith(suffix)][:1]:
                values = pd.to_numeric(ok[column]).dropna().astype(int)
                if not values.isin(levels).all():
                    raise ValueError(f"{column} has values outside 0..{len(levels) - 1}")
                series.append((label, color, category_shares(values, levels, confidence)))
        if not series:
            raise ValueError("the outcomes table has no <actor>_alignment_max/_final column")
    else:
        counts = np.asarray(data)
        last = counts[-1] if counts.ndim == 2 else counts
        if last.shape != (len(levels),):
            raise ValueError(f"alignment counts have {last.shape[-1]} levels, names {len(levels)}")
        repeated = pd.Series(np.repeat(np.arange(len(levels)), last.astype(np.int64)))
        shares = category_shares(repeated, levels, confidence)
        series.append((_ALIGNMENT_SERIES[1][1], _ALIGNMENT_SERIES[1][2], shares))

    owns_figure = ax is None
    if ax is None:
        fig = new_figure(9.0, 1.9 + 0.55 * len(levels))
        ax = fig.add_subplot()
    else:
        fig = figure_of(ax)
    height = 0.8 / len(series)
    for i, (label, color, shares) in enumerate(series):
        # Series side by side within each level's slot, first series on top.
        y = np.arange(len(levels)) + (len(series) - 1 - 2 * i) * height / 2
        est = shares["estimate"].to_numpy(dtype=float)
        low = shares["ci_low"].to_numpy(dtype=float)
        high = shares["ci_high"].to_numpy(dtype=float)
        ax.barh(y, est, height=height * 0.9, color=color, label=label)
        _interval_bars(ax, y, est, low, high, horizontal=True, capsize=2, width=1.0)
        for yi, e, hi in zip(y, est, high, strict=True):
            _value_label(ax, yi, e, hi, color, horizontal=True)
    ax.set_yticks(np.arange(len(levels)), labels=[name_label(n) for n in level_names])
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(_probability_label(confidence))
    ax.set_ylabel("alignment level")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    if owns_figure and len(series) > 1:
        # Above the panel, where no bar can be; a caller's axes gets a legend inside it.
        fig.legend(loc="outside upper right", ncols=len(series), fontsize=8, frameon=False)
    elif len(series) > 1:
        ax.legend(loc="best", fontsize=8, frameon=False)
    else:
        ax.set_title(f"{title}\n({series[0][0]})", loc="left", fontweight="bold")
    stamp_run_info(fig, info)
    return fig


def _interval_bars(
    ax: Axes,
    at: np.ndarray,
    est: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    horizontal: bool,
    capsize: float,
    width: float = 1.2,
    label: str | None = None,
) -> None:
    """Draw confidence intervals around estimates placed at positions ``at``.

    Caps at exactly 0 or 1 would be cut in half by the axes edge; the intervals never leave
    [0, 1], so drawing them unclipped cannot spill over anything.
    """
    err = np.vstack([est - low, high - est])
    xy = (est, at) if horizontal else (at, est)
    bars: dict[str, Any] = {"xerr": err} if horizontal else {"yerr": err}
    ax.errorbar(
        *xy,
        **bars,
        fmt="none",
        ecolor=INTERVAL_COLOR,
        elinewidth=width,
        capsize=capsize,
        clip_on=False,
        label=label,
    )
