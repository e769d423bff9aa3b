"""What the explorer shows a student: labelled, grouped sliders and the world as a ladder picture.

The sliders of :func:`sim.explore.model.controls` are grouped by actor and mechanism and
labelled from the scenario (:mod:`sim.report.parameters`), each with its provenance tag from the
scenario file (``[source]``, ``[assumption]``, ``calibrated``, ...) and its distribution. The
one-world panel draws every actor's rung day by day as an SVG ladder picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from sim.explore.model import Control, controls


@dataclass(frozen=True)
class Slider:
    """One slider as the page shows it.

    Attributes:
        control: Its bounds, default and step.
        group: The actor's label or the mechanism's title.
        label: Short readable name.
        description: What the parameter means (from the schema).
        tag: Provenance tag from the scenario file.
        distribution: The declared distribution (every slider is an uncertain parameter).
    """

    control: Control
    group: str
    label: str
    description: str
    tag: str
    distribution: str

    def matches(self, query: str) -> bool:
        """Whether every word of a search query occurs in the label, group, description, tag
        or path (case-insensitive)."""
        text = " ".join(
            (self.label, self.group, self.description, self.tag, self.control.path)
        ).lower()
        return all(w in text for w in query.lower().split())


def sliders(scenario: Any, source: str | Path | None) -> list[tuple[str, list[Slider]]]:
    """The explorer's sliders grouped by actor and mechanism, in the scenario's order.

    Args:
        scenario: The scenario as picked (before any slider moved).
        source: Its file, for the provenance tags (None: tags are not read).
    """
    from sim.report import assumptions_table
    from sim.report.parameters import describe_parameter

    rows, _ = assumptions_table(scenario, str(source) if source else None, ())
    by_path = {r["path"]: r for r in rows}
    groups: dict[str, list[Slider]] = {}
    for c in controls(scenario):
        p = describe_parameter(scenario, c.path)
        row = by_path.get(c.path, {})
        groups.setdefault(p.group, []).append(
            Slider(
                control=c,
                group=p.group,
                label=p.label,
                description=p.description,
                tag=str(row.get("tag", "untagged")),
                distribution=str(row.get("value", "")),
            )
        )
    return list(groups.items())


RUNG_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def ladder_svg(history: list[list[int]], scenario: Any, width: int = 620) -> str:
    """Every actor's rung, day by day, in one world: a step line per actor on the ladder.

    Args:
        history: Per day simulated so far (day 0 first), each actor's rung index.
        scenario: The scenario (rung labels, actor labels, horizon).
        width: Pixels.

    Returns:
        An SVG element; each actor's line carries ``data-actor`` and its last point
        ``data-rung`` (for tests and for people reading the page's source).
    """
    rungs = [r.label for r in scenario.ladder]
    actors = [a.label for a in scenario.actors.values()]
    days = max(int(scenario.horizon_days), 1)
    left, right, top, row_h = 150, 190, 26, 22
    plot_w = width - left - right
    height = top + row_h * len(rungs) + 34

    def x(day: int) -> float:
        return left + plot_w * day / days

    def y(rung: float) -> float:
        return top + row_h * (len(rungs) - 1 - rung) + row_h / 2

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" font-family="sans-serif" font-size="11" class="ladder">',
        f'<text x="{left}" y="14" fill="#444">Where each actor stands on the escalation '
        f"ladder, day by day (day {len(history) - 1} of {days})</text>",
    ]
    for i, name in enumerate(rungs):
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(i)}" y2="{y(i)}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(i) + 4}" text-anchor="end" fill="#333">'
            f"{escape(name)}</text>"
        )
    for d in range(0, days + 1, max(1, days // 6)):
        out.append(
            f'<text x="{x(d):.1f}" y="{height - 16}" text-anchor="middle" fill="#666">{d}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 3}" text-anchor="middle" fill="#666">'
        "day of the scenario</text>"
    )
    n = len(actors)
    for a, label in enumerate(actors):
        colour = RUNG_COLOURS[a % len(RUNG_COLOURS)]
        # Lines of actors on the same rung would hide each other: each gets a small offset.
        dy = (a - (n - 1) / 2) * 2.2
        points: list[str] = []
        for d, day in enumerate(history):
            r = day[a]
            if points:
                points.append(f"{x(d):.1f},{points[-1].split(',')[1]}")
            points.append(f"{x(d):.1f},{y(r) + dy:.1f}")
        last = history[-1][a] if history else 0
        if points:
            out.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="2" data-actor="{escape(label)}" data-rung="{last}"/>'
            )
        # The key doubles as today's reading: each actor and its rung, one line each.
        out.append(
            f'<text x="{left + plot_w + 10}" y="{top + 8 + 15 * a}" fill="{colour}" '
            f'font-weight="bold">{escape(label)}: '
            f'<tspan font-weight="normal">{escape(rungs[last])}</tspan></text>'
        )
    out.append("</svg>")
    return "".join(out)


__all__ = ["Slider", "ladder_svg", "sliders"]
