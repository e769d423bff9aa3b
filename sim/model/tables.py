"""A scenario turned into arrays: what the model's step reads, computed once per ensemble.

Nothing here draws random numbers or holds state; it only lays out the scenario and the
per-replicate parameter table so that a day's step is a handful of array operations. Actors are
whatever the scenario declares: every actor axis has ``len(scenario.actors)`` entries, in the
order the scenario lists them, and nothing here knows any actor by name.

Two kinds of choice are laid out:

- **menu entries**: a daily move, aimed at one adversary (``target``) or undirected
  (``target == -1``); an actor's menu is its entries;
- **measure slots**: a lasting measure held by one actor, aimed at one target or undirected;
  each is on or off, and its holder decides on a slower clock whether to start or end it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scenario.parameters import WORLD_RESTRAINT
from sim.scenario.schema import FEATURES, Condition, Measure, Scenario

FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
F = {name: i for i, name in enumerate(FEATURE_NAMES)}
NO_TARGET = -1
SIDES = {"west": 1, "east": -1, "neutral": 0}
_BORDER_KINDS = ("deploy_forces", "close_border")


@dataclass
class Choices:
    """One actor's options of one kind (menu entries or measure slots), laid out for its step.

    ``cols`` index into the actor's own list; the weights are (F, K) with K choices.
    """

    ids: np.ndarray  # (K,) global ids (entries or slots)
    target: np.ndarray  # (K,) target actor index or NO_TARGET
    s: np.ndarray  # (K,) severity of the choice's rung / top severity
    rung: np.ndarray  # (K,) rung index
    weights: np.ndarray  # (F, K) motive weights equal in every replicate
    varying: list[tuple[int, int, np.ndarray]]  # (feature, col, (R,) weight) that vary
    cost_t: np.ndarray  # (K, R) daily utility cost
    requires: list[tuple[int, list[Condition]]] = field(default_factory=list)


@dataclass
class ActorTable:
    """One actor's temperament, relations, menu and measures (R = replicates)."""

    index: int
    name: str
    label: str
    side: int  # +1 west, -1 east, 0 neutral
    menu: Choices
    measures: Choices
    once_cols: np.ndarray  # menu columns of once-only moves
    jump: np.ndarray  # (K,) bool: entries exempt from the step limits
    needs_forces: np.ndarray  # (K,) bool: force entries, which need own forces facing the target
    gain: np.ndarray  # (R,) stakes * resolve
    aversion: np.ndarray  # (R,) (1 - risk_tolerance) * war_aversion
    temperature: np.ndarray  # (R,)
    inertia: np.ndarray  # (R,)
    committed: np.ndarray  # (R,) committed_elsewhere
    adversaries: list[int]
    allies: list[int]
    partners: list[tuple[int, np.ndarray]]  # (member, (R,) solidarity) whose threats it shares
    knows_truth: bool
    bias: np.ndarray  # (R,) log-odds lean toward blaming the West
    receptiveness_west: np.ndarray
    receptiveness_east: np.ndarray
    in_exercise: bool = True  # takes part in the scenario's exercise
    neighbour_exercise: bool = False  # an adversary takes part in it and this actor does not
    defenders: list[np.ndarray] = field(default_factory=list)  # (R,) solidarity of each
    # alliance that defends this actor against outsiders (its 'deterrence' to an attacker)


