"""The Python interface of the analysis commands: sensitivity, sweep, discover, report.

>>> import sim
>>> s = sim.sensitivity("scenarios/staged_provocation.yaml", ["armed_incident"])  # doctest: +SKIP
>>> s.to_df().head()                                            # doctest: +SKIP
>>> fig = s.plot()                                              # doctest: +SKIP
>>> w = sim.sweep("scenarios/staged_provocation.yaml", ["actors.china.resolve=0:1:11"],
...               outcomes=["china_escalates"], threshold=0.5)  # doctest: +SKIP
>>> d = sim.discover("results/staged_provocation/...", "china_escalates")  # doctest: +SKIP
>>> sim.report("results/staged_provocation/...")               # doctest: +SKIP

A sensitivity or sweep runs its design through the runner as a *design run* (chunked,
resumable, on the process pool or Dask like any run). With ``out=DIR`` the folder holds
``analysis.json`` (what was asked), ``unit.parquet`` (the design's unit-cube coordinates, for
the estimators), the tables and charts of the analysis, and ``run/``: the runner's folder
(manifest, design, outcomes). Results are explorations of stated assumptions, not forecasts.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.discovery import DiscoveryResult
from sim.analysis.sensitivity import (
    DEFAULT_N,
    POINT_COLUMN,
    Design,
    FactorSet,
    OutcomeSpec,
    SensitivityResult,
    analyze_design,
    check_n,
    parse_outcomes,
    parse_relative_range,
    sample_design,
    scenario_factors,
)
from sim.analysis.sweep import SweepResult, analyze_sweep, grid, parse_vary
from sim.errors import UserError

ANALYSIS_INFO = "analysis.json"
"""What an analysis folder was asked to do (kind, method, outcomes, ...), written first."""
UNIT_DESIGN = "unit.parquet"
RUN_SUBFOLDER = "run"
DEFAULT_REPLICATES_PER_POINT = 32
FORMAT = "escalation-sim/analysis/1"


# ----------------------------------------------------------------------------- helpers


def _load(scenario: Any, overrides: Sequence[str]) -> tuple[Any, dict[str, Any], str | None]:
    """The validated scenario, its resolved tree and its source path."""
    from sim.scenario.schema import Scenario, validate_scenario

    if isinstance(scenario, str | Path):
        from sim.scenario.loader import load_scenario

        s = load_scenario(Path(scenario), overrides=tuple(overrides))
        return s, s.model_dump(mode="json", by_alias=True), str(scenario)
    if overrides:
        raise UserError("overrides (--set) need a scenario file path, not a Scenario object")
    if isinstance(scenario, dict):
        scenario = validate_scenario(scenario)
    if isinstance(scenario, Scenario):
        return scenario, scenario.model_dump(mode="json", by_alias=True), None
    raise UserError(f"scenario must be a file path or a Scenario, got {type(scenario).__name__}")


def _outcome_columns(scenario: Any, seed: int) -> pd.DataFrame:
    """A two-replicate outcomes table: the columns (and dtypes) outcome specs are checked on."""
    from sim.model import run_replicates

    return run_replicates(scenario, seed, np.arange(2, dtype=np.int64)).outcomes


@contextlib.contextmanager
def _folder(out: str | Path | None) -> Iterator[Path]:
    if out is not None:
        from sim.runner.folder import require_new_folder

        path = Path(out)
        require_new_folder(path, "--out")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="escalation-analysis-") as tmp:
        yield Path(tmp) / "analysis"


def _write_json(path: Path, obj: Any) -> None:
    from sim.runner.store import write_json

    write_json(path, obj)


_INFO_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "scenario": (str,),
    "title": (str,),
    "seed": (int,),
    "n": (int,),
    "points": (int,),
    "replicates_per_point": (int,),
    "confidence": (float, int),
    "outcomes": (list,),
    "method": (str,),
    "vary": (list,),
    "keys": (list,),
    "screen_fixed": (float, int, type(None)),
    "include": (list, type(None)),
    "threshold": (float, int, type(None)),
    "command": (list, type(None)),
    "source": (str, type(None)),
    "files": (dict,),
}
"""The type of every field of ``analysis.json`` a reader uses (the record is untrusted input)."""


def _read_info(folder: Path, kind: str | None = None) -> dict[str, Any]:
    """``analysis.json``, read without following links and checked field by field."""
    from sim.runner.folder import ResultsFolder

    rf = ResultsFolder(folder)
    if rf.kind(ANALYSIS_INFO) == "missing":
        raise UserError(f"{folder}: not an analysis folder ({ANALYSIS_INFO} missing)")
    info = rf.read_json(ANALYSIS_INFO, ANALYSIS_INFO)
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise UserError(f"{folder}: {ANALYSIS_INFO} is not an {FORMAT} record")
    if kind is not None and info.get("kind") != kind:
        raise UserError(f"{folder}: a {str(info.get('kind'))[:40]} folder, not a {kind} folder")
    for key, types in _INFO_TYPES.items():
        v = info.get(key)
        if key in info and (isinstance(v, bool) or not isinstance(v, types)):
            raise UserError(f"{folder / ANALYSIS_INFO}: {key}: unexpected value {v!r:.60}")
    for key in ("outcomes", "vary", "keys", "include", "command"):
        if not all(isinstance(x, str) for x in info.get(key) or ()):
            raise UserError(f"{folder / ANALYSIS_INFO}: {key}: expected a list of text")
    return info


def _run_of(folder: Path) -> Path:
    """The design run inside an analysis folder: its own sub-folder, never a planted link."""
    from sim.runner.folder import ResultsFolder

    if _TEMPORARY_IN_PROCESS:
        return folder / RUN_SUBFOLDER
    return ResultsFolder(folder).require_folder(RUN_SUBFOLDER)


def _execution(**kw: Any) -> dict[str, Any]:
    """Execution options as given (checked by the runner's options object when it runs)."""
    return {k: v for k, v in kw.items() if v is not None}


def check_int(value: Any, what: str, minimum: int, maximum: int = 2**63 - 1) -> int:
    """``value`` as an int within ``[minimum, maximum]``, or a one-line :class:`UserError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise UserError(f"{what} must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise UserError(f"{what} must be between {minimum} and {maximum:,}, got {value}")
    return int(value)


def _run_design(
    tree: dict[str, Any],
    source: str | None,
    overrides: Sequence[str],
    values: pd.DataFrame,
    k: int,
    seed: int,
    folder: Path,
    options: Any,
) -> pd.DataFrame:
    """Run a parameter design through the runner into ``folder``; the outcomes table.

    Every row of ``values`` is a design point run with replicate ids ``0 .. k-1`` and ``seed``.
    """
    if _TEMPORARY_IN_PROCESS:
        return _run_design_in_process(tree, values, k, seed, folder)
    from sim import api
    from sim.runner.options import ExecutionOptions

    result = api.run_design(
        tree,
        values,
        k,
        seed,
        out=folder,
        options=ExecutionOptions(**options),
        source=source,
        overrides_record=tuple(overrides),
    )
    return result.outcomes


_TEMPORARY_IN_PROCESS = False


def _run_design_in_process(
    tree: dict[str, Any], values: pd.DataFrame, k: int, seed: int, folder: Path
) -> pd.DataFrame:
    # TEMPORARY until the runner's design runs land: same rows, in this process, no folder.
    from sim.model import run_replicates
    from sim.scenario.schema import validate_scenario

    s = validate_scenario(tree)
    frames = []
    step = max(1, 20_000 // k)
    for a in range(0, len(values), step):
        block = values.iloc[a : a + step]
        ids = np.tile(np.arange(k, dtype=np.int64), len(block))
        given = {c: np.repeat(block[c].to_numpy(dtype=np.float64), k) for c in block.columns}
        df = run_replicates(s, seed, ids, given).outcomes
        df.insert(1, POINT_COLUMN, np.repeat(np.arange(a, a + len(block)), k))
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["error"] = ""
    from sim.runner.store import write_parquet

    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(folder / "outcomes.parquet", out)
    _write_json(folder / "scenario.json", tree)
    return out


def _resume_design(folder: Path, options: dict[str, Any]) -> pd.DataFrame:
    if _TEMPORARY_IN_PROCESS:
        raise UserError("resume needs the runner's design runs (not yet available)")
    from sim import api
    from sim.runner.engine import resume_run
    from sim.runner.options import ExecutionOptions

    resume_run(folder, ExecutionOptions(**options))
    return api.load_design_run(folder).outcomes


def _check_ok(outcomes: pd.DataFrame) -> None:
    from sim.analysis.stats import failed_mask

    failed = int(failed_mask(outcomes).sum())
    if failed == len(outcomes):
        raise UserError("every replicate of the design failed; see the run's outcomes error column")


# ----------------------------------------------------------------------------- sensitivity


def sensitivity(
    scenario: Any,
    outcomes: Sequence[str] = ("armed_incident",),
    method: str = "morris",
    n: int | None = None,
    replicates_per_point: int = DEFAULT_REPLICATES_PER_POINT,
    seed: int | None = None,
    screen_fixed: str | float | None = None,
    include: Sequence[str] | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    confidence: float = 0.95,
    charts: bool | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    executor: Any = None,
    progress: bool = False,
    command: Sequence[str] | None = None,
) -> SensitivityResult:
    """Global sensitivity of outcomes to a scenario's parameters (SALib Morris or Sobol).

    Args:
        scenario: Scenario file, ``Scenario`` or scenario tree.
        outcomes: Outcome specs (``armed_incident``, ``end_state=regional_war``,
            ``blockade_days>10``, ``blockade_days`` for a mean).
        method: ``'morris'`` (screening) or ``'sobol'`` (first and total order indices).
        n: Morris trajectories (default 20) or Sobol base samples (power of 2, default 256).
        replicates_per_point: K: replicates at every design point, the same ids and seed at
            each (common random numbers).
        seed: Run seed (default the runner's).
        screen_fixed: Also vary every fixed number within this relative range (``'20%'``).
        include: Only these factors (names or ``fnmatch`` patterns).
        out: Folder to create; ``None`` keeps nothing on disk.
        overrides: ``--set`` overrides for a scenario file.
        confidence: Level of the bootstrap intervals.
        charts: Draw the tornado and convergence charts into ``out`` (default: when ``out``).
        workers, scheduler, dask_local, executor, progress, command: How to run (see
            :class:`sim.runner.options.ExecutionOptions`); never change the results.

    Returns:
        Indices with intervals, noise shares and convergence per outcome.

    Raises:
        UserError: bad options, unknown outcomes, or nothing to vary.
    """
    from sim.runner.engine import DEFAULT_SEED

    seed = check_int(DEFAULT_SEED if seed is None else seed, "seed", 0, 2**63 - 1)
    n = check_n(method, DEFAULT_N.get(method, 20) if n is None else n)
    k = check_int(replicates_per_point, "replicates per point", 1, 1_000_000)
    rel = parse_relative_range(screen_fixed)
    s, tree, source = _load(scenario, overrides)
    specs = parse_outcomes(list(outcomes), _outcome_columns(s, seed), s)
    factors = scenario_factors(s, rel, include)
    design = sample_design(factors, method, n, seed)
    options = _execution(
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        executor=executor,
        progress=progress,
        command=tuple(command) if command else None,
    )
    info = {
        "format": FORMAT,
        "kind": "sensitivity",
        "method": method,
        "n": n,
        "replicates_per_point": k,
        "points": design.points,
        "seed": seed,
        "screen_fixed": rel,
        "include": list(include) if include else None,
        "outcomes": list(outcomes),
        "confidence": confidence,
        "scenario": s.name,
        "title": s.title,
        "source": source,
        "overrides": list(overrides),
        "command": list(command) if command else None,
        "factors": factors.to_df().to_dict(orient="records"),
        "skipped": [list(x) for x in factors.skipped],
    }
    with _folder(out) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        # The unit design first, so analysis.json can record its size and SHA-256.
        info["files"] = {UNIT_DESIGN: _write_unit(folder, design).model_dump()}
        _write_json(folder / ANALYSIS_INFO, info)
        rows = _run_design(
            tree, source, overrides, design.values(), k, seed, folder / RUN_SUBFOLDER, options
        )
        result = _finish_sensitivity(folder, info, design, rows, specs, s, out is not None, charts)
    if out is None:
        result.info["folder"] = None
    return result


def _write_unit(folder: Path, design: Design) -> Any:
    from sim.runner.store import write_parquet

    return write_parquet(
        folder / UNIT_DESIGN, pd.DataFrame(design.unit, columns=design.factors.names)
    )


def _label(info: dict[str, Any]) -> str:
    if info["kind"] == "sensitivity":
        what = "Morris" if info["method"] == "morris" else "Sobol"
        return f"{what} N={info['n']}, {info['replicates_per_point']} replicates per point"
    return f"sweep, {info['replicates_per_point']} replicates per point"


def _finish_sensitivity(
    folder: Path,
    info: dict[str, Any],
    design: Design,
    rows: pd.DataFrame,
    specs: Sequence[OutcomeSpec],
    scenario: Any,
    keep: bool,
    charts: bool | None,
) -> SensitivityResult:
    _check_ok(rows)
    stamp = {
        "scenario": info["scenario"],
        "title": info["title"],
        "replicates": int(info["points"]) * int(info["replicates_per_point"]),
        "seed": info["seed"],
        "label": _label(info),
        "folder": str(folder) if keep else None,
        **{k: info[k] for k in ("method", "n", "replicates_per_point", "points", "command")},
    }
    result = analyze_design(design, rows, specs, info["confidence"], stamp)
    if keep:
        save_sensitivity(result, folder, charts=True if charts is None else charts)
    return result


def save_sensitivity(result: SensitivityResult, folder: Path, charts: bool = True) -> list[Any]:
    """Write the indices, noise and convergence tables and (optionally) the charts."""
    from sim.runner.store import safe_name, save_figure, write_csv

    write_csv(folder / "indices.csv", result.to_df())
    write_csv(folder / "noise.csv", result.noise)
    write_csv(folder / "convergence.csv", result.convergence)
    write_csv(folder / "factors.csv", result.factors.to_df())
    paths: list[Any] = []
    if charts:
        from sim.charts.sensitivity import convergence_chart
        from sim.runner.results import close_figure

        for o in result.outcomes:
            fig = result.plot(outcome=o)
            # Confined to the analysis folder: a charts/ planted as a link before a --resume
            # is refused, not written through.
            paths += save_figure(fig, folder / "charts" / f"tornado_{safe_name(o)}", folder)
            close_figure(fig)
            fig = convergence_chart(result, o)
            paths += save_figure(fig, folder / "charts" / f"convergence_{safe_name(o)}", folder)
            close_figure(fig)
    return paths


def load_sensitivity(folder: str | Path) -> SensitivityResult:
    """Recompute a finished sensitivity folder's result from its files (no model runs).

    Every file is checked against its record first: the design run against its manifest, the
    unit design against ``analysis.json``; the scenario against its hash.
    """
    folder = Path(folder)
    info = _read_info(folder, "sensitivity")
    s = _checked_scenario(folder, info)
    design = _design_from(folder, info)
    rows = _read_rows(_run_of(folder))
    specs = parse_outcomes(info["outcomes"], rows, s)
    result = _finish_sensitivity(folder, info, design, rows, specs, s, False, False)
    result.info["folder"] = str(folder)
    return result


def _checked_scenario(folder: Path, info: dict[str, Any]) -> Any:
    """The validated scenario of an analysis folder's design run, which must be the one
    ``analysis.json`` names."""
    from sim.scenario.schema import validate_scenario

    s = validate_scenario(_scenario_of_run(_run_of(folder)))
    if (info.get("scenario"), info.get("title")) != (s.name, s.title):
        raise UserError(
            f"{folder / ANALYSIS_INFO}: scenario and title are not those of the design run "
            f"({RUN_SUBFOLDER}/manifest.json); the folder was edited - rerun the analysis"
        )
    return s


def _read_rows(run_folder: Path) -> pd.DataFrame:
    """The outcomes table of a design run's folder."""
    if _TEMPORARY_IN_PROCESS or not (run_folder / "manifest.json").exists():
        return pd.read_parquet(run_folder / "outcomes.parquet")
    from sim import api

    return api.load_design_run(run_folder).outcomes


def _scenario_of_run(run_folder: Path) -> dict[str, Any]:
    """The scenario tree of a run folder, checked against its manifest's hash."""
    from sim.runner.engine import canonical_scenario_checked
    from sim.runner.store import read_manifest

    if _TEMPORARY_IN_PROCESS:
        return dict(json.loads((run_folder / "scenario.json").read_text(encoding="utf-8")))
    m = read_manifest(run_folder)
    return canonical_scenario_checked(m, run_folder)[1]


def _design_from(folder: Path, info: dict[str, Any]) -> Design:
    """The design of a sensitivity folder: ``unit.parquet`` checked against its record.

    A folder written before the record was kept gets its design recomputed instead: it is a
    pure function of (factors, method, N, seed), so an unrecorded file is never believed.
    """
    from sim.runner.manifest import FileRecord
    from sim.runner.store import read_table

    s = _checked_scenario(folder, info)
    fs = scenario_factors(s, info["screen_fixed"], info["include"])
    rec = (info.get("files") or {}).get(UNIT_DESIGN)
    if rec is None:
        return sample_design(fs, info["method"], info["n"], info["seed"])
    try:
        record = FileRecord.model_validate(rec)
    except ValueError:
        raise UserError(f"{folder / ANALYSIS_INFO}: files: a malformed record") from None
    if record.path != UNIT_DESIGN:
        raise UserError(f"{folder / ANALYSIS_INFO}: files: the record of {UNIT_DESIGN} is not it")
    unit = read_table(folder, record)
    if fs.names != list(unit.columns):
        raise UserError(f"{folder}: {UNIT_DESIGN} does not match the scenario's factors")
    return Design(info["method"], fs, unit.to_numpy(dtype=np.float64), info["n"], info["seed"])


def resume_sensitivity(
    folder: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    executor: Any = None,
    progress: bool = False,
    command: Sequence[str] | None = None,
) -> SensitivityResult:
    """Finish an interrupted sensitivity folder and analyse it."""
    folder = Path(folder)
    info = _read_info(folder, "sensitivity")
    options = _execution(
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        executor=executor,
        progress=progress,
        command=tuple(command) if command else None,
    )
    rows = _resume_design(_run_of(folder), options)
    s = _checked_scenario(folder, info)
    design = _design_from(folder, info)
    specs = parse_outcomes(info["outcomes"], rows, s)
    return _finish_sensitivity(folder, info, design, rows, specs, s, True, True)


# ----------------------------------------------------------------------------- sweep


def sweep(
    scenario: Any,
    vary: Sequence[str],
    outcomes: Sequence[str] = ("armed_incident",),
    replicates_per_point: int = 1000,
    seed: int | None = None,
    threshold: float | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    confidence: float = 0.95,
    charts: bool | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    executor: Any = None,
    progress: bool = False,
    command: Sequence[str] | None = None,
) -> SweepResult:
    """An outcome along a grid of one or two parameters, on common random numbers.

    Args:
        scenario: Scenario file, ``Scenario`` or scenario tree.
        vary: ``KEY=LOW:HIGH:STEPS`` for one or two parameter paths.
        outcomes: Outcome specs (see :func:`sensitivity`).
        replicates_per_point: Replicates at every grid point (same ids and seed at each).
        seed: Run seed.
        threshold: Mark where each outcome's estimate crosses this value.
        out: Folder to create; ``None`` keeps nothing on disk.
        overrides, confidence, charts, workers, scheduler, dask_local, executor, progress,
            command: As for :func:`sensitivity`.

    Raises:
        UserError: bad ``--vary`` text, unknown outcomes or options.
    """
    from sim.runner.engine import DEFAULT_SEED

    seed = check_int(DEFAULT_SEED if seed is None else seed, "seed", 0, 2**63 - 1)
    k = check_int(replicates_per_point, "replicates per point", 1, 10_000_000)
    if threshold is not None and not np.isfinite(threshold):
        raise UserError(f"--threshold must be a number, got {threshold!r}")
    s, tree, source = _load(scenario, overrides)
    varies = [parse_vary(v, s) for v in vary]
    design = grid(varies)
    specs = parse_outcomes(list(outcomes), _outcome_columns(s, seed), s)
    options = _execution(
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        executor=executor,
        progress=progress,
        command=tuple(command) if command else None,
    )
    info = {
        "format": FORMAT,
        "kind": "sweep",
        "vary": [v.text for v in varies],
        "keys": [v.key for v in varies],
        "replicates_per_point": k,
        "points": len(design),
        "seed": seed,
        "threshold": threshold,
        "outcomes": list(outcomes),
        "confidence": confidence,
        "scenario": s.name,
        "title": s.title,
        "source": source,
        "overrides": list(overrides),
        "command": list(command) if command else None,
    }
    with _folder(out) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / ANALYSIS_INFO, info)
        rows = _run_design(
            tree, source, overrides, design, k, seed, folder / RUN_SUBFOLDER, options
        )
        result = _finish_sweep(folder, info, design, rows, specs, out is not None, charts)
    if out is None:
        result.info["folder"] = None
    return result


def _finish_sweep(
    folder: Path,
    info: dict[str, Any],
    design: pd.DataFrame,
    rows: pd.DataFrame,
    specs: Sequence[OutcomeSpec],
    keep: bool,
    charts: bool | None,
) -> SweepResult:
    _check_ok(rows)
    stamp = {
        "scenario": info["scenario"],
        "title": info["title"],
        "replicates": int(info["replicates_per_point"]),
        "seed": info["seed"],
        "label": f"{info['replicates_per_point']} replicates per point",
        "folder": str(folder) if keep else None,
        "command": info.get("command"),
    }
    result = analyze_sweep(rows, design, specs, info["threshold"], info["confidence"], stamp)
    if keep:
        save_sweep(result, folder, charts=True if charts is None else charts)
    return result


def save_sweep(result: SweepResult, folder: Path, charts: bool = True) -> list[Any]:
    """Write ``sweep.csv``, ``crossings.json`` and (optionally) one chart per outcome."""
    from sim.runner.store import safe_name, save_figure, write_csv

    write_csv(folder / "sweep.csv", result.table)
    _write_json(folder / "crossings.json", {"threshold": result.threshold, **result.crossing})
    paths: list[Any] = []
    if charts:
        from sim.runner.results import close_figure

        stem = "response" if len(result.keys) == 1 else "heatmap"
        for o in result.outcomes:
            fig = result.plot(outcome=o)
            paths += save_figure(fig, folder / "charts" / f"{stem}_{safe_name(o)}", folder)
            close_figure(fig)
    return paths


def load_sweep(folder: str | Path) -> SweepResult:
    """Recompute a finished sweep folder's result from its files (no model runs)."""
    folder = Path(folder)
    info = _read_info(folder, "sweep")
    s = _checked_scenario(folder, info)
    design = grid([parse_vary(v, s) for v in info["vary"]])
    rows = _read_rows(_run_of(folder))
    specs = parse_outcomes(info["outcomes"], rows, s)
    result = _finish_sweep(folder, info, design, rows, specs, False, False)
    result.info["folder"] = str(folder)
    return result


# ----------------------------------------------------------------------------- discover


def discover(
    run: str | Path,
    outcome: str,
    boxes: int = 1,
    min_coverage: float = 0.5,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    out: str | Path | None = None,
    charts: bool | None = None,
) -> DiscoveryResult:
    """Scenario discovery (PRIM) on a finished run folder's sampled parameters.

    Args:
        run: A run folder (``escalation run``), whose ``outcomes.parquet`` holds ``param.*``
            columns for the uncertain parameters.
        outcome: A yes/no outcome spec (``china_escalates``, ``end_state=regional_war``,
            ``blockade_days>10``).
        boxes: How many boxes to find (covering).
        min_coverage: Coverage the chosen box keeps at least.
        alpha: Peeling share.
        mass_min: Smallest box, as a share of all worlds.
        out: Folder for ``discovery.csv``, ``discovery.json`` and the chart (default
            ``<run>/discovery/<outcome>`` when ``charts`` or given).
        charts: Draw the trade-off chart into ``out``.

    Raises:
        UserError: not a finished run folder, an outcome that is not yes/no, no parameters.
    """
    from sim import api
    from sim.analysis.discovery import discover as prim
    from sim.analysis.stats import failed_mask

    boxes = check_int(boxes, "boxes", 1, 10)
    r = api.load_run(run)
    rows = r.outcomes[~failed_mask(r.outcomes)]
    specs = parse_outcomes([outcome], rows, r.scenario)
    if len(specs) != 1 or specs[0].kind != "probability":
        raise UserError(
            f"outcome {outcome!r}: discovery needs a yes/no outcome (e.g. china_escalates, "
            "end_state=regional_war, blockade_days>10)"
        )
    params = rows[[c for c in rows.columns if c.startswith("param.")]]
    params = params.loc[:, params.nunique() > 1]
    info = {
        "scenario": r.scenario.name,
        "title": r.scenario.title,
        "replicates": len(rows),
        "seed": r.seed,
        "run": str(run),
        "label": "PRIM",
    }
    result = prim(
        params,
        specs[0].values(rows),
        specs[0].text,
        alpha=alpha,
        mass_min=mass_min,
        min_coverage=min_coverage,
        boxes=boxes,
        info=info,
    )
    if out is not None:
        # Written inside the run folder by default: confined to it (a linked discovery/ is
        # refused, not written through); elsewhere, to the folder named.
        out_path = Path(out)
        try:
            out_path.relative_to(Path(run))
            root = Path(run)
        except ValueError:
            root = out_path
        save_discovery(result, out_path, charts=True if charts is None else charts, root=root)
        result.info["folder"] = str(out)
    return result


def save_discovery(
    result: DiscoveryResult, folder: Path, charts: bool = True, root: Path | None = None
) -> list[Any]:
    """Write ``boxes.csv``, ``limits.csv``, ``trajectory.csv``, ``discovery.json``, the chart.

    Args:
        result: The discovery.
        folder: Where to write.
        charts: Draw the trade-off chart.
        root: The results folder the writes are confined to (default ``folder``): no link
            below it is followed.
    """
    from sim.runner.store import save_figure, write_csv

    top = root if root is not None else folder
    inside = folder.relative_to(top).as_posix() if folder != top else ""

    def rel(name: str) -> str:
        return f"{inside}/{name}" if inside else name

    records = {
        name: write_csv(folder / name, table, rel(name)).model_dump()
        for name, table in (
            ("boxes.csv", result.boxes),
            ("limits.csv", result.limits),
            ("trajectory.csv", result.trajectory),
        )
    }
    from sim.runner.store import write_json

    write_json(
        folder / "discovery.json",
        {
            "format": FORMAT,
            "kind": "discovery",
            "outcome": result.outcome,
            "base_rate": result.base_rate,
            "rules": result.rules,
            "files": records,
            **{k: v for k, v in result.info.items() if k != "folder"},
        },
        top,
    )
    paths: list[Any] = []
    if charts:
        from sim.runner.results import close_figure

        fig = result.plot()
        paths += save_figure(fig, folder / "tradeoff", top)
        close_figure(fig)
    return paths


# ----------------------------------------------------------------------------- report


def report(folder: str | Path, out: str | Path | None = None, pdf: bool = True) -> dict[str, Path]:
    """Write a self-contained HTML report (and a PDF) for a run, comparison or analysis folder.

    Returns:
        ``{'html': path, 'pdf': path}`` (no ``pdf`` when ``pdf=False``).
    """
    from sim.report import write_report

    return write_report(Path(folder), None if out is None else Path(out), pdf=pdf)


__all__ = [
    "POINT_COLUMN",
    "FactorSet",
    "discover",
    "load_sensitivity",
    "load_sweep",
    "report",
    "resume_sensitivity",
    "sensitivity",
    "sweep",
]
