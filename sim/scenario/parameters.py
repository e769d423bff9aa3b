"""The parameter table: one value per replicate for every parameter of a scenario.

Uncertain parameters (distributions) are drawn per replicate from the project's counter-based
streams, so replicate k gets the same values in any chunk; fixed ones are broadcast. A caller may
instead give values for some parameters (a sensitivity design, a branch of a played game): those
replace the draws.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.errors import UserError
from sim.rng import Streams
from sim.scenario.distributions import Draws, Param, is_uncertain, sample, support
from sim.scenario.schema import Scenario, iter_params

PARAM_PREFIX = "param."
"""Prefix of the parameter columns in ``outcomes`` tables (``param.actors.china.resolve``)."""

_PARAM_ACTOR = 255  # the actor coordinate reserved for parameter draws

WORLD_RESTRAINT = "dynamics.restraint@world"
"""Key of each world's own restraint in the parameter table: ``dynamics.restraint`` plus
``dynamics.restraint_spread`` times a standard normal drawn per replicate, at least 0. Not a
declared parameter (never written as a ``param.`` column); given, it is kept as the worlds'
restraint (a branch continuing a played world)."""


def declared_parameters(scenario: Scenario) -> dict[str, Param]:
    """Every parameter of the scenario by dotted path, as declared (number or distribution)."""
    return dict(iter_params(scenario))


def uncertain_parameters(scenario: Scenario) -> dict[str, Param]:
    """The parameters that vary between replicates (declared as distributions)."""
    return {k: v for k, v in declared_parameters(scenario).items() if is_uncertain(v)}


def stream_path(path: str, actors: Mapping[str, int]) -> str:
    """A parameter's path with every actor name replaced by the actor's position.

    The random stream of a parameter is keyed by this form, so that renaming the actors of a
    scenario (and nothing else) leaves every draw unchanged.
    """
    return ".".join(f"@{actors[part]}" if part in actors else part for part in path.split("."))


def parameter_table(
    scenario: Scenario,
    seed: int,
    replicate_ids: np.ndarray,
    given: Mapping[str, np.ndarray | float] | None = None,
) -> dict[str, np.ndarray]:
    """Values of every parameter for each replicate.

    Args:
        scenario: The validated scenario.
        seed: Run seed.
        replicate_ids: Replicate ids, one per row.
        given: Optional values that replace the declared ones (a number, or one per replicate).
            Keys must be parameter paths; values must lie within the declared support... of
            the schema bounds, which are checked by the model where it matters.

    Returns:
        A dict from dotted path to a float64 array of length ``len(replicate_ids)``.

    Raises:
        UserError: for an unknown parameter path or a wrongly shaped array in ``given``.
    """
    ids = np.asarray(replicate_ids, dtype=np.int64)
    declared = declared_parameters(scenario)
    streams = Streams(seed, ids)
    actors = {name: i for i, name in enumerate(scenario.actors)}
    table: dict[str, np.ndarray] = {}
    rows: dict[str, np.ndarray] = {}
    for path, p in declared.items():
        if isinstance(p, Draws):
            # One row per replicate and table, shared by the table's columns (joint draws).
            if p.table not in rows:
                u = streams.open_uniform(0, _PARAM_ACTOR, "draws:" + p.table)
                rows[p.table] = p.row(u)
            table[path] = p.take(rows[p.table])
        elif is_uncertain(p):
            purpose = "param:" + stream_path(path, actors)
            table[path] = sample(p, streams.open_uniform(0, _PARAM_ACTOR, purpose))
        else:
            table[path] = sample(p, np.zeros(len(ids)))
    for path, value in (given or {}).items():
        if path == WORLD_RESTRAINT:
            continue  # a world's own restraint: kept below instead of drawn
        if path not in declared:
            import difflib

            close = difflib.get_close_matches(path, list(declared), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UserError(f"unknown parameter '{path}'{hint}")
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), ids.shape).copy()
        table[path] = arr
    if "dynamics.restraint" in table and np.any(table["dynamics.restraint"] < 0):
        # The schema's bound, for given values too: restraint is a cost, never a bonus.
        raise UserError("dynamics.restraint: expected a number >= 0 (a cost of using force)")
    spread = table.get("dynamics.restraint_spread")
    if given is not None and WORLD_RESTRAINT in given:
        # A branch of a played world continues that world, with its own restraint.
        table[WORLD_RESTRAINT] = np.broadcast_to(
            np.asarray(given[WORLD_RESTRAINT], dtype=np.float64), ids.shape
        ).copy()
    elif spread is not None and np.any(spread != 0):
        z = streams.normal(0, _PARAM_ACTOR, "world:restraint")
        # Clipped at 0: a world may be free of restraint, never paid to fire.
        table[WORLD_RESTRAINT] = np.maximum(table["dynamics.restraint"] + spread * z, 0.0)
    elif "dynamics.restraint" in table:
        table[WORLD_RESTRAINT] = table["dynamics.restraint"]
    return table


def bounds(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """The interval of each uncertain parameter (for sensitivity designs)."""
    return {k: support(v) for k, v in uncertain_parameters(scenario).items()}
