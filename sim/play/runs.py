"""Replicate functions with personas in seats, named so that the runner can record and resume them.

The runner runs a replicate function named ``module:function`` (see
:func:`sim.runner.chunks.resolve_model`), the same in every worker process and on resume. A
Monte Carlo with personas in some seats is the function ``sim.play.runs:ACTOR=PERSONA[,...]``,
e.g. ``sim.play.runs:poland=tit_for_tat``: this module makes such a function on demand from
the fixed persona registry (:data:`sim.play.policy.PERSONAS`), so the manifest says exactly
which seats were played by whom, and nothing outside the registry can be named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.errors import UserError

MODULE = "sim.play.runs"


def parse_policies(items: Sequence[str]) -> dict[str, str]:
    """``["poland=hawk", ...]`` (or one ``"poland=hawk,nato=dove"``) as actor -> persona.

    Raises:
        UserError: a malformed item, an unknown actor or persona, or an actor named twice.
    """
    from sim.play.policy import PERSONAS
    from sim.scenario.schema import ACTORS

    out: dict[str, str] = {}
    for item in items:
        for part in str(item).split(","):
            actor, sep, name = part.strip().partition("=")
            actor, name = actor.strip().lower(), name.strip()
            if not sep or not actor or not name:
                raise UserError(
                    f"--policy: expected ACTOR=PERSONA (e.g. poland=hawk), got {part!r}"
                )
            if actor not in ACTORS:
                raise UserError(f"--policy: unknown actor '{actor}'; actors: {', '.join(ACTORS)}")
            if name not in PERSONAS:
                raise UserError(
                    f"--policy {actor}=: unknown persona '{name}'; personas: "
                    f"{', '.join(sorted(PERSONAS))}"
                )
            if actor in out:
                raise UserError(f"--policy: {actor} is given twice")
            out[actor] = name
    return {a: out[a] for a in ACTORS if a in out}


def model_name(policies: Mapping[str, str]) -> str:
    """The replicate function's reference for these seats (``sim.play.runs:poland=hawk``)."""
    return f"{MODULE}:" + ",".join(f"{a}={p}" for a, p in policies.items())


def policy_model(items: Sequence[str] | None, model: str | None = None) -> str | None:
    """The ``model`` reference a run with ``--policy`` items uses (``model`` when none).

    Raises:
        UserError: both ``--policy`` and ``--model`` given, or a bad ``--policy`` item.
    """
    if not items:
        return model
    name = model_name(parse_policies(items))
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


def __getattr__(name: str) -> Callable[..., Any]:
    # ``resolve_model("sim.play.runs:poland=hawk")`` looks the attribute up here.
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return replicate_function(parse_policies([name]))
    except UserError as e:
        raise AttributeError(str(e)) from None
