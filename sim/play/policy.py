"""Policies: who picks an actor's move, given what that actor sees.

A policy is any callable ``policy(decision) -> moves`` that takes a :class:`Decision` (one actor's
view of yesterday's world in R worlds, its menu, its lasting measures and the model's own advice)
and returns an (R,) array of global move indices, one per world - or a :class:`Plan` of moves
and measure switches. The terminal game, the explorer, ``escalation run --policy`` and any
external program (an LLM adapter, another simulator) plug in the same way; the model applies
the returned moves and switches through ``EscalationModel.step(chosen, switches)``.

A policy that returns moves only leaves its actor's lasting measures to the model's own review
(as before measures could be chosen); one that returns ``Plan(moves, switches)`` decides them:
``switches`` is (R, K) bool, one column per measure slot of the actor (``decision.measure_names``),
True to start a slot that is off or end one in force, and it replaces the model's review for the
day (all False: hold every measure as it is). ``Plan(None, switches)`` keeps the model's own move.

Policies that randomise use ``decision.draw``, the actor's own counter-based random number for
the day (the same stream the model draws its move from), never a generator of their own: a
persona's run is then reproducible from its seed, and a persona and the model's own rule share
their random numbers (common random numbers), so their difference is measured with little noise.

The shipped personas (:data:`PERSONAS`) are a fixed registry: a scenario file or a command line
names a persona, never code to import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sim.errors import UserError
from sim.model.agents import inverse_cdf

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


@dataclass(frozen=True)
class Decision:
    """One actor's decision for one day in R worlds: what it sees and what the model advises.

    Attributes:
        actor: The actor's name (``poland``).
        actor_index: Its index in the scenario's actor order.
        day: The day being decided (yesterday's world is what it sees).
        features: (F, R) the actor's view, after fog.
        feature_names: Names of the F features.
        menu: (K,) global move indices of the actor's menu.
        move_names: (K,) their names (``move`` or ``move@target``).
        move_rung: (K,) the rung index each move puts the actor on.
        severity: (K,) the severity of that rung, 0 (lowest rung) to 1 (top of the ladder).
        available: (K, R) which moves may be chosen today.
        utilities: (K, R) the model's expected utility of each move.
        probabilities: (K, R) the model's own choice probabilities (0 where unavailable).
        draw: (R,) the actor's uniform random number for the day from the run's streams.
        measure_slots: (M,) global slot indices of the actor's lasting measures.
        measure_names: (M,) their names (``measure`` or ``measure@target``).
        measure_kinds: (M,) their kinds (``deploy_forces``, ``transit_blockade``, ...).
        measure_on: (M, R) which are in force (at the end of yesterday).
        measure_switchable: (M, R) where a switch takes effect today (off and its requires
            hold, or in force and endable).
        measure_utilities: (M, R) the model's utility of holding each one more day.
        measure_probabilities: (M, R) the probability that the model's own review switches
            each one today (0 where not switchable).
        measure_draws: (M, R) the actor's uniform numbers for its measure review today.
        mirror: (M,) for each slot aimed at an actor, the global slot of the same kind that
            target may hold aimed back at this actor (-1 when there is none).
        world_on: (S, R) every slot of every actor in force: the public record.
    """

    actor: str
    actor_index: int
    day: int
    features: np.ndarray
    feature_names: tuple[str, ...]
    menu: np.ndarray
    move_names: list[str]
    move_rung: np.ndarray
    severity: np.ndarray
    available: np.ndarray
    utilities: np.ndarray
    probabilities: np.ndarray
    draw: np.ndarray
    measure_slots: np.ndarray
    measure_names: list[str]
    measure_kinds: list[str]
    measure_on: np.ndarray
    measure_switchable: np.ndarray
    measure_utilities: np.ndarray
    measure_probabilities: np.ndarray
    measure_draws: np.ndarray
    mirror: np.ndarray
    world_on: np.ndarray

    @classmethod
    def from_model(cls, model: EscalationModel, actor_index: int) -> Decision:
        """The decision an actor faces on the model's next day (nothing drawn or changed)."""
        adv = model.advice(actor_index)
        rung = np.asarray(adv["move_rung"])
        sev = np.asarray(model.tables.severity)[rung]
        t = model.tables
        day = int(adv["day"])
        agent = model.actor_agents[actor_index]
        slots = np.asarray(t.actors[actor_index].measures.ids, dtype=np.int64)
        n = model.n
        if len(slots):
            view = model.views(day - 1)[actor_index]
            mu, mp, ms = agent.measure_probabilities(view, day)
            draws = agent.measure_draws(day)
        else:
            mu = mp = draws = np.zeros((0, n))
            ms = np.zeros((0, n), dtype=bool)
        return cls(
            actor=model.tables.actors[actor_index].name,
            actor_index=actor_index,
            day=int(adv["day"]),
            features=adv["features"],
            feature_names=tuple(adv["feature_names"]),
            menu=np.asarray(adv["menu"]),
            move_names=list(adv["move_names"]),
            move_rung=rung,
            severity=sev,
            available=np.asarray(adv["available"]),
            utilities=np.asarray(adv["utilities"]),
            probabilities=np.asarray(adv["probabilities"]),
            draw=model.streams.uniform(int(adv["day"]), actor_index, "choice"),
            measure_slots=slots,
            measure_names=[t.slot_name[int(k)] for k in slots],
            measure_kinds=[t.slot_kind[int(k)] for k in slots],
            measure_on=model.state.on[:, slots].T.copy(),
            measure_switchable=np.asarray(ms, dtype=bool),
            measure_utilities=mu,
            measure_probabilities=mp,
            measure_draws=draws,
            mirror=_mirrors(model, actor_index, slots),
            world_on=model.state.on.T.copy(),
        )

    @property
    def worlds(self) -> int:
        """Number of worlds (R)."""
        return int(self.draw.shape[0])

    def feature(self, name: str) -> np.ndarray:
        """(R,) one feature of the actor's view."""
        return self.features[self.feature_names.index(name)]

    def sample(self, weights: np.ndarray) -> np.ndarray:
        """(R,) global moves drawn from ``weights`` ((K, R), zero where unavailable) by ``draw``.

        The inverse CDF of the normalised weights at the actor's own random number.
        """
        return self.menu[self.sample_columns(weights)]

    def sample_columns(self, weights: np.ndarray) -> np.ndarray:
        """Like :meth:`sample`, as (R,) menu columns."""
        w = np.where(self.available, np.maximum(weights, 0.0), 0.0)
        total = w.sum(axis=0)
        # A world whose weights vanish falls back to the model's own probabilities.
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), self.probabilities)
        return inverse_cdf(w, self.draw)

    def own(self) -> np.ndarray:
        """(R,) the moves the model itself draws today (bit for bit: same rule, same number)."""
        return self.menu[self.own_columns()]

    def own_columns(self) -> np.ndarray:
        """Like :meth:`own`, as (R,) menu columns."""
        return inverse_cdf(self.probabilities, self.draw)

    def own_switches(self) -> np.ndarray:
        """(R, M) the switches the model's own review makes today (bit for bit)."""
        return (self.measure_draws < self.measure_probabilities).T

    def hold(self) -> np.ndarray:
        """(R, M) no switch: every measure stays as it is."""
        return np.zeros((self.worlds, len(self.measure_slots)), dtype=bool)

    def measure_column(self, name: str) -> int:
        """The column of a measure slot by name (raises UserError for one the actor lacks)."""
        try:
            return self.measure_names.index(name)
        except ValueError:
            have = ", ".join(self.measure_names) or "none"
            raise UserError(
                f"{self.actor} has no lasting measure '{name}'; its measures: {have}"
            ) from None

    def column(self, move: str) -> int:
        """The menu column of a move name (raises UserError for a move not on the menu)."""
        try:
            return self.move_names.index(move)
        except ValueError:
            raise UserError(
                f"{self.actor} has no move '{move}'; its menu: {', '.join(self.move_names)}"
            ) from None


