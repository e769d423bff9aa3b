"""``escalation sensitivity``, ``sweep``, ``discover`` and ``report``: parse, call, print.

The work is done by :mod:`sim.api_analysis`; this module turns arguments into calls and
results into text. Every mistake in the input ends in a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.cli import printable
from sim.errors import UserError

DISCLAIMER = "These results are explorations of the scenario's stated assumptions, not forecasts."


def register(subparsers: Any) -> None:
    """Add the ``sensitivity``, ``sweep``, ``discover`` and ``report`` sub-commands."""
    p = subparsers.add_parser(
        "sensitivity",
        help="which parameters drive an outcome (Morris screening or Sobol indices)",
        description="Global sensitivity analysis over every uncertain parameter of a scenario "
        "(and, with --screen-fixed, every fixed number within a relative range). Each design "
        "point runs K replicates on common random numbers (the same replicate ids and seed). "
        "Prints per outcome the indices with bootstrap intervals, the noise share and a "
        "convergence check, and writes a results folder with tables and tornado charts. "
        + DISCLAIMER,
    )
    p.add_argument("scenario", nargs="?", help="scenario file (YAML); omit with --resume")
    p.add_argument("--method", default="morris", help="morris (screening, default) or sobol")
    p.add_argument(
        "--outcome",
        nargs="+",
        metavar="NAME",
        help="outcomes: NAME (yes/no or a mean), NAME=CATEGORY, NAME>NUMBER (default "
        "armed_incident)",
    )
    p.add_argument(
        "-N",
        dest="n",
        metavar="N",
        help="Morris trajectories (default 20) or Sobol base samples, a power of 2 (default 256)",
    )
    p.add_argument(
        "-k",
        "--replicates-per-point",
        metavar="K",
        help="replicates at every design point, the same ids and seed at each (default 32)",
    )
    p.add_argument("--seed", metavar="S", help="run seed (default the runner's)")
    p.add_argument(
        "--screen-fixed",
        metavar="X%",
        help="also vary every fixed number (motive weights, costs, traits, coefficients, "
        "inject probabilities) within +-X%% of its value",
    )
    p.add_argument(
        "--include",
        nargs="+",
        metavar="PATTERN",
        help="only these factors (dotted paths or shell patterns such as 'actors.china.*')",
    )
    _common(p, "results/sensitivity/<UTC time>-<scenario>-<method>-seed<S>")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted sensitivity folder")
    p.set_defaults(func=cmd_sensitivity)

    w = subparsers.add_parser(
        "sweep",
        help="an outcome along a grid of one or two parameters",
        description="Run the scenario at every point of a grid of one or two parameters, on "
        "common random numbers, and draw the response curve with its interval band (one key) "
        "or a heat map (two keys), marking where the outcome crosses --threshold. " + DISCLAIMER,
    )
    w.add_argument("scenario", help="scenario file (YAML)")
    w.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=LOW:HIGH:STEPS",
        help="a parameter path and its grid, e.g. actors.china.resolve=0.1:0.9:9 (once or twice)",
    )
    w.add_argument("--outcome", nargs="+", metavar="NAME", help="outcomes (default armed_incident)")
    w.add_argument(
        "-k",
        "--replicates-per-point",
        metavar="K",
        help="replicates at every grid point (default 1,000)",
    )
    w.add_argument("--threshold", metavar="T", help="mark where an outcome crosses T (e.g. 0.5)")
    w.add_argument("--seed", metavar="S", help="run seed (default the runner's)")
    _common(w, "results/sweep/<UTC time>-<scenario>-seed<S>")
    w.set_defaults(func=cmd_sweep)

    d = subparsers.add_parser(
        "discover",
        help="scenario discovery: which parameter ranges make an outcome likely (PRIM)",
        description="PRIM boxes on a finished run folder's sampled parameters (param.* "
        "columns) for a yes/no outcome: rules in words with their coverage and density, and "
        "the coverage-density trade-off chart. " + DISCLAIMER,
    )
    d.add_argument("run", help="a finished run folder (escalation run)")
    d.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="a yes/no outcome: NAME, NAME=CATEGORY or NAME>NUMBER",
    )
    d.add_argument("--boxes", metavar="B", help="boxes to find (default 1)")
    d.add_argument(
        "--min-coverage",
        metavar="C",
        help="coverage the chosen box keeps at least (default 0.5)",
    )
    d.add_argument(
        "-o", "--out", metavar="DIR", help="output folder (default RUN/discovery/<outcome>)"
    )
    d.add_argument("--no-charts", action="store_true", help="do not draw the chart")
    d.set_defaults(func=cmd_discover)

    r = subparsers.add_parser(
        "report",
        help="a self-contained HTML (and PDF) report of a results folder",
        description="Write report.html (images inlined) and report.pdf for a run, comparison, "
        "sensitivity, sweep or backtest folder: the question, the assumptions with their "
        "provenance tags, headline outcomes with intervals, charts, what drives them, methods, "
        "caveats and the command that reproduces it.",
    )
    r.add_argument("folder", help="run, comparison, sensitivity, sweep or backtest folder")
    r.add_argument("-o", "--out", metavar="FILE", help="HTML file (default FOLDER/report.html)")
    r.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    r.set_defaults(func=cmd_report)


def _common(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("-o", "--out", metavar="DIR", help=f"folder to create (default {default_out})")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario value (repeatable)",
    )
    p.add_argument("--workers", metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-charts", action="store_true", help="do not draw charts")
    try:
        from sim.runner.dask_executor import add_dask_options
    except ImportError:  # Dask support not part of this installation
        return
    add_dask_options(p)


def _int(text: str | None, option: str, minimum: int, default: int | None = None) -> int | None:
    if text is None:
        return default
    cleaned = str(text).strip().replace("_", "").replace(",", "")
    try:
        value = int(cleaned)
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
    if value != value or value in (float("inf"), float("-inf")):
        raise UserError(f"{option} must be a finite number, got {text!r}")
    return value


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
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


def _exec_kwargs(args: argparse.Namespace, ex: Any) -> dict[str, Any]:
    return {
        "workers": _int(args.workers, "--workers", 1),
        "executor": ex,
        "progress": not args.quiet and sys.stderr.isatty(),
        "command": ["escalation", *sys.argv[1:]],
    }


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _default_out(kind: str, scenario: str, tail: str) -> Path:
    from sim.runner.store import safe_name

    return Path("results") / kind / f"{_stamp()}-{safe_name(Path(scenario).stem)}-{tail}"


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``escalation sensitivity``."""
    from sim import api_analysis
    from sim.runner.engine import DEFAULT_SEED

    with _executor(args) as ex:
        kw = _exec_kwargs(args, ex)
        if args.resume:
            if args.scenario:
                raise UserError("give either a scenario or --resume DIR, not both")
            result = api_analysis.resume_sensitivity(args.resume, **kw)
        else:
            if not args.scenario:
                raise UserError("sensitivity needs a scenario file (or --resume DIR)")
            seed = _int(args.seed, "--seed", 0, default=DEFAULT_SEED)
            assert seed is not None
            out = (
                Path(args.out)
                if args.out
                else _default_out("sensitivity", args.scenario, f"{args.method}-seed{seed}")
            )
            result = _with_resume_hint(out)(api_analysis.sensitivity)(
                args.scenario,
                outcomes=args.outcome or ["armed_incident"],
                method=args.method,
                n=_int(args.n, "-N", 2),
                replicates_per_point=_int(args.replicates_per_point, "-k", 1, default=32) or 32,
                seed=seed,
                screen_fixed=args.screen_fixed,
                include=args.include,
                out=out,
                overrides=args.overrides,
                charts=not args.no_charts,
                **kw,
            )
    print(printable(format_sensitivity(result)))
    return 0


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.0%}"


