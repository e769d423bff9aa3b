"""The escalation ladder over time, drawn from occupancy counts (day x actor x rung).

Occupancy counts are the exact distribution of each actor's rung on each day across replicates,
so the fan chart's median and bands and the heatmap's shares are exact for the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.analysis.occupancy import occupancy_shares, rung_quantile
from sim.charts.common import RunInfo, day_label, figure_of, name_label, new_figure, stamp_run_info

FAN_COLOR = "#4c72b0"
HEATMAP_CMAP = "YlOrRd"

# Half the height of a band around the rungs it spans: a rung is a category one unit tall, so a
# band covering rungs 3..5 is drawn from 2.6 to 5.4 and stays visible when it covers one rung.
_BAND_PAD = 0.4


def actor_label(name: str) -> str:
    """``belarus`` -> ``Belarus``; a name of four letters or fewer is an acronym (``NATO``)."""
    return name.upper() if len(name) <= 4 else name_label(name).capitalize()


def fan_quantiles(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Median and 50% / 90% band limits of the rung, per day, from one actor's counts.

    Args:
        counts: integer counts ``(days, rungs)``.

    Returns:
        Rung indices per day under keys ``q05, q25, median, q75, q95`` (see
        :func:`sim.analysis.occupancy.rung_quantile`).
    """
    return {
        "q05": rung_quantile(counts, 0.05),
        "q25": rung_quantile(counts, 0.25),
        "median": rung_quantile(counts, 0.5),
        "q75": rung_quantile(counts, 0.75),
        "q95": rung_quantile(counts, 0.95),
    }


def _check_occupancy(occupancy: np.ndarray, rung_names: Sequence[str], ndim: int) -> np.ndarray:
    arr = np.asarray(occupancy)
    if arr.ndim != ndim:
        raise ValueError(f"occupancy must have {ndim} axes, got shape {arr.shape}")
    if arr.shape[-1] != len(rung_names):
        raise ValueError(f"occupancy has {arr.shape[-1]} rungs but {len(rung_names)} rung names")
    return arr


