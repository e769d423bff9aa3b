"""``escalation validate`` and ``escalation show``: check scenario files and print them resolved.

Also home of :func:`add_set_option`, so every sub-command that reads a scenario (run, compare,
replay, ...) takes ``--set PATH=VALUE`` overrides the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sim.cli import printable
from sim.scenario.loader import (
    load_scenario,
    load_tree,
    parse_override,
    scenario_to_yaml,
    tree_to_yaml,
)
from sim.scenario.schema import ScenarioError

SET_HELP = (
    "override one value of the scenario after 'extends', before validation; the value is read "
    "as YAML. Repeatable. Examples: --set actors.china.resolve=0.7, "
    "--set 'actors.china.resolve={dist: uniform, low: 0.2, high: 0.6}', "
    "--set injects[0].probability=0.5"
)


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--set PATH=VALUE`` option; values land in ``args.overrides``.

    Pass ``args.overrides`` to :func:`sim.scenario.loader.load_scenario`.
    """
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=SET_HELP,
    )


def register(subparsers: Any) -> None:
    """Add the ``validate`` and ``show`` sub-commands."""
    p = subparsers.add_parser(
        "validate",
        help="check scenario files; report every problem as file:line: key: message",
        description="Check scenario files (after extends and --set overrides). Prints "
        "'ok: FILE (title)' for each valid file and every problem of every invalid one; the exit "
        "status is 2 if any file is invalid.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario YAML files")
    add_set_option(p)
    p.set_defaults(func=validate_command)

    p = subparsers.add_parser(
        "show",
        help="print a scenario after extends and --set overrides",
        description="Validate a scenario and print it resolved: extends merged, overrides "
        "applied and every default filled in (or, with --as-written, only the merged keys).",
    )
    p.add_argument("file", metavar="FILE", help="scenario YAML file")
    add_set_option(p)
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format")
    p.add_argument(
        "--as-written",
        action="store_true",
        help="print the merged keys only, without the schema's defaults",
    )
    p.set_defaults(func=show_command)


def validate_command(args: argparse.Namespace) -> int:
    """Validate every file; return 0 if all are valid, else 2 (after reporting all of them)."""
    for text in args.overrides:
        parse_override(text)  # a malformed --set is one error, not one per file
    failed = 0
    for path in args.files:
        try:
            scenario = load_scenario(path, args.overrides)
        except ScenarioError as e:
            failed += 1
            print(printable(str(e)), file=sys.stderr)
        else:
            print(printable(f"ok: {path} ({scenario.title})"))
    if failed and len(args.files) > 1:
        print(f"{failed} of {len(args.files)} files invalid", file=sys.stderr)
    return 2 if failed else 0


def show_command(args: argparse.Namespace) -> int:
    """Print the resolved scenario (YAML or JSON); invalid input raises ScenarioError."""
    scenario = load_scenario(args.file, args.overrides)
    if args.as_written:
        tree = load_tree(args.file, args.overrides)
        if args.format == "json":
            print(json.dumps(tree, indent=2, default=str))
        else:
            print(tree_to_yaml(tree), end="")
    elif args.format == "json":
        print(json.dumps(scenario.model_dump(mode="json", by_alias=True), indent=2))
    else:
        print(scenario_to_yaml(scenario), end="")
    return 0
