"""``escalation calibrate`` and ``escalation backtest``: parse, call, print.

The work is in :mod:`sim.calibration`; every mistake in the input ends in a one-line message
and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError


def register(subparsers: Any) -> None:
    """Add the ``calibrate`` and ``backtest`` sub-commands."""
    from sim.calibration.abc import Settings

    d = Settings()
    p = subparsers.add_parser(
        "calibrate",
        help="fit the shared ladder dynamics to the militarized-dispute record (ABC-SMC)",
        description="Fit the ladder dynamics shared by every scenario (restraint, retaliation, "
        "threat response, temperature scale, accident rate, measure review) to the MID "
        "statistics of two-state disputes 1946-1991 by ABC-SMC on the rival dyad "
        "(scenarios/calibration/rival_dyad.yaml); check the posterior against held-out "
        "classes; weigh it by the regional episodes of scenarios/history/ (what happened as "
        "likelihood, with leave-one-episode-out checks); write a folder with the posterior, "
        "the checks and charts. With --install "
        "the posterior table becomes the shipped scenarios' ladder dynamics "
        "(scenarios/calibration/ladder_dynamics.yaml). The same seed gives the same posterior "
        "on one process, a pool or a Dask cluster.",
    )
    p.add_argument("--seed", metavar="S", help="seed of the fit (default 20240708)")
    p.add_argument("--particles", metavar="P", help=f"population size (default {d.particles})")
    p.add_argument(
        "--generations", metavar="G", help=f"most SMC generations (default {d.generations})"
    )
    p.add_argument(
        "-k",
        "--replicates",
        metavar="K",
        help=f"simulated disputes per particle (default {d.replicates})",
    )
    p.add_argument(
        "--batch", metavar="B", help=f"candidates simulated together (default {d.batch})"
    )
    p.add_argument("--data", metavar="DIR", help="MID data folder (default data/mid)")
    p.add_argument(
        "--class",
        dest="fit_class",
        metavar="NAME",
        help="comparison class to fit (default ussr_nato_1949_1991; also "
        "bilateral_1946_1991, bilateral_1816_1945, multilateral_1946_1991); the others are "
        "held out",
    )
    p.add_argument(
        "--install",
        action="store_true",
        help="write the posterior table into scenarios/calibration/ladder_dynamics.yaml",
    )
    p.add_argument(
        "--no-regional",
        action="store_true",
        help="skip the update by the regional episodes of scenarios/history/ (the MID "
        "posterior alone)",
    )
    p.add_argument(
        "--candidates",
        metavar="C",
        help="MID posterior rows weighed by the regional episodes (default 800)",
    )
    _common(p, "results/calibration/<UTC time>-rival_dyad-seed<S>")
    p.set_defaults(func=cmd_calibrate)

    b = subparsers.add_parser(
        "backtest",
        help="hold the shipped model against the MID record and the regional episodes",
        description="Run the rival dyad on its calibrated table against every MID comparison "
        "class (in-sample and held out), and every scenario under scenarios/history/ for the "
        "probability the model gives to what actually happened (beside the same with the "
        "shared dynamics uncalibrated); write a folder with tables, charts and a README.",
    )
    b.add_argument("-n", "--replicates", metavar="N", help="replicates per episode (default 2,000)")
    b.add_argument("--seed", metavar="S", help="seed (default 20240708)")
    b.add_argument("--data", metavar="DIR", help="MID data folder (default data/mid)")
    _common(b, "results/backtest/<UTC time>-seed<S>")
    b.set_defaults(func=cmd_backtest)


def _common(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("-o", "--out", metavar="DIR", help=f"folder to create (default {default_out})")
    p.add_argument("--workers", metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    try:
        from sim.runner.dask_executor import add_dask_options
    except ImportError:  # Dask support not part of this installation
        return
    add_dask_options(p)


def _int(text: str | None, option: str, minimum: int, default: int) -> int:
    from sim.runner.options import parse_int

    value = parse_int(text, option, minimum, 10**9)
    return default if value is None else value


def _options(args: argparse.Namespace) -> Any:
    from sim.runner.options import ExecutionOptions

    workers = None if args.workers is None else _int(args.workers, "--workers", 1, 1)
    dask_local = getattr(args, "dask_local", None)
    return ExecutionOptions(
        workers=workers,
        scheduler=getattr(args, "scheduler", None),
        dask_local=None if dask_local is None else _int(dask_local, "--dask-local", 1, 1),
        command=("escalation", *sys.argv[1:]),
    )


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _log(args: argparse.Namespace) -> Any:
    if args.quiet:
        return None
    return lambda s: print(s, file=sys.stderr, flush=True)


def _command() -> str:
    return shlex.join(["escalation", *sys.argv[1:]]) if sys.argv[1:] else "escalation calibrate"


def check_data(folder: str | None) -> None:
    """Refuse MID data that cannot be fitted or checked, before any simulation starts.

    A header-only table, or a comparison class without a single dispute, would otherwise run
    to the end and write a posterior fitted to nothing ("tolerance nan") or checks of nothing.

    Raises:
        UserError: no disputes at all, or a class with none (one line naming the file).
    """
    from sim.calibration import mid
    from sim.calibration.fit import data_folder

    root = Path(folder) if folder is not None else data_folder()
    data = mid.read_mid(root)
    path = root / mid.DISPUTES
    if data.disputes.empty:
        raise UserError(f"{path}: holds no disputes (only a header?); give the MID record")
    empty = [name for name, c in mid.CLASSES.items() if not c.select(data).any()]
    if empty:
        raise UserError(
            f"{path}: no dispute of the comparison class(es) {', '.join(empty)}; the fit and "
            "its held-out checks need every class (give the full MID record)"
        )


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``escalation calibrate``."""
    from sim.calibration.abc import Settings
    from sim.calibration.fit import CANDIDATES, DEFAULT_SEED, LADDER_FILE, calibrate

    d = Settings()
    settings = Settings(
        particles=_int(args.particles, "--particles", 10, d.particles),
        generations=_int(args.generations, "--generations", 1, d.generations),
        replicates=_int(args.replicates, "--replicates", 10, d.replicates),
        batch=_int(args.batch, "--batch", 10, d.batch),
    )
    seed = _int(args.seed, "--seed", 0, DEFAULT_SEED)
    out = (
        Path(args.out)
        if args.out
        else Path("results/calibration") / (f"{_stamp()}-rival_dyad-seed{seed}")
    )
    if args.data is not None and not Path(args.data).is_dir():
        raise UserError(f"{args.data}: --data must be the MID data folder")
    from sim.calibration import mid

    fit_class = args.fit_class or mid.FIT_CLASS
    if fit_class not in mid.CLASSES:
        raise UserError(
            f"--class: unknown comparison class '{fit_class}'; expected one of: "
            + ", ".join(mid.CLASSES)
        )
    check_data(args.data)
    fitted = calibrate(
        seed=seed,
        settings=settings,
        data=args.data,
        fit_class=fit_class,
        out=out,
        options=_options(args),
        install=LADDER_FILE if args.install else None,
        regional=not args.no_regional,
        candidates=_int(args.candidates, "--candidates", 10, CANDIDATES),
        command=_command(),
        log=_log(args),
    )
    import numpy as np

    # The shipped draws: the MID posterior, weighed by the regional episodes unless skipped.
    q = np.quantile(fitted.draws, [0.05, 0.5, 0.95], axis=0)
    reg = fitted.info.get("regional")
    print("shipped draws" + (" (MID fit, weighed by the regional episodes)" if reg else ""))
    for j, name in enumerate(fitted.posterior.names):
        print(f"{name}: median {q[1, j]:.4g} (90% {q[0, j]:.4g} .. {q[2, j]:.4g})")
    for r in (reg or {}).get("episodes", []):
        print(
            f"P(what happened) {r['episode']}: MID only {r['mid_only']:.0%}, updated "
            f"{r['updated']:.0%}, leave-one-out {r['leave_one_out']:.0%}"
        )
    if len(fitted.checks):
        c = fitted.checks
        ins = c[c["role"] == "fit"]["inside_90"].mean()
        outs = c[c["role"] != "fit"]["inside_90"].mean()
        print(f"inside the 90% predictive interval: {ins:.0%} in-sample, {outs:.0%} held out")
    print(f"wrote {out}" + (f" and installed {LADDER_FILE}" if args.install else ""))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """``escalation backtest``."""
    from sim.calibration.backtest import backtest, summary
    from sim.calibration.fit import DEFAULT_SEED

    seed = _int(args.seed, "--seed", 0, DEFAULT_SEED)
    n = _int(args.replicates, "--replicates", 10, 2000)
    out = Path(args.out) if args.out else Path("results/backtest") / f"{_stamp()}-seed{seed}"
    if args.data is not None and not Path(args.data).is_dir():
        raise UserError(f"{args.data}: --data must be the MID data folder")
    check_data(args.data)
    b = backtest(
        replicates=n,
        seed=seed,
        data=args.data,
        out=out,
        options=_options(args),
        command=_command(),
        log=_log(args),
    )
    print(summary(b))
    print(f"wrote {out}")
    return 0
