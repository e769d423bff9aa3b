"""``escalation replay``: the day-by-day story of one replicate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli import printable
from sim.errors import UserError

DEFAULT_SEED = 20240708


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` sub-command."""
    from sim.cli_scenario import add_set_option

    p = subparsers.add_parser(
        "replay",
        help="tell the story of one replicate: what each actor did and why",
        description="Re-run one replicate of a Monte Carlo run (same scenario, seed and "
        "replicate id) with tracing, and print what each actor did each day, the utilities it "
        "weighed, its beliefs, the injects that fired, and the replicate's outcomes - which "
        "equal that replicate's row in outcomes.parquet.",
    )
    p.add_argument("scenario", nargs="?", help="scenario file (YAML)")
    p.add_argument("--log", metavar="LOG", help="tell the story of a game log (escalation play)")
    p.add_argument("--seed", metavar="S", help=f"the run's seed (default {DEFAULT_SEED})")
    p.add_argument("--replicate", "-k", metavar="K", help="replicate id to replay (default 0)")
    p.add_argument("--all-days", action="store_true", help="tell every day, not only changes")
    p.add_argument("--top", metavar="N", help="alternatives shown per decision (default 3)")
    p.add_argument("--json", action="store_true", help="print the outcomes row as JSON only")
    add_set_option(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sim.model.replay import replay
    from sim.runner.options import parse_int
    from sim.scenario import load_scenario

    top = parse_int(args.top, "--top", 1, 1000) or 3
    if args.log:
        from sim.play.game import load_game

        log = checked_game_log(args.log)
        print(printable(load_game(log).narrative(all_days=args.all_days, top=top)))
        return 0
    if not args.scenario:
        raise UserError("replay needs a scenario file (or --log LOG)")
    # The same checks, bounds and wording as every other command's integer options: seeds
    # and replicate ids are 64-bit signed integers everywhere, and nothing wraps around.
    seed = parse_int(args.seed, "--seed", 0)
    replicate = parse_int(args.replicate, "--replicate", 0)
    scenario = load_scenario(args.scenario, args.overrides or ())
    r = replay(
        scenario,
        DEFAULT_SEED if seed is None else seed,
        0 if replicate is None else replicate,
        all_days=args.all_days,
        top=top,
    )
    if args.json:
        json.dump({k: _plain(v) for k, v in r.outcomes.items()}, sys.stdout, indent=2)
        print()
    else:
        print(printable(r.story))
    return 0


def checked_game_log(path: str | Path) -> Path:
    """A game log checked before the game is rebuilt from it (``replay --log``, ``play
    --replay``).

    A log is untrusted input, like a results folder: it is read bounded in size and in JSON
    nesting (a log of 100,000 nested brackets is a message, not a RecursionError), and its
    seed and replicate must be what ``run``, ``replay`` and ``play`` accept - a seed of 2^64
    or more would otherwise be told under its own number while the story is another seed's.

    Raises:
        UserError: missing, unreadable, too deep, or a seed or replicate out of range (one
            line naming the file and the key).
    """
    from sim.runner.folder import read_json_file

    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such game log")
    data = read_json_file(p, "game log")
    if isinstance(data, dict):
        for key in ("seed", "replicate"):
            v = data.get(key)
            if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= MAX_ID:
                raise UserError(
                    f"{p}: {key}: must be a whole number from 0 to {MAX_ID:,} (2^63 - 1), got {v}"
                )
    return p


MAX_ID = 2**63 - 1
"""The largest seed or replicate id any command accepts (64-bit signed)."""


def _plain(v: object) -> object:
    import pandas as pd

    if v is None or (not isinstance(v, str) and bool(pd.isna(v))):  # type: ignore[call-overload]
        return None
    item = getattr(v, "item", None)
    return item() if callable(item) else v
