"""Seminar mode: what a room reads from a projector during a game, and what it reads after it.

Two records, both data (the charts in :mod:`sim.charts.seminar` draw them, the terminal prints
them, nothing here draws or writes a file):

* :func:`situation`: the one-screen situation picture of a game's world now - each actor's rung
  on the escalation ladder (and how it moved since yesterday), the lasting measures in force,
  the aligning actor's track, the day against the horizon, and what became public yesterday.
  It shows only what every seat may know (no staging, no hidden truth), so a facilitator can put
  it on the wall in front of every team.
* :func:`after_action`: the after-action summary of a game - its turning points (days where a
  rung jumped or the crisis reached a new high, the first incident and armed clash, deaths,
  Articles 4 and 5, the aligning actor's moves, measures started and ended), each seat's choice
  every day against the model's advice (the move the model held most likely and its probability,
  and the probability it gave the seat's own move), and how the what-if branches asked from each
  day differed. :func:`after_action_text` writes it as Markdown.

Both are read from the game's trace (the same records ``escalation replay`` tells), so a game
rebuilt from its log gives the same summary as the game that was played.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.play.game import Game

JUMP = 2
"""A rung rise of at least this many steps in one day is a turning point."""


def _words(identifier: str) -> str:
    text = identifier.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _date(start: dt.date, day: int) -> str:
    d = start + dt.timedelta(days=day)
    return f"{d.day} {d:%B %Y}"


# ----------------------------------------------------------------------------- the picture


@dataclass(frozen=True)
class Standing:
    """Where one actor stands today.

    Attributes:
        actor: Its name (``poland``).
        label: Its label (``Poland``).
        rung: Its rung index on the ladder (0 = the lowest).
        previous: Its rung the day before (None on day 0).
        seat: Whether a person plays it.
        measures: Labels of its lasting measures in force (``Block rail transit -> Belarus``).
    """

    actor: str
    label: str
    rung: int
    previous: int | None
    seat: bool
    measures: tuple[str, ...]

    @property
    def change(self) -> int:
        """Rungs moved since yesterday (+ up, - down, 0 on day 0)."""
        return 0 if self.previous is None else self.rung - self.previous


@dataclass(frozen=True)
class Situation:
    """The situation picture of a game's world at the end of a day (public knowledge only).

    Attributes:
        scenario: Scenario name.
        title: Scenario title.
        seed: The game's seed.
        replicate: Which replicate's world is played.
        day: The last day played (0 before the first).
        horizon: The scenario's horizon in days.
        date: The calendar date of ``day``.
        over: Whether the game is over.
        rungs: Rung labels, lowest first.
        standings: One per actor, in the scenario's order.
        track: The aligning actor's track levels in words, lowest first (empty without one).
        track_actor: The aligning actor's label ('' without a track).
        track_level: Its level index today (None without a track).
        record: The public record so far: ``(label, happened)`` pairs (incident, armed clash,
            deaths, Article 4, Article 5).
        exercise: The joint exercise and whether it is under way today ('' without one).
        events: What became public on ``day``.
    """

    scenario: str
    title: str
    seed: int
    replicate: int
    day: int
    horizon: int
    date: str
    over: bool
    rungs: tuple[str, ...]
    standings: tuple[Standing, ...]
    track: tuple[str, ...]
    track_actor: str
    track_level: int | None
    record: tuple[tuple[str, bool], ...]
    exercise: str
    events: tuple[str, ...]

    @property
    def seats(self) -> tuple[str, ...]:
        """Labels of the actors people play."""
        return tuple(s.label for s in self.standings if s.seat)


def situation(game: Game) -> Situation:
    """The situation picture of the game's world now (see :class:`Situation`)."""
    m = game.model
    s = game.scenario
    t = m.tables
    st = m.state
    day = game.day
    prev = m.trace.states.get(day - 1) if m.trace is not None and day >= 1 else None
    held: dict[int, list[str]] = {i: [] for i in range(t.n_actors)}
    for k in np.flatnonzero(st.on[0]):
        b = int(t.slot_target[k])
        aim = f" -> {s.actors[t.names[b]].label}" if b >= 0 else ""
        held[int(t.slot_actor[k])].append(f"{s.measures[t.slot_measure[k]].label}{aim}")
    standings = tuple(
        Standing(
            actor=name,
            label=game.label(name),
            rung=int(st.rung[0, i]),
            previous=None if prev is None else int(prev.rung[0, i]),
            seat=name in game.seats,
            measures=tuple(held[i]),
        )
        for i, name in enumerate(t.names)
    )
    has_track = s.alignment is not None and t.aligner >= 0
    record = (
        ("Incident on the border", bool(st.incident[0])),
        ("Armed clash", bool(st.armed[0])),
        ("Deaths", bool(st.fatal[0])),
        ("Article 4 consultations", bool(st.article4[0])),
        ("Article 5 invoked", bool(st.article5[0])),
    )
    exercise = ""
    if s.exercise is not None:
        ex = s.exercise
        end = int(st.exercise_end[0])
        if ex.start_day <= day <= end:
            exercise = f"{ex.name}: under way (days {ex.start_day}-{end})"
        elif day < ex.start_day:
            exercise = f"{ex.name}: from day {ex.start_day}"
        else:
            exercise = f"{ex.name}: ended on day {end}"
    return Situation(
        scenario=s.name,
        title=s.title,
        seed=game.seed,
        replicate=game.replicate,
        day=day,
        horizon=int(s.horizon_days),
        date=_date(s.start_date, day),
        over=game.over,
        rungs=tuple(r.label for r in s.ladder),
        standings=standings,
        track=tuple(_words(x) for x in s.alignment_track) if has_track else (),
        track_actor=game.aligner_label() if has_track else "",
        track_level=int(st.alignment[0]) if has_track else None,
        record=record,
        exercise=exercise,
        events=tuple(game.public_events()),
    )


