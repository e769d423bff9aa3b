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
from sim.model.state import CAUSES
from sim.model.tables import FEATURE_NAMES, Tables
from sim.scenario.schema import Scenario

_SHOWN_FEATURES = (
    "threat",
    "attacked",
    "hybrid_pressure",
    "blame_west",
    "blame_blockader",
    "own_cost",
    "alignment",
)


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
    label = {name: s.actors[name].label for name in t.names}
    lines = [
        f"Replay of replicate {m.replicate_ids[0]} of '{s.name}' ({s.title}), seed {m.seed}.",
        "Results are explorations of the scenario's stated assumptions, not forecasts.",
        "",
        "Sampled parameters:",
    ]
    for col, value in out.items():
        if str(col).startswith("param."):
            lines.append(f"  {str(col)[6:]} = {value:.3g}")
    first = min(tr.states)
    s0 = tr.states[first]
    lines += ["", f"Day {first} ({_date(s, first)}): where everyone stands"]
    for i, name in enumerate(t.names):
        held = [t.slot_name[k] for k in np.flatnonzero(s0.on[0]) if t.slot_actor[k] == i]
        extra = f"; in force: {', '.join(held)}" if held else ""
        lines.append(f"  {label[name]:<8} {rungs[s0.rung[0, i]]}{extra}")
    if s.alignment is not None:
        who = label[t.names[t.aligner]]
        lines.append(f"  {who}'s alignment: {s.alignment.track[s0.alignment[0]]}")

    for day in range(first + 1, m.day + 1):
        prev, now = tr.states[day - 1], tr.states[day]
        events = _events(m, day, prev, now)
        changed = [i for i in range(t.n_actors) if now.last[0, i] != prev.last[0, i]]
        if not (all_days or events or changed):
            continue
        ex = s.exercise
        note = ""
        if ex is not None and ex.start_day <= day <= now.exercise_end[0]:
            note = f" - {ex.name} under way"
        lines += ["", f"Day {day} ({_date(s, day)}){note}"]
        lines += [f"  ! {e}" for e in events]
        for i in range(t.n_actors) if all_days else changed:
            lines += _actor_lines(m, day, i, rungs, label, top, now)
    lines += ["", "Outcomes:"]
    for col, value in out.items():
        if not str(col).startswith("param.") and col != "replicate":
            lines.append(f"  {col} = {_fmt(value)}")
    return lines


def _entry_label(t: Tables, e: int) -> str:
    mv = t.scenario.moves[t.move_names[int(t.entry_move[e])]]
    b = int(t.entry_target[e])
    return mv.label if b < 0 else f"{mv.label} -> {t.scenario.actors[t.names[b]].label}"


def _actor_lines(m, day, i, rungs, label, top, now) -> list[str]:
    t = m.tables
    tr = m.trace
    rec = tr.choices.get((day, i))
    name = t.names[i]
    chosen = int(now.last[0, i])
    head = f"  {label[name]:<8} {_entry_label(t, chosen)} [{rungs[now.rung[0, i]]}]"
    if rec is None:
        return [head]
    drawn = int(rec["chosen"][0])
    if chosen != drawn:
        head += " - forced by an inject, not its own choice"
    at = t.actors[i]
    u = rec["utilities"][0]
    p = rec["probabilities"][0]
    ok = p > 0
    order = [j for j in np.argsort(-np.where(ok, u, -np.inf)) if ok[j]][:top]
    # The entry the actor drew is always shown, even when it was an unlikely one.
    own = int(np.flatnonzero(at.menu.ids == drawn)[0])
    if own not in order:
        order.append(own)
    weighed = ", ".join(
        f"{_entry_label(t, int(at.menu.ids[j]))} U={u[j]:.2f} p={p[j]:.2f}" for j in order
    )
    x = rec["features"][0][0]  # the undirected view
    seen = ", ".join(
        f"{f}={x[FEATURE_NAMES.index(f)]:.2f}"
        for f in _SHOWN_FEATURES
        if x[FEATURE_NAMES.index(f)] != 0
    )
    out = [head, f"{'':11}weighed: {weighed}"]
    if seen:
        out.append(f"{'':11}saw: {seen}")
    if t.force[chosen] and chosen == drawn:
        b = t.names[int(t.entry_target[chosen])]
        g = list(rec["groups"]).index(t.names.index(b))
        why = rec["features"][0][g]
        reasons = ", ".join(
            f"{f}={why[FEATURE_NAMES.index(f)]:.2f}"
            for f in ("attacked", "threat", "forces_facing")
            if why[FEATURE_NAMES.index(f)] != 0
        )
        out.append(f"{'':11}chose to fire at {label[b]}" + (f" ({reasons})" if reasons else ""))
    return out


