"""Seminar mode's figures: the situation picture for a projector and the after-action summary.

Both take the records of :mod:`sim.play.seminar` (data in, Figure out, no file writes) and carry
the run stamp (scenario, seed, replicate, seats) like every chart of the project. The situation
picture is drawn at 16:9 with large type, so a room can read it from the back.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.charts.common import RunInfo, day_label, new_figure, stamp_run_info

ACTOR_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
"""One colour per actor, in the scenario's order (as the explorer's ladder picture)."""

LADDER_CMAP = "RdYlGn_r"

_MARKED = {"jump", "peak", "incident", "armed", "deaths", "article4", "article5", "alignment"}
"""Kinds of turning point drawn as a line on the after-action ladder (measures are listed)."""


def _info(sit: Any) -> RunInfo:
    seats = ", ".join(sit.seats)
    return RunInfo(
        sit.scenario,
        sit.title,
        1,
        sit.seed,
        label=f"replicate {sit.replicate} played as a game, seats: {seats}",
    )


def actor_colour(i: int) -> str:
    """The colour of the i-th actor."""
    return ACTOR_COLOURS[i % len(ACTOR_COLOURS)]


def situation_chart(sit: Any) -> Figure:
    """The one-screen situation picture: who stands where, measures in force, the track.

    Args:
        sit: A :class:`sim.play.seminar.Situation`.

    Returns:
        A 16:9 figure. The ladder axes has ``gid="ladder"``; each actor's badge is a text with
        ``gid="actor:<name>"`` placed at its rung (y = rung index); the track's current level is
        the patch with ``gid="track-level"``.
    """
    fig = new_figure(16.0, 9.0)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.75, 1.0), height_ratios=(1.0, 1.25))
    ax = fig.add_subplot(grid[:, 0], gid="ladder")
    n_rungs = len(sit.rungs)
    n = len(sit.standings)
    cmap = colormaps[LADDER_CMAP]
    for r in range(n_rungs):
        ax.axhspan(r - 0.5, r + 0.5, color=cmap(r / max(n_rungs - 1, 1)), alpha=0.22, lw=0)
        ax.axhline(r - 0.5, color="white", lw=2)
    for i, st in enumerate(sit.standings):
        colour = actor_colour(i)
        if st.previous is not None and st.previous != st.rung:
            ax.annotate(
                "",
                xy=(i, st.rung),
                xytext=(i, st.previous),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2.5, "alpha": 0.6},
            )
            ax.plot([i], [st.previous], "o", color=colour, mfc="white", ms=12, mew=2)
        ax.text(
            i,
            st.rung,
            st.label,
            ha="center",
            va="center",
            fontsize=17,
            fontweight="bold",
            color="white",
            gid=f"actor:{st.actor}",
            bbox={
                "boxstyle": "round,pad=0.45",
                "fc": colour,
                "ec": "black" if st.seat else colour,
                "lw": 3.5 if st.seat else 1,
            },
        )
        if st.change:
            ax.text(
                i + 0.36,
                st.rung,
                f"{'▲' if st.change > 0 else '▼'}{abs(st.change)}",
                ha="left",
                va="center",
                fontsize=13,
                color="#b00020" if st.change > 0 else "#1a5e1a",
                fontweight="bold",
            )
    ax.set_yticks(range(n_rungs), labels=list(sit.rungs), fontsize=14)
    ax.set_ylim(-0.5, n_rungs - 0.5)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xticks(
        range(n),
        labels=[f"{s.label}\n(seat)" if s.seat else s.label for s in sit.standings],
        fontsize=13,
    )
    ax.set_ylabel("rung on the escalation ladder (posture: daily move and measures)", fontsize=12)
    ax.set_xlabel("actor (framed: played by people; ○ → yesterday's rung)", fontsize=12)
    ax.tick_params(length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Who stands where", loc="left", fontsize=16, fontweight="bold")

    track = fig.add_subplot(grid[0, 1], gid="track")
    if sit.track:
        for j, level in enumerate(sit.track):
            here = j == sit.track_level
            reached = sit.track_level is not None and j <= sit.track_level
            track.barh(
                j,
                1.0,
                height=0.82,
                color=cmap(0.1 + 0.8 * j / max(len(sit.track) - 1, 1)) if reached else "0.93",
                alpha=0.6 if reached else 1.0,
                ec="black" if here else "none",
                lw=2.5,
                gid="track-level" if here else None,
            )
            track.text(
                0.04,
                j,
                ("► " if here else "") + level,
                va="center",
                fontsize=13,
                fontweight="bold" if here else "normal",
            )
        track.set_ylim(-0.5, len(sit.track) - 0.5)
        track.set_xlim(0, 1)
        track.set_title(
            f"{sit.track_actor}'s alignment",
            loc="left",
            fontsize=15,
            fontweight="bold",
        )
    else:
        track.text(0.0, 0.5, "no alignment track in this scenario", fontsize=13, va="center")
    track.set_axis_off()

    notes = fig.add_subplot(grid[1, 1], gid="notes")
    notes.set_axis_off()
    held = [f"{s.label}: {m}" for s in sit.standings for m in s.measures]
    lines = ["Measures in force"]
    shown = held[:8] or ["none"]
    lines += [w for h in shown for w in textwrap.wrap("• " + h, 46, subsequent_indent="   ")]
    if len(held) > len(shown):
        lines.append(f"   ... and {len(held) - len(shown)} more")
    done = [label for label, happened in sit.record if happened]
    lines += ["", "So far"]
    lines += textwrap.wrap(", ".join(done) if done else "no incident", 48)
    if sit.exercise:
        lines += textwrap.wrap(sit.exercise, 48)
    if sit.events:
        lines += ["", f"News of day {sit.day}"]
        news = [w for e in sit.events[:4] for w in textwrap.wrap("! " + e, 46)]
        lines += news + ([f"   ... and {len(sit.events) - 4} more"] if len(sit.events) > 4 else [])
    heads = {"Measures in force", "So far", f"News of day {sit.day}"}
    y = 1.0
    for line in lines[:24]:
        notes.text(
            0.0,
            y,
            line,
            va="top",
            fontsize=13.5 if line in heads else 12.5,
            fontweight="bold" if line in heads else "normal",
            transform=notes.transAxes,
        )
        y -= 0.062 if line else 0.035
    state = "game over" if sit.over else f"{sit.horizon - sit.day} days to the horizon"
    fig.suptitle(
        f"Day {sit.day} of {sit.horizon} · {sit.date} · {state}",
        x=0.01,
        ha="left",
        fontsize=22,
        fontweight="bold",
    )
    stamp_run_info(fig, _info(sit))
    return fig


def after_action_chart(aa: Any) -> Figure:
    """The after-action summary: the ladder day by day, the seats' choices, the branches.

    Args:
        aa: A :class:`sim.play.seminar.AfterAction`.

    Returns:
        A figure of three panels (gids ``ladder``, ``choices``, ``branches``): each actor's rung
        every day with the turning points marked; for each seat and day the probability the
        model gave the move chosen against that of the model's most likely move; the chances of
        the headline outcomes in the what-if branches by the day they branched from.
    """
    sit = aa.situation
    fig = new_figure(13.0, 12.0)
    ax, cx, bx = fig.subplots(3, 1, sharex=True, height_ratios=(1.5, 1.0, 1.1))
    ax.set_gid("ladder")
    cx.set_gid("choices")
    bx.set_gid("branches")
    hist = np.asarray(aa.rung_history)
    days = np.arange(hist.shape[0])
    n = hist.shape[1] if hist.ndim == 2 else 0
    for i, st in enumerate(sit.standings[:n]):
        dy = (i - (n - 1) / 2) * 0.07
        ax.step(
            days,
            hist[:, i] + dy,
            where="mid",
            color=actor_colour(i),
            lw=3.0 if st.seat else 1.8,
            label=st.label + (" (seat)" if st.seat else ""),
            gid=f"rung:{st.actor}",
        )
    marks: dict[int, list[str]] = {}
    for p in aa.turning_points:
        if p.kind in _MARKED:
            marks.setdefault(p.day, []).append(_short(p))
    top = len(sit.rungs) - 0.5
    for d, texts in marks.items():
        ax.axvline(d, color="0.35", ls=":", lw=1)
        ax.text(
            d + 0.08,
            top - 0.1,
            " · ".join(dict.fromkeys(texts)),
            fontsize=8,
            va="top",
            ha="left",
            color="0.2",
            rotation=90,
            gid=f"turning:{d}",
        )
    ax.set_yticks(range(len(sit.rungs)), labels=list(sit.rungs))
    ax.set_ylim(-0.5, top)
    ax.set_ylabel("rung on the escalation ladder")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.set_title(
        "Where each actor stood, day by day (dotted: turning points)",
        loc="left",
        fontweight="bold",
    )
    ax.grid(axis="y", color="0.92")

    seats = list(dict.fromkeys(c.seat for c in aa.choices))
    labels = {c.seat: c.label for c in aa.choices}
    for j, seat in enumerate(seats):
        i = next(k for k, s in enumerate(sit.standings) if s.actor == seat)
        mine = [c for c in aa.choices if c.seat == seat]
        x = np.array([c.day for c in mine])
        cx.plot(
            x,
            [100 * c.advised_p for c in mine],
            "o",
            mfc="white",
            mec=actor_colour(i),
            ms=10,
            mew=1.8,
            gid=f"advised:{seat}",
        )
        cx.plot(
            x,
            [100 * c.chosen_p for c in mine],
            "o",
            color=actor_colour(i),
            ms=6,
            gid=f"chosen:{seat}",
        )
        for c in mine:
            if not c.followed:
                cx.plot([c.day, c.day], [100 * c.chosen_p, 100 * c.advised_p], color="0.5", lw=1)
        del j
    handles = [
        Line2D([], [], marker="o", ls="", color="0.3", ms=6, label="move the seat chose"),
        Line2D(
            [], [], marker="o", ls="", mfc="white", mec="0.3", ms=10, label="model's most likely"
        ),
    ]
    handles += [
        Line2D([], [], color=actor_colour(k), lw=3, label=labels[s.actor])
        for k, s in enumerate(sit.standings)
        if s.actor in labels
    ]
    cx.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False
    )
    cx.set_ylim(-4, 104)
    cx.yaxis.set_major_formatter(PercentFormatter())
    cx.set_ylabel("model's probability (%)")
    cx.set_title(
        "The seats' choices against the model's advice (a gap: the seat went its own way)",
        loc="left",
        fontweight="bold",
    )
    cx.grid(axis="y", color="0.92")
    if not aa.choices:
        cx.text(0.5, 0.5, "no day was played", transform=cx.transAxes, ha="center")

    if aa.branches:
        keys = list(dict.fromkeys(k for b in aa.branches for k, *_ in b.rows))
        names = {k: label for b in aa.branches for k, label, *_ in b.rows}
        cmap = colormaps["tab10"]
        for q, key in enumerate(keys):
            pts = [(b.day, r) for b in aa.branches for r in b.rows if r[0] == key]
            x = np.array([d for d, _ in pts], dtype=float) + (q - (len(keys) - 1) / 2) * 0.08
            est = np.array([100 * r[2] for _, r in pts])
            lo = np.array([100 * r[3] for _, r in pts])
            hi = np.array([100 * r[4] for _, r in pts])
            bx.errorbar(
                x,
                est,
                yerr=[est - lo, hi - est],
                fmt="o-",
                color=cmap(q % 10),
                capsize=3,
                lw=1.5,
                label="\n".join(textwrap.wrap(names[key], 34)),
                gid=f"branch:{key}",
            )
        bx.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        bx.set_ylim(-4, 104)
    else:
        bx.text(
            0.5,
            0.5,
            "no what-if was asked during the game",
            transform=bx.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="0.3",
        )
        bx.set_ylim(0, 100)
    bx.yaxis.set_major_formatter(PercentFormatter())
    bx.set_ylabel("chance in the branched worlds (%)")
    bx.set_title(
        "What-if: worlds branched from the end of a day (95% Wilson intervals)",
        loc="left",
        fontweight="bold",
    )
    bx.grid(axis="y", color="0.92")
    bx.set_xlabel(day_label(aa.start_date))
    bx.set_xlim(-0.5, max(sit.day, 1) + 0.5)
    followed = "; ".join(
        f"{labels[s]} took the model's most likely move on {aa.followed(s)[0]} of "
        f"{aa.followed(s)[1]} days"
        for s in seats
    )
    head = [f"After action: {sit.title}", f"{sit.day} of {sit.horizon} days played"]
    head += textwrap.wrap(followed, 120)
    fig.suptitle(
        "\n".join(head),
        x=0.01,
        ha="left",
        fontsize=13,
        fontweight="bold",
    )
    stamp_run_info(fig, _info(sit))
    return fig


def _short(p: Any) -> str:
    """A turning point in a few words for the chart (the text file has the whole sentence)."""
    short = {
        "incident": "incident",
        "armed": "armed clash",
        "deaths": "deaths",
        "article4": "Article 4",
        "article5": "Article 5",
    }
    if p.kind in short:
        return short[p.kind]
    if p.kind == "alignment":
        return p.text.split(": ", 1)[0].replace("'s alignment", "") + ": " + p.text.split("-> ")[-1]
    if p.kind == "peak":
        return "new high: " + p.text.removeprefix("the crisis reaches ").split(" (")[0]
    return p.text.split(":")[0]


__all__ = ["ACTOR_COLOURS", "actor_colour", "after_action_chart", "situation_chart"]