def situation_text(sit: Situation) -> str:
    """The situation picture as plain text (for a file or a terminal without colour)."""
    lines = [
        f"Situation on day {sit.day} of {sit.horizon} ({sit.date}) - {sit.title}",
        f"seats: {', '.join(sit.seats)}; scenario {sit.scenario}, seed {sit.seed}, "
        f"replicate {sit.replicate}",
        "",
    ]
    width = max(len(r) for r in sit.rungs)
    for i in range(len(sit.rungs) - 1, -1, -1):
        who = [
            s.label + (f" ({s.change:+d})" if s.change else "")
            for s in sit.standings
            if s.rung == i
        ]
        lines.append(f"  {sit.rungs[i]:<{width}} | {', '.join(who)}")
    if sit.track:
        marks = [f"[{x}]" if i == sit.track_level else x for i, x in enumerate(sit.track)]
        lines += ["", f"{sit.track_actor}'s alignment: {' > '.join(marks)}"]
    lines += ["", "Measures in force:"]
    held = [f"  {s.label}: {m}" for s in sit.standings for m in s.measures]
    lines += held or ["  none"]
    done = [label for label, happened in sit.record if happened]
    lines += ["", f"So far: {', '.join(done) if done else 'no incident'}"]
    if sit.exercise:
        lines.append(f"Exercise: {sit.exercise}")
    if sit.events:
        lines += ["", f"Day {sit.day}:"] + [f"  ! {e}" for e in sit.events]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- after action


@dataclass(frozen=True)
class TurningPoint:
    """Something that changed the game on one day.

    Attributes:
        day: The day.
        kind: ``jump`` (a rung rose by :data:`JUMP` or more), ``peak`` (the crisis reached a
            rung no actor had stood on before), ``incident``, ``armed``, ``deaths``,
            ``article4``, ``article5``, ``alignment``, ``measure`` (started) or ``measure_end``.
        text: What happened, in words.
    """

    day: int
    kind: str
    text: str


@dataclass(frozen=True)
class Choice:
    """One seat's move on one day against the model's advice that day.

    Attributes:
        day: The day.
        seat: The seat's actor name.
        label: The seat's label.
        chosen: The move the seat chose, in words.
        chosen_p: The probability the model gave that move.
        advised: The model's most likely move that day, in words.
        advised_p: Its probability.
        followed: Whether the seat chose the model's most likely move.
        measures: The seat's lasting-measure decisions that day, each with the probability
            the model's own review gave that switch (``starts Block rail transit (model 4%)``).
        forced: What an inject made the actor do instead ('' when nothing).
    """

    day: int
    seat: str
    label: str
    chosen: str
    chosen_p: float
    advised: str
    advised_p: float
    followed: bool
    measures: tuple[str, ...]
    forced: str


