"""``escalation play``: take one or more actors' seats in a game of one world, in the terminal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.errors import UserError

DEFAULT_SEED = 20240708
DEFAULT_WHATIF = 1000

HELP = """Commands (at any point):
  <number> or <move>   choose that move for this seat today
  model                let the model choose this seat's move today (its own rule and draw)
  measures             this seat's lasting measures: in force or not, what can be switched
                       today and the model's advice (the chance its own review switches each)
  measure start <m>    start a lasting measure today, with the day's move (<m>: its number
  measure end <m>      in the measures table or its name, e.g. rail_blockade@belarus); end one
  measure model        switch today what the model's own review would (its own draw)
  measure clear        take back today's measure decisions
                       Measures you do not touch stay as they are: the seat decides them.
  whatif [N] [PERSONA] what happens from here? N worlds branched from today (default 1000),
                       every actor played by the model, or your seats by a persona
                       (hawk, dove, tit_for_tat)
  world                show the world as your seat sees it
  undo                 take back the last day
  save [FILE]          save the game log (JSON)
  help                 this list
  quit                 stop (the log is saved first)"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``play`` sub-command."""
    from sim.cli_scenario import add_set_option

    p = subparsers.add_parser(
        "play",
        help="play a game: take an actor's seat and choose its moves day by day",
        description="A terminal game of one world of a scenario. Each day every seat sees what "
        "its actor can see (fog applies) and the model's advice, and chooses a move, and may "
        "start or end its lasting measures ('measure start rail_blockade@belarus'); the other "
        "actors act by the model. Ask 'whatif' at any point for a Monte Carlo of what happens "
        "from here. The game log (every choice, the seed, the scenario, versions) is JSON and "
        "replays exactly with --replay; 'escalation replay --log LOG' tells its story.",
    )
    p.add_argument("scenario", nargs="?", help="scenario file (YAML)")
    p.add_argument(
        "--as",
        dest="seats",
        metavar="ACTOR[,ACTOR...]",
        help="the seats people play (several: hot-seat, one team after another each day)",
    )
    p.add_argument("--seed", metavar="S", help=f"the world's seed (default {DEFAULT_SEED})")
    p.add_argument(
        "--replicate", "-k", metavar="K", help="which replicate's world to play (default 0)"
    )
    p.add_argument("--log", metavar="FILE", help="where to save the game log")
    p.add_argument("--replay", metavar="LOG", help="replay a saved game log and check it")
    add_set_option(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(highlight=False)
    if args.replay:
        if args.scenario or args.seats:
            raise UserError("--replay LOG takes no scenario or --as: the log holds both")
        return _replay(console, Path(args.replay))
    if not args.scenario:
        raise UserError("play needs a scenario file (or --replay LOG)")
    if not args.seats:
        raise UserError("play needs --as ACTOR (e.g. --as poland)")
    from sim.play.game import new_game, parse_seats
    from sim.runner.options import parse_int

    seed = parse_int(args.seed, "--seed", 0, 2**63 - 1)
    replicate = parse_int(args.replicate, "--replicate", 0, 2**62)
    game = new_game(
        args.scenario,
        parse_seats(args.seats),
        DEFAULT_SEED if seed is None else seed,
        replicate or 0,
        args.overrides or (),
    )
    log_path = Path(args.log) if args.log else _default_log(game)
    return _loop(console, game, log_path)


def _default_log(game: Any) -> Path:
    import datetime as dt

    from sim.runner.store import safe_name

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return (
        Path("results") / "games" / f"{stamp}-{safe_name(game.scenario.name)}-seed{game.seed}.json"
    )


def _loop(console: Any, game: Any, log_path: Path) -> int:
    s = game.scenario
    seats = ", ".join(game.label(x) for x in game.seats)
    console.print(f"[bold]{s.title}[/bold] ({s.name}), seed {game.seed}: you play {seats}.")
    console.print("Results are explorations of the scenario's stated assumptions, not forecasts.")
    console.print("Type 'help' for the commands.")
    while not game.over:
        day_moves: dict[str, str] = {}
        day_switches: dict[str, dict[str, list[str]]] = {}
        restart = False
        for seat in game.seats:
            _show_day(console, game, seat)
            pending = day_switches.setdefault(seat, {"start": [], "end": []})
            while seat not in day_moves:
                try:
                    line = console.input(f"[bold]{seat}>[/bold] ").strip()
                except EOFError:
                    console.print("input ended")
                    _save(console, game, log_path)
                    return 1
                except KeyboardInterrupt:
                    console.print()
                    _save(console, game, log_path)
                    raise
                result = _command(console, game, seat, line, log_path, pending)
                if result == "quit":
                    _save(console, game, log_path)
                    return 0
                if result == "undo":
                    restart = True
                    break
                if result is not None:
                    day_moves[seat] = result
            if restart:
                break
        if restart or len(day_moves) < len(game.seats):
            continue
        game.play(day_moves, day_switches)
        events = game.public_events()
        chose = "; ".join(
            f"{game.label(x)} chose {game.move_label(x, m)}" + _switch_text(day_switches.get(x))
            for x, m in day_moves.items()
        )
        console.print(f"[bold]Day {game.day} ({game.date(game.day)}) played:[/bold] {chose}.")
        for e in events:
            console.print(f"  ! {e}")
    console.print(f"[bold]The game is over on day {game.day}.[/bold] Outcomes of this world:")
    _show_outcomes(console, game)
    _save(console, game, log_path)
    return 0


def _switch_text(switches: dict[str, list[str]] | None) -> str:
    if not switches:
        return ""
    parts = [f"starts {x}" for x in switches.get("start", [])]
    parts += [f"ends {x}" for x in switches.get("end", [])]
    return f" and {', '.join(parts)}" if parts else ""


def _command(
    console: Any,
    game: Any,
    seat: str,
    line: str,
    log_path: Path,
    pending: dict[str, list[str]] | None = None,
) -> str | None:
    """Handle one line; returns a chosen move name, 'quit', 'undo' or None.

    ``pending`` holds the seat's measure decisions for today (``measure start/end``).
    """
    words = line.split()
    if not words:
        return None
    head = words[0].lower()
    if head == "measures":
        _show_measures(console, game, seat, pending)
        return None
    if head == "measure":
        _measure(console, game, seat, words[1:], pending if pending is not None else {})
        return None
    menu = game.menu(seat)
    avail = menu[menu.available].reset_index(drop=True)
    if head.isdigit():
        i = int(head)
        if not 1 <= i <= len(avail):
            console.print(f"choose 1..{len(avail)}, or type 'help'")
            return None
        return str(avail.move[i - 1])
    if head in set(avail.move):
        return head
    if head in set(menu.move):
        console.print(f"'{head}' is not available to {game.label(seat)} today")
        return None
    if head == "model":
        from sim.play.game import choice_for

        move = choice_for(lambda d: d.own(), game, seat)
        console.print(f"the model chooses: {game.move_label(seat, move)} ({move})")
        return move
    if head in ("whatif", "what-if", "w"):
        _whatif(console, game, words[1:])
        return None
    if head == "world":
        _show_world(console, game, seat)
        return None
    if head == "undo":
        try:
            game.undo()
        except UserError as e:
            console.print(str(e))
            return None
        console.print(f"undone: back to the end of day {game.day}")
        return "undo"
    if head == "save":
        _save(console, game, Path(words[1]) if len(words) > 1 else log_path)
        return None
    if head in ("help", "?"):
        from sim.play.policy import PERSONA_HELP

        console.print(HELP, markup=False)
        for name, text in PERSONA_HELP.items():
            console.print(f"  persona {name}: {text}", markup=False)
        return None
    if head in ("quit", "exit"):
        return "quit"
    console.print(f"unknown command '{head}'; type 'help'")
    return None


def _show_day(console: Any, game: Any, seat: str) -> None:
    from rich.table import Table

    label = game.label(seat)
    console.rule(f"Day {game.day + 1} ({game.date()}) - {label}'s seat")
    _show_world(console, game, seat)
    menu = game.menu(seat)
    avail = menu[menu.available].reset_index(drop=True)
    table = Table(title=f"{label}'s menu with the model's advice", title_justify="left")
    for col in ("#", "move", "rung", "utility", "model p"):
        table.add_column(col, justify="right" if col in ("#", "utility", "model p") else "left")
    best = int(avail.probability.idxmax())
    for i, row in avail.iterrows():
        mark = " *" if i == best else ""
        table.add_row(
            str(int(str(i)) + 1),
            f"{row.label} ({row.move}){mark}",
            row.rung,
            f"{row.utility:.2f}",
            f"{row.probability:.2f}",
        )
    console.print(table)
    _show_measures(console, game, seat)


def _measure(
    console: Any, game: Any, seat: str, words: list[str], pending: dict[str, list[str]]
) -> None:
    """``measure start|end <m>``, ``measure model``, ``measure clear``: today's switches."""
    verb = words[0].lower() if words else ""
    if verb == "clear" and len(words) == 1:
        pending["start"], pending["end"] = [], []
        console.print("today's measure decisions taken back: every measure stays as it is")
        return
    if verb == "model" and len(words) == 1:
        own = game.model_switches(seat)
        pending["start"], pending["end"] = list(own["start"]), list(own["end"])
        console.print(f"the model's own review today:{_switch_text(own) or ' no switch'}")
        return
    if verb not in ("start", "end") or len(words) != 2:
        console.print(
            "usage: measure start <m> | measure end <m> | measure model | measure clear "
            "(<m>: a number from 'measures' or a name such as rail_blockade@belarus)"
        )
        return
    table = game.measure_table(seat)
    if not len(table):
        console.print(f"{game.label(seat)} holds no lasting measures in this scenario")
        return
    name = words[1]
    if name.isdigit():
        i = int(name)
        if not 1 <= i <= len(table):
            console.print(f"choose a measure 1..{len(table)}, or type 'measures'")
            return
        name = str(table.measure[i - 1])
    trial = {"start": list(pending.get("start", [])), "end": list(pending.get("end", []))}
    for key in trial:
        trial[key] = [x for x in trial[key] if x != name]
    trial[verb].append(name)
    try:
        game.check_switches(seat, trial)
    except UserError as e:
        console.print(str(e))
        return
    pending["start"], pending["end"] = trial["start"], trial["end"]
    label = str(table.set_index("measure").label[name])
    console.print(f"today {game.label(seat)} will {verb}: {label} ({name}); now choose the move")


def _show_measures(
    console: Any, game: Any, seat: str, pending: dict[str, list[str]] | None = None
) -> None:
    from rich.table import Table

    table = game.measure_table(seat)
    if not len(table):
        console.print(f"{game.label(seat)} holds no lasting measures in this scenario")
        return
    label = game.label(seat)
    out = Table(
        title=f"{label}'s lasting measures (model p: the chance its own review switches it today)",
        title_justify="left",
    )
    for col in ("#", "measure", "in force", "today", "utility", "model p"):
        out.add_column(col, justify="right" if col in ("#", "utility", "model p") else "left")
    pending = pending or {}
    for i, row in table.iterrows():
        today = "start" if row.measure in pending.get("start", []) else ""
        today = "end" if row.measure in pending.get("end", []) else today
        out.add_row(
            str(int(str(i)) + 1),
            f"{row.label} ({row.measure})",
            "yes" if row.in_force else "no",
            f"will {today}" if today else (f"can {row.can}" if row.can else "-"),
            f"{row.utility:.2f}",
            f"{row.probability:.3f}",
        )
    console.print(out)


def _show_world(console: Any, game: Any, seat: str) -> None:
    view = game.view(seat)
    m = game.measures()
    flags = [k.replace("_", " ") for k, v in m.items() if v is True]
    held = list(m["in_force"])
    line = f"{game.label(seat)} stands at: {game.own_rung(seat)}."
    if "alignment" in m:
        line += f" {game.aligner_label()}'s alignment: {m['alignment']}."
    line += f" In force: {', '.join(held) if held else 'no lasting measure'}."
    if flags:
        line += f" So far: {', '.join(flags)}."
    console.print(line)
    seen = ", ".join(f"{k}={v:.2f}" for k, v in view.items() if v != 0)
    console.print(f"What {game.label(seat)} sees (fog included): {seen or 'calm'}")


def _whatif(console: Any, game: Any, words: list[str]) -> None:
    from rich.table import Table

    n = DEFAULT_WHATIF
    policy = None
    for w in words:
        if w.isdigit():
            n = int(w)
        else:
            policy = w
    if n < 1 or n > 200_000:
        console.print("whatif N: N must be between 1 and 200,000")
        return
    try:
        seat_policies = {s: policy for s in game.seats} if policy else None
        summary = game.whatif(n, seat_policies)
    except UserError as e:
        console.print(str(e))
        return
    who = f"your seats played by '{policy}'" if policy else "every actor played by the model"
    table = Table(
        title=f"What happens from day {game.day}: {n:,} worlds, {who} (95% intervals)",
        title_justify="left",
    )
    for col in ("outcome", "estimate", "interval"):
        table.add_column(col, justify="left" if col == "outcome" else "right")
    # The branch starts from the true state; whether the incident was staged is what fog hides
    # from a seat that does not know the truth, so that row is not shown to it.
    hidden = set() if game.knows_truth() else {"staged_incident"}
    for _, row in summary.iterrows():
        if row.kind != "probability" and not str(row.outcome).startswith("mean:max_rung"):
            continue
        if str(row.outcome) in hidden:
            continue
        if str(row.outcome).endswith(("=none", "=")):
            continue
        table.add_row(
            str(row.outcome), f"{row.estimate:.3f}", f"{row.ci_low:.3f}-{row.ci_high:.3f}"
        )
    console.print(table)


def _show_outcomes(console: Any, game: Any) -> None:
    for k, v in game.outcomes().items():
        if not str(k).startswith("param.") and k != "replicate":
            console.print(f"  {k} = {v}")


def _save(console: Any, game: Any, path: Path) -> None:
    try:
        game.save(path)
    except OSError as e:
        console.print(f"could not save the game log to {path}: {e.strerror or e}")
        return
    console.print(f"game log saved to {path}")


def _replay(console: Any, path: Path) -> int:
    from sim.cli_replay import checked_game_log
    from sim.play.game import check_replay, load_game
    from sim.runner.folder import read_json_file

    game = load_game(checked_game_log(path))  # bounded, seeds in range (issue 21)
    log = read_json_file(path, "game log")
    assert isinstance(log, dict)  # load_game refused anything else
    diffs = check_replay(game, log)
    seats = ", ".join(game.label(x) for x in game.seats)
    console.print(
        f"Replayed {len(game.moves)} day(s) of '{game.scenario.name}', seed {game.seed}, "
        f"seats {seats}."
    )
    final = game.final_state()
    console.print(json.dumps({k: v for k, v in final.items() if k != "outcomes"}, indent=2))
    if diffs:
        raise UserError(
            f"{path}: the replay does not end where the game did ({'; '.join(diffs)[:300]})"
        )
    console.print("final state identical to the log")
    return 0
