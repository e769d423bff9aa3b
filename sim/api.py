"""The Python interface: run a scenario, compare two, load a finished run.

>>> from sim.api import run, compare
>>> r = run("scenarios/staged_provocation.yaml", replicates=2000)   # doctest: +SKIP
>>> r.summary.head()                                                  # doctest: +SKIP
>>> figs = r.plot()                                                   # doctest: +SKIP
>>> c = compare("scenarios/baseline.yaml", "scenarios/staged_provocation.yaml")  # doctest: +SKIP
>>> c.table                                                           # doctest: +SKIP

``out=None`` keeps nothing on disk: the run goes through a temporary folder (so its numbers come
from exactly the code path of a saved run) that is deleted before :func:`run` returns. With
``out=DIR`` the results folder stays, with its charts. Results are explorations of the
scenario's stated assumptions, not forecasts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.runner.engine import (
    DEFAULT_SEED,
    RunReport,
    RunSpec,
    canonical_scenario_checked,
    default_chunk_size,
    resume_run,
    start_run,
)
from sim.runner.executors import Executor
from sim.runner.results import chart_figures, close_figure
from sim.runner.store import (
    MANIFEST,
    RunFolderError,
    read_alignment_occupancy,
    read_manifest,
    read_occupancy,
    read_outcomes,
    read_summary,
    safe_name,
    save_figure,
    write_csv,
    write_json,
)

__all__ = [
    "DEFAULT_SEED",
    "ComparisonResult",
    "RunResult",
    "compare",
    "load_comparison",
    "load_run",
    "resume",
    "run",
]

COMPARISON_TABLE = "comparison.csv"
COMPARISON_INFO = "comparison.json"
COMPARISON_CHART = "charts/comparison"

ScenarioLike = str | Path | Any
"""A scenario file path, a validated ``Scenario`` or a plain scenario tree (dict)."""


@dataclass
class RunResult:
    """A finished run: its tables, counts and manifest.

    Attributes:
        outcomes: One row per replicate (``replicate``, ``param.*``, outcomes, ``error``).
        summary: outcome, estimate, ci_low, ci_high, n, kind.
        occupancy: int64 (days + 1, 6 actors, rungs): replicates on each rung per day.
        alignment_occupancy: int64 (days + 1, levels): replicates on each of China's levels.
        manifest: The run's manifest (resolved scenario, seed, versions, chunk status, ...).
        path: The run folder, or ``None`` when nothing was kept on disk.
        scenario: The resolved, validated scenario.
        notes: Remarks about the run (precision reached, failures), for people.
    """

    outcomes: pd.DataFrame
    summary: pd.DataFrame
    occupancy: np.ndarray
    alignment_occupancy: np.ndarray
    manifest: dict[str, Any]
    path: Path | None
    scenario: Any
    notes: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        """The run seed."""
        return int(self.manifest["seed"])

    @property
    def replicates(self) -> int:
        """Number of replicates (failed ones included)."""
        return int(self.manifest["replicates"])

    @property
    def failed(self) -> int:
        """Number of replicates that raised."""
        return int(self.manifest.get("failed_replicates") or 0)

    @property
    def label(self) -> str:
        """Scenario name, with the ``--set`` overrides if any."""
        overrides = self.manifest.get("overrides") or []
        return " ".join([self.scenario.name, *overrides])

    def plot(self, label: str | None = None) -> dict[str, Any]:
        """The standard charts, as ``{name: matplotlib Figure}`` (nothing is written)."""
        return chart_figures(
            self.outcomes,
            self.summary,
            self.occupancy,
            self.alignment_occupancy,
            self.scenario,
            self.seed,
            label=label,
        )


@dataclass
class ComparisonResult:
    """Two runs on common random numbers and how B differs from A.

    Attributes:
        table: outcome, estimate_a, estimate_b, difference, ci_low, ci_high, n, ... (paired
            intervals of B - A).
        a: Run A.
        b: Run B.
        path: The comparison folder, or ``None`` when nothing was kept on disk.
    """

    table: pd.DataFrame
    a: RunResult
    b: RunResult
    path: Path | None = None

    def plot(self) -> Any:
        """The comparison chart (a matplotlib Figure; nothing is written)."""
        from sim.charts import comparison_chart

        info_a, info_b = _comparison_infos(_run_info_dict(self.a), _run_info_dict(self.b))
        return comparison_chart(self.table, info_a, info_b)


# ----------------------------------------------------------------------------- running


def _resolve(scenario: ScenarioLike, overrides: Sequence[str]) -> tuple[dict[str, Any], str | None]:
    """The resolved scenario tree and its source path."""
    from sim.scenario.schema import Scenario, validate_scenario

    if isinstance(scenario, str | Path):
        from sim.scenario.loader import load_scenario

        path = Path(scenario)
        loaded = load_scenario(path, overrides=tuple(overrides))
        return loaded.model_dump(mode="json", by_alias=True), str(scenario)
    if overrides:
        raise UserError("overrides (--set) need a scenario file path, not a Scenario object")
    if isinstance(scenario, Scenario):
        return scenario.model_dump(mode="json", by_alias=True), None
    if isinstance(scenario, dict):
        return validate_scenario(scenario).model_dump(mode="json", by_alias=True), None
    raise UserError(f"scenario must be a file path or a Scenario, got {type(scenario).__name__}")


@contextlib.contextmanager
def _executor_for(scheduler: str | None, executor: Executor | None) -> Iterator[Executor | None]:
    """The executor to use: the one given, a Dask one for ``scheduler``, or ``None`` (local).

    An executor made here for ``scheduler`` is closed again when the run ends.
    """
    if scheduler is None:
        yield executor
        return
    if executor is not None:
        raise UserError("give either scheduler or executor, not both")
    # A missing Dask installation is reported by DaskExecutor itself as a one-line UserError.
    from sim.runner.dask_executor import DaskExecutor

    made = DaskExecutor(scheduler)
    try:
        yield made
    finally:
        made.close()


def run(
    scenario: ScenarioLike,
    replicates: int = 1000,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    chunk_size: int | None = None,
    out: str | Path | None = None,
    precision: float | None = None,
    max_replicates: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = False,
    scheduler: str | None = None,
    *,
    executor: Executor | None = None,
    fail_fast: bool = False,
    charts: bool | None = None,
    command: Sequence[str] | None = None,
    model: str | Callable[..., Any] | None = None,
) -> RunResult:
    """Run a scenario's Monte Carlo experiment.

    Args:
        scenario: A scenario file path, a ``Scenario`` or a scenario tree.
        replicates: Number of replicates (ids 0 .. replicates-1); ignored with ``precision``.
        seed: Run seed; the same seed gives the same results on any machine or worker count.
        workers: Local worker processes (``None``: all cores; 1: in this process).
        chunk_size: Replicates per chunk (default: :func:`default_chunk_size`); does not change
            the results.
        out: Results folder to create; ``None`` keeps nothing on disk.
        precision: Keep adding chunks until every headline probability's interval half-width
            is at most this (or ``max_replicates`` is reached).
        max_replicates: Ceiling for ``precision`` runs (default 1,000,000).
        overrides: ``key.path=value`` overrides applied to the scenario file.
        progress: Show a progress bar on stderr.
        scheduler: Dask scheduler address (needs ``sim.runner.dask_executor``).
        executor: Any :class:`~sim.runner.executors.Executor` to run chunks on.
        fail_fast: Raise :class:`~sim.runner.engine.ReplicateFailed` at the first failure.
        charts: Draw charts into ``out/charts`` (default: when ``out`` is given).
        command: Command line to record in the manifest.
        model: The replicate function, a module-level function with the signature of
            :func:`sim.model.run_replicates` or its ``module:function`` name (default: the
            project's model). Recorded in the manifest; ``resume`` uses it again.

    Returns:
        The finished run.

    Raises:
        UserError: invalid scenario or options, or an occupied ``out`` folder.
    """
    tree, source = _resolve(scenario, overrides)
    n = None if precision is not None else _whole(replicates, "replicates", 1)
    spec = RunSpec(
        scenario=tree,
        seed=_whole(seed, "seed", minimum=0),
        replicates=n,
        chunk_size=_whole(
            default_chunk_size(n) if chunk_size is None else chunk_size, "chunk size", 1
        ),
        precision=precision,
        max_replicates=max_replicates,
        charts=(out is not None) if charts is None else charts,
        source=source,
        overrides=tuple(overrides),
        model=model_reference(model),
    )
    if workers is not None:
        _whole(workers, "workers", 1)
    with _executor_for(scheduler, executor) as ex, _run_folder(out) as folder:
        report = start_run(
            spec,
            folder,
            executor=ex,
            workers=workers,
            progress=progress,
            fail_fast=fail_fast,
            command=command,
        )
        result = load_run(report.folder)
    if out is None:
        result.path = None
    result.notes = report.notes
    return result


@contextlib.contextmanager
def _run_folder(out: str | Path | None) -> Iterator[Path]:
    """``out`` as a path, or a temporary folder deleted afterwards when ``out`` is None.

    In-memory results then come from exactly the code path that writes saved ones.
    """
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="escalation-run-") as tmp:
        yield Path(tmp) / "run"


def model_reference(model: str | Callable[..., Any] | None) -> str:
    """``module:function`` for a replicate function (or its name, checked).

    Raises:
        UserError: the function cannot be found again by its name (a lambda, a nested
            function), which worker processes and ``resume`` would need.
    """
    from sim.runner.chunks import DEFAULT_MODEL, resolve_model

    if model is None:
        return DEFAULT_MODEL
    if isinstance(model, str):
        ref = model
    else:
        qualname = getattr(model, "__qualname__", "")
        if "<" in qualname:  # a lambda or a function defined inside another one
            raise UserError(f"model {qualname} must be a module-level function")
        ref = f"{model.__module__}:{qualname}"
    try:
        found = resolve_model(ref)
    except ValueError as e:
        raise UserError(str(e)) from None
    if not isinstance(model, str) and found is not model:
        raise UserError(f"model {ref} must be a module-level function")
    return ref


def resume(
    path: str | Path,
    workers: int | None = None,
    progress: bool = False,
    scheduler: str | None = None,
    *,
    executor: Executor | None = None,
    fail_fast: bool = False,
    command: Sequence[str] | None = None,
) -> RunResult:
    """Finish an interrupted run folder; its scenario and seed come from its manifest.

    Raises:
        RunFolderError: not a run folder, or a damaged one.
    """
    if workers is not None:
        _whole(workers, "workers", 1)
    with _executor_for(scheduler, executor) as ex:
        report: RunReport = resume_run(
            Path(path),
            executor=ex,
            workers=workers,
            progress=progress,
            fail_fast=fail_fast,
            command=command,
        )
    result = load_run(report.folder)
    result.notes = report.notes
    return result


def load_run(path: str | Path) -> RunResult:
    """Load a finished run folder.

    Raises:
        RunFolderError: the folder is missing, damaged or its run is not finished.
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    if manifest.get("status") != "complete":
        raise RunFolderError(
            f"{folder}: the run is not finished (status {manifest.get('status')}); "
            f"finish it with: escalation run --resume {folder}"
        )
    scenario, _, _ = canonical_scenario_checked(manifest, folder)

    try:
        return RunResult(
            outcomes=read_outcomes(folder),
            summary=read_summary(folder),
            occupancy=read_occupancy(
                folder, list(scenario.actors), [r.name for r in scenario.ladder]
            ),
            alignment_occupancy=read_alignment_occupancy(folder, list(scenario.alignment_track)),
            manifest=manifest,
            path=folder,
            scenario=scenario,
        )
    except (OSError, ValueError) as e:
        raise RunFolderError(f"{folder}: unreadable results ({' '.join(str(e).split())})") from None


# ----------------------------------------------------------------------------- comparing


def is_run_folder(path: str | Path) -> bool:
    """True for a folder holding a run manifest."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def compare(
    a: ScenarioLike,
    b: ScenarioLike,
    replicates: int = 1000,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    chunk_size: int | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    progress: bool = False,
    scheduler: str | None = None,
    *,
    executor: Executor | None = None,
    charts: bool | None = None,
    command: Sequence[str] | None = None,
    model: str | Callable[..., Any] | None = None,
) -> ComparisonResult:
    """Compare two scenarios on common random numbers (same seed, same replicate ids).

    ``a`` and ``b`` are either two scenarios (files or objects), run here with the same seed and
    replicates, or two finished run folders (then ``replicates``, ``seed``, ``overrides`` and
    the execution options are not used). Runs that do not share their seed and replicate ids
    cannot be paired, and are refused rather than compared unpaired: an unpaired comparison
    of noisy estimates is easily misread.

    With ``out``, the folder receives ``a/`` and ``b/`` (the runs, when they are run here),
    ``comparison.csv``, ``comparison.json`` and, unless ``charts=False``,
    ``charts/comparison.png`` and ``.svg``.

    Raises:
        UserError: a mix of folders and scenarios, unpairable runs, or bad options.
    """
    folders = [is_run_folder(x) if isinstance(x, str | Path) else False for x in (a, b)]
    for x in (a, b):
        if isinstance(x, str | Path) and Path(x).is_dir() and not is_run_folder(x):
            read_manifest(x)  # raises the folder's own one-line error
    out_dir = Path(out) if out is not None else None
    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir}: folder exists and is not empty; choose another -o")
    if all(folders):
        run_a, run_b = load_run(a), load_run(b)
    elif any(folders):
        raise UserError("compare needs two scenario files or two run folders, not one of each")
    else:
        common = dict(
            replicates=replicates,
            seed=seed,
            workers=workers,
            chunk_size=chunk_size,
            overrides=overrides,
            progress=progress,
            scheduler=scheduler,
            executor=executor,
            charts=charts,
            command=command,
            model=model,
        )
        run_a = run(a, out=out_dir / "a" if out_dir else None, **common)
        run_b = run(b, out=out_dir / "b" if out_dir else None, **common)
    table = paired_table(run_a, run_b)
    result = ComparisonResult(table, run_a, run_b, out_dir)
    if out_dir is not None:
        save_comparison(result, out_dir, charts=True if charts is None else charts)
    return result


def paired_table(a: RunResult, b: RunResult) -> pd.DataFrame:
    """The paired comparison table of two runs.

    Raises:
        UserError: the runs do not share their seed and replicate ids.
    """
    from sim.analysis.stats import compare_paired

    if a.seed != b.seed:
        raise UserError(
            f"cannot pair the runs: seeds differ (A {a.seed}, B {b.seed}); a paired comparison "
            "needs both runs on the same seed and replicate ids"
        )
    ids_a = a.outcomes["replicate"].to_numpy()
    ids_b = b.outcomes["replicate"].to_numpy()
    if len(ids_a) != len(ids_b) or not np.array_equal(np.sort(ids_a), np.sort(ids_b)):
        raise UserError(
            f"cannot pair the runs: replicate ids differ (A has {len(ids_a):,}, B has "
            f"{len(ids_b):,}); a paired comparison needs the same seed and replicate ids"
        )
    return compare_paired(a.outcomes, b.outcomes)


def _run_info_dict(r: RunResult) -> dict[str, Any]:
    return {
        "scenario": r.scenario.name,
        "title": r.scenario.title,
        "replicates": r.replicates - r.failed,
        "seed": r.seed,
        "label": r.label,
        "path": str(r.path) if r.path is not None else None,
    }


def _comparison_infos(a: dict[str, Any], b: dict[str, Any]) -> tuple[Any, Any]:
    from sim.charts.common import RunInfo

    def info(d: dict[str, Any]) -> Any:
        # comparison_chart prefixes each run's stamp with "A: " / "B: " itself; a label that
        # only repeats the scenario name would print it twice.
        label = d["label"] if d["label"] not in (None, d["scenario"]) else None
        return RunInfo(d["scenario"], d["title"], d["replicates"], d["seed"], label)

    return info(a), info(b)


def save_comparison(result: ComparisonResult, folder: Path, charts: bool = True) -> None:
    """Write ``comparison.csv``, ``comparison.json`` and the comparison chart into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / COMPARISON_TABLE, result.table)
    info = {
        "a": _run_info_dict(result.a),
        "b": _run_info_dict(result.b),
        "seed": result.a.seed,
        "paired_replicates": int(result.table.attrs.get("paired", len(result.a.outcomes))),
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    for side in ("a", "b"):
        p = info[side]["path"]
        if p is not None:
            # Runs made by this comparison live inside its folder; say so relative to it, so
            # the folder can be moved.
            try:
                info[side]["path"] = str(Path(p).resolve().relative_to(folder.resolve()))
            except ValueError:
                info[side]["path"] = str(Path(p).resolve())
    write_json(folder / COMPARISON_INFO, info)
    if charts:
        draw_comparison(folder)


def load_comparison(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and run descriptions of a comparison folder.

    Raises:
        RunFolderError: not a comparison folder, or a damaged one.
    """
    import json

    folder = Path(folder)
    try:
        info = json.loads((folder / COMPARISON_INFO).read_text(encoding="utf-8"))
        table = pd.read_csv(
            folder / COMPARISON_TABLE,
            keep_default_na=False,
            na_values=[""],
        )
        _ = info["a"]["scenario"], info["b"]["scenario"]
    except FileNotFoundError as e:
        missing = Path(e.filename).name if e.filename else "a file"
        raise RunFolderError(f"{folder}: not a comparison folder ({missing} missing)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunFolderError(f"{folder}: damaged comparison ({' '.join(str(e).split())})") from None
    return table, info


def draw_comparison(folder: str | Path) -> list[Path]:
    """(Re)draw ``charts/comparison.png`` and ``.svg`` of a comparison folder from its files."""
    from sim.charts import comparison_chart

    folder = Path(folder)
    table, info = load_comparison(folder)
    fig = comparison_chart(table, *_comparison_infos(info["a"], info["b"]))
    paths = save_figure(fig, folder / COMPARISON_CHART)
    close_figure(fig)
    return paths


def default_comparison_dir(a: Any, b: Any, seed: int, root: str | Path = "results") -> Path:
    """``results/compare/<UTC timestamp>-<A>-vs-<B>-seed<S>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{safe_name(Path(str(a)).stem)}-vs-{safe_name(Path(str(b)).stem)}-seed{seed}"
    return Path(root) / "compare" / name


def _whole(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise UserError(f"{what} must be a whole number, got {value!r}")
    if value < minimum:
        raise UserError(f"{what} must be >= {minimum}, got {value}")
    return int(value)