@dataclass(frozen=True)
class Branch:
    """One what-if asked during the game: worlds branched from a day, the headline chances.

    Attributes:
        day: The day the worlds branched from.
        replicates: How many worlds.
        who: Who played the seats in the branches (``the model`` or a persona).
        rows: ``(key, label, estimate, ci_low, ci_high)`` of the headline outcomes.
    """

    day: int
    replicates: int
    who: str
    rows: tuple[tuple[str, str, float, float, float], ...]


@dataclass(frozen=True)
class AfterAction:
    """The after-action summary of a game.

    Attributes:
        situation: The situation picture at the end.
        start_date: Day 0's date.
        rung_history: (days+1, actors) each actor's rung every day, day 0 first.
        turning_points: In day order.
        choices: Every seat's choice every day, in day order.
        branches: The what-ifs asked from days of the game as played, in the order asked.
        undone_branches: What-ifs asked from days later taken back (not in ``branches``).
        outcomes: This world's declared outcomes: ``(label, happened)``.
    """

    situation: Situation
    start_date: dt.date
    rung_history: np.ndarray
    turning_points: tuple[TurningPoint, ...]
    choices: tuple[Choice, ...]
    branches: tuple[Branch, ...]
    undone_branches: int
    outcomes: tuple[tuple[str, bool], ...]

    def followed(self, seat: str) -> tuple[int, int]:
        """(days the seat chose the model's most likely move, days it played)."""
        mine = [c for c in self.choices if c.seat == seat]
        return sum(c.followed for c in mine), len(mine)


def after_action(game: Game) -> AfterAction:
    """The after-action summary of a game as played so far (see :class:`AfterAction`)."""
    from sim.play.game import entry_label

    m = game.model
    tr = m.trace
    assert tr is not None  # a game's model always keeps its trace
    s = game.scenario
    t = m.tables
    days = list(range(0, game.day + 1))
    history = np.array([tr.states[d].rung[0] for d in days], dtype=np.int64)
    points: list[TurningPoint] = []
    peak = int(history[0].max())
    rungs = [r.label for r in s.ladder]
    for d in days[1:]:
        prev, now = tr.states[d - 1], tr.states[d]
        for i, name in enumerate(t.names):
            rise = int(now.rung[0, i] - prev.rung[0, i])
            if rise >= JUMP:
                points.append(
                    TurningPoint(
                        d,
                        "jump",
                        f"{game.label(name)} jumps {rise} rungs: "
                        f"{rungs[prev.rung[0, i]]} -> {rungs[now.rung[0, i]]}",
                    )
                )
        top = int(now.rung[0].max())
        if top > peak:
            who = [game.label(n) for i, n in enumerate(t.names) if now.rung[0, i] == top]
            points.append(
                TurningPoint(d, "peak", f"the crisis reaches {rungs[top]} ({', '.join(who)})")
            )
            peak = top
        for kind, flag, text in (
            ("incident", "incident", "first incident on the border (who caused it is disputed)"),
            ("armed", "armed", "first armed clash"),
            ("deaths", "fatal", "first deaths"),
            ("article4", "article4", "Article 4 consultations"),
            ("article5", "article5", "collective defence (Article 5) invoked"),
        ):
            if getattr(now, flag)[0] and not getattr(prev, flag)[0]:
                points.append(TurningPoint(d, kind, text))
        if s.alignment is not None and t.aligner >= 0 and now.alignment[0] != prev.alignment[0]:
            level = _words(s.alignment_track[int(now.alignment[0])]).lower()
            was = _words(s.alignment_track[int(prev.alignment[0])]).lower()
            points.append(
                TurningPoint(
                    d, "alignment", f"{game.aligner_label()}'s alignment: {was} -> {level}"
                )
            )
        for k in np.flatnonzero(now.on[0] != prev.on[0]):
            holder = game.label(t.names[int(t.slot_actor[k])])
            b = int(t.slot_target[k])
            aim = f" -> {game.label(t.names[b])}" if b >= 0 else ""
            what = f"{s.measures[t.slot_measure[k]].label}{aim}"
            started = bool(now.on[0, k])
            points.append(
                TurningPoint(
                    d,
                    "measure" if started else "measure_end",
                    f"{holder} {'starts' if started else 'ends'}: {what}",
                )
            )

    choices: list[Choice] = []
    for d in days[1:]:
        now = tr.states[d]
        for seat in game.seats:
            a = game.index(seat)
            rec = tr.choices.get((d, a))
            menu = np.asarray(t.actors[a].menu.ids)
            if rec is None:  # no decision recorded (cannot happen in a live world): no advice
                continue
            col = [t.entry_name[int(e)] for e in menu].index(game.moves[d - 1][seat])
            chosen = int(menu[col])
            p = np.asarray(rec["probabilities"])[0]
            best = int(np.argmax(p))
            forced = ""
            actual = int(now.last[0, a])
            if actual != chosen and now.alive[0]:
                forced = entry_label(m, actual)
            choices.append(
                Choice(
                    day=d,
                    seat=seat,
                    label=game.label(seat),
                    chosen=entry_label(m, chosen),
                    chosen_p=float(p[col]),
                    advised=entry_label(m, int(menu[best])),
                    advised_p=float(p[best]),
                    followed=col == best or bool(np.isclose(p[col], p[best])),
                    measures=_seat_measures(game, d, seat),
                    forced=forced,
                )
            )

    branches, undone = _branches(game)
    from sim.report.present import Labeller

    lab = Labeller(s)
    out = game.outcomes()
    declared = tuple(
        (lab.describe(name).label, bool(out[name]))
        for name in (s.outcomes.declared or {})
        if name in out.index
    )
    return AfterAction(
        situation=situation(game),
        start_date=s.start_date,
        rung_history=history,
        turning_points=tuple(points),
        choices=tuple(choices),
        branches=branches,
        undone_branches=undone,
        outcomes=declared,
    )


