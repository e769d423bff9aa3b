"""Outcome columns as people read them: labels, groups, units and percentages.

The runner's tables name outcomes by identifier (``china_escalates``,
``first_armed_incident_cause=``, ``mean:poland_blockade_cost_musd``). This module is the one
place that turns those names into what a briefing says, so the terminal summary, the report,
the charts and ``compare`` all say the same thing:

* the scenario's declared outcomes come first, labelled by their declared description, beside
  the armed incident the scenario defines by its ``armed_incident_rung``;
* categories are written as words ("no armed incident", not ``first_armed_incident_cause=``);
* a mean over no world, or a value that is zero in every world, is "never happened" instead of
  ``nan [nan, nan]`` or ``0 [0, 0]``;
* costs carry their unit, days their word, probabilities are percentages with intervals.

Nothing here names an actor: actor-specific columns are recognised by the naming conventions
of :func:`sim.model.outcomes.metrics` (``<actor>_alignment_max``, ``<actor>_blockade_cost_musd``,
...) and labelled with the scenario's own actor, rung, level and end-state labels. A column this
module does not know still gets a readable label (its identifier in words) in "Other outcomes",
so a new outcome shows up instead of disappearing.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

HEADLINE = "headline"

GROUPS: dict[str, str] = {
    HEADLINE: "Headline outcomes",
    "end": "How the crisis ends",
    "incidents": "Armed and staged incidents",
    "alignment": "The aligning actor's track",
    "attribution": "Who is blamed for the incident",
    "transit": "The transit blockade",
    "record": "The dispute record (Correlates of War terms)",
    "other": "Other outcomes",
}
"""Group key -> title, in the order groups are shown."""

NEVER = "never happened"
ZERO = "0 in every world"

_STAT_ORDER = {"probability": 0, "median": 1, "mean": 2}

_RECORD = {
    "dispute": ("A militarized dispute began (hostility level 2 or more)", ""),
    "reciprocated": ("The dispute's target answered in kind (reciprocated)", ""),
    "hostility_level": (
        "Highest hostility level",
        "Correlates of War scale: 1 no militarized action, 2 threat, 3 display, 4 use of force, "
        "5 war",
    ),
    "dispute_days": ("Length of the dispute", "from its first to its last militarized act"),
    "days": ("Days simulated", "fewer than the horizon when a world ends in an absorbing state"),
}


@dataclass(frozen=True)
class Label:
    """What an outcome row is, for a reader.

    Attributes:
        key: The row's identifier in the tables (``column``, ``column=category``,
            ``mean:column`` or ``median:column``).
        column: The outcome column the row is about.
        category: The category of a text column's row (``None`` otherwise).
        stat: ``probability``, ``mean`` or ``median``.
        group: Key of :data:`GROUPS`.
        label: The row's name in words.
        description: A longer explanation ('' when the label says it all).
        unit: ``percent``, ``day`` (a day of the scenario), ``days`` (a duration),
            ``musd`` (US$ million), ``share`` (0-1 shown as a percentage) or ``number``.
    """

    key: str
    column: str
    category: str | None
    stat: str
    group: str
    label: str
    description: str
    unit: str


@dataclass(frozen=True)
class Row:
    """One labelled row of a run's summary, formatted.

    Attributes:
        label: Its :class:`Label`.
        estimate: The estimate (NaN when there is none).
        ci_low: Lower end of its 95% interval.
        ci_high: Upper end.
        n: Worlds the row is about.
        text: The estimate as written ("63.1%", "day 6", "US$ 120 million", "never happened").
        interval: The interval as written ('' when the row never happened).
        happened: False for a mean over no world or a value that is zero in every world.
    """

    label: Label
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    text: str
    interval: str
    happened: bool


@dataclass(frozen=True)
class ComparisonRow:
    """One labelled row of a paired comparison, formatted (A, B, B - A and its interval)."""

    label: Label
    a: str
    b: str
    diff: str
    interval: str
    difference: float
    ci_low: float
    ci_high: float
    happened: bool
    sort_key: float = 0.0


@dataclass(frozen=True)
class Group:
    """Rows under one heading; ``quiet`` lists the labels of rows that never happened."""

    key: str
    title: str
    rows: tuple[Any, ...]
    quiet: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- labels


def _words(identifier: str) -> str:
    return identifier.replace("_", " ").strip()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


class Labeller:
    """Labels for the outcome rows of one scenario (or of none: identifiers in words).

    Args:
        scenario: The validated scenario the rows come from, or None.
    """

    def __init__(self, scenario: Any | None = None):
        self.scenario = scenario
        actors = getattr(scenario, "actors", None) or {}
        self.actors: dict[str, str] = {k: str(getattr(a, "label", k)) for k, a in actors.items()}
        self.declared: dict[str, str] = {}
        outcomes = getattr(scenario, "outcomes", None)
        for name, d in (getattr(outcomes, "declared", None) or {}).items():
            self.declared[name] = str(getattr(d, "description", "") or "")
        self.end_states = {
            e.name: str(e.label) for e in (getattr(scenario, "end_states", None) or [])
        }
        ladder = getattr(scenario, "ladder", None) or []
        self.rungs = {r.name: str(r.label) for r in ladder}
        self.rung_list = [str(r.label) for r in ladder]
        self.incident_rung = getattr(outcomes, "armed_incident_rung", None)
        self.track = list(getattr(scenario, "alignment_track", None) or [])
        start = getattr(scenario, "start_date", None)
        self.start: dt.date | None = start if isinstance(start, dt.date) else None

    def actor(self, name: str) -> str:
        """An actor's label (its name in words when the scenario does not know it)."""
        return self.actors.get(name, _cap(_words(name)))

    def _split_actor(self, column: str, suffixes: Iterable[str]) -> tuple[str, str] | None:
        for suffix in suffixes:
            if column.endswith(suffix):
                who = column[: -len(suffix)]
                if who in self.actors or (not self.actors and who):
                    return who, suffix
        return None

    def _day_note(self) -> str:
        if self.start is None:
            return ""
        return f"day 0 is {self.start.day} {self.start:%B} {self.start.year}"

    def _scale(self, names: Sequence[str]) -> str:
        return ", ".join(f"{i} {n}" for i, n in enumerate(names))

    def describe(self, key: str) -> Label:
        """The :class:`Label` of a summary or comparison row name.

        Args:
            key: ``column``, ``column=category``, ``mean:column`` or ``median:column``.
        """
        stat = "probability"
        column = key
        for prefix in ("mean:", "median:"):
            if key.startswith(prefix):
                stat, column = prefix[:-1], key[len(prefix) :]
        category: str | None = None
        if stat == "probability" and "=" in column:
            column, category = column.split("=", 1)
        group, label, desc, unit = self._column(column, category, stat)
        if stat != "probability":
            label = f"{label}, {stat}"
        return Label(key, column, category, stat, group, label, desc, unit)

    def _column(self, c: str, cat: str | None, stat: str) -> tuple[str, str, str, str]:
        """(group, label, description, unit) of one column (and category)."""
        unit = "percent" if stat == "probability" else "number"
        if c in self.declared:
            desc = self.declared[c]
            return HEADLINE, _cap(desc) if desc else _cap(_words(c)), "", unit
        if c == "armed_incident":
            rung = self.rungs.get(str(self.incident_rung), "")
            desc = (
                f"force used across a border at some time, by choice or accident "
                f"(the ladder's \u201c{rung}\u201d rung or above)"
                if rung
                else "force used across a border at some time, by choice or accident"
            )
            return HEADLINE, "An armed incident on a border", desc, unit
        if c == "end_state":
            if cat is None:
                return "end", "End state", "", unit
            return "end", f"Ends in: {self.end_states.get(cat, _words(cat))}", "", unit
        if c == "max_rung":
            return (
                "end",
                "Highest rung any actor reached",
                "ladder position: " + self._scale(self.rung_list),
                "number",
            )
        if c == "first_armed_incident_cause":
            words = {
                "": "No armed incident",
                "none": "No armed incident",
                "chosen": "First armed incident chosen (an actor opened fire)",
                "accident": "First armed incident by accident",
            }
            return (
                "incidents",
                words.get(cat or "", f"First armed incident: {_words(cat or '')}"),
                "",
                unit,
            )
        if c == "first_armed_incident_day":
            return "incidents", "Day of the first armed incident", self._day_note(), "day"
        if c == "staged_incident":
            return "incidents", "An incident was staged", "a fabricated pretext", unit
        if c == "staged_incident_day":
            return "incidents", "Day of the staged incident", self._day_note(), "day"
        if c == "fatal":
            return (
                "incidents",
                "At least one death",
                "drawn per use of force and per accident",
                unit,
            )
        hit = self._split_actor(c, ("_alignment_final", "_alignment_max", "_escalation_day"))
        if hit:
            who, suffix = self.actor(hit[0]), hit[1]
            scale = "track level: " + self._scale([_words(t) for t in self.track])
            if suffix == "_alignment_final":
                return "alignment", f"{who}'s alignment level on the last day", scale, "number"
            if suffix == "_alignment_max":
                return "alignment", f"{who}'s highest alignment level", scale, "number"
            return (
                "alignment",
                f"Day {who} first reached its escalation level",
                self._day_note(),
                "day",
            )
        hit = self._split_actor(c, ("_belief_west", "_blames_incident_on"))
        if hit:
            who, suffix = self.actor(hit[0]), hit[1]
            if suffix == "_belief_west":
                return (
                    "attribution",
                    f"{who}'s belief that the West caused the incident",
                    "0-100%, at the end, over the worlds with an incident",
                    "share",
                )
            words = {"west": "the West", "east": "the East"}
            if cat in (None, "", "none"):
                return "attribution", "No incident (nobody to blame)", "", unit
            return (
                "attribution",
                f"{who} blames {words.get(cat, _words(cat))} for the incident",
                "",
                unit,
            )
        if c == "blockade_days":
            return "transit", "Days the transit blockade was in force", "", "days"
        hit = self._split_actor(c, ("_blockade_cost_musd",))
        if hit:
            return (
                "transit",
                f"What the blockade cost {self.actor(hit[0])}",
                "over the whole scenario",
                "musd",
            )
        hit = self._split_actor(c, ("_blames_blockade_on",))
        if hit:
            who = self.actor(hit[0])
            if cat in (None, "", "none"):
                return "transit", "No blockade (nobody to blame)", "", unit
            return "transit", f"{who} blames {self.actor(cat)} for the blockade", "", unit
        if c == "dispute_initiator":
            if cat in (None, "", "none"):
                return "record", "No dispute", "", unit
            return "record", f"Dispute opened by {self.actor(cat)}", "", unit
        if c in _RECORD:
            label, desc = _RECORD[c]
            return "record", label, desc, "days" if c.endswith("days") else unit
        # An outcome this module does not know yet: its identifier in words, never dropped.
        text = _cap(_words(c)) + (f": {_words(cat)}" if cat not in (None, "") else "")
        if c.endswith("_day"):
            unit = "day"
        elif c.endswith("_days"):
            unit = "days"
        elif c.endswith("_musd"):
            unit = "musd"
        return "other", text, "", unit

    def labels(self, keys: Iterable[str]) -> dict[str, str]:
        """Row name -> label, for chart axes."""
        return {k: self.describe(k).label for k in keys}


