"""Policies: who picks an actor's move, given what that actor sees.

A policy is any callable ``policy(decision) -> moves`` that takes a :class:`Decision` (one actor's
view of yesterday's world in R worlds, its menu and the model's own advice) and returns an (R,)
array of global move indices, one per world. The terminal game, the explorer, ``escalation run
--policy`` and any external program (an LLM adapter, another simulator) plug in the same way;
the model applies the returned moves through ``EscalationModel.step(chosen)``.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import UserError

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

    @classmethod
    def from_model(cls, model: EscalationModel, actor_index: int) -> Decision:
        """The decision an actor faces on the model's next day (nothing drawn or changed)."""
        adv = model.advice(actor_index)
        rung = np.asarray(adv["move_rung"])
        sev = np.asarray(model.tables.severity)[rung]
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
        return _inverse_cdf(w, self.draw)

    def own(self) -> np.ndarray:
        """(R,) the moves the model itself draws today (bit for bit: same rule, same number)."""
        return self.menu[self.own_columns()]

    def own_columns(self) -> np.ndarray:
        """Like :meth:`own`, as (R,) menu columns."""
        return _inverse_cdf(self.probabilities, self.draw)

    def column(self, move: str) -> int:
        """The menu column of a move name (raises UserError for a move not on the menu)."""
        try:
            return self.move_names.index(move)
        except ValueError:
            raise UserError(
                f"{self.actor} has no move '{move}'; its menu: {', '.join(self.move_names)}"
            ) from None


def _inverse_cdf(p: np.ndarray, draw: np.ndarray) -> np.ndarray:
    # The model's own loop (sim.model.agents.Actor.decide): the same sums in the same order,
    # so the model's probabilities and its random number give exactly its move.
    col = np.zeros(p.shape[1], dtype=np.int64)
    acc = np.zeros(p.shape[1])
    for k in range(p.shape[0] - 1):
        acc += p[k]
        col += acc <= draw
    return col


Policy = Callable[[Decision], np.ndarray]
"""Anything that picks an actor's moves: ``policy(decision) -> (R,) global move indices``."""


def notch(step: int) -> Policy:
    """A persona one rung tougher (``step=1``) or softer (``step=-1``) than the model itself.

    It draws the model's own move with the actor's random number, then takes the move on the
    rung ``step`` above (or below) that one that the model finds most likely among the moves
    available there; when no move is available on that rung, it keeps the drawn move.
    """

    def policy(d: Decision) -> np.ndarray:
        col = d.own_columns()
        drawn = d.menu[col]
        target = d.move_rung[col] + step
        there = d.available & (d.move_rung[:, None] == target[None, :])
        # Rank by the model's probability; a tiny tie-break keeps unlikely moves choosable.
        score = np.where(there, d.probabilities + 1e-12, -1.0)
        best = np.argmax(score, axis=0)
        return np.where(there.any(axis=0), d.menu[best], drawn)

    policy.__name__ = "hawk" if step > 0 else "dove"
    return policy


def tit_for_tat(d: Decision) -> np.ndarray:
    """Answer in kind: the available move whose rung is nearest to the threat the actor sees.

    The threat feature is the severity of the highest adversary posture the actor perceives
    (with fog), so the persona starts calm, mirrors an adversary's climb and follows it down.
    Among the moves at the nearest rung it takes the one the model itself finds most likely.
    """
    threat = d.feature("threat")
    gap = np.abs(d.severity[:, None] - threat[None, :])
    gap = np.where(d.available, gap, np.inf)
    best = gap.min(axis=0)
    near = d.available & (gap <= best[None, :] + 1e-9)
    score = np.where(near, d.probabilities, -1.0)
    return d.menu[np.argmax(score, axis=0)]


PERSONAS: dict[str, Policy] = {
    "hawk": notch(1),
    "dove": notch(-1),
    "tit_for_tat": tit_for_tat,
}
"""The shipped scripted personas by name."""

PERSONA_HELP = {
    "hawk": "one rung above the move the model draws, when a move is available there",
    "dove": "one rung below the move the model draws, when a move is available there",
    "tit_for_tat": "answers in kind: the move whose rung matches the threat it perceives",
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


def play_day(model: EscalationModel, policies: Mapping[Any, Policy]) -> dict[int, np.ndarray]:
    """Advance the model one day with the given seats (index or name) played by policies.

    Returns:
        The moves each policy chose (actor index -> (R,) global move indices).
    """
    chosen = {}
    for key, pol in policies.items():
        a = actor_index(key, model.tables.names)
        d = Decision.from_model(model, a)
        chosen[a] = checked(d, pol(d), who=getattr(pol, "__name__", "policy"))
    model.step(chosen)
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