def _seat_measures(game: Game, day: int, seat: str) -> tuple[str, ...]:
    """The seat's measure decisions of a day, each with the model's own review's probability."""
    tr = game.model.trace
    assert tr is not None
    t = game.model.tables
    s = game.scenario
    sw = game.switches[day - 1].get(seat) if day - 1 < len(game.switches) else None
    if not sw:
        return ()
    a = game.index(seat)
    slots = list(np.asarray(t.actors[a].measures.ids))
    review = tr.reviews.get((day, a))
    out = []
    for verb in ("start", "end"):
        for name in sw.get(verb) or ():
            k = t.slot_name.index(name)
            b = int(t.slot_target[k])
            aim = f" -> {game.label(t.names[b])}" if b >= 0 else ""
            text = f"{verb}s {s.measures[t.slot_measure[k]].label}{aim}"
            if review is not None and k in slots:
                p = float(np.asarray(review["p"])[0, slots.index(k)])
                text += f" (model's review: {p:.0%})"
            out.append(text)
    return tuple(out)


def _branches(game: Game) -> tuple[tuple[Branch, ...], int]:
    """The game's what-ifs on the line as played, labelled; and how many were on undone days."""
    from sim.play.game import line_digest
    from sim.report.present import HEADLINE, Labeller

    lab = Labeller(game.scenario)
    out: list[Branch] = []
    undone = 0
    for w in game.whatifs:
        if w.day > game.day or w.line != line_digest(game, w.day):
            undone += 1
            continue
        rows: list[tuple[str, str, float, float, float]] = []
        for r in w.rows:
            key = str(r["outcome"])
            label = lab.describe(key)
            if label.group != HEADLINE or label.stat != "probability":
                continue
            if key == "staged_incident" and not game.knows_truth():
                continue
            est, lo, hi = (_f(r[x]) for x in ("estimate", "ci_low", "ci_high"))
            rows.append((key, label.label, est, lo, hi))
        personas = sorted(set(w.personas.values()))
        who = f"the seats by '{', '.join(personas)}'" if personas else "the model"
        out.append(Branch(w.day, w.replicates, who, tuple(rows)))
    return tuple(out), undone


