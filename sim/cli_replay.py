"""``escalation replay``: the day-by-day story of one replicate."""

from __future__ import annotations

import argparse
import json
import sys

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
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the run's seed")
    p.add_argument("--replicate", "-k", type=int, default=0, help="replicate id to replay")
    p.add_argument("--all-days", action="store_true", help="tell every day, not only changes")
    p.add_argument("--top", type=int, default=3, help="alternatives shown per decision")
    p.add_argument("--json", action="store_true", help="print the outcomes row as JSON only")
    add_set_option(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sim.model.replay import replay
    from sim.scenario import load_scenario

    if args.log:
        from sim.play.game import load_game

        print(load_game(args.log).narrative(all_days=args.all_days, top=args.top))
        return 0
    if not args.scenario:
        raise UserError("replay needs a scenario file (or --log LOG)")
    if args.seed < 0:
        raise UserError(f"--seed must be >= 0, got {args.seed}")
    if args.replicate < 0:
        raise UserError(f"--replicate must be >= 0, got {args.replicate}")
    if args.top < 1:
        raise UserError(f"--top must be >= 1, got {args.top}")
    scenario = load_scenario(args.scenario, args.overrides or ())
    r = replay(scenario, args.seed, args.replicate, all_days=args.all_days, top=args.top)
    if args.json:
        json.dump({k: _plain(v) for k, v in r.outcomes.items()}, sys.stdout, indent=2)
        print()
    else:
        print(r.story)
    return 0


def _plain(v: object) -> object:
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v
