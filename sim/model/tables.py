"""A scenario turned into arrays: what the model's step reads, computed once per ensemble.

Nothing here draws random numbers or holds state; it only lays out the scenario and the
per-replicate parameter table so that a day's step is a handful of array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import ACTORS, FEATURES, Condition, Scenario

FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
F = {name: i for i, name in enumerate(FEATURE_NAMES)}
A = {name: i for i, name in enumerate(ACTORS)}
WEST = (A["ukraine"], A["poland"], A["nato"])
EAST = (A["belarus"], A["russia"])


@dataclass
class ActorTable:
    """One actor's menu and temperament, with a leading replicate axis where values vary."""

    index: int
    name: str
    label: str
    moves: np.ndarray  # (K,) global move indices on this actor's menu
    move_rung: np.ndarray  # (K,) rung index of each menu move
    s: np.ndarray  # (K,) severity / top severity
    cost_t: np.ndarray  # (K, R): laid out by move for the step's row reductions
    weights: np.ndarray  # (F, K) motive weights that are the same in every replicate
    varying: list[tuple[int, int, np.ndarray]]  # (feature, move, (R,) weights) that vary
    gain: np.ndarray  # (R,) stakes * resolve
    aversion: np.ndarray  # (R,) (1 - risk_tolerance) * war_aversion
    temperature: np.ndarray  # (R,)
    inertia: np.ndarray  # (R,)
    adversaries: list[int]
    allies: list[int]
    knows_truth: bool
    bias: np.ndarray  # (R,) log-odds lean toward blaming the West
    receptiveness_west: np.ndarray  # (R,)
    receptiveness_minsk: np.ndarray  # (R,)
    requires: list[tuple[int, list[Condition]]]  # (menu column, conditions)
    once_cols: np.ndarray  # menu columns of once-only moves
    jump: np.ndarray  # (K,) bool: moves exempt from the step limits
    article4_cols: np.ndarray
    article5_cols: np.ndarray
    align_up_cols: np.ndarray
    align_down_cols: np.ndarray


@dataclass
class Tables:
    """The whole scenario as arrays (R = replicates in this ensemble, K = moves)."""

    scenario: Scenario
    params: dict[str, np.ndarray]
    n_rungs: int
    severity: np.ndarray  # (n_rungs,) normalised to [0, 1]
    n_levels: int
    move_names: list[str]
    move_rung: np.ndarray  # (K,)
    armed: np.ndarray  # (K,) bool
    stage: np.ndarray  # (K,) bool
    narrative: np.ndarray  # (R, K)
    disclosure: np.ndarray  # (R, K)
    hybrid: np.ndarray  # (R, K)
    blockade_start: np.ndarray  # (K,) bool
    blockade_lift: np.ndarray
    closure_close: np.ndarray
    closure_open: np.ndarray
    article4: np.ndarray
    article5: np.ndarray
    alignment: np.ndarray  # (K,) int -1/0/1
    extend: np.ndarray  # (K,) int days
    once: np.ndarray  # (K,) bool
    blockade_hold_rung: int  # the blockader must stay at least this high to keep it
    blockaders: list[int]
    closure_hold_rung: int
    closers: list[int]
    adversary_matrix: np.ndarray  # (6, 6): [a, b] = 1 if b is a's adversary
    actors: list[ActorTable]
    article4_threshold: float  # severity (normalised) Poland must perceive
    article5_threshold_rung: int
    armed_rung: int
    china_escalation_level: int
    daily_china_cost: np.ndarray  # (R,) MUSD per blockade day
    daily_poland_cost: np.ndarray
    daily_belarus_cost: np.ndarray


