"""Scenarios: the schema (what a file may contain), the loader (files to validated scenarios) and
the uncertain parameters' distributions.

Most callers need only :func:`load_scenario`::

    from sim.scenario import load_scenario
    scenario = load_scenario("scenarios/staged_provocation.yaml", ["actors.china.resolve=0.4"])
"""

from sim.scenario.loader import (
    Override,
    ScenarioFileError,
    load_scenario,
    load_tree,
    parse_override,
    scenario_to_yaml,
    tree_to_yaml,
)
from sim.scenario.schema import Problem, Scenario, ScenarioError, validate_scenario

__all__ = [
    "Override",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioFileError",
    "load_scenario",
    "load_tree",
    "parse_override",
    "scenario_to_yaml",
    "tree_to_yaml",
    "validate_scenario",
]
