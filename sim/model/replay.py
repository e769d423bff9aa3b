"""Replay: re-run one replicate and tell its story day by day.

Because every random number is a pure function of (seed, replicate, day, actor, purpose), running
replicate k alone reproduces exactly the trajectory it had inside a Monte Carlo run with the same
seed; :func:`replay` does that with tracing switched on and turns the trace into text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import EscalationModel
from sim.model.tables import FEATURE_NAMES, A
from sim.scenario.schema import ACTORS, Scenario

_SHOWN_FEATURES = ("threat", "hybrid_pressure", "blame_west", "blame_poland", "blockade_cost")


@dataclass
class Replay:
    """One replicate's trajectory: the traced model, its story and its outcomes row."""

    model: EscalationModel
    replicate: int
    lines: list[str]
    outcomes: pd.Series

    @property
    def story(self) -> str:
        """The whole story as text."""
        return "\n".join(self.lines)


def replay(
    scenario: Scenario,
    seed: int,
    replicate: int,
    all_days: bool = False,
    top: int = 3,
) -> Replay:
    """Re-run replicate ``replicate`` of a run with ``seed`` and narrate it.

    Args:
        scenario: The validated scenario (as used by the Monte Carlo run).
        seed: The run's seed.
        replicate: The replicate id to replay.
        all_days: Tell every day, not only the days on which something changed.
        top: How many of each actor's alternatives to show with their utilities.
    """
    model = EscalationModel(
        scenario, seed=seed, replicate_ids=[replicate], trace=True, collect=False
    ).run()
    last = model.day
    model.occupancy[last + 1 :] = model.occupancy[last]
    out = model.outcomes().iloc[0]
    return Replay(model, replicate, _narrate(model, all_days, top, out), out)


def _date(s: Scenario, day: int) -> str:
    d = s.start_date + dt.timedelta(days=day)
    return f"{d.day} {d:%B %Y}"


def _narrate(m: EscalationModel, all_days: bool, top: int, out: pd.Series) -> list[str]:
    s = m.scenario_spec
    t = m.tables
    tr = m.trace
    assert tr is not None
    rungs = [r.label for r in s.ladder]
    levels = s.alignment_track
    label = {name: s.actors[name].label for name in ACTORS}
    moves = {i: s.moves[name].label for i, name in enumerate(t.move_names)}
    lines = [
        f"Replay of replicate {m.replicate_ids[0]} of '{s.name}' ({s.title}), seed {m.seed}.",
        "Results are explorations of the scenario's stated assumptions, not forecasts.",
        "",
        "Sampled parameters:",
    ]
    for col, value in out.items():
        if str(col).startswith("param."):
            lines.append(f"  {str(col)[6:]} = {value:.3g}")
    s0 = tr.states[0]
    lines += ["", f"Day 0 ({_date(s, 0)}): where everyone stands"]
    for i, name in enumerate(ACTORS):
        lines.append(f"  {label[name]:<8} {rungs[s0.rung[0, i]]}")
    lines.append(f"  China's alignment: {levels[s0.alignment[0]]}")

    for day in range(1, m.day + 1):
        prev, now = tr.states[day - 1], tr.states[day]
        events = _events(m, day, prev, now)
        changed = [i for i in range(6) if now.last_move[0, i] != prev.last_move[0, i]]
        if not (all_days or events or changed):
            continue
        ex = s.exercise
        note = ""
        if ex is not None and ex.start_day <= day <= now.exercise_end[0]:
            note = f" - {ex.name} under way"
        lines += ["", f"Day {day} ({_date(s, day)}){note}"]
        lines += [f"  ! {e}" for e in events]
        for i in range(6) if all_days else changed:
            lines += _actor_lines(m, day, i, moves, rungs, label, top, now)
    lines += ["", "Outcomes:"]
    for col, value in out.items():
        if not str(col).startswith("param.") and col != "replicate":
            lines.append(f"  {col} = {_fmt(value)}")
    return lines


def _actor_lines(m, day, i, moves, rungs, label, top, now) -> list[str]:
    tr = m.trace
    rec = tr.choices[(day, i)]
    at = m.tables.actors[i]
    chosen = int(now.last_move[0, i])
    name = ACTORS[i]
    forced = chosen != int(rec["chosen"][0])
    head = f"  {label[name]:<8} {moves[chosen]} [{rungs[now.rung[0, i]]}]"
    if forced:
        head += " - forced (inject or border friction), not its own choice"
    u = rec["utilities"][0]
    p = rec["probabilities"][0]
    ok = rec["available"][0]
    order = [j for j in np.argsort(-np.where(ok, u, -np.inf)) if ok[j]][:top]
    # The move the actor drew is always shown, even when it was an unlikely one.
    own = int(np.flatnonzero(at.moves == int(rec["chosen"][0]))[0])
    if own not in order:
        order.append(own)
    weighed = ", ".join(f"{moves[int(at.moves[j])]} U={u[j]:.2f} p={p[j]:.2f}" for j in order)
    x = rec["features"][0]
    seen = ", ".join(
        f"{f}={x[FEATURE_NAMES.index(f)]:.2f}"
        for f in _SHOWN_FEATURES
        if x[FEATURE_NAMES.index(f)] != 0
    )
    out = [head, f"{'':11}weighed: {weighed}"]
    if seen:
        out.append(f"{'':11}saw: {seen}")
    return out


def _events(m, day, prev, now) -> list[str]:
    s = m.scenario_spec
    tr = m.trace
    ev = []
    fired = tr.injects.get(day)
    if fired is not None:
        for k, inj in enumerate(s.injects):
            if fired[0, k]:
                ev.append(f"inject '{inj.name}' fired: {inj.description.strip() or inj.name}")
    if tr.friction.get(day, np.zeros(1, bool))[0]:
        ev.append("border friction: an unplanned exchange of fire")
    china = A["china"]
    if now.staged[0] and not prev.staged[0]:
        ev.append(f"a staged incident (evidence quality {now.evidence[0]:.2f})")
    if now.armed[0] and not prev.armed[0]:
        who = "the West" if now.truth_west[0] else "Belarus/Russia"
        ev.append(f"armed incident on the border (really started by {who})")
    if now.incident[0]:
        b = now.belief_west(m.tables)[0, china]
        b0 = prev.belief_west(m.tables)[0, china] if prev.incident[0] else None
        if b0 is None or abs(b - b0) >= 0.05:
            ev.append(f"China's belief that the West caused the incident: {b:.2f}")
    if now.blockade[0] != prev.blockade[0]:
        ev.append("rail transit blockade " + ("imposed" if now.blockade[0] else "lifted"))
    if now.border_closed[0] != prev.border_closed[0]:
        ev.append("border " + ("closed" if now.border_closed[0] else "reopened"))
    if now.article4[0] and not prev.article4[0]:
        ev.append("NATO Article 4 consultations")
    if now.article5[0] and not prev.article5[0]:
        ev.append("NATO invokes Article 5")
    if now.alignment[0] != prev.alignment[0]:
        ev.append(f"China's alignment: {s.alignment_track[now.alignment[0]]}")
    if not now.alive[0]:
        ev.append("an absorbing end state is reached; this world stops")
    return ev


def _fmt(v: Any) -> str:
    if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "(none)"
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    return str(v)
