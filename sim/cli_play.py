"""``escalation play``: take one or more actors' seats in a game of one world, in the terminal."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
from collections.abc import Iterator
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
  picture              the situation picture for the room (every actor's rung, the measures
                       in force, the alignment track, the day), saved as PNG beside the log
  undo                 take back the last day
  save [FILE]          save the game log (JSON)
  help                 this list
  quit                 stop (the log is saved first)
On every way out (the end, quit, Ctrl-C, an error) the game log, the after-action summary
(.md and .png) and the last situation picture are saved beside each other."""


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
    p.add_argument(
        "--seminar",
        action="store_true",
        help="seminar mode: show the situation picture (every actor's rung, the measures in "
        "force, the alignment track) at the start of each day and save it as PNG beside the "
        "log; with --replay, write the log's after-action summary beside it",
    )
    add_set_option(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(highlight=False)
    if args.replay:
        if args.scenario or args.seats:
            raise UserError("--replay LOG takes no scenario or --as: the log holds both")
        return _replay(console, Path(args.replay), args.seminar)
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
    return _loop(console, game, log_path, args.seminar)


def beside(log_path: Path, what: str) -> Path:
    """A file saved beside the game log: ``game.json`` -> ``game-<what>``."""
    return log_path.with_name(f"{log_path.stem}-{what}")


def _default_log(game: Any) -> Path:
    import datetime as dt

    from sim.runner.store import safe_name

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return (
        Path("results") / "games" / f"{stamp}-{safe_name(game.scenario.name)}-seed{game.seed}.json"
    )


def _loop(console: Any, game: Any, log_path: Path, seminar: bool = False) -> int:
    """Play the game; the log and the after-action summary are saved on every way out."""
    s = game.scenario
    seats = ", ".join(game.label(x) for x in game.seats)
    console.print(f"[bold]{s.title}[/bold] ({s.name}), seed {game.seed}: you play {seats}.")
    console.print("Results are explorations of the scenario's stated assumptions, not forecasts.")
    console.print("Type 'help' for the commands.")
    try:
        code = _days(console, game, log_path, seminar)
    except KeyboardInterrupt:
        console.print()
        console.print("interrupted: saving the game")
        _finish(console, game, log_path)
        raise
    except BaseException:
        console.print("an error stopped the game: saving it first")
        _finish(console, game, log_path)
        raise
    _finish(console, game, log_path)
    return code


def _days(console: Any, game: Any, log_path: Path, seminar: bool) -> int:
    """The days of the game until it is over (0), a seat quits (0) or input ends (1)."""
    while not game.over:
        day_moves: dict[str, str] = {}
        day_switches: dict[str, dict[str, list[str]]] = {}
        restart = False
        if seminar:
            _picture(console, game, log_path, quiet=True)
        for seat in game.seats:
            _show_day(console, game, seat)
            pending = day_switches.setdefault(seat, {"start": [], "end": []})
            while seat not in day_moves:
                try:
                    line = console.input(f"[bold]{seat}>[/bold] ").strip()
                except EOFError:
                    console.print("input ended")
                    return 1
                result = _command(console, game, seat, line, log_path, pending)
                if result == "quit":
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
    if seminar:
        _picture(console, game, log_path, quiet=True)
    return 0


def _finish(console: Any, game: Any, log_path: Path) -> None:
    """Save the log, then the after-action summary and the situation picture beside it.

    Ctrl-C and SIGTERM wait until this is done (a second Ctrl-C while saving loses nothing);
    the log comes first, and a summary that cannot be drawn never costs the log.
    """
    with _signals_held() as held:
        _save(console, game, log_path)
        _save_after_action(console, game, log_path)
    if held:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM while the block runs; yields the signals that arrived."""
    got: list[int] = []

    def hold(signum: int, frame: object) -> None:
        got.append(signum)

    try:
        old = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals are not ours to hold
        yield got
        return
    try:
        yield got
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _save_figure(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=120)
    os.replace(tmp, path)


def _save_after_action(console: Any, game: Any, log_path: Path) -> None:
    """The after-action summary (Markdown and PNG) and the last picture, beside the log."""
    from sim.play.seminar import after_action, after_action_text, situation

    text_path, png_path = beside(log_path, "after-action.md"), beside(log_path, "after-action.png")
    try:
        aa = after_action(game)
        _write_text(text_path, after_action_text(aa))
        from sim.charts.seminar import after_action_chart, situation_chart

        _save_figure(after_action_chart(aa), png_path)
        _save_figure(situation_chart(situation(game)), beside(log_path, "picture.png"))
    except Exception as e:  # the log is saved already: say what is missing, never lose it
        console.print(f"could not write the after-action summary: {type(e).__name__}: {e}")
        return
    console.print(f"after-action summary saved to {text_path} and {png_path.name}")


def _picture(console: Any, game: Any, log_path: Path, quiet: bool = False) -> None:
    """Show the situation picture in the terminal and save it as PNG beside the log."""
    from sim.charts.seminar import situation_chart
    from sim.play.seminar import situation

    sit = situation(game)
    _show_picture(console, sit)
    path = beside(log_path, "picture.png")
    try:
        _save_figure(situation_chart(sit), path)
    except OSError as e:
        console.print(f"could not save the situation picture to {path}: {e.strerror or e}")
        return
    if not quiet:
        console.print(f"situation picture saved to {path}")


def _show_picture(console: Any, sit: Any) -> None:
    """The situation picture on one terminal screen: the ladder as rows, actors as columns."""
    from rich.table import Table

    state = "game over" if sit.over else f"{sit.horizon - sit.day} days to the horizon"
    console.rule(f"[bold]Situation: day {sit.day} of {sit.horizon} ({sit.date}), {state}[/bold]")
    table = Table(show_lines=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("rung", justify="right", style="bold")
    for st in sit.standings:
        table.add_column(st.label + (" *" if st.seat else ""), justify="center")
    for r in range(len(sit.rungs) - 1, -1, -1):
        cells = []
        for st in sit.standings:
            if st.rung != r:
                cells.append("[dim]·[/dim]")
                continue
            arrow = f" {'▲' if st.change > 0 else '▼'}{abs(st.change)}" if st.change else ""
            cells.append(f"[reverse bold] {st.label} [/reverse bold]{arrow}")
        table.add_row(sit.rungs[r], *cells)
    console.print(table)
    console.print("  (* played by people; ▲/▼: rungs moved since yesterday)", markup=False)
    if sit.track:
        marks = [
            f"[reverse bold]► {x}[/reverse bold]" if i == sit.track_level else x
            for i, x in enumerate(sit.track)
        ]
        console.print(f"[bold]{sit.track_actor}'s alignment:[/bold] {' > '.join(marks)}")
    held = [f"{s.label}: {m}" for s in sit.standings for m in s.measures]
    console.print(f"[bold]Measures in force:[/bold] {'; '.join(held) if held else 'none'}")
    done = [label for label, happened in sit.record if happened]
    so_far = ", ".join(done) if done else "no incident"
    console.print(f"[bold]So far:[/bold] {so_far}" + (f". {sit.exercise}" if sit.exercise else ""))
    for e in sit.events:
        console.print(f"  ! {e}")
    console.rule()


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
        _whatif(console, game, words[1:], log_path)
        return None
    if head == "world":
        _show_world(console, game, seat)
        return None
    if head in ("picture", "pic"):
        _picture(console, game, log_path)
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


def _whatif(console: Any, game: Any, words: list[str], log_path: Path | None = None) -> None:
    """``whatif [N] [PERSONA]``: a Monte Carlo from here, printed as a table.

    A what-if that fails (a crashed worker, a full disk, a bug) does not end the game: the
    message is printed, the log saved and the seat is asked again. Ctrl-C during it stops the
    game like Ctrl-C at the prompt (everything saved first, by the game loop).
    """
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
    except Exception as e:
        console.print(f"the what-if failed ({type(e).__name__}: {e}); the game goes on")
        if log_path is not None:
            _save(console, game, log_path)
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


def _replay(console: Any, path: Path, seminar: bool = False) -> int:
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
    if seminar:
        _save_after_action(console, game, path)
    return 0