def _mirrors(model: EscalationModel, actor: int, slots: np.ndarray) -> np.ndarray:
    t = model.tables
    out = np.full(len(slots), -1, dtype=np.int64)
    for j, k in enumerate(slots):
        b = int(t.slot_target[k])
        if b < 0:
            continue
        for k2 in range(t.slot_actor.size):
            if (
                int(t.slot_actor[k2]) == b
                and int(t.slot_target[k2]) == actor
                and t.slot_kind[k2] == t.slot_kind[k]
            ):
                out[j] = k2
                break
    return out


class Plan(NamedTuple):
    """A policy's whole day: daily moves and lasting-measure switches.

    Attributes:
        moves: (R,) global move indices, or None for the move the model itself draws.
        switches: (R, M) bool, True to switch a measure slot today (start it if off, end it if
            in force); None for the model's own review of the actor's measures.
    """

    moves: np.ndarray | None
    switches: np.ndarray | None = None


Policy = Callable[[Decision], np.ndarray | Plan]
"""Anything that picks an actor's day: ``policy(decision) -> (R,) moves`` or a :class:`Plan`."""

# Measures a hawk starts as soon as it may, and a dove and tit-for-tat may end: force and
# economic pressure on a border. Alliance steps (consultations, collective defence) and
# sanctions are left to the model's own rule for starting.
PRESSURE_KINDS = ("deploy_forces", "close_border", "transit_blockade")