def build_tables(scenario: Scenario, params: dict[str, np.ndarray], n: int) -> Tables:
    """Lay out a scenario and its parameter table as arrays for ``n`` replicates."""
    s = scenario
    sev = np.array([r.severity for r in s.ladder], dtype=np.float64)
    top = sev.max() if sev.max() > 0 else 1.0
    severity = sev / top
    names = list(s.moves)
    index = {m: i for i, m in enumerate(names)}

    def per_move(field: str) -> np.ndarray:
        return np.stack([params[f"moves.{m}.effects.{field}"] for m in names], axis=1)

    def flags(pred) -> np.ndarray:
        return np.array([bool(pred(s.moves[m])) for m in names])

    move_rung = np.array([s.rung_index(s.moves[m].rung) for m in names], dtype=np.int64)
    cost = np.stack([params[f"moves.{m}.cost"] for m in names], axis=1)

    blockade_start = flags(lambda mv: mv.effects.blockade == "start")
    closure_close = flags(lambda mv: mv.effects.border_closure == "close")
    blockaders = sorted(
        {A[a] for m in names if blockade_start[index[m]] for a in s.moves[m].actors}
    )
    closers = sorted({A[a] for m in names if closure_close[index[m]] for a in s.moves[m].actors})

    adv = np.zeros((6, 6))
    actors: list[ActorTable] = []
    for name in ACTORS:
        act = s.actors[name]
        a = A[name]
        for b in act.adversaries:
            adv[a, A[b]] = 1.0
        menu = [index[m] for m in names if name in s.moves[m].actors]
        cols = {g: j for j, g in enumerate(menu)}
        weights = np.zeros((len(FEATURE_NAMES), len(menu)))
        varying: list[tuple[int, int, np.ndarray]] = []
        for m, feats in act.motives.items():
            for f in feats:
                v = params[f"actors.{name}.motives.{m}.{f}"]
                if np.all(v == v[0]):
                    weights[F[f], cols[index[m]]] += v[0]
                else:
                    varying.append((F[f], cols[index[m]], v))
        p = f"actors.{name}."

        def col_where(pred, menu=menu) -> np.ndarray:
            return np.array([j for j, g in enumerate(menu) if pred(s.moves[names[g]])], dtype=int)

        actors.append(
            ActorTable(
                index=a,
                name=name,
                label=act.label,
                moves=np.array(menu, dtype=np.int64),
                move_rung=move_rung[menu],
                s=severity[move_rung[menu]],
                cost_t=np.ascontiguousarray(cost[:, menu].T),
                weights=weights,
                varying=varying,
                gain=params[p + "stakes"] * params[p + "resolve"],
                aversion=(1.0 - params[p + "risk_tolerance"]) * params[p + "war_aversion"],
                temperature=params[p + "temperature"],
                inertia=params[p + "inertia"],
                adversaries=[A[b] for b in act.adversaries],
                allies=[A[b] for b in act.allies],
                knows_truth=act.attribution.knows_truth,
                bias=params[p + "attribution.bias"],
                receptiveness_west=params[p + "attribution.receptiveness_west"],
                receptiveness_minsk=params[p + "attribution.receptiveness_minsk"],
                requires=[
                    (cols[index[m]], list(s.moves[m].requires))
                    for m in names
                    if name in s.moves[m].actors and s.moves[m].requires
                ],
                once_cols=col_where(lambda mv: mv.once),
                jump=np.array([s.moves[names[g]].jump for g in menu], dtype=bool),
                article4_cols=col_where(lambda mv: mv.effects.article4),
                article5_cols=col_where(lambda mv: mv.effects.article5),
                align_up_cols=col_where(lambda mv: mv.effects.alignment > 0),
                align_down_cols=col_where(lambda mv: mv.effects.alignment < 0),
            )
        )

    econ = "economy."
    china_cost = (
        params[econ + "rail_teu_per_day"]
        * params[econ + "share_via_poland"]
        * params[econ + "value_per_teu_kusd"]
        / 1000.0
        * params[econ + "china_loss_fraction_per_day"]
    )
    return Tables(
        scenario=s,
        params=params,
        n_rungs=len(s.ladder),
        severity=severity,
        n_levels=len(s.alignment_track),
        move_names=names,
        move_rung=move_rung,
        armed=flags(lambda mv: mv.effects.armed),
        stage=flags(lambda mv: mv.effects.stage_incident),
        narrative=per_move("narrative"),
        disclosure=per_move("disclosure"),
        hybrid=per_move("hybrid"),
        blockade_start=blockade_start,
        blockade_lift=flags(lambda mv: mv.effects.blockade == "lift"),
        closure_close=closure_close,
        closure_open=flags(lambda mv: mv.effects.border_closure == "open"),
        article4=flags(lambda mv: mv.effects.article4),
        article5=flags(lambda mv: mv.effects.article5),
        alignment=np.array([s.moves[m].effects.alignment for m in names], dtype=np.int64),
        extend=np.array([s.moves[m].effects.extend_exercise for m in names], dtype=np.int64),
        once=flags(lambda mv: mv.once),
        blockade_hold_rung=int(move_rung[blockade_start].min()) if blockade_start.any() else 0,
        blockaders=blockaders,
        closure_hold_rung=int(move_rung[closure_close].min()) if closure_close.any() else 0,
        closers=closers,
        adversary_matrix=adv,
        actors=actors,
        article4_threshold=float(severity[s.rung_index(s.commitments.article4_threshold_rung)]),
        article5_threshold_rung=s.rung_index(s.commitments.article5_threshold_rung),
        armed_rung=s.rung_index(s.outcomes.armed_incident_rung),
        china_escalation_level=s.alignment_index(s.outcomes.china_escalation_level),
        daily_china_cost=china_cost,
        daily_poland_cost=params[econ + "poland_cost_musd_per_day"],
        daily_belarus_cost=params[econ + "belarus_cost_musd_per_day"],
    )
