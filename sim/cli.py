"""The ``escalation`` command: parses arguments and calls the package's functions, nothing more.

Sub-commands live in small modules, each with a ``register(subparsers)`` function that adds its
parsers and sets ``func`` (a callable taking the parsed namespace and returning an exit status).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.errors import UserError

_COMMAND_MODULES = (
    "sim.cli_scenario",
    "sim.cli_run",
    "sim.cli_replay",
    "sim.cli_play",
    "sim.cli_explore",
    "sim.cli_analysis",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="escalation",
        description="Escalation-scenario simulation engine: Monte Carlo runs of scenario files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"error: {e}" if "\n" not in str(e) else str(e), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
