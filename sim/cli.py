"""The ``escalation`` command: parses arguments and calls the package's functions, nothing more.

Sub-commands live in small modules, each with a ``register(subparsers)`` function that adds its
parsers and sets ``func`` (a callable taking the parsed namespace and returning an exit status).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import Any

from sim.errors import UserError

_COMMAND_MODULES = (
    "sim.cli_scenario",
    "sim.cli_run",
    "sim.cli_replay",
    "sim.cli_play",
    "sim.cli_explore",
    "sim.cli_analysis",
    "sim.cli_calibrate",
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
    """Run the command line; returns the exit status.

    0: done, and every promised file is written; 1: replicates failed (``--fail-fast``, all or
    more than ``--max-failed``) or a worker died; 2: bad input or an unusable file or folder,
    one line naming it; 130: interrupted (Ctrl-C or SIGTERM at any point).
    """
    previous = _sigterm_as_interrupt()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except UserError as e:
        # A message may quote a folder's or a scenario's text (a title, a name): shown with
        # its control characters escaped, so it cannot drive the terminal.
        text = printable(str(e))
        print(f"error: {text}" if "\n" not in text else text, file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def printable(text: str) -> str:
    """``text`` with control characters escaped for the terminal (ANSI escapes in a title).

    See :func:`sim.runner.folder.printable`; imported when first needed, so that the command
    line starts without loading the runner.
    """
    from sim.runner.folder import printable as escape

    return escape(text)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _sigterm_as_interrupt() -> Any:
    """Treat SIGTERM like Ctrl-C for the whole command (exit 130, folders left resumable)."""
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return None


if __name__ == "__main__":
    sys.exit(main())