def notch(step: int) -> Policy:
    """A persona one rung tougher (``step=1``) or softer (``step=-1``) than the model itself.

    Daily move: it draws the model's own move with the actor's random number, then takes the
    move on the rung ``step`` above (or below) that one that the model finds most likely among
    the moves available there; when no move is available on that rung, it keeps the drawn move.

    Lasting measures: the hawk starts every pressure measure (forces to a border, a border
    closure, a transit blockade) as soon as it may, starts other measures when the model's own
    review would, and never ends one. The dove never starts a measure and ends every endable
    measure in force.
    """

    def policy(d: Decision) -> Plan:
        col = d.own_columns()
        drawn = d.menu[col]
        target = d.move_rung[col] + step
        there = d.available & (d.move_rung[:, None] == target[None, :])
        # Rank by the model's probability; a tiny tie-break keeps unlikely moves choosable.
        score = np.where(there, d.probabilities + 1e-12, -1.0)
        best = np.argmax(score, axis=0)
        moves = np.where(there.any(axis=0), d.menu[best], drawn)
        off = ~d.measure_on
        if step > 0:
            pressure = np.array([k in PRESSURE_KINDS for k in d.measure_kinds], dtype=bool)
            start = d.measure_switchable & off & (pressure[:, None] | d.own_switches().T)
            return Plan(moves, start.T)
        return Plan(moves, (d.measure_switchable & d.measure_on).T)

    policy.__name__ = "hawk" if step > 0 else "dove"
    return policy


def tit_for_tat(d: Decision) -> Plan:
    """Answer in kind: the available move whose rung is nearest to the threat the actor sees.

    The threat feature is the severity of the highest adversary posture the actor perceives
    (with fog), so the persona starts calm, mirrors an adversary's climb and follows it down.
    Among the moves at the nearest rung it takes the one the model itself finds most likely.

    Lasting measures: a slot aimed at an actor that can hold the same kind of measure aimed back
    (forces facing each other across a border) mirrors it - started while the other's is in
    force, ended while it is not; every other slot follows the model's own review.
    """
    threat = d.feature("threat")
    gap = np.abs(d.severity[:, None] - threat[None, :])
    gap = np.where(d.available, gap, np.inf)
    best = gap.min(axis=0)
    near = d.available & (gap <= best[None, :] + 1e-9)
    score = np.where(near, d.probabilities, -1.0)
    moves = d.menu[np.argmax(score, axis=0)]
    switches = d.own_switches().T  # (M, R)
    for j, k in enumerate(d.mirror):
        if k >= 0:
            switches[j] = d.measure_switchable[j] & (d.world_on[k] != d.measure_on[j])
    return Plan(moves, switches.T)


PERSONAS: dict[str, Policy] = {
    "hawk": notch(1),
    "dove": notch(-1),
    "tit_for_tat": tit_for_tat,
}
"""The shipped scripted personas by name."""

PERSONA_HELP = {
    "hawk": "one rung above the move the model draws, when a move is available there; "
    "starts forces/closure/blockade measures at once, never ends a measure",
    "dove": "one rung below the move the model draws, when a move is available there; "
    "starts no measure, ends every endable measure in force",
    "tit_for_tat": "answers in kind: the move whose rung matches the threat it perceives; "
    "mirrors the deployments facing it",
}


def persona(name: str) -> Policy:
    """The persona of that name.

    Raises:
        UserError: no such persona (the message lists the known ones).
    """
    try:
        return PERSONAS[name]
    except KeyError:
        raise UserError(
            f"unknown persona '{name}'; known personas: {', '.join(sorted(PERSONAS))}"
        ) from None


def resolve_policies(
    policies: Mapping[str, str | Policy] | Mapping[int, Policy],
    names: Sequence[str] | None = None,
) -> dict[Any, Policy]:
    """Actor -> persona name (or a policy object) as actor -> policy.

    Args:
        policies: Keys are actor names (or indices); values persona names or policies.
        names: The scenario's actor names: with them, names become indices and an unknown
            actor is refused here; without them (a model is not at hand yet) names stay and
            :func:`play_day` resolves them against the model.

    Raises:
        UserError: an unknown actor or persona.
    """
    out: dict[Any, Policy] = {}
    for actor, p in policies.items():
        key: Any = actor
        if names is not None and not isinstance(actor, int):
            key = actor_index(actor, names)
        out[key] = persona(p) if isinstance(p, str) else p
    return out


