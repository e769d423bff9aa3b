"""``escalation calibrate``: fit the shared ladder dynamics to the MID record.

The rival dyad (``scenarios/calibration/rival_dyad.yaml``) is run at each candidate value of
the shared ladder-dynamics parameters (:data:`PRIORS`) and its dispute record compared with
a fitting class of the MID data (:data:`sim.calibration.mid.FIT_CLASS`) by ABC-SMC
(:mod:`sim.calibration.abc`). The posterior is written as a table of joint draws that every
scenario extends (``scenarios/calibration/ladder_dynamics.yaml``), so Monte Carlo runs carry
the calibration's uncertainty; the held-out classes are predicted, not fitted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.calibration import mid
from sim.calibration import regional as regional_stage
from sim.calibration.abc import Generation, Posterior, Prior, Settings, abc_smc, noise_scale
from sim.calibration.folder import require_new, staged
from sim.errors import UserError
from sim.rng import Streams
from sim.runner.options import ExecutionOptions, open_executor
from sim.runner.store import code_version, versions, write_bytes

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "calibration" / "rival_dyad.yaml"
DATA = ROOT / "data" / "mid"
LADDER_FILE = ROOT / "scenarios" / "calibration" / "ladder_dynamics.yaml"
TABLE = "ladder"
DEFAULT_SEED = 20240708
DRAWS = 200  # rows of the posterior table shipped in the scenarios
CANDIDATES = 800  # MID posterior rows weighed by the regional episodes (sim.calibration.regional)
CHECK_REPLICATES = 200  # disputes simulated per posterior row in the predictive checks

FIT_STATS = ("fire", "war", "reciprocated", "fatal", "one_day", "month", "half_year")
"""Statistics in the distance: exchanges of fire rather than hostility level 4, which also counts
seizures, occupations and blockades the rival dyad cannot do (sim.calibration.mid)."""

PRIORS: tuple[Prior, ...] = (
    # A cost, never a bonus (docs/MODEL.md, section 12): the first edition's prior reached
    # -12, and its fit (-5.6) paid every actor to fire in quiet worlds.
    Prior(
        "dynamics.restraint",
        0.0,
        6.0,
        "utility cost of firing, added for every actor; 0 is the uncalibrated model",
    ),
    Prior(
        "dynamics.restraint_spread",
        0.0,
        6.0,
        "standard deviation of restraint between pairs of rivals (each world draws its own)",
    ),
    Prior("dynamics.retaliation", 0.0, 4.0, "multiplier on answering force with force"),
    Prior("dynamics.threat_response", 0.2, 3.0, "multiplier on answering threat"),
    Prior("dynamics.temperature_scale", 0.3, 3.0, "multiplier on every actor's temperature"),
    Prior(
        "incidents.accident_rate",
        1e-5,
        0.02,
        "accidents per day where forces face each other; log-uniform, since the rate is "
        "unknown to orders of magnitude (one a week to one in 270 years of facing)",
        log=True,
    ),
    Prior("dynamics.measure_review", 0.02, 0.5, "daily chance of reconsidering a lasting measure"),
)
"""The fitted parameters and their uniform priors (docs/MODEL.md, "Calibration and validation")."""


def data_folder() -> Path:
    """The MID data folder: ``$ESCALATION_MID_DATA``, else the copy shipped in ``data/mid``."""
    env = os.environ.get("ESCALATION_MID_DATA")
    return Path(env) if env else DATA


@dataclass
class Fitted:
    """A finished calibration."""

    posterior: Posterior
    observed: dict[str, float]
    counts: dict[str, int]
    checks: pd.DataFrame
    draws: np.ndarray
    folder: Path | None
    info: dict[str, Any]


def statistic_indices(names: Sequence[str]) -> list[int]:
    """Positions of statistics in :data:`sim.calibration.mid.STAT_NAMES`."""
    return [mid.STAT_NAMES.index(n) for n in names]


def design_simulator(
    scenario: str | Path | dict[str, Any],
    paths: Sequence[str],
    replicates: int,
    options: ExecutionOptions,
    columns: Sequence[int] | None = None,
) -> Callable[[np.ndarray, int], np.ndarray]:
    """A simulator: each row of parameters run on ``replicates`` disputes of the scenario.

    Every row of a batch runs replicate ids ``0 .. K-1`` with the batch's seed (a design run on
    common random numbers), on the executor of ``options``.
    """
    from sim.api import run_design

    cols = list(range(len(mid.STAT_NAMES))) if columns is None else list(columns)

    def simulate(theta: np.ndarray, seed: int) -> np.ndarray:
        design = pd.DataFrame(np.asarray(theta, dtype=np.float64), columns=list(paths))
        r = run_design(scenario, design, replicates, seed=seed, options=options)
        return mid.grouped_statistics(r.outcomes, "point")[:, cols]

    return simulate


def predictive(
    simulate: Callable[[np.ndarray, int], np.ndarray],
    draws: np.ndarray,
    seed: int,
    classes: Sequence[str],
    data: mid.MidData,
    fitted: Sequence[str],
    fit_class: str,
) -> pd.DataFrame:
    """Posterior predictive checks: each class's statistics against the model's.

    Each posterior row is run on :data:`CHECK_REPLICATES` disputes; the predictive interval of
    a share observed on n disputes draws n disputes at each row's simulated share (binomial),
    so it holds both the parameters' uncertainty and the record's finite size.
    """
    sim = simulate(draws, seed)  # (M, S) over all statistics
    rows = []
    for c in classes:
        obs, counts = mid.observed_statistics(data, c)
        for j, name in enumerate(mid.STAT_NAMES):
            n = counts[name]
            p = np.clip(sim[:, j], 0.0, 1.0)
            u = Streams(seed, np.arange(len(p))).open_uniform(j, 0, "check:" + c)
            pred = sps.binom.ppf(u, n, p) / max(n, 1)
            lo, med, hi = np.quantile(pred, [0.05, 0.5, 0.95])
            label = next(s.label for s in mid.STATISTICS if s.name == name)
            rows.append(
                {
                    "class": c,
                    "role": "fit" if c == fit_class else "held out",
                    "statistic": name,
                    "label": label,
                    "fitted": name in fitted and c == fit_class,
                    "disputes": n,
                    "observed": obs[name],
                    "simulated": float(np.mean(p)),
                    "predicted_median": float(med),
                    "predicted_5": float(lo),
                    "predicted_95": float(hi),
                    "inside_90": bool(lo <= obs[name] <= hi),
                }
            )
    return pd.DataFrame(rows)


def ladder_yaml(
    priors: Sequence[Prior], draws: np.ndarray, provenance: str, extra: str = ""
) -> str:
    """The scenario fragment holding the posterior table (``ladder_dynamics.yaml``)."""
    sections: dict[str, list[str]] = {}
    for j, p in enumerate(priors):
        section, key = p.path.split(".", 1)
        values = ", ".join(f"{v:.5g}" for v in draws[:, j])
        sections.setdefault(section, []).append(
            f"  {key}:\n    dist: draws\n    table: {TABLE}\n"
            f"    source: {json.dumps(provenance)}\n    values: [{values}]"
        )
    head = [
        "# ladder_dynamics.yaml - the ladder dynamics shared by every scenario, calibrated.",
        f"# [{provenance}]",
        f"# {len(draws)} joint posterior draws; each replicate takes one row of table "
        f"'{TABLE}', so the",
        "# correlations between these parameters are kept. Written by `escalation calibrate "
        "--install`;",
        "# do not edit by hand: rerun the calibration (docs/MODEL.md, 'Calibration and "
        "validation').",
    ]
    if extra:
        head += [f"# {line}" for line in extra.splitlines()]
    body = [f"{s}:\n" + "\n".join(lines) for s, lines in sections.items()]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def calibrate(
    *,
    seed: int = DEFAULT_SEED,
    settings: Settings | None = None,
    priors: Sequence[Prior] = PRIORS,
    scenario: str | Path = SCENARIO,
    data: str | Path | None = None,
    fit_class: str = mid.FIT_CLASS,
    observed: dict[str, float] | None = None,
    out: str | Path | None = None,
    options: ExecutionOptions | None = None,
    install: str | Path | None = None,
    command: str = "escalation calibrate",
    log: Callable[[str], None] | None = None,
    regional: bool = True,
    candidates: int = CANDIDATES,
) -> Fitted:
    """Fit the shared ladder dynamics by ABC-SMC and write the calibration folder.

    Args:
        seed: Seed of the fit (every proposal and every simulation).
        settings: ABC-SMC settings (default :class:`Settings`).
        priors: The fitted parameters and their priors.
        scenario: The calibration scenario (the rival dyad).
        data: The MID data folder (default :func:`data_folder`).
        fit_class: The comparison class fitted (:data:`sim.calibration.mid.CLASSES`); the
            others are held out.
        observed: Target statistics instead of the data's fitting class (a synthetic target:
            every statistic of :data:`FIT_STATS`); held-out checks are then skipped.
        out: Folder to create (``None``: nothing kept on disk).
        options: How to execute the simulations (local pool or Dask).
        install: Also write the posterior table to this scenario fragment.
        command: The command line, for the provenance.
        log: Called with a line of progress text.
        regional: Update the MID posterior by the regional episodes
            (:mod:`sim.calibration.regional`); skipped for a synthetic target.
        candidates: MID posterior rows weighed by the regional episodes.

    Raises:
        UserError: unreadable data, an occupied output folder.
    """
    say = log or (lambda s: None)
    settings = settings or Settings()
    pri = tuple(priors)
    opts = dataclasses.replace(options or ExecutionOptions(), progress=False, yes=True)
    fit_idx = statistic_indices(FIT_STATS)
    mid_data: mid.MidData | None = None
    if observed is None:
        mid_data = mid.read_mid(data or data_folder())
        obs, counts = mid.observed_statistics(mid_data, fit_class)
    else:
        missing = [s for s in FIT_STATS if s not in observed]
        if missing:
            raise UserError(f"synthetic target lacks the statistic(s) {', '.join(missing)}")
        obs = {k: float(v) for k, v in observed.items()}
        counts = {k: 1000 for k in FIT_STATS}
    target = np.array([obs[s] for s in FIT_STATS])
    scale = noise_scale(target, np.array([counts[s] for s in FIT_STATS]), settings.replicates)
    folder = Path(out) if out is not None else None
    require_new(folder)
    started = dt.datetime.now(dt.UTC)
    t0 = dt.datetime.now()

    def report(g: Generation) -> None:
        say(
            f"generation {g.index}: tolerance {g.tolerance:.2f}, accepted {g.accepted} of "
            f"{g.simulated} ({g.acceptance:.0%}), {g.seconds:.0f} s"
        )

    n_tasks = max(2, settings.batch // max(1, 20_000 // settings.replicates))
    with open_executor(opts, n_tasks=n_tasks) as ex:
        chunk = max(1, 20_000 // settings.replicates)
        run_opts = dataclasses.replace(
            opts, executor=ex, chunk_size=chunk, workers=None, scheduler=None, dask_local=None
        )
        sim = design_simulator(scenario, [p.path for p in pri], settings.replicates, run_opts)
        post = abc_smc(
            pri,
            target,
            scale,
            lambda th, s: sim(th, s)[:, fit_idx],
            seed,
            settings,
            report,
        )
        say(f"stopped: {post.stopped}")
        draws = post.resample(DRAWS, seed)
        update = None
        if regional and mid_data is not None:
            # The region's record, as likelihood: candidates from the MID posterior, weighed
            # by how probable each makes what happened in every regional episode.
            rows = regional_stage.localise(post.resample(candidates, seed + 2), pri, seed)
            lik = regional_stage.likelihoods(
                rows, [p.path for p in pri], ROOT / "scenarios", seed + 3, log=say
            )
            update = regional_stage.update(lik)
            say(f"regional update: {update.effective_draws:.0f} effective candidates")
            draws = regional_stage.resample(rows, update.weights, DRAWS, seed + 4)
        checks = pd.DataFrame()
        if mid_data is not None:
            check_opts = dataclasses.replace(
                run_opts, chunk_size=max(1, 20_000 // CHECK_REPLICATES)
            )
            check_sim = design_simulator(
                scenario, [p.path for p in pri], CHECK_REPLICATES, check_opts
            )
            checks = predictive(
                check_sim,
                draws,
                seed + 1,
                (fit_class, *mid.held_out(fit_class)),
                mid_data,
                FIT_STATS,
                fit_class,
            )
    seconds = (dt.datetime.now() - t0).total_seconds()
    data_desc = (
        "synthetic target"
        if mid_data is None
        else f"GML MID 2.0 1816-1991, class {fit_class} ({counts['fire']} disputes)"
    )
    if update is not None:
        data_desc += f", updated by {len(update.table) - 1} regional episodes"
    provenance = f"calibrated: {data_desc}, `{command}`, {started.date().isoformat()}"
    info = {
        "command": command,
        "seed": seed,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "settings": dataclasses.asdict(settings),
        "priors": [dataclasses.asdict(p) for p in pri],
        "fit_class": None if mid_data is None else fit_class,
        "fit_class_description": None if mid_data is None else mid.CLASSES[fit_class].description,
        "held_out": [] if mid_data is None else list(mid.held_out(fit_class)),
        "statistics": list(FIT_STATS),
        "observed": obs,
        "counts": counts,
        "scale": dict(zip(FIT_STATS, scale.tolist(), strict=True)),
        "stopped": post.stopped,
        "generations": [dataclasses.asdict(g) for g in post.generations],
        "data_sha256": _data_hash(mid_data),
        "regional": None
        if update is None
        else {
            "candidates": candidates,
            "worlds_per_candidate": regional_stage.PER_DRAW,
            "effective_candidates": round(update.effective_draws, 1),
            "episodes": update.table.to_dict(orient="records"),
        },
        "workers": opts.workers,
        "dask": bool(opts.scheduler or opts.dask_local),
        "provenance": provenance,
        "python": sys.version.split()[0],
        "versions": versions(),
        "code_version": code_version(),
    }
    fitted = Fitted(post, obs, counts, checks, draws, folder, info)
    yaml_text = ladder_yaml(pri, draws, provenance)
    if folder is not None:
        _write_folder(folder, fitted, yaml_text)
    if install is not None:
        write_bytes(Path(install), yaml_text.encode())
    return fitted


def _data_hash(d: mid.MidData | None) -> str | None:
    if d is None:
        return None
    h = hashlib.sha256()
    for name in (mid.DISPUTES, mid.PARTICIPANTS):
        h.update((d.folder / name).read_bytes())
    return h.hexdigest()


def posterior_frame(post: Posterior) -> pd.DataFrame:
    """The final population: one row per particle (parameters, weight, distance, statistics)."""
    df = pd.DataFrame(post.theta, columns=post.names)
    df["weight"] = post.weights
    df["distance"] = post.distances
    for j, s in enumerate(FIT_STATS):
        df[f"stat.{s}"] = post.stats[:, j]
    return df


def _write_folder(folder: Path, f: Fitted, yaml_text: str) -> None:
    from sim.calibration import charts

    with staged(folder) as tmp:
        posterior_frame(f.posterior).to_csv(tmp / "posterior.csv", index=False)
        pd.DataFrame(f.draws, columns=f.posterior.names).to_csv(tmp / "draws.csv", index=False)
        pd.DataFrame([dataclasses.asdict(g) for g in f.posterior.generations]).to_csv(
            tmp / "generations.csv", index=False
        )
        (tmp / "ladder_dynamics.yaml").write_text(yaml_text, encoding="utf-8")
        (tmp / "calibration.json").write_text(json.dumps(f.info, indent=2), encoding="utf-8")
        charts.posterior_chart(f.posterior, tmp / "posterior.png", f.info)
        if f.info.get("regional"):
            pd.DataFrame(f.info["regional"]["episodes"]).to_csv(tmp / "regional.csv", index=False)
        if len(f.checks):
            f.checks.to_csv(tmp / "checks.csv", index=False)
            charts.checks_chart(f.checks, tmp / "checks.png", f.info)
        (tmp / "README.md").write_text(summary_markdown(f), encoding="utf-8")


def summary_markdown(f: Fitted) -> str:
    """The folder's README: what was fitted, to what, and how well."""
    info = f.info
    q = f.posterior.quantiles([0.05, 0.5, 0.95])
    lines = [
        "# Calibration of the shared ladder dynamics",
        "",
        f"- Provenance: `[{info['provenance']}]`",
        f"- Seed {info['seed']}; {info['seconds']:.0f} s; stopped: {info['stopped']}.",
        f"- Fitting class: {info['fit_class'] or 'synthetic'}"
        + (f" - {info['fit_class_description']}" if info["fit_class_description"] else ""),
        "",
        "## Posterior (5% / median / 95%) against the prior",
        "",
        "| parameter | prior | 5% | median | 95% |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for j, p in enumerate(f.posterior.priors):
        lines.append(f"| {p.path} | {p.label} | {q[0, j]:.4g} | {q[1, j]:.4g} | {q[2, j]:.4g} |")
    reg = info.get("regional")
    if reg:
        qd = np.quantile(f.draws, [0.05, 0.5, 0.95], axis=0)
        lines += [
            "",
            "## Updated by the regional episodes (the shipped draws)",
            "",
            f"{reg['candidates']} rows of the MID posterior, each run through every episode of "
            f"scenarios/history/ ({reg['worlds_per_candidate']} worlds a row), weighed by the "
            "probability each gives to what happened; "
            f"{reg['effective_candidates']:.0f} effective rows remain.",
            "",
            "| parameter | 5% | median | 95% |",
            "| --- | ---: | ---: | ---: |",
        ]
        for j, p in enumerate(f.posterior.priors):
            lines.append(f"| {p.path} | {qd[0, j]:.4g} | {qd[1, j]:.4g} | {qd[2, j]:.4g} |")
        lines += [
            "",
            "Probability of what happened: MID posterior alone, updated, and updated without "
            "the episode itself (leave-one-episode-out):",
            "",
            "| episode | MID only | updated | leave-one-out |",
            "| --- | ---: | ---: | ---: |",
        ]
        for r in reg["episodes"]:
            lines.append(
                f"| {r['episode']} | {r['mid_only']:.3f} | {r['updated']:.3f} | "
                f"{r['leave_one_out']:.3f} |"
            )
    if len(f.checks):
        lines += [
            "",
            "## Statistics: observed against the model's 90% predictive interval",
            "",
            "| class | role | statistic | disputes | observed | predicted (5-95%) | inside |",
            "| --- | --- | --- | ---: | ---: | --- | --- |",
        ]
        for r in f.checks.itertuples():
            lines.append(
                f"| {r[1]} | {r.role} | {r.statistic}{' (fitted)' if r.fitted else ''} | "
                f"{r.disputes} | {r.observed:.3f} | {r.predicted_median:.3f} "
                f"({r.predicted_5:.3f}-{r.predicted_95:.3f}) | {'yes' if r.inside_90 else 'no'} |"
            )
    lines += [
        "",
        "Files: posterior.csv (final population), draws.csv (the shipped table), "
        "generations.csv, checks.csv, ladder_dynamics.yaml (install with --install), "
        "calibration.json, posterior.png, checks.png.",
        "",
    ]
    return "\n".join(lines)