def _panel_grid(fig: Figure, n_panels: int) -> list[Axes]:
    """A 3-column grid of panels sharing both axes; unused cells hidden."""
    ncols = 3
    grid = fig.subplots(-(-n_panels // ncols), ncols, sharex=True, sharey=True, squeeze=False)
    panels = list(grid.ravel())
    for extra in panels[n_panels:]:
        extra.set_visible(False)
    return panels


def _label_panel_grid(panels: Sequence[Axes], x_label: str, y_label: str) -> None:
    """Axis labels once per grid: x under the bottom row's middle panel, y on the left column.

    (``fig.supxlabel`` would sit on the run stamp at the bottom edge of the figure.)
    """
    ncols = 3
    bottom_row_start = (len(panels) - 1) // ncols * ncols
    bottom_row = panels[bottom_row_start:]
    bottom_row[len(bottom_row) // 2].set_xlabel(x_label)
    for ax in panels[::ncols]:
        ax.set_ylabel(y_label)


def _rung_axis(ax: Axes, rung_names: Sequence[str]) -> None:
    ax.set_yticks(range(len(rung_names)), labels=[name_label(r) for r in rung_names])
    ax.set_ylim(-0.5, len(rung_names) - 0.5)


def ladder_fan_chart(
    occupancy: np.ndarray,
    rung_names: Sequence[str],
    actor_names: Sequence[str],
    info: RunInfo,
    start_date: dt.date | str | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Per actor, the rung over time: median and the bands holding 50% and 90% of replicates.

    The quantiles come exactly from the occupancy counts (cumulative counts over rungs on each
    day). Bands are drawn around whole rungs, since a rung is a category, not a point.

    Args:
        occupancy: counts ``(days+1, actors, rungs)``.
        rung_names: ladder rungs, lowest first.
        actor_names: actor names in the order of the actor axis.
        info: the run shown.
        start_date: calendar date of day 0, for the axis label.
        axes: one axes per actor to draw into; a new 2 x 3 figure when None.

    Returns:
        The figure drawn into.
    """
    arr = _check_occupancy(occupancy, rung_names, 3)
    if arr.shape[1] != len(actor_names):
        raise ValueError(f"occupancy has {arr.shape[1]} actors but {len(actor_names)} names")
    if axes is None:
        fig = new_figure(13.0, 7.2)
        panel_axes = _panel_grid(fig, len(actor_names))
    else:
        panel_axes = list(axes)
        if len(panel_axes) < len(actor_names):
            raise ValueError(f"need {len(actor_names)} axes, got {len(panel_axes)}")
        fig = figure_of(panel_axes[0])
    days = np.arange(arr.shape[0])
    for i, name in enumerate(actor_names):
        ax = panel_axes[i]
        q = fan_quantiles(arr[:, i, :])
        for lo, hi, alpha, gid in (("q05", "q95", 0.18, "band90"), ("q25", "q75", 0.38, "band50")):
            ax.fill_between(
                days,
                q[lo] - _BAND_PAD,
                q[hi] + _BAND_PAD,
                step="mid",
                color=FAN_COLOR,
                alpha=alpha,
                linewidth=0,
                gid=gid,
            )
        ax.step(
            days,
            q["median"],
            where="mid",
            color="#1b2a49",
            linewidth=1.8,
            label="median",
            gid="median",
        )
        ax.set_title(actor_label(name), loc="left", fontweight="bold")
        _rung_axis(ax, rung_names)
        ax.set_xlim(days[0] - 0.5, days[-1] + 0.5)
        ax.grid(axis="y", color="0.92")
        ax.set_axisbelow(True)
        if axes is None:
            ax.label_outer()
    handles = [
        panel_axes[0].lines[-1],
        Patch(color=FAN_COLOR, alpha=0.38 + 0.18 * (1 - 0.38), label="50% of replicates"),
        Patch(color=FAN_COLOR, alpha=0.18, label="90% of replicates"),
    ]
    if axes is None:
        fig.suptitle(
            "Where each actor stands on the escalation ladder", x=0.01, ha="left", fontweight="bold"
        )
        _label_panel_grid(panel_axes[: len(actor_names)], day_label(start_date), "rung")
        fig.legend(handles=handles, loc="outside upper right", ncols=3, frameon=False, fontsize=9)
    else:
        panel_axes[0].legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
        for ax in panel_axes[: len(actor_names)]:
            ax.set_xlabel(day_label(start_date))
            ax.set_ylabel("rung")
    stamp_run_info(fig, info)
    return fig


def heatmap_chart(
    occupancy: np.ndarray,
    rung_names: Sequence[str],
    info: RunInfo,
    actor: str | None = None,
    *,
    actor_names: Sequence[str] | None = None,
    start_date: dt.date | str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Day x rung heatmap of the share of replicates on each rung.

    Accepts either a ``(days, rungs)`` array (one actor's counts, or the highest rung across
    actors if the caller has those), or the ``(days, actors, rungs)`` occupancy with ``actor``
    naming one actor; with ``actor=None`` the 3-D occupancy gives one panel per actor.

    Args:
        occupancy: counts ``(days, rungs)`` or ``(days, actors, rungs)``.
        rung_names: ladder rungs, lowest first.
        info: the run shown.
        actor: which actor of a 3-D occupancy to show; None for all of them.
        actor_names: actor names in the order of the actor axis.
        start_date: calendar date of day 0, for the axis label.
        ax: axes to draw into (one panel only); a new figure when None.
        title: title; a default names the actor.

    Returns:
        The figure drawn into.
    """
    arr = np.asarray(occupancy)
    if arr.ndim == 3:
        _check_occupancy(arr, rung_names, 3)
        if actor_names is None:
            actor_names = [f"actor {i}" for i in range(arr.shape[1])]
        if arr.shape[1] != len(actor_names):
            raise ValueError(f"occupancy has {arr.shape[1]} actors but {len(actor_names)} names")
        if actor is not None:
            if actor not in actor_names:
                raise ValueError(f"unknown actor '{actor}'; expected one of {list(actor_names)}")
            panels = [(actor_label(actor), arr[:, list(actor_names).index(actor), :])]
        else:
            panels = [(actor_label(a), arr[:, i, :]) for i, a in enumerate(actor_names)]
    else:
        _check_occupancy(arr, rung_names, 2)
        panels = [("Highest rung across actors", arr)]
    if ax is not None and len(panels) > 1:
        raise ValueError("one axes holds one panel: name an actor or pass a (days, rungs) array")

    if ax is not None:
        fig = figure_of(ax)
        panel_axes = [ax]
    elif len(panels) == 1:
        fig = new_figure(10.0, 4.8)
        panel_axes = [fig.add_subplot()]
    else:
        fig = new_figure(13.0, 7.2)
        panel_axes = _panel_grid(fig, len(panels))

    # A square-root colour scale: most cells hold small shares, which a linear scale would
    # render all alike; the colour bar shows the true shares. Cells no replicate ever reached
    # are left white, so "never" differs from "rarely".
    norm = PowerNorm(gamma=0.5, vmin=0.0, vmax=1.0)
    cmap = colormaps[HEATMAP_CMAP].with_extremes(bad="white")
    mesh = None
    for panel_ax, (label, counts) in zip(panel_axes, panels, strict=False):
        shares = np.ma.masked_equal(occupancy_shares(counts), 0.0)
        x_edges = np.arange(shares.shape[0] + 1) - 0.5
        y_edges = np.arange(shares.shape[1] + 1) - 0.5
        mesh = panel_ax.pcolormesh(
            x_edges, y_edges, shares.T, cmap=cmap, norm=norm, shading="flat", gid="shares"
        )
        _rung_axis(panel_ax, rung_names)
        if len(panels) == 1:
            default = f"{label}: share of replicates on each rung, by day"
            panel_ax.set_title(title or default, loc="left", fontweight="bold")
            panel_ax.set_xlabel(day_label(start_date))
            panel_ax.set_ylabel("rung on the ladder")
        else:
            panel_ax.set_title(label, loc="left", fontweight="bold")
            panel_ax.label_outer()
    if len(panels) > 1:
        default = "Share of replicates on each rung, by day"
        fig.suptitle(title or default, x=0.01, ha="left", fontweight="bold")
        _label_panel_grid(panel_axes[: len(panels)], day_label(start_date), "rung")
    assert mesh is not None  # there is always at least one panel
    colorbar = fig.colorbar(mesh, ax=panel_axes[: len(panels)], shrink=0.9, pad=0.02)
    colorbar.set_label("share of replicates")
    stamp_run_info(fig, info)
    return fig