def _events(m, day, prev, now) -> list[str]:
    s = m.scenario_spec
    t = m.tables
    tr = m.trace
    label = {name: s.actors[name].label for name in t.names}
    ev = []
    fired = tr.injects.get(day)
    if fired is not None:
        for k, inj in enumerate(s.injects):
            if fired[0, k]:
                ev.append(f"inject '{inj.name}' fired: {inj.description.strip() or inj.name}")
    acc = tr.accidents.get(day)
    if acc is not None and acc[0].any():
        a, b = np.argwhere(acc[0])[0]
        ev.append(
            f"accident: an unplanned exchange of fire between {label[t.names[a]]} and "
            f"{label[t.names[b]]} forces facing each other"
        )
    for k in (int(x) for x in np.flatnonzero(now.on[0] != prev.on[0])):
        who = label[t.names[int(t.slot_actor[k])]]
        me = s.measures[t.slot_measure[k]]
        b = int(t.slot_target[k])
        tgt = f" ({label[t.names[b]]})" if b >= 0 else ""
        verb = "starts" if now.on[0, k] else "ends"
        ev.append(f"{who} {verb}: {me.label}{tgt}")
        if now.on[0, k] and (day, int(t.slot_actor[k])) in tr.reviews:
            rec = tr.reviews[(day, int(t.slot_actor[k]))]
            col = int(np.flatnonzero(t.actors[int(t.slot_actor[k])].measures.ids == k)[0])
            ev[-1] += f" - weighed U={rec['utilities'][0][col]:.2f}, p={rec['p'][0][col]:.3f}"
    crossed = [s.incursions[name] for name, worlds in tr.incursions.get(day, []) if worlds[0]]
    for inc in crossed:
        # The day's totals say what happened to them (one crossing a source a day at most).
        what = "intercepted" if now.intercepted[0] > prev.intercepted[0] else "not intercepted"
        if now.incursion_deaths[0].max() == day:
            what += ", people killed on the ground"
        if now.incursion_own[0] > prev.incursion_own[0] and inc.aimed_at is not None:
            what += f"; in truth a {label[inc.aimed_at]} air-defence missile"
        ev.append(
            f"a {inc.kind} ({inc.label}) blamed on {label[inc.launcher]} enters "
            f"{label[inc.into]}'s airspace ({what})"
        )
    if now.staged[0] and not prev.staged[0]:
        ev.append(f"a staged incident (evidence quality {now.evidence[0]:.2f}): a pretext")
    if now.armed[0] and not prev.armed[0]:
        cause = CAUSES[int(now.first_armed_cause[0])]
        # Who really fired: today's chosen uses of force (not the first incident's truth,
        # which belongs to a staging when one came first); an accident's first shot is unknown.
        shooters = [
            f"{label[t.names[a]]} at {label[t.names[int(t.entry_target[e])]]}"
            for a, e in enumerate(int(x) for x in now.last[0])
            if t.force[e]
        ]
        if shooters:
            ev.append(
                f"armed incident on the border ({cause}; fire opened by {', '.join(shooters)})"
            )
        else:
            ev.append(f"armed incident on the border ({cause}; who fired first is unknowable)")
    if now.fatal[0] and not prev.fatal[0]:
        ev.append("the first deaths")
    audience = [at.index for at in t.actors if at.side == 0 and not at.knows_truth]
    if now.incident[0]:
        for a in audience:
            b = now.belief_west(t)[0, a]
            b0 = prev.belief_west(t)[0, a] if prev.incident[0] else None
            if b0 is None or abs(b - b0) >= 0.05:
                ev.append(
                    f"{label[t.names[a]]}'s belief that the West caused the incident: {b:.2f}"
                )
    if now.article5[0] and not prev.article5[0]:
        ev.append("collective defence (Article 5) invoked: deployments, not war")
    if s.alignment is not None and day in tr.alignment:
        _, p, _ = tr.alignment[day]
        who = label[t.names[t.aligner]]
        weighed = f"down p={p[0, 0]:.2f}, stay p={p[1, 0]:.2f}, up p={p[2, 0]:.2f}"
        if now.alignment[0] != prev.alignment[0]:
            ev.append(
                f"{who} reviews its line ({weighed}) and moves to "
                f"{s.alignment.track[now.alignment[0]]}"
            )
        elif all_changes(day):
            ev.append(f"{who} reviews its line ({weighed}) and keeps it")
    if not now.alive[0]:
        ev.append("an absorbing end state is reached; this world stops")
    return ev


def all_changes(day: int) -> bool:
    """Whether a quiet review of the alignment is worth a line (every fourth week)."""
    return day % 28 == 0


def _fmt(v: Any) -> str:
    if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "(none)"
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    return str(v)
