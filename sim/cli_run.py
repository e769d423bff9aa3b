"""``escalation run``, ``escalation compare`` and ``escalation plot``: parse, call, print.

The work is done by :mod:`sim.api`; this module turns arguments into calls and results into
text. Every mistake in the input ends in a one-line message and exit status 2 (a
:class:`~sim.errors.UserError`); ``--fail-fast`` ends with status 1 naming the replicate.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.cli import printable
from sim.errors import UserError

DISCLAIMER = "These results are explorations of the scenario's stated assumptions, not forecasts."


def register(subparsers: Any) -> None:
    """Add the ``run``, ``compare`` and ``plot`` sub-commands."""
    from sim.runner.engine import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_REPLICATES, DEFAULT_SEED

    p = subparsers.add_parser(
        "run",
        help="run a scenario's Monte Carlo experiment into a results folder",
        description="Run replicates of a scenario and write outcomes, occupancy counts, a "
        "summary with confidence intervals and charts into a results folder. " + DISCLAIMER,
    )
    p.add_argument("scenario", nargs="?", help="scenario file (YAML); omit with --resume")
    p.add_argument("-n", "--replicates", metavar="N", help="number of replicates (default 10,000)")
    p.add_argument(
        "--seed", metavar="S", help=f"run seed, a whole number >= 0 (default {DEFAULT_SEED})"
    )
    _execution_options(p, DEFAULT_CHUNK_SIZE)
    p.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="results folder to create (default results/<scenario>/<UTC time>-seed<S>)",
    )
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="finish an interrupted run folder (its manifest says what to run)",
    )
    p.add_argument(
        "--precision",
        metavar="P",
        help="add chunks until every headline probability's 95%% interval half-width is <= P",
    )
    p.add_argument(
        "--max-replicates",
        metavar="M",
        help=f"with --precision: stop at M replicates (default {DEFAULT_MAX_REPLICATES:,})",
    )
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first replicate that fails (exit status 1) instead of recording it",
    )
    p.add_argument(
        "--max-failed",
        metavar="K",
        help="exit with status 1 when more than K replicates fail (K a count, or a share such "
        "as 1%%); default: only when every replicate fails",
    )
    p.add_argument(
        "--model",
        metavar="MODULE:FUNCTION",
        help="advanced: replicate function to run instead of sim.model:run_replicates (same "
        "signature; recorded in the manifest; a --resume of such a run must name it again)",
    )
    p.add_argument(
        "--policy",
        action="append",
        metavar="ACTOR=PERSONA",
        help="play an actor's seat by a shipped persona (hawk, dove, tit_for_tat), e.g. "
        "--policy poland=tit_for_tat (repeatable); recorded as the run's model",
    )
    _set_option(p)
    p.set_defaults(func=cmd_run)

    c = subparsers.add_parser(
        "compare",
        help="compare two scenarios on common random numbers",
        description="Run two scenarios with the same seed and replicate ids (common random "
        "numbers) and report, per outcome, A, B and the paired interval of B - A. Also takes "
        "two finished run folders, which must share their seed and replicate ids. " + DISCLAIMER,
    )
    c.add_argument("a", help="scenario file or run folder A (the reference)")
    c.add_argument("b", help="scenario file or run folder B (the variant)")
    c.add_argument("-n", "--replicates", metavar="N", help="replicates per scenario (10,000)")
    c.add_argument("--seed", metavar="S", help=f"shared seed (default {DEFAULT_SEED})")
    _execution_options(c, DEFAULT_CHUNK_SIZE)
    c.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="comparison folder to create (default results/compare/<time>-<A>-vs-<B>-seed<S>)",
    )
    _set_option(c)
    c.set_defaults(func=cmd_compare)

    pl = subparsers.add_parser(
        "plot",
        help="redraw the charts of a run or comparison folder",
        description="Redraw charts/*.png and charts/*.svg from a finished run folder's saved "
        "results (or a comparison folder's comparison chart).",
    )
    pl.add_argument("folder", help="run folder or comparison folder")
    pl.set_defaults(func=cmd_plot)


def _execution_options(p: argparse.ArgumentParser, chunk_size: int) -> None:
    p.add_argument(
        "--workers", metavar="N", help="worker processes (default: all cores; 1: no pool)"
    )
    p.add_argument(
        "--chunk-size",
        metavar="C",
        help="replicates per chunk (default: a sixteenth of the run, between 2,000 and "
        f"25,000; {chunk_size:,} with --precision); results do not depend on it",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-charts", action="store_true", help="do not draw charts")
    p.add_argument(
        "--yes",
        action="store_true",
        help="start even when the estimated time or disk space exceeds the work limits",
    )
    try:
        from sim.runner.dask_executor import add_dask_options
    except ImportError:  # Dask support not part of this installation
        return
    add_dask_options(p)


def _set_option(p: argparse.ArgumentParser) -> None:
    from sim.cli_scenario import add_set_option

    add_set_option(p)


def _overrides(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.overrides or ())


# ----------------------------------------------------------------------------- parsing values


def _int(
    text: str | None,
    option: str,
    minimum: int,
    default: int | None = None,
    maximum: int = 2**63 - 1,
) -> int | None:
    from sim.runner.options import parse_int

    value = parse_int(text, option, minimum, maximum)
    return default if value is None else value


def _max_failed(text: str | None) -> int | float | None:
    if text is None:
        return None
    t = str(text).strip()
    if t.endswith("%"):
        share = _float(t[:-1], "--max-failed")
        assert share is not None
        if not 0 <= share < 100:
            raise UserError(f"--max-failed as a share must be in [0%, 100%), got {text!r}")
        return share / 100
    return _int(t, "--max-failed", 0)


def execution_options(args: argparse.Namespace, command: list[str]) -> Any:
    """The :class:`~sim.runner.options.ExecutionOptions` of a command's arguments."""
    from sim.runner.options import ExecutionOptions

    return ExecutionOptions(
        workers=_int(args.workers, "--workers", 1, maximum=4096),
        chunk_size=_int(getattr(args, "chunk_size", None), "--chunk-size", 1),
        scheduler=getattr(args, "scheduler", None),
        dask_local=_int(getattr(args, "dask_local", None), "--dask-local", 1, maximum=4096),
        progress=_progress(args),
        fail_fast=bool(getattr(args, "fail_fast", False)),
        max_failed=_max_failed(getattr(args, "max_failed", None)),
        yes=bool(getattr(args, "yes", False)),
        command=tuple(command),
    )


