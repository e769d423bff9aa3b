"""Errors meant for people: each one becomes a one-line message and exit status 2 in the CLI."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the input (a file, an option, a results folder), not a bug in the engine.

    The CLI prints ``str(error)`` on one line (several lines for several problems) and exits
    with status 2, without a traceback.
    """

    exit_code = 2
