"""``escalation backtest``: the shipped model held against the record and against history.

Three parts, each a table and a chart in the backtest folder:

1. **Statistics**: the rival dyad as shipped (each replicate on a row of the calibrated table)
   against every comparison class of the MID data, statistic by statistic, with the model's
   90% predictive interval for a class of that size. The fitting class is in-sample; the
   others are out-of-sample.
2. **Episodes**: every scenario under ``scenarios/history/`` run as shipped, and the probability
   the model gives to what actually happened (:mod:`sim.model.history`), with a 90% interval;
   beside it, the same with the shared dynamics at their uncalibrated values.
3. **Posterior**: the shipped table of draws against the calibration's priors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import wilson_interval
from sim.calibration import mid
from sim.calibration.abc import Posterior
from sim.calibration.fit import (
    CHECK_REPLICATES,
    DEFAULT_SEED,
    FIT_STATS,
    PRIORS,
    ROOT,
    SCENARIO,
    data_folder,
    design_simulator,
    predictive,
)
from sim.calibration.folder import require_new, staged
from sim.errors import UserError
from sim.model.history import EPISODES, PLAUSIBLE, Episode
from sim.runner.options import ExecutionOptions, open_executor
from sim.runner.store import code_version, versions
from sim.scenario.distributions import Draws
from sim.scenario.parameters import declared_parameters

UNCALIBRATED: tuple[str, ...] = (
    "dynamics.restraint=0",
    "dynamics.restraint_spread=0",
    "dynamics.retaliation=1",
    "dynamics.threat_response=1",
    "dynamics.temperature_scale=1",
    "incidents.accident_rate={dist: beta, a: 1, b: 1000}",
    "dynamics.measure_review={dist: uniform, low: 0.1, high: 0.3}",
)
"""The shared dynamics as they were declared before calibration (the second edition's), as
``--set`` overrides."""


@dataclass
class Backtest:
    """A finished backtest."""

    statistics: pd.DataFrame
    episodes: pd.DataFrame
    draws: pd.DataFrame
    folder: Path | None
    info: dict[str, Any]


def shipped_draws(scenario: str | Path = SCENARIO) -> pd.DataFrame:
    """The calibrated table of draws a scenario carries (one column per parameter)."""
    from sim.scenario import load_scenario

    s = load_scenario(scenario)
    cols = {
        path: np.asarray(p.values, dtype=np.float64)
        for path, p in declared_parameters(s).items()
        if isinstance(p, Draws)
    }
    if not cols:
        raise UserError(
            f"{scenario}: carries no calibrated table of draws (run escalation calibrate --install)"
        )
    return pd.DataFrame(cols)


def uncalibrated_tree(path: str | Path) -> dict[str, Any]:
    """A scenario's tree with the shared dynamics at their uncalibrated values."""
    from sim.scenario.loader import load_tree

    return load_tree(path, UNCALIBRATED)


def episode_row(
    ep: Episode,
    run: Callable[[Any], pd.DataFrame],
    scenarios: Path,
) -> dict[str, Any]:
    """Probability of what happened in one episode, as shipped and uncalibrated."""
    path = scenarios / ep.scenario
    out = run(path)
    ok = ep.check(out)
    k, n = int(ok.sum()), len(ok)
    lo, hi = wilson_interval(k, n, 0.90)
    base = run(uncalibrated_tree(path))
    return {
        "episode": ep.name,
        "scenario": ep.scenario,
        "what_happened": ep.happened,
        "repeats": ep.repeats,
        "replicates": n,
        "probability": (k / n) ** ep.repeats,
        "probability_5": lo**ep.repeats,
        "probability_95": hi**ep.repeats,
        "plausible": (k / n) ** ep.repeats >= PLAUSIBLE,
        "uncalibrated": float(ep.check(base).mean()) ** ep.repeats,
    }


def backtest(
    *,
    replicates: int = 2000,
    seed: int = DEFAULT_SEED,
    scenarios: str | Path = ROOT / "scenarios",
    data: str | Path | None = None,
    out: str | Path | None = None,
    options: ExecutionOptions | None = None,
    command: str = "escalation backtest",
    log: Callable[[str], None] | None = None,
) -> Backtest:
    """Run the backtest and write its folder.

    Args:
        replicates: Replicates per regional episode.
        seed: Seed of every run.
        scenarios: The scenarios folder (holding ``history/`` and ``calibration/``).
        data: The MID data folder (default :func:`sim.calibration.fit.data_folder`).
        out: Folder to create (``None``: nothing kept on disk).
        options: How to execute.
        command: The command line, for the record.
        log: Called with a line of progress text.
    """
    from sim.api import run

    say = log or (lambda s: None)
    root = Path(scenarios)
    folder = Path(out) if out is not None else None
    require_new(folder)
    data_ = mid.read_mid(data or data_folder())
    dyad = root / "calibration" / "rival_dyad.yaml"
    draws = shipped_draws(dyad)
    opts = dataclasses.replace(options or ExecutionOptions(), progress=False, yes=True)
    t0 = dt.datetime.now()
    with open_executor(opts, n_tasks=16) as ex:
        run_opts = dataclasses.replace(
            opts, executor=ex, workers=None, scheduler=None, dask_local=None
        )
        say(f"rival dyad: {len(draws)} calibrated rows x {CHECK_REPLICATES} disputes")
        sim = design_simulator(
            dyad,
            list(draws.columns),
            CHECK_REPLICATES,
            dataclasses.replace(run_opts, chunk_size=max(1, 20_000 // CHECK_REPLICATES)),
        )
        fit_class = fitted_class(dyad)
        stats = predictive(
            sim,
            draws.to_numpy(),
            seed + 1,
            (fit_class, *mid.held_out(fit_class)),
            data_,
            FIT_STATS,
            fit_class,
        )

        def run_one(scenario: Any) -> pd.DataFrame:
            return run(scenario, replicates, seed, options=run_opts).to_df()

        rows = []
        for ep in EPISODES:
            say(f"episode {ep.name}: {replicates} replicates, calibrated and uncalibrated")
            rows.append(episode_row(ep, run_one, root))
        episodes = pd.DataFrame(rows)
    info = {
        "kind": "backtest",
        "command": command,
        "seed": seed,
        "replicates": replicates,
        "check_replicates": CHECK_REPLICATES,
        "draws": len(draws),
        "provenance": _provenance(dyad),
        "fit_class": fit_class,
        "seconds": round((dt.datetime.now() - t0).total_seconds(), 1),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # What the numbers were computed with, so a report of the folder can say so.
        "versions": versions(),
        "code_version": code_version(),
        "inside_90": {
            "in_sample": _share_inside(stats, fit=True),
            "out_of_sample": _share_inside(stats, fit=False),
        },
        "episodes": {r["episode"]: r["probability"] for r in rows},
    }
    result = Backtest(stats, episodes, draws, folder, info)
    if folder is not None:
        _write(folder, result)
    return result


def _share_inside(stats: pd.DataFrame, fit: bool) -> float:
    rows = stats[(stats["role"] == "fit") == fit]
    return float(rows["inside_90"].mean()) if len(rows) else float("nan")


def _provenance(dyad: Path) -> str:
    from sim.scenario import load_scenario

    for p in declared_parameters(load_scenario(dyad)).values():
        if isinstance(p, Draws) and p.source:
            return p.source
    return "uncalibrated"


def fitted_class(dyad: Path) -> str:
    """The comparison class the shipped calibration was fitted to (from its provenance)."""
    import re

    m = re.search(r"class ([a-z0-9_]+)", _provenance(dyad))
    return m.group(1) if m and m.group(1) in mid.CLASSES else mid.FIT_CLASS


def _draws_posterior(draws: pd.DataFrame) -> Posterior:
    priors = {p.path: p for p in PRIORS}
    missing = [c for c in draws.columns if c not in priors]
    if missing:
        raise UserError(f"the table of draws has columns without a prior: {', '.join(missing)}")
    n = len(draws)
    return Posterior(
        tuple(priors[c] for c in draws.columns),
        draws.to_numpy(),
        np.full(n, 1.0 / n),
        np.zeros(n),
        np.zeros((n, 0)),
    )


def _write(folder: Path, b: Backtest) -> None:
    from sim.calibration import charts

    with staged(folder) as tmp:
        b.statistics.to_csv(tmp / "statistics.csv", index=False)
        b.episodes.to_csv(tmp / "episodes.csv", index=False)
        b.draws.to_csv(tmp / "draws.csv", index=False)
        (tmp / "backtest.json").write_text(json.dumps(b.info, indent=2), encoding="utf-8")
        charts.checks_chart(b.statistics, tmp / "statistics.png", b.info)
        charts.episodes_chart(
            b.episodes, tmp / "episodes.png", b.info["replicates"], b.info["seed"]
        )
        charts.posterior_chart(
            _draws_posterior(b.draws),
            tmp / "posterior.png",
            {
                "settings": {"particles": len(b.draws), "replicates": CHECK_REPLICATES},
                "fit_class": b.info["fit_class"],
                "seed": b.info["seed"],
            },
        )
        (tmp / "README.md").write_text(markdown(b), encoding="utf-8")


def markdown(b: Backtest) -> str:
    """The backtest folder's README, written for an analyst who does not read the code."""
    info = b.info
    lines = [
        "# Backtest: the shipped model against the record and against history",
        "",
        f"Calibration: `[{info['provenance']}]`. Seed {info['seed']}; {info['seconds']:.0f} s.",
        "",
        "## What actually happened, and the probability the model gave it",
        "",
        f"Each episode run on {info['replicates']:,} replicates; 90% interval; 'uncalibrated' "
        "is the same scenario with the shared dynamics at their values before calibration. "
        f"Plausible means at least {PLAUSIBLE:.0%}.",
        "",
        "| episode | what happened | probability (90%) | uncalibrated | plausible |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for r in b.episodes.itertuples():
        lines.append(
            f"| {r.episode} | {r.what_happened} | {r.probability:.1%} "
            f"({r.probability_5:.1%}-{r.probability_95:.1%}) | {r.uncalibrated:.1%} | "
            f"{'yes' if r.plausible else 'NO'} |"
        )
    lines += [
        "",
        "## MID statistics: observed against the model's 90% predictive interval",
        "",
        f"The rival dyad on {info['draws']} calibrated rows x {info['check_replicates']} "
        "disputes. 'fit' is the class the calibration used (in-sample); the others are held "
        f"out. Inside the interval: {info['inside_90']['in_sample']:.0%} in-sample, "
        f"{info['inside_90']['out_of_sample']:.0%} out-of-sample.",
        "",
        "| class | role | statistic | disputes | observed | model (5-95%) | inside |",
        "| --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for r in b.statistics.itertuples():
        lines.append(
            f"| {r[1]} | {r.role} | {r.label} | {r.disputes} | {r.observed:.3f} | "
            f"{r.predicted_median:.3f} ({r.predicted_5:.3f}-{r.predicted_95:.3f}) | "
            f"{'yes' if r.inside_90 else 'NO'} |"
        )
    q = b.draws.quantile([0.05, 0.5, 0.95]).to_numpy()
    pri = {p.path: p for p in PRIORS}
    lines += [
        "",
        "## The calibrated parameters (shipped table of draws) against their priors",
        "",
        "| parameter | prior | 5% | median | 95% |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for j, c in enumerate(b.draws.columns):
        p = pri.get(c)
        prior = p.label if p else "?"
        lines.append(f"| {c} | {prior} | {q[0, j]:.4g} | {q[1, j]:.4g} | {q[2, j]:.4g} |")
    lines += [
        "",
        "Files: statistics.csv, episodes.csv, draws.csv, backtest.json; charts statistics.png, "
        "episodes.png, posterior.png.",
        "",
    ]
    return "\n".join(lines)


def summary(b: Backtest | Mapping[str, Any]) -> str:
    """Short text for the terminal."""
    info = b.info if isinstance(b, Backtest) else b
    eps = ", ".join(f"{k} {v:.1%}" for k, v in info["episodes"].items())
    return (
        f"inside the 90% interval: {info['inside_90']['in_sample']:.0%} in-sample, "
        f"{info['inside_90']['out_of_sample']:.0%} out-of-sample; P(what happened): {eps}"
    )