@dataclass
class Tables:
    """The whole scenario as arrays (R replicates, N actors, E entries, S measure slots)."""

    scenario: Scenario
    params: dict[str, np.ndarray]
    names: list[str]
    n_actors: int
    n_rungs: int
    severity: np.ndarray  # (n_rungs,) normalised to [0, 1]
    cow: np.ndarray  # (n_rungs,) Correlates of War hostility level of each rung
    # entries
    entry_actor: np.ndarray  # (E,)
    entry_move: np.ndarray  # (E,) index into move_names
    entry_target: np.ndarray  # (E,)
    entry_rung: np.ndarray  # (E,)
    entry_name: list[str]  # 'move' or 'move@target'
    move_names: list[str]
    force: np.ndarray  # (E,) bool
    fatality: np.ndarray  # (R, E)
    stage: np.ndarray  # (E,) bool
    narrative: np.ndarray  # (R, E)
    disclosure: np.ndarray  # (R, E)
    hybrid: np.ndarray  # (R, E)
    nuclear: np.ndarray  # (E,) bool
    extend: np.ndarray  # (E,) int days
    once_move: np.ndarray  # (E,) bool
    # measure slots
    slot_actor: np.ndarray  # (S,)
    slot_measure: list[str]
    slot_kind: list[str]
    slot_target: np.ndarray  # (S,)
    slot_rung: np.ndarray  # (S,)
    slot_hostility: np.ndarray  # (S,)
    slot_start_cost: np.ndarray  # (R, S)
    slot_end_cost: np.ndarray  # (R, S)
    slot_endable: np.ndarray  # (S,) bool
    slot_duration: list[tuple[int | None, bool]]  # (duration_days, ends_with_exercise) per slot
    slot_name: list[str]
    initial_slots: np.ndarray  # (S,) bool
    kind_slots: dict[str, np.ndarray]  # kind -> slot ids
    actors: list[ActorTable]
    adversary: np.ndarray  # (N, N) bool: [a, b] b is a's adversary
    borders: list[tuple[int, int]]  # a < b sharing a border
    # mechanisms
    guarantees: list[tuple[int, list[int], int]]  # (guarantor, members, article5 rung)
    aligner: int  # actor index on the alignment track, -1 without one
    n_levels: int
    escalation_level: int
    shipper: int
    transit_state: int
    armed_rung: int
    top_severity: float = 1.0
    slots_by_actor: list[tuple[int, np.ndarray]] = field(default_factory=list)
    slots_by_pair: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    _constant_rows: dict[int, np.ndarray | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Which measure slots raise which actor's posture, and toward whom (refresh_postures).
        by_actor: dict[int, list[int]] = {}
        by_pair: dict[tuple[int, int], list[int]] = {}
        for k in range(self.slot_actor.size):
            a = int(self.slot_actor[k])
            by_actor.setdefault(a, []).append(k)
            b = int(self.slot_target[k])
            targets = [b] if b != NO_TARGET else list(np.flatnonzero(self.adversary[a]))
            for x in targets:
                by_pair.setdefault((a, int(x)), []).append(k)
        self.slots_by_actor = [(a, np.array(v)) for a, v in sorted(by_actor.items())]
        self.slots_by_pair = [(a, b, np.array(v)) for (a, b), v in sorted(by_pair.items())]

    def per_entry(self, values: np.ndarray, choice: np.ndarray) -> np.ndarray:
        """(R, N) the value of each actor's chosen entry, from an (R, E) table.

        Most per-entry tables are the same in every replicate; their first row indexed by the
        choice is then the answer, several times cheaper than a gather along the entry axis.
        """
        key = id(values)
        if key not in self._constant_rows:
            constant = bool(np.all(values == values[:1]))
            self._constant_rows[key] = values[0] if constant else None
        row = self._constant_rows[key]
        if row is None:
            return np.take_along_axis(values, choice, axis=1)
        return row[choice]

    def entry(self, actor: int, move: str, target: int = NO_TARGET) -> int:
        """The global id of a menu entry (raises KeyError when the actor has no such entry)."""
        name = move if target == NO_TARGET else f"{move}@{self.names[target]}"
        for e in self.actors[actor].menu.ids:
            if self.entry_name[e] == name:
                return int(e)
        raise KeyError(f"{self.names[actor]} has no menu entry '{name}'")

    def slot(self, actor: int, measure: str, target: int = NO_TARGET) -> int:
        """The global id of a measure slot (raises KeyError when there is none)."""
        for k, a in enumerate(self.slot_actor):
            if (
                a == actor
                and self.slot_measure[k] == measure
                and int(self.slot_target[k]) == target
            ):
                return k
        tname = "" if target == NO_TARGET else f"@{self.names[target]}"
        raise KeyError(f"{self.names[actor]} has no measure '{measure}{tname}'")


def _targets(
    s: Scenario, who: str, aimed: bool, allowed: list[str] | None, border: bool
) -> list[str | None]:
    """Whom a move or measure of ``who`` may be aimed at ([None]: it is undirected)."""
    if not aimed:
        return [None]
    act = s.actors[who]
    pool = allowed if allowed is not None else act.adversaries
    return [
        b
        for b in pool
        if b != who
        and b in s.actors
        and (not border or b in act.borders or who in s.actors[b].borders)
    ]


def build_tables(scenario: Scenario, params: dict[str, np.ndarray], n: int) -> Tables:
    """Lay out a scenario and its parameter table as arrays for ``n`` replicates."""
    s = scenario
    names = list(s.actors)
    A = {a: i for i, a in enumerate(names)}
    sev = np.array([r.severity for r in s.ladder], dtype=np.float64)
    top = sev.max() if sev.max() > 0 else 1.0
    severity = sev / top
    cow = np.array([r.cow_level for r in s.ladder], dtype=np.int64)
    move_names = list(s.moves)
    rung_of = {r.name: i for i, r in enumerate(s.ladder)}

    # ---- menu entries
    e_actor, e_move, e_target, e_name = [], [], [], []
    for a in names:
        for mi, m in enumerate(move_names):
            mv = s.moves[m]
            if a not in mv.actors:
                continue
            h = mv.effects.hybrid  # a number or a distribution: only a plain 0 means none
            border = mv.effects.force or not (isinstance(h, int | float) and h == 0)
            for b in _targets(s, a, mv.aimed, mv.targets, border):
                if b is not None and b not in s.actors[a].adversaries:
                    continue
                e_actor.append(A[a])
                e_move.append(mi)
                e_target.append(NO_TARGET if b is None else A[b])
                e_name.append(m if b is None else f"{m}@{b}")
    entry_actor = np.array(e_actor, dtype=np.int64)
    entry_move = np.array(e_move, dtype=np.int64)
    entry_target = np.array(e_target, dtype=np.int64)
    entry_rung = np.array([rung_of[s.moves[move_names[m]].rung] for m in e_move], dtype=np.int64)

    def per_entry(path: str) -> np.ndarray:
        return np.stack([params[f"moves.{move_names[m]}.{path}"] for m in e_move], axis=1)

    def entry_flag(pred) -> np.ndarray:
        return np.array([bool(pred(s.moves[move_names[m]])) for m in e_move], dtype=bool)

    # ---- measure slots
    k_actor, k_measure, k_target, k_name = [], [], [], []
    for a in names:
        for mname, me in s.measures.items():
            if a not in me.actors:
                continue
            for b in _targets(s, a, me.aimed, me.targets, me.kind in _BORDER_KINDS):
                k_actor.append(A[a])
                k_measure.append(mname)
                k_target.append(NO_TARGET if b is None else A[b])
                k_name.append(mname if b is None else f"{mname}@{b}")
    measures: list[Measure] = [s.measures[m] for m in k_measure]
    initial = np.zeros(len(k_name), dtype=bool)
    for a in names:
        for ref in s.actors[a].initial_measures:
            for k, nm in enumerate(k_name):
                if k_actor[k] == A[a] and nm == ref:
                    initial[k] = True

    def slot_param(field_: str) -> np.ndarray:
        if not k_measure:
            return np.zeros((n, 0))
        return np.stack([params[f"measures.{m}.{field_}"] for m in k_measure], axis=1)

    adversary = np.zeros((len(names), len(names)), dtype=bool)
    for a in names:
        for b in s.actors[a].adversaries:
            adversary[A[a], A[b]] = True
    borders = sorted(
        {
            (min(A[a], A[b]), max(A[a], A[b]))
            for a in names
            for b in s.actors[a].borders
            if b in A and b != a
        }
    )

    # ---- alliances: who shares whose threats
    partners: dict[int, list[tuple[int, np.ndarray]]] = {i: [] for i in range(len(names))}
    defenders: dict[int, list[np.ndarray]] = {i: [] for i in range(len(names))}
    guarantees: list[tuple[int, list[int], int]] = []
    for aname, ally in s.alliances.items():
        sol = params[f"alliances.{aname}.solidarity"]
        members = [A[m] for m in ally.members]
        # A guarantee deters whoever would attack a member; its credibility is its solidarity.
        if ally.kind == "collective_defence" and ally.guarantor is not None:
            g = A[ally.guarantor]
            partners[g] += [(m, sol) for m in members if m != g]
            for mi in members:
                if mi != g:
                    defenders[mi].append(sol)
            thr = rung_of[ally.article5_threshold_rung] if ally.article5_threshold_rung else 0
            guarantees.append((g, members, thr))
        elif ally.kind == "union":
            for mi in members:
                partners[mi] += [(o, sol) for o in members if o != mi]
                if len(members) > 1:
                    defenders[mi].append(sol)

    # The shared ladder dynamics (dynamics.restraint, retaliation, threat_response,
    # temperature_scale) act on every actor alike; at their defaults they change nothing.
    shared_scale = {
        "attacked": params["dynamics.retaliation"],
        "threat": params["dynamics.threat_response"],
    }
    restraint = params.get(WORLD_RESTRAINT, params["dynamics.restraint"])
    ex = s.exercise
    taking_part = set(names) if ex is None or ex.participants is None else set(ex.participants)
    actors: list[ActorTable] = []
    for a in names:
        i = A[a]
        act = s.actors[a]
        p = f"actors.{a}."
        cols = np.flatnonzero(entry_actor == i)
        slots = np.flatnonzero(np.array(k_actor, dtype=np.int64) == i) if k_actor else cols[:0]

        def weights_for(keys: list[str], ids: np.ndarray, a=a, act=act):
            w = np.zeros((len(FEATURE_NAMES), len(ids)))
            varying: list[tuple[int, int, np.ndarray]] = []
            for j, key in enumerate(keys):
                for f in act.motives.get(key, {}):
                    v = params[f"actors.{a}.motives.{key}.{f}"]
                    if f in shared_scale:
                        v = v * shared_scale[f]
                    if np.all(v == v[0]):
                        w[F[f], j] += v[0]
                    else:
                        varying.append((F[f], j, v))
            return w, varying

        mkeys = [move_names[entry_move[e]] for e in cols]
        w, var = weights_for(mkeys, cols)
        cost = (
            np.stack(
                [
                    params[f"moves.{m}.cost"] + restraint
                    if s.moves[m].effects.force
                    else params[f"moves.{m}.cost"]
                    for m in mkeys
                ],
                axis=0,
            )
            if mkeys
            else np.zeros((0, n))
        )
        menu = Choices(
            ids=cols,
            target=entry_target[cols],
            s=severity[entry_rung[cols]],
            rung=entry_rung[cols],
            weights=w,
            varying=var,
            cost_t=np.ascontiguousarray(cost),
            requires=[
                (j, list(s.moves[m].requires)) for j, m in enumerate(mkeys) if s.moves[m].requires
            ],
        )
        skeys = [k_measure[k] for k in slots]
        sw, svar = weights_for(skeys, slots)
        scost = (
            np.stack([params[f"measures.{m}.cost_per_day"] for m in skeys], axis=0)
            if skeys
            else np.zeros((0, n))
        )
        srung = np.array([rung_of[s.measures[m].rung] for m in skeys], dtype=np.int64)
        mslots = Choices(
            ids=slots,
            target=np.array([k_target[k] for k in slots], dtype=np.int64),
            s=severity[srung] if skeys else np.zeros(0),
            rung=srung,
            weights=sw,
            varying=svar,
            cost_t=np.ascontiguousarray(scost),
            requires=[
                (j, list(s.measures[m].requires))
                for j, m in enumerate(skeys)
                if s.measures[m].requires
            ],
        )
        actors.append(
            ActorTable(
                index=i,
                name=a,
                label=act.label,
                side=SIDES[act.side],
                menu=menu,
                measures=mslots,
                once_cols=np.array(
                    [j for j, m in enumerate(mkeys) if s.moves[m].once], dtype=np.int64
                ),
                jump=np.array([s.moves[m].jump for m in mkeys], dtype=bool),
                needs_forces=np.array([s.moves[m].effects.force for m in mkeys], dtype=bool),
                gain=params[p + "stakes"] * params[p + "resolve"] * shared_scale["threat"],
                aversion=(1.0 - params[p + "risk_tolerance"]) * params[p + "war_aversion"],
                temperature=params[p + "temperature"] * params["dynamics.temperature_scale"],
                inertia=params[p + "inertia"],
                committed=params[p + "committed_elsewhere"],
                adversaries=[A[b] for b in act.adversaries],
                allies=[A[b] for b in act.allies],
                partners=partners[i],
                knows_truth=act.attribution.knows_truth,
                bias=params[p + "attribution.bias"],
                receptiveness_west=params[p + "attribution.receptiveness_west"],
                receptiveness_east=params[p + "attribution.receptiveness_east"],
                in_exercise=a in taking_part,
                neighbour_exercise=ex is not None
                and a not in taking_part
                and any(b in taking_part for b in act.adversaries),
                defenders=defenders[i],
            )
        )

    kinds: dict[str, list[int]] = {}
    for k, me in enumerate(measures):
        kinds.setdefault(me.kind, []).append(k)
    al = s.alignment
    tr = s.transit
    return Tables(
        scenario=s,
        params=params,
        names=names,
        n_actors=len(names),
        n_rungs=len(s.ladder),
        severity=severity,
        cow=cow,
        entry_actor=entry_actor,
        entry_move=entry_move,
        entry_target=entry_target,
        entry_rung=entry_rung,
        entry_name=e_name,
        move_names=move_names,
        force=entry_flag(lambda mv: mv.effects.force),
        fatality=per_entry("fatality"),
        stage=entry_flag(lambda mv: mv.effects.stage_incident),
        narrative=per_entry("effects.narrative"),
        disclosure=per_entry("effects.disclosure"),
        hybrid=per_entry("effects.hybrid"),
        nuclear=entry_flag(lambda mv: mv.effects.nuclear_signal),
        extend=np.array(
            [s.moves[move_names[m]].effects.extend_exercise for m in e_move], dtype=np.int64
        ),
        once_move=entry_flag(lambda mv: mv.once),
        slot_actor=np.array(k_actor, dtype=np.int64),
        slot_measure=k_measure,
        slot_kind=[me.kind for me in measures],
        slot_target=np.array(k_target, dtype=np.int64),
        slot_rung=np.array([rung_of[me.rung] for me in measures], dtype=np.int64),
        slot_hostility=np.array([me.hostility for me in measures], dtype=np.int64),
        slot_start_cost=slot_param("start_cost"),
        slot_end_cost=slot_param("end_cost"),
        slot_endable=np.array([me.endable for me in measures], dtype=bool),
        slot_duration=[(me.duration_days, me.ends_with_exercise) for me in measures],
        slot_name=k_name,
        initial_slots=initial,
        kind_slots={k: np.array(v, dtype=np.int64) for k, v in kinds.items()},
        actors=actors,
        adversary=adversary,
        borders=borders,
        guarantees=guarantees,
        aligner=A[al.actor] if al is not None else -1,
        n_levels=len(al.track) if al is not None else 1,
        escalation_level=al.track.index(al.escalation_level) if al is not None else 1,
        shipper=A[tr.shipper] if tr is not None else -1,
        transit_state=A[tr.transit_state] if tr is not None else -1,
        armed_rung=rung_of[s.outcomes.armed_incident_rung],
        top_severity=float(top),
    )