def _f(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _pct(x: float) -> str:
    return "-" if np.isnan(x) else f"{100 * x:.0f}%"


def after_action_text(aa: AfterAction) -> str:
    """The after-action summary as Markdown (for a file beside the game log)."""
    sit = aa.situation
    end = "the game is over" if sit.over else "the game was stopped"
    lines = [
        f"# After-action summary: {sit.title}",
        "",
        f"Scenario `{sit.scenario}`, seed {sit.seed}, replicate {sit.replicate}; seats: "
        f"{', '.join(sit.seats)}. {sit.day} of {sit.horizon} days played "
        f"(to {sit.date}); {end}.",
        "This is one world of the scenario's stated assumptions, not a forecast.",
        "",
        "## Where it ended",
        "",
        "```",
        situation_text(sit),
        "```",
        "",
    ]
    if aa.outcomes:
        lines += ["## The scenario's questions in this world", ""]
        lines += [f"- {label}: {'yes' if yes else 'no'}" for label, yes in aa.outcomes]
        lines.append("")
    lines += ["## Turning points", ""]
    if aa.turning_points:
        lines += [
            f"- day {p.day} ({_date(aa.start_date, p.day)}): {p.text}" for p in aa.turning_points
        ]
    else:
        lines.append("- none: no rung jumped, no incident, no measure started or ended")
    lines += ["", "## The seats' choices against the model's advice", ""]
    if not aa.choices:
        lines.append("No day was played.")
    for seat in dict.fromkeys(c.seat for c in aa.choices):
        mine = [c for c in aa.choices if c.seat == seat]
        followed, n = aa.followed(seat)
        mean_p = float(np.mean([c.chosen_p for c in mine]))
        lines += [
            f"### {mine[0].label}",
            "",
            f"{mine[0].label} chose the model's most likely move on {followed} of {n} days; "
            f"the model gave the moves chosen {100 * mean_p:.0f}% on average.",
            "",
            "| day | chosen | model's p of it | model's most likely move | its p | measures |",
            "| ---: | --- | ---: | --- | ---: | --- |",
        ]
        for c in mine:
            chosen = c.chosen + (f" (an inject made it: {c.forced})" if c.forced else "")
            mark = "" if c.followed else " **≠**"
            lines.append(
                f"| {c.day} | {chosen}{mark} | {_pct(c.chosen_p)} | {c.advised} | "
                f"{_pct(c.advised_p)} | {'; '.join(c.measures) or '-'} |"
            )
        lines.append("")
    lines += ["## What-if branches", ""]
    if not aa.branches:
        lines.append("No what-if was asked from the days as played.")
    else:
        keys = list(dict.fromkeys(k for b in aa.branches for k, *_ in b.rows))
        names = {k: label for b in aa.branches for k, label, *_ in b.rows}
        lines += [
            "Chances in the worlds branched from each day (95% intervals):",
            "",
            "| from day | worlds | seats played by | " + " | ".join(names[k] for k in keys) + " |",
            "| ---: | ---: | --- | " + " | ".join("---:" for _ in keys) + " |",
        ]
        for b in aa.branches:
            got = {k: (e, lo, hi) for k, _, e, lo, hi in b.rows}
            cells = [
                f"{_pct(got[k][0])} [{_pct(got[k][1])}-{_pct(got[k][2])}]" if k in got else "-"
                for k in keys
            ]
            lines.append(f"| {b.day} | {b.replicates:,} | {b.who} | " + " | ".join(cells) + " |")
        lines.append("")
        lines += branch_differences(aa.branches) or [
            "The branches did not differ beyond their intervals."
        ]
    if aa.undone_branches:
        lines += [
            "",
            f"({aa.undone_branches} what-if(s) asked from days later taken back are not shown.)",
        ]
    lines += [
        "",
        "The whole story of this world, with what every actor saw and why it moved: "
        "`escalation replay --log <game log>`.",
    ]
    return "\n".join(lines) + "\n"


def branch_differences(branches: Sequence[Branch]) -> list[str]:
    """How each what-if differed from the one asked before it, outcome by outcome.

    A change is listed when the two 95% intervals do not overlap (a difference beyond the
    branches' own noise); each line says the day, the two chances and the change in points.
    """
    out = []
    for before, after in itertools.pairwise(branches):
        old = {k: (e, lo, hi) for k, _, e, lo, hi in before.rows}
        for k, label, e, lo, hi in after.rows:
            if k not in old:
                continue
            e0, lo0, hi0 = old[k]
            if lo > hi0 or hi < lo0:
                out.append(
                    f"- from day {before.day} to day {after.day}: {label} "
                    f"{_pct(e0)} -> {_pct(e)} ({100 * (e - e0):+.0f} points)"
                )
    return out


__all__ = [
    "JUMP",
    "AfterAction",
    "Branch",
    "Choice",
    "Situation",
    "Standing",
    "TurningPoint",
    "after_action",
    "after_action_text",
    "branch_differences",
    "situation",
    "situation_text",
]
