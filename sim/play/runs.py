"""Replicate functions with personas in seats, named so that the runner can record and resume them.

The runner runs a replicate function named ``module:function`` (see
:func:`sim.runner.chunks.resolve_model`), the same in every worker process and on resume. This
module makes two kinds on demand:

* ``sim.play.runs:ACTOR=PERSONA[,...]`` (e.g. ``sim.play.runs:poland=tit_for_tat``): a Monte
  Carlo with personas from the fixed registry (:data:`sim.play.policy.PERSONAS`) in some seats;
* ``sim.play.runs:branch_<token>``: "what happens from here?" in a game - worlds branched from
  the state a game reached. The token is the game's replicate, seats and every choice made
  (compressed JSON, URL-safe base64): with the run's scenario and seed that rebuilds the game's
  world exactly, so the branch is data in the manifest, resumable, and runs on any executor.

So the manifest says exactly which seats were played by whom, and nothing outside the registry
can be named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.errors import UserError

MODULE = "sim.play.runs"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_policies(items: Sequence[str], names: Sequence[str] | None = None) -> dict[str, str]:
    """``["poland=hawk", ...]`` (or one ``"poland=hawk,nato=dove"``) as actor -> persona.

    Args:
        items: ``ACTOR=PERSONA`` texts.
        names: The scenario's actor names, to refuse an actor it does not declare (without
            them the actor is checked when the run starts).

    Returns:
        Actor -> persona, sorted by actor name (so equal seats give equal model names).

    Raises:
        UserError: a malformed item, an unknown actor or persona, or an actor named twice.
    """
    from sim.play.policy import PERSONAS

    out: dict[str, str] = {}
    for item in items:
        for part in str(item).split(","):
            actor, sep, name = part.strip().partition("=")
            actor, name = actor.strip().lower(), name.strip()
            if not sep or not _IDENT.match(actor) or not name:
                raise UserError(
                    f"--policy: expected ACTOR=PERSONA (e.g. poland=hawk), got {part!r}"
                )
            if names is not None and actor not in names:
                raise UserError(f"--policy: unknown actor '{actor}'; actors: {', '.join(names)}")
            if name not in PERSONAS:
                raise UserError(
                    f"--policy {actor}=: unknown persona '{name}'; personas: "
                    f"{', '.join(sorted(PERSONAS))}"
                )
            if actor in out:
                raise UserError(f"--policy: {actor} is given twice")
            out[actor] = name
    return dict(sorted(out.items()))


def model_name(policies: Mapping[str, str]) -> str:
    """The replicate function's reference for these seats (``sim.play.runs:poland=hawk``)."""
    return f"{MODULE}:" + ",".join(f"{a}={p}" for a, p in policies.items())


def policy_model(
    items: Sequence[str] | None,
    model: str | None = None,
    scenario: str | os.PathLike[str] | None = None,
) -> str | None:
    """The ``model`` reference a run with ``--policy`` items uses (``model`` when none).

    Args:
        items: ``ACTOR=PERSONA`` texts (``--policy``).
        model: The ``--model`` given, if any.
        scenario: The scenario file, to check the actors against the ones it declares.

    Raises:
        UserError: both ``--policy`` and ``--model`` given, or a bad ``--policy`` item.
    """
    if not items:
        return model
    names = None
    if scenario is not None:
        from sim.scenario.loader import load_scenario

        names = load_scenario(scenario).actor_names
    name = model_name(parse_policies(items, names))
    if model is not None and model != name:
        raise UserError("give either --policy or --model, not both")
    return name


def replicate_function(policies: Mapping[str, str]) -> Callable[..., Any]:
    """:func:`sim.model.run_replicates` with these seats played by their personas."""
    seats = dict(policies)

    def run(
        scenario: Any,
        seed: int,
        replicate_ids: Any,
        parameters: Mapping[str, Any] | None = None,
    ) -> Any:
        from sim.model import run_replicates

        return run_replicates(scenario, seed, replicate_ids, parameters, policies=seats)

    name = model_name(seats).split(":", 1)[1]
    run.__name__ = run.__qualname__ = name
    run.__module__ = MODULE
    return run


BRANCH = "branch_"


def branch_name(
    replicate: int,
    seats: Sequence[str],
    moves: Sequence[Mapping[str, str]],
    policies: Mapping[str, str] | None = None,
    switches: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The replicate function's reference for a branch of a game (see the module docstring).

    ``switches`` are the seats' measure decisions day by day (a game whose seats decide their
    measures); None for a game whose measures were the model's own review.
    """
    import base64
    import json
    import zlib

    spec: dict[str, Any] = {"replicate": int(replicate), "seats": list(seats),
            "moves": [dict(m) for m in moves], "policies": dict(policies or {})}  # fmt: skip
    if switches is not None:
        spec["switches"] = [
            {s: {k: list(v) for k, v in d.items() if v} for s, d in day.items()} for day in switches
        ]
    raw = zlib.compress(json.dumps(spec, separators=(",", ":")).encode(), 9)
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{MODULE}:{BRANCH}{token}"


def _branch_spec(token: str) -> dict[str, Any]:
    import base64
    import json
    import zlib

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    spec = json.loads(zlib.decompress(raw))
    if not isinstance(spec, dict) or not {"replicate", "seats", "moves"} <= set(spec):
        raise ValueError("not a branch token")
    return spec


def branch_function(token: str) -> Callable[..., Any]:
    """The replicate function of a branch: rebuild the game's world, then run new worlds on."""
    spec = _branch_spec(token)
    policies = parse_policies([f"{a}={p}" for a, p in (spec.get("policies") or {}).items()])

    def run(
        scenario: Any,
        seed: int,
        replicate_ids: Any,
        parameters: Mapping[str, Any] | None = None,
    ) -> Any:
        import numpy as np

        from sim.model import ChunkOutput
        from sim.play.game import Game
        from sim.play.policy import play_out, resolve_policies

        seat_measures = "switches" in spec
        game = Game(
            scenario,
            tuple(spec["seats"]),
            int(seed),
            int(spec["replicate"]),
            seat_measures=seat_measures,
        )
        switches = spec.get("switches") or [{}] * len(spec["moves"])
        for day, flips in zip(spec["moves"], switches, strict=True):
            game.play(day, flips)
        model = game.branch_model(np.asarray(replicate_ids), parameters)
        play_out(model, resolve_policies(policies)) if policies else model.run()
        last = model.day
        model.occupancy[last + 1 :] = model.occupancy[last]
        model.alignment_occupancy[last + 1 :] = model.alignment_occupancy[last]
        return ChunkOutput(model.outcomes(), model.occupancy, model.alignment_occupancy)

    run.__name__ = run.__qualname__ = BRANCH + token
    run.__module__ = MODULE
    return run


def __getattr__(name: str) -> Callable[..., Any]:
    # ``resolve_model("sim.play.runs:poland=hawk")`` looks the attribute up here.
    if name.startswith("__"):
        raise AttributeError(name)
    if name.startswith(BRANCH):
        try:
            return branch_function(name[len(BRANCH) :])
        except (ValueError, UserError) as e:
            raise AttributeError(f"not a game branch: {e}") from None
    try:
        return replicate_function(parse_policies([name]))
    except UserError as e:
        raise AttributeError(str(e)) from None