def _float(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{option} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UserError(f"{option} must be a finite number, got {text!r}")
    return value


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while running, so the run stops cleanly and can be resumed."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ----------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    """``escalation run``."""
    from sim import api
    from sim.play.runs import policy_model
    from sim.runner.engine import DEFAULT_SEED
    from sim.runner.store import default_run_dir

    command = ["escalation", *sys.argv[1:]]
    if args.resume is not None:
        given = [
            opt
            for opt, value in (
                ("SCENARIO", args.scenario),
                ("-n", args.replicates),
                ("--seed", args.seed),
                ("--chunk-size", args.chunk_size),
                ("-o", args.out),
                ("--precision", args.precision),
                ("--max-replicates", args.max_replicates),
                ("--set", _overrides(args) or None),
                ("--no-charts", args.no_charts or None),
            )
            if value is not None
        ]
        if given:
            raise UserError(
                f"--resume takes everything from the run's manifest; drop {', '.join(given)}"
            )
        options = execution_options(args, command)
        folder = Path(args.resume)
        with _interrupt_hint(folder), _terminate_as_interrupt():
            model = policy_model(args.policy, args.model)
            result = api.resume(folder, model=model, options=options)
    else:
        if args.scenario is None:
            raise UserError("give a scenario file to run (or --resume DIR)")
        precision = _float(args.precision, "--precision")
        max_reps = _int(args.max_replicates, "--max-replicates", 1)
        if max_reps is not None and precision is None:
            raise UserError("--max-replicates only applies with --precision")
        if precision is not None and args.replicates is not None:
            raise UserError("give either -n or --precision, not both")
        replicates = _int(args.replicates, "-n", 1, default=10_000)
        seed = _int(args.seed, "--seed", 0, default=DEFAULT_SEED)
        assert replicates is not None and seed is not None
        options = execution_options(args, command)
        scenario = Path(args.scenario)
        if not scenario.is_file():
            raise UserError(f"{scenario}: no such scenario file")
        if args.out is not None:
            folder = Path(args.out)
        else:
            from sim.scenario.loader import load_scenario

            name = load_scenario(scenario, overrides=_overrides(args)).name
            folder = default_run_dir(name, seed)
        with _interrupt_hint(folder), _terminate_as_interrupt():
            result = api.run(
                scenario,
                replicates=replicates,
                seed=seed,
                out=folder,
                precision=precision,
                max_replicates=max_reps,
                overrides=_overrides(args),
                charts=not args.no_charts,
                model=policy_model(args.policy, args.model, scenario),
                options=options,
            )
    print(printable(format_run(result)))
    return _exit_status(result)


def _exit_status(result: Any) -> int:
    """0 when every promised file is there; 1 (with a message) when charts are missing."""
    if result.manifest.is_complete:
        return 0
    print(
        f"error: {result.path}: the tables are complete but not the charts "
        f"({result.manifest.charts.error or 'not drawn'}); retry with: escalation plot "
        f"{result.path}",
        file=sys.stderr,
    )
    return 1


@contextlib.contextmanager
def _interrupt_hint(folder: Path) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        if (folder / "manifest.json").exists():
            print(f"run stopped; to finish it: escalation run --resume {folder}", file=sys.stderr)
        raise


def cmd_compare(args: argparse.Namespace) -> int:
    """``escalation compare``."""
    from sim import api
    from sim.runner.engine import DEFAULT_SEED

    folders = [api.is_run_folder(x) for x in (args.a, args.b)]
    replicates = _int(args.replicates, "-n", 1, default=10_000)
    seed = _int(args.seed, "--seed", 0, default=DEFAULT_SEED)
    assert replicates is not None and seed is not None
    options = execution_options(args, ["escalation", *sys.argv[1:]])
    if all(folders):
        given = [
            opt
            for opt, v in (
                ("-n", args.replicates),
                ("--seed", args.seed),
                ("--set", _overrides(args) or None),
            )
            if v is not None
        ]
        if given:
            raise UserError(f"run folders carry their own settings; drop {', '.join(given)}")
    else:
        for x in (args.a, args.b):
            p = Path(x)
            if not p.exists():
                raise UserError(f"{p}: no such scenario file or run folder")
    folder = Path(args.out) if args.out else api.default_comparison_dir(args.a, args.b, seed)
    with _terminate_as_interrupt():
        result = api.compare(
            args.a,
            args.b,
            replicates=replicates,
            seed=seed,
            out=folder,
            overrides=_overrides(args),
            charts=not args.no_charts,
            options=options,
        )
    print(printable(format_comparison(result)))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``escalation plot``."""
    from sim import api

    folder = Path(args.folder)
    with _terminate_as_interrupt():
        if (folder / api.COMPARISON_INFO).exists():
            records = api.draw_comparison(folder)
        else:
            records = api.draw_charts(folder)
            manifest = api.read_manifest(folder)
            if manifest.charts.status != "drawn":
                raise UserError(f"{folder}: charts not drawn ({manifest.charts.error})")
    print(f"{len(records)} chart files written to {folder / 'charts'}")
    return 0


# ----------------------------------------------------------------------------- printing


def format_summary(summary: pd.DataFrame, scenario: Any | None = None) -> str:
    """A summary table as labelled text: the declared outcomes first, then grouped tables.

    See :mod:`sim.report.present`, which the report, the charts and ``compare`` share.
    """
    from sim.report.present import format_groups, present_summary

    return format_groups(present_summary(summary, scenario))


def format_run(result: Any) -> str:
    """What ``escalation run`` prints: header, summary table, notes, disclaimer, folder."""
    m = result.manifest
    head = (
        f"{result.scenario.name}: {result.scenario.title}\n"
        f"{result.replicates:,} replicates, seed {result.seed}"
        + (f", overrides: {' '.join(m.spec.overrides)}" if m.spec.overrides else "")
    )
    parts = [head, "", format_summary(result.summary, result.scenario), ""]
    parts += result.notes
    if result.failed and not any("failed" in n for n in result.notes):
        parts.append(f"{result.failed:,} replicates failed")
    parts += [DISCLAIMER, f"results: {result.path}"]
    return "\n".join(parts)


def format_comparison(result: Any) -> str:
    """What ``escalation compare`` prints: A, B, B - A and its paired interval per outcome,
    labelled and grouped as the run summary is (:mod:`sim.report.present`)."""
    from sim.report.present import format_comparison_groups, present_comparison

    a, b = result.a, result.b
    lines = [
        f"A: {a.label} ({a.scenario.title})",
        f"B: {b.label} ({b.scenario.title})",
        f"{len(a.outcomes):,} paired replicates, seed {a.seed} (common random numbers)",
        "",
        format_comparison_groups(present_comparison(result.table, a.scenario)),
    ]
    lines += ["", "differences of probabilities are in percentage points (pp)", DISCLAIMER]
    if result.path is not None:
        lines.append(f"results: {result.path}")
    return "\n".join(lines)