def _with_resume_hint(folder: Path) -> Any:
    """Wrap a call so that Ctrl-C says how to finish the folder (then exits 130 as usual)."""

    def wrap(fn: Any) -> Any:
        def call(*a: Any, **kw: Any) -> Any:
            try:
                return fn(*a, **kw)
            except KeyboardInterrupt:
                if (folder / "analysis.json").exists():
                    print(
                        f"stopped; to finish it: escalation sensitivity --resume {folder}",
                        file=sys.stderr,
                    )
                raise

        return call

    return wrap


def _g(x: float) -> str:
    return "nan" if x != x else f"{x:.3f}"


def format_sensitivity(result: Any, top: int = 10) -> str:
    """What ``escalation sensitivity`` prints: per outcome, the top factors and checks."""
    from sim.analysis.sensitivity import INDEX_COLUMN, ranking_stability, sobol_precision

    info = result.info
    lines = [
        f"{result.method} sensitivity of {info.get('scenario')}: {len(result.factors.factors)} "
        f"factors, N={info.get('n')}, {info.get('points'):,} design points x "
        f"{info.get('replicates_per_point')} replicates (common random numbers), seed "
        f"{info.get('seed')}"
    ]
    if result.factors.skipped:
        lines.append(f"  {len(result.factors.skipped)} fixed numbers equal to 0 not varied")
    key = INDEX_COLUMN[result.method]
    for o in result.outcomes:
        noise = result.noise[result.noise["outcome"] == o].iloc[0]
        conv = result.convergence[result.convergence["outcome"] == o]
        stab = ranking_stability(conv, top)
        lines.append("")
        lines.append(
            f"{o}: mean {noise['mean']:.3f}; chance alone {_pct(noise['noise_share'])} of the "
            f"replicates' variance, {_pct(noise['noise_in_means'])} of the point means' "
            f"(split-half); top-{top} ranking at N/2 kept {_pct(stab)}"
        )
        if noise["noise_in_means"] > 0.5:
            lines.append(
                "  warning: the point means are mostly the particular worlds' noise; these "
                "indices are not reliable - raise -k (replicates per point)"
            )
        if not noise["total_variance"] > 0:
            lines.append("  the outcome is the same in every world: nothing to attribute")
            continue
        if result.method == "sobol":
            rows = result.indices[result.indices["outcome"] == o]
            lines.append("  " + sobol_precision(rows, info.get("n")))
        t = result.top(o, top)
        header = "  rank  factor" + " " * 42
        if result.method == "sobol":
            lines.append(header + "   ST [95% interval]        S1 [95% interval]")
        else:
            lines.append(header + "  mu* [95% interval]      sigma")
        for _, row in t.iterrows():
            name = str(row["factor"]) + (" (fixed)" if row["kind"] == "fixed" else "")
            lead = f"  {int(row['rank']):>4}  {name:<48}"
            if result.method == "sobol":
                lines.append(
                    lead + f"{_g(row['ST'])} [{_g(row['ST_ci_low'])}, {_g(row['ST_ci_high'])}]  "
                    f"{_g(row['S1'])} [{_g(row['S1_ci_low'])}, {_g(row['S1_ci_high'])}]"
                )
            else:
                lines.append(
                    lead + f"{_g(row[key])} [{_g(row['mu_star_ci_low'])}, "
                    f"{_g(row['mu_star_ci_high'])}]  {_g(row['sigma'])}"
                )
    lines.append("")
    lines.append(DISCLAIMER)
    if info.get("folder"):
        lines.append(f"results: {info['folder']}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``escalation sweep``."""
    from sim import api_analysis
    from sim.runner.engine import DEFAULT_SEED

    seed = _int(args.seed, "--seed", 0, default=DEFAULT_SEED)
    assert seed is not None
    out = Path(args.out) if args.out else _default_out("sweep", args.scenario, f"seed{seed}")
    with _executor(args) as ex:
        result = api_analysis.sweep(
            args.scenario,
            args.vary,
            outcomes=args.outcome or ["armed_incident"],
            replicates_per_point=_int(args.replicates_per_point, "-k", 1, default=1000) or 1000,
            seed=seed,
            threshold=_float(args.threshold, "--threshold"),
            out=out,
            overrides=args.overrides,
            charts=not args.no_charts,
            **_exec_kwargs(args, ex),
        )
    print(printable(format_sweep(result)))
    return 0


def format_sweep(result: Any) -> str:
    """What ``escalation sweep`` prints: the estimate table and threshold crossings."""
    info = result.info
    lines = [
        f"sweep of {info.get('scenario')} over {' x '.join(result.keys)}: "
        f"{info.get('replicates')} replicates per point (common random numbers), seed "
        f"{info.get('seed')}"
    ]
    for o in result.outcomes:
        t = result.table[result.table["outcome"] == o]
        lines.append("")
        lines.append(f"{o}:")
        for _, row in t.iterrows():
            at = ", ".join(f"{k}={row[k]:.4g}" for k in result.keys)
            lines.append(
                f"  {at:<50} {row['estimate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            )
        if result.threshold is not None and len(result.keys) == 1:
            xs = result.crossing.get(o, [])
            where = ", ".join(f"{x:.4g}" for x in xs) if xs else "nowhere in the range"
            lines.append(f"  crosses {result.threshold:g} at {result.keys[0]} = {where}")
    lines.append("")
    lines.append(DISCLAIMER)
    if info.get("folder"):
        lines.append(f"results: {info['folder']}")
    return "\n".join(lines)


def cmd_discover(args: argparse.Namespace) -> int:
    """``escalation discover``."""
    from sim import api_analysis
    from sim.runner.store import safe_name

    out = Path(args.out) if args.out else Path(args.run) / "discovery" / safe_name(args.outcome)
    min_cov = _float(args.min_coverage, "--min-coverage")
    result = api_analysis.discover(
        args.run,
        args.outcome,
        boxes=_int(args.boxes, "--boxes", 1, default=1) or 1,
        min_coverage=0.5 if min_cov is None else min_cov,
        out=out,
        charts=not args.no_charts,
    )
    lines = [
        f"scenario discovery (PRIM) in {args.run}: {result.outcome} happens in "
        f"{result.base_rate:.1%} of {result.info.get('replicates'):,} worlds; "
        f"{len(result.parameters)} sampled parameters searched"
    ]
    for i, rule in enumerate(result.rules, 1):
        lines.append(f"  box {i}: {rule}")
    lines += ["", DISCLAIMER, f"results: {out}"]
    print(printable("\n".join(lines)))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``escalation report``."""
    from sim import api_analysis

    paths = api_analysis.report(args.folder, out=args.out, pdf=not args.no_pdf)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


__all__ = ["format_sensitivity", "format_sweep", "register"]
