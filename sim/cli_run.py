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
        "--model",
        metavar="MODULE:FUNCTION",
        help="advanced: replicate function to run instead of sim.model:run_replicates (same "
        "signature; recorded in the manifest)",
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
    try:
        from sim.runner.dask_executor import add_dask_options
    except ImportError:  # Dask support not part of this installation
        return
    add_dask_options(p)


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    """The Dask executor asked for by --scheduler / --dask-local, else ``None`` (local)."""
    scheduler = getattr(args, "scheduler", None)
    dask_local = getattr(args, "dask_local", None)
    if scheduler is None and dask_local is None:
        yield None
        return
    if args.workers is not None:
        raise UserError("--workers is for local runs; on a Dask cluster its workers count")
    from sim.runner.dask_executor import executor_from_options

    with executor_from_options(scheduler, dask_local) as ex:
        yield ex


def _set_option(p: argparse.ArgumentParser) -> None:
    from sim.cli_scenario import add_set_option

    add_set_option(p)


def _overrides(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.overrides or ())


# ----------------------------------------------------------------------------- parsing values


def _int(text: str | None, option: str, minimum: int, default: int | None = None) -> int | None:
    if text is None:
        return default
    try:
        value = int(str(text).replace("_", "").replace(",", ""))
    except ValueError:
        raise UserError(f"{option} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise UserError(f"{option} must be >= {minimum}, got {value}")
    return value


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
    from sim.runner.engine import DEFAULT_SEED
    from sim.runner.store import default_run_dir

    workers = _int(args.workers, "--workers", 1)
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
                ("--model", args.model),
            )
            if value is not None
        ]
        if given:
            raise UserError(
                f"--resume takes everything from the run's manifest; drop {', '.join(given)}"
            )
        folder = Path(args.resume)
        with _executor(args) as ex, _interrupt_hint(folder), _terminate_as_interrupt():
            result = api.resume(
                folder,
                workers=workers,
                progress=_progress(args),
                fail_fast=args.fail_fast,
                command=command,
                executor=ex,
            )
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
        chunk = _int(args.chunk_size, "--chunk-size", 1)
        assert replicates is not None and seed is not None
        scenario = Path(args.scenario)
        if not scenario.is_file():
            raise UserError(f"{scenario}: no such scenario file")
        if args.out is not None:
            folder = Path(args.out)
        else:
            from sim.scenario.loader import load_scenario

            name = load_scenario(scenario, overrides=_overrides(args)).name
            folder = default_run_dir(name, seed)
        with _executor(args) as ex, _interrupt_hint(folder), _terminate_as_interrupt():
            result = api.run(
                scenario,
                replicates=replicates,
                seed=seed,
                workers=workers,
                chunk_size=chunk,
                out=folder,
                precision=precision,
                max_replicates=max_reps,
                overrides=_overrides(args),
                progress=_progress(args),
                fail_fast=args.fail_fast,
                charts=not args.no_charts,
                command=command,
                model=args.model,
                executor=ex,
            )
    print(format_run(result))
    return 0


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
    workers = _int(args.workers, "--workers", 1)
    replicates = _int(args.replicates, "-n", 1, default=10_000)
    seed = _int(args.seed, "--seed", 0, default=DEFAULT_SEED)
    chunk = _int(args.chunk_size, "--chunk-size", 1)
    assert replicates is not None and seed is not None
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
    with _executor(args) as ex, _terminate_as_interrupt():
        result = api.compare(
            args.a,
            args.b,
            replicates=replicates,
            seed=seed,
            workers=workers,
            chunk_size=chunk,
            out=folder,
            overrides=_overrides(args),
            progress=_progress(args),
            charts=not args.no_charts,
            command=["escalation", *sys.argv[1:]],
            executor=ex,
        )
    print(format_comparison(result))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``escalation plot``."""
    from sim import api
    from sim.runner.results import save_charts

    folder = Path(args.folder)
    if (folder / api.COMPARISON_INFO).exists():
        paths = api.draw_comparison(folder)
    else:
        result = api.load_run(folder)
        paths = save_charts(result.plot(), folder)
    print(f"{len(paths)} chart files written to {folder / 'charts'}")
    return 0


# ----------------------------------------------------------------------------- printing


def _pct(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f}%"


def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def format_summary(summary: pd.DataFrame) -> str:
    """A summary table as aligned text: probabilities with intervals, then means and medians."""
    lines = []
    width = max([len(str(o)) for o in summary["outcome"]] + [7])
    probs = summary[summary["kind"] == "probability"]
    others = summary[summary["kind"] != "probability"]
    if len(probs):
        lines.append(f"{'outcome':<{width}}  {'estimate':>8}  95% interval       n")
        for r in probs.itertuples(index=False):
            ci = f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}]"
            lines.append(f"{r.outcome:<{width}}  {_pct(r.estimate):>8}  {ci:<17}  {r.n:,}")
    if len(others):
        lines.append("")
        lines.append(f"{'mean / median':<{width}}  {'estimate':>8}  95% interval       n")
        for r in others.itertuples(index=False):
            ci = f"[{_num(r.ci_low)}, {_num(r.ci_high)}]"
            lines.append(f"{r.outcome:<{width}}  {_num(r.estimate):>8}  {ci:<17}  {r.n:,}")
    return "\n".join(lines)


def format_run(result: Any) -> str:
    """What ``escalation run`` prints: header, summary table, notes, disclaimer, folder."""
    m = result.manifest
    head = (
        f"{result.scenario.name}: {result.scenario.title}\n"
        f"{result.replicates:,} replicates, seed {result.seed}"
        + (f", overrides: {' '.join(m['overrides'])}" if m.get("overrides") else "")
    )
    parts = [head, "", format_summary(result.summary), ""]
    parts += result.notes
    if result.failed and not any("failed" in n for n in result.notes):
        parts.append(f"{result.failed:,} replicates failed")
    parts += [DISCLAIMER, f"results: {result.path}"]
    return "\n".join(parts)


def format_comparison(result: Any) -> str:
    """What ``escalation compare`` prints: A, B, B - A and its paired interval per outcome."""
    t = result.table
    a, b = result.a, result.b
    width = max([len(str(o)) for o in t["outcome"]] + [7])
    lines = [
        f"A: {a.label} ({a.scenario.title})",
        f"B: {b.label} ({b.scenario.title})",
        f"{len(a.outcomes):,} paired replicates, seed {a.seed} (common random numbers)",
        "",
        f"{'outcome':<{width}}  {'A':>8}  {'B':>8}  {'B - A':>8}  paired 95% interval",
    ]
    for r in t.itertuples(index=False):
        fmt = _pct if r.kind == "probability" else _num
        signed = _pp if r.kind == "probability" else _signed
        diff, lo, hi = signed(r.difference), signed(r.ci_low), signed(r.ci_high)
        lines.append(
            f"{r.outcome:<{width}}  {fmt(r.estimate_a):>8}  {fmt(r.estimate_b):>8}  "
            f"{diff:>8}  [{lo}, {hi}]"
        )
    lines += ["", "differences of probabilities are in percentage points (pp)", DISCLAIMER]
    if result.path is not None:
        lines.append(f"results: {result.path}")
    return "\n".join(lines)


def _signed(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:+,.3g}" if abs(x) < 1000 else f"{x:+,.0f}"


def _pp(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:+.1f}pp"