def actor_index(actor: str | int, names: Sequence[str]) -> int:
    """An actor's index in the scenario's actor order.

    Raises:
        UserError: an actor the scenario does not declare.
    """
    if isinstance(actor, int):
        if not 0 <= actor < len(names):
            raise UserError(f"actor index {actor} out of range (0..{len(names) - 1})")
        return actor
    if actor not in names:
        raise UserError(f"unknown actor '{actor}'; actors: {', '.join(names)}")
    return list(names).index(actor)


def checked(d: Decision, moves: np.ndarray, who: str = "policy") -> np.ndarray:
    """A policy's answer as an (R,) int array, refused unless every move is available.

    Raises:
        UserError: wrong shape, a move not on the menu, or one unavailable in some world.
    """
    arr = np.asarray(moves)
    if arr.shape != (d.worlds,) or arr.dtype.kind not in "iu":
        raise UserError(
            f"{who} for {d.actor} must return {d.worlds} move indices, got {arr.dtype}{arr.shape}"
        )
    arr = arr.astype(np.int64)
    lookup = {int(g): k for k, g in enumerate(d.menu)}
    cols = np.array([lookup.get(int(g), -1) for g in arr], dtype=np.int64)
    if (cols < 0).any():
        raise UserError(f"{who} for {d.actor} chose a move that is not on its menu")
    ok = d.available[cols, np.arange(d.worlds)]
    if not ok.all():
        bad = d.move_names[int(cols[np.flatnonzero(~ok)[0]])]
        raise UserError(f"{who} for {d.actor} chose '{bad}', which is not available on day {d.day}")
    return arr


def checked_switches(d: Decision, switches: np.ndarray, who: str = "policy") -> np.ndarray:
    """A policy's measure switches as an (R, M) bool array, refused where they cannot apply.

    Raises:
        UserError: wrong shape or type, or a switch of a measure that cannot start today (its
            requires do not hold) or cannot end (it is not endable).
    """
    arr = np.asarray(switches)
    shape = (d.worlds, len(d.measure_slots))
    if arr.shape != shape or arr.dtype.kind != "b":
        raise UserError(
            f"{who} for {d.actor} must return {shape[0]}x{shape[1]} measure switches (bool), "
            f"got {arr.dtype}{arr.shape}"
        )
    bad = arr & ~d.measure_switchable.T
    if bad.any():
        r, j = (int(x[0]) for x in np.nonzero(bad))
        what = "end" if d.measure_on[j, r] else "start"
        raise UserError(f"{who} for {d.actor} cannot {what} '{d.measure_names[j]}' on day {d.day}")
    return arr.astype(bool)


def decide(
    model: EscalationModel, policies: Mapping[Any, Policy]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Ask each seat's policy for its day (nothing is stepped).

    Returns:
        ``chosen`` (actor index -> (R,) global move indices) and ``switches`` (actor index ->
        (R, M) bool), ready for ``model.step(chosen, switches)``. A policy that returns moves
        only (or ``Plan(moves, None)``) has no entry in ``switches``; ``Plan(None, ...)`` none
        in ``chosen``.
    """
    chosen: dict[int, np.ndarray] = {}
    switches: dict[int, np.ndarray] = {}
    for key, pol in policies.items():
        a = actor_index(key, model.tables.names)
        d = Decision.from_model(model, a)
        who = getattr(pol, "__name__", "policy")
        out = pol(d)
        moves, flips = (out.moves, out.switches) if isinstance(out, Plan) else (out, None)
        if moves is not None:
            chosen[a] = checked(d, moves, who=who)
        if flips is not None:
            switches[a] = checked_switches(d, flips, who=who)
    return chosen, switches


def play_day(model: EscalationModel, policies: Mapping[Any, Policy]) -> dict[int, np.ndarray]:
    """Advance the model one day with the given seats (index or name) played by policies.

    Returns:
        The moves each policy chose (actor index -> (R,) global move indices).
    """
    chosen, switches = decide(model, policies)
    model.step(chosen, switches)
    return chosen


def play_out(
    model: EscalationModel,
    policies: Mapping[Any, Policy],
    on_day: Callable[[int, dict[int, np.ndarray]], None] | None = None,
) -> EscalationModel:
    """Step the model to its end with the given seats played by policies; returns the model."""
    while model.running:
        chosen = play_day(model, policies)
        if on_day is not None:
            on_day(model.day, chosen)
    return model