# ----------------------------------------------------------------------------- formatting


def _missing(x: Any) -> bool:
    try:
        return x is None or x is pd.NA or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def pct(x: Any, digits: int = 1) -> str:
    """A probability as a percentage ("63.1%"); "-" when missing."""
    return "-" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def _num(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def value(x: Any, unit: str) -> str:
    """One value in its unit ("63.1%", "day 6", "12.5 days", "US$ 120 million")."""
    if _missing(x):
        return "-"
    x = float(x)
    if unit in ("percent", "share"):
        return pct(x)
    if unit == "day":
        return f"day {x:.3g}"
    if unit == "days":
        return f"{x:.3g} days"
    if unit == "musd":
        return f"US$ {_num(x)} million"
    return _num(x)


def interval(lo: Any, hi: Any, unit: str) -> str:
    """An interval in its unit, the unit written once ("[61.0%, 65.2%]", "[day 5, 7]")."""
    if _missing(lo) or _missing(hi):
        return ""
    if unit in ("percent", "share"):
        return f"[{pct(lo)}, {pct(hi)}]"
    if unit == "day":
        return f"[day {float(lo):.3g}, {float(hi):.3g}]"
    if unit == "days":
        return f"[{float(lo):.3g}, {float(hi):.3g}] days"
    if unit == "musd":
        return f"[{_num(float(lo))}, {_num(float(hi))}] US$ million"
    return f"[{_num(float(lo))}, {_num(float(hi))}]"


def signed(x: Any, unit: str) -> str:
    """A difference: percentage points for probabilities, the unit otherwise."""
    if _missing(x):
        return "-"
    x = float(x)
    if unit in ("percent", "share"):
        return f"{100 * x:+.1f}pp"
    if unit == "musd":
        return f"{x:+,.3g} US$ m"
    return f"{x:+,.3g}" if abs(x) < 1000 else f"{x:+,.0f}"


def _never(stat: str, estimate: float, lo: float, hi: float, n: int) -> str | None:
    """Why a numeric row has nothing to say, or None when it has."""
    if stat == "probability":
        return None
    if n == 0 or _missing(estimate):
        return NEVER
    if estimate == 0 and lo == 0 and hi == 0:
        return ZERO
    return None


# ----------------------------------------------------------------------------- tables


_ORDINAL = ("end_state", "first_armed_incident_cause")
"""Text outcomes whose categories keep their order (severity, cause); the others (who opened
the dispute, whom an actor blames) read best most likely first."""


def _order(labels: Sequence[Label], labeller: Labeller, estimates: Sequence[float]) -> list[int]:
    """Indexes of rows in reading order: group, then declared order / first appearance; the
    categories of a non-ordinal column by falling estimate, its 'none' category last."""
    group_rank = {g: i for i, g in enumerate(GROUPS)}
    declared = {name: i for i, name in enumerate(["armed_incident", *labeller.declared])}
    first: dict[str, int] = {}
    for i, lab in enumerate(labels):
        first.setdefault(lab.column, i)

    def key(i: int) -> tuple[int, int, int, float, int]:
        lab = labels[i]
        within = declared.get(lab.column, len(declared) + first[lab.column])
        rank = 0.0
        if lab.category is not None and lab.column not in _ORDINAL:
            est = estimates[i]
            rank = 2.0 if lab.category in ("", "none") else (-est if est == est else 1.0)
        return (
            group_rank.get(lab.group, len(group_rank)),
            within,
            _STAT_ORDER[lab.stat],
            rank,
            i,
        )

    return sorted(range(len(labels)), key=key)


def _grouped(rows: list[Any], labeller: Labeller) -> list[Group]:
    out: list[Group] = []
    estimates = [float(getattr(r, "estimate", getattr(r, "sort_key", 0.0))) for r in rows]
    for i in _order([r.label for r in rows], labeller, estimates):
        r = rows[i]
        if not out or out[-1].key != r.label.group:
            title = GROUPS.get(r.label.group, GROUPS["other"])
            if r.label.group == "alignment" and labeller.scenario is not None:
                track = getattr(labeller.scenario, "alignment", None)
                if track is not None:
                    title = f"{labeller.actor(track.actor)}'s alignment track"
            out.append(Group(r.label.group, title, ()))
        g = out[-1]
        if r.happened:
            out[-1] = replace(g, rows=(*g.rows, r))
        else:
            out[-1] = replace(g, quiet=(*g.quiet, r.label.label))
    return out


def present_summary(summary: pd.DataFrame, scenario: Any | None = None) -> list[Group]:
    """A run's summary table as labelled, grouped, formatted rows; headline group first.

    Args:
        summary: Rows ``outcome, estimate, ci_low, ci_high, n, kind`` (``summary.csv``).
        scenario: The run's validated scenario (labels, descriptions, dates), or None.

    Returns:
        Groups in :data:`GROUPS` order; rows that never happened are in each group's
        ``quiet`` list instead of its rows.
    """
    labeller = Labeller(scenario)
    rows: list[Row] = []
    for r in summary.to_dict("records"):
        lab = labeller.describe(str(r["outcome"]))
        if r.get("kind") in ("mean", "median") and lab.stat == "probability":
            lab = replace(lab, stat=str(r["kind"]))
        est, lo, hi = (float(r[k]) for k in ("estimate", "ci_low", "ci_high"))
        n = int(r["n"])
        never = _never(lab.stat, est, lo, hi, n)
        unit = lab.unit
        rows.append(
            Row(
                label=lab,
                estimate=est,
                ci_low=lo,
                ci_high=hi,
                n=n,
                text=never or value(est, unit),
                interval="" if never else interval(lo, hi, unit),
                happened=never is None,
            )
        )
    return _grouped(rows, labeller)


def present_comparison(table: pd.DataFrame, scenario: Any | None = None) -> list[Group]:
    """A paired comparison table (``escalation compare``) as labelled, grouped rows.

    Args:
        table: Rows ``outcome, estimate_a, estimate_b, difference, ci_low, ci_high, kind``.
        scenario: Scenario A (labels come from it; B differs only by its overrides or file).
    """
    labeller = Labeller(scenario)
    rows: list[ComparisonRow] = []
    for r in table.to_dict("records"):
        lab = labeller.describe(str(r["outcome"]))
        kind = str(r.get("kind", lab.stat))
        if kind in ("mean", "median") and lab.stat == "probability":
            lab = replace(lab, stat=kind)
        unit = lab.unit
        a, b = float(r["estimate_a"]), float(r["estimate_b"])
        lo, hi, d = float(r["ci_low"]), float(r["ci_high"]), float(r["difference"])
        never = lab.stat != "probability" and (
            (_missing(a) and _missing(b)) or (a == 0 and b == 0 and lo == 0 and hi == 0)
        )
        rows.append(
            ComparisonRow(
                label=lab,
                a=value(a, unit),
                b=value(b, unit),
                diff=signed(d, unit),
                interval=""
                if _missing(lo) or _missing(hi)
                else f"[{signed(lo, unit)}, {signed(hi, unit)}]",
                difference=d,
                ci_low=lo,
                ci_high=hi,
                happened=not never,
                sort_key=b,
            )
        )
    return _grouped(rows, labeller)


def headline(groups: Sequence[Group]) -> Group | None:
    """The headline group (the scenario's declared outcomes), if any."""
    return next((g for g in groups if g.key == HEADLINE), None)


def chart_labels(scenario: Any | None, keys: Iterable[str]) -> Mapping[str, str]:
    """Row name -> readable label for chart axes (see :meth:`Labeller.labels`)."""
    return Labeller(scenario).labels(keys)


# ----------------------------------------------------------------------------- terminal


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def format_groups(groups: Sequence[Group], width: int = 50) -> str:
    """A run's labelled summary as aligned text, one block per group (headline first).

    Args:
        groups: From :func:`present_summary`.
        width: Characters of the label column (longer labels wrap).
    """
    lines: list[str] = []
    for g in groups:
        if lines:
            lines.append("")
        lines.append(f"{g.title:<{width + 2}}{'estimate':>11}  {'95% interval':<22}worlds")
        for r in g.rows:
            label = _wrap(r.label.label, width)
            for j, part in enumerate(label):
                if j < len(label) - 1:
                    lines.append(f"  {part}")
                else:
                    lines.append(f"  {part:<{width}}{r.text:>11}  {r.interval:<22}{r.n:,}")
        if g.quiet:
            note = "not in any world: " + "; ".join(q[:1].lower() + q[1:] for q in g.quiet)
            lines += [f"  {t}" for t in _wrap(note, width + 38)]
    return "\n".join(lines)


def format_comparison_groups(groups: Sequence[Group], width: int = 52) -> str:
    """A paired comparison's labelled rows as aligned text, one block per group."""
    lines: list[str] = []
    for g in groups:
        if lines:
            lines.append("")
        lines.append(
            f"{g.title:<{width + 2}}{'A':>14}  {'B':>14}  {'B - A':>9}  paired 95% interval"
        )
        for r in g.rows:
            label = _wrap(r.label.label, width)
            for j, part in enumerate(label):
                if j < len(label) - 1:
                    lines.append(f"  {part}")
                else:
                    lines.append(
                        f"  {part:<{width}}{r.a:>14}  {r.b:>14}  {r.diff:>9}  {r.interval}"
                    )
        if g.quiet:
            # Paired means are over the worlds where both runs have a value (compare_paired).
            note = "in no world of both A and B (a paired mean needs both): " + "; ".join(
                q[:1].lower() + q[1:] for q in g.quiet
            )
            lines += [f"  {t}" for t in _wrap(note, width + 50)]
    return "\n".join(lines)


__all__ = [
    "GROUPS",
    "ComparisonRow",
    "Group",
    "Label",
    "Labeller",
    "Row",
    "chart_labels",
    "format_comparison_groups",
    "format_groups",
    "headline",
    "interval",
    "pct",
    "present_comparison",
    "present_summary",
    "signed",
    "value",
]
