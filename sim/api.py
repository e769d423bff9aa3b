"""The Python interface: run a scenario, compare two, load a finished run.

>>> from sim.api import run, compare, run_design
>>> r = run("scenarios/staged_provocation.yaml", replicates=2000)   # doctest: +SKIP
>>> r.summary.head()                                                  # doctest: +SKIP
>>> figs = r.plot()                                                   # doctest: +SKIP
>>> c = compare("scenarios/baseline.yaml", "scenarios/staged_provocation.yaml")  # doctest: +SKIP
>>> c.table                                                           # doctest: +SKIP
>>> d = run_design("scenarios/base.yaml", table, replicates_per_point=200)  # doctest: +SKIP
>>> d.outcomes.groupby("point")["armed_incident"].mean()              # doctest: +SKIP

What to run is given by the arguments (scenario, replicates, seed, overrides, precision); how
to run it by one :class:`~sim.runner.options.ExecutionOptions` (``options=``), or by its field
names as keywords (``run(path, workers=2, scheduler="tcp://...")``). A parameter design runs
with :func:`run_design`: every row of a table of parameter values on the same replicates
``0 .. K-1`` (common random numbers), chunked, resumable and on any executor like a run.

The runner writes tables; the charts are drawn here (:func:`draw_charts`, ``RunResult.plot``)
from the saved, verified tables, and recorded in the manifest, so a folder is complete only
when every promised chart is there.

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
    Design,
    RunReport,
    canonical_scenario_checked,
    resume_run,
    start_design_run,
    start_run,
)
from sim.runner.folder import require_new_folder
from sim.runner.manifest import Charts, FileRecord, Manifest, RunSpec
from sim.runner.options import ExecutionOptions, check_int
from sim.runner.results import chart_figures, close_figure, ok_rows, save_charts
from sim.runner.store import (
    MANIFEST,
    RunFolderError,
    StorageError,
    folder_lock,
    read_alignment_occupancy,
    read_manifest,
    read_occupancy,
    read_outcomes,
    read_summary,
    safe_name,
    save_figure,
    write_csv,
    write_json,
    write_manifest,
)

__all__ = [
    "DEFAULT_SEED",
    "ComparisonResult",
    "Design",
    "DesignResult",
    "ExecutionOptions",
    "RunResult",
    "compare",
    "draw_charts",
    "load_comparison",
    "load_design_run",
    "load_run",
    "resume",
    "run",
    "run_design",
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
    manifest: Manifest
    path: Path | None
    scenario: Any
    notes: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        """The run seed."""
        return self.manifest.spec.seed

    @property
    def replicates(self) -> int:
        """Number of replicates (failed ones included)."""
        return int(self.manifest.replicates or 0)

    @property
    def failed(self) -> int:
        """Number of replicates that raised."""
        return int(self.manifest.failed_replicates or 0)

    @property
    def label(self) -> str:
        """Scenario name, with the ``--set`` overrides if any."""
        return " ".join([self.scenario.name, *self.manifest.spec.overrides])

    @property
    def complete(self) -> bool:
        """Every promised file (tables and charts) is in the folder."""
        return self.manifest.is_complete

    def to_df(self) -> pd.DataFrame:
        """The outcomes table (one row per replicate)."""
        return self.outcomes

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
        from sim.report.present import chart_labels

        info_a, info_b = _comparison_infos(_run_info_dict(self.a), _run_info_dict(self.b))
        labels = chart_labels(self.a.scenario, self.table["outcome"].astype(str))
        return comparison_chart(self.table, info_a, info_b, labels=labels)


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


def _options(options: ExecutionOptions | None, execution: dict[str, Any]) -> ExecutionOptions:
    """``options`` with keyword shorthands (``workers=2``) applied."""
    return ExecutionOptions.from_kwargs(options, **execution)


def run(
    scenario: ScenarioLike,
    replicates: int = 1000,
    seed: int = DEFAULT_SEED,
    *,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    precision: float | None = None,
    max_replicates: int | None = None,
    charts: bool | None = None,
    model: str | Callable[..., Any] | None = None,
    options: ExecutionOptions | None = None,
    **execution: Any,
) -> RunResult:
    """Run a scenario's Monte Carlo experiment.

    What to run is given by the first arguments; how to run it (workers, chunk size, Dask
    scheduler, progress bar, fail-fast, failure limit) by ``options`` or, as a shorthand, by
    the same names as keywords (``run(path, workers=2)``); see
    :class:`~sim.runner.options.ExecutionOptions`. None of those change the results.

    Args:
        scenario: A scenario file path, a ``Scenario`` or a scenario tree.
        replicates: Number of replicates (ids 0 .. replicates-1); ignored with ``precision``.
        seed: Run seed; the same seed gives the same results on any machine or worker count.
        out: Results folder to create; ``None`` keeps nothing on disk (the run goes through a
            temporary folder, so its numbers come from exactly the code path of a saved run).
        overrides: ``key.path=value`` overrides applied to the scenario file.
        precision: Keep adding chunks until every headline probability's interval half-width
            is at most this (or ``max_replicates`` is reached).
        max_replicates: Ceiling for ``precision`` runs (default 1,000,000).
        charts: Draw the standard charts into ``out/charts`` (default: when ``out`` is given).
            The runner writes tables; the charts are drawn here, from the saved tables.
        model: The replicate function, a module-level function with the signature of
            :func:`sim.model.run_replicates` or its ``module:function`` name (default: the
            project's model). Recorded in the manifest; ``resume`` needs it named again.
        options: How to execute.
        **execution: Shorthand for fields of ``options``.

    Returns:
        The finished run.

    Raises:
        UserError: invalid scenario or options, an occupied or unwritable ``out`` folder.
        TooManyFailed: every replicate (or more than ``max_failed``) failed.
    """
    opts = _options(options, execution)
    tree, source = _resolve(scenario, overrides)
    n = None if precision is not None else check_int(replicates, "replicates", 1)
    if precision is not None and not isinstance(precision, int | float):
        raise UserError(f"precision must be a number, got {precision!r}")
    spec = _spec(
        scenario=tree,
        seed=check_int(seed, "seed", 0),
        replicates=n,
        precision=None if precision is None else float(precision),
        max_replicates=None
        if max_replicates is None
        else check_int(max_replicates, "max replicates", 1),
        charts=(out is not None) if charts is None else bool(charts),
        source=source,
        overrides=tuple(overrides),
        model=model_reference(model),
    )
    with _run_folder(out) as folder:
        report = start_run(spec, folder, opts)
        if spec.charts:
            draw_charts(report.folder)
        result = load_run(report.folder)
    if out is None:
        result.path = None
    result.notes = report.notes + _chart_notes(result.manifest)
    return result


def _spec(**fields: Any) -> RunSpec:
    """A :class:`RunSpec`, with its validation problems as one-line user errors."""
    from pydantic import ValidationError

    try:
        return RunSpec(**fields)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UserError(f"{where}: {err['msg']}") from None


def _chart_notes(manifest: Manifest) -> list[str]:
    if manifest.charts.status == "failed":
        return [f"warning: charts not drawn ({manifest.charts.error})"]
    if manifest.charts.status == "pending":
        return ["warning: charts not drawn yet (draw them with: escalation plot FOLDER)"]
    return []


def draw_charts(path: str | Path) -> list[FileRecord]:
    """Draw the standard charts of a finished run folder into ``charts/`` and record them.

    The charts are drawn from the folder's verified tables. While drawing, the manifest says
    the charts are pending, so an interrupted drawing leaves a folder that is not complete
    (``escalation plot`` or ``--resume`` draws them again). A drawing bug is recorded in the
    manifest (``charts.status == 'failed'``) rather than raised: the tables are complete.

    Returns:
        The records of the chart files written.

    Raises:
        RunFolderError: not a finished run folder, or a damaged one.
        StorageError: the charts cannot be written (read-only folder, full disk).
        FolderLocked: another process is writing the folder.
    """
    folder = Path(path)
    read_manifest(folder)  # a missing or foreign folder: its own message, before the lock
    with folder_lock(folder):
        result = load_run(folder)
        manifest = result.manifest
        if manifest.spec.design is not None:
            raise UserError(f"{folder}: a design run has no standard charts")
        write_manifest(folder, manifest.model_copy(update={"charts": Charts(status="pending")}))
        records: list[FileRecord] = []
        if len(ok_rows(result.outcomes)) == 0:
            charts = Charts(status="failed", error="no replicate succeeded: nothing to chart")
        else:
            try:
                figures = result.plot()
            except Exception as e:
                # The results are complete without pictures; a drawing bug must not hold
                # them hostage. Say so; `escalation plot` retries.
                error = f"{type(e).__name__}: {' '.join(str(e).split())}"[:300]
                charts = Charts(status="failed", error=error)
            else:
                records = save_charts(figures, folder)
                charts = Charts(status="drawn", files=tuple(records))
        write_manifest(folder, manifest.model_copy(update={"charts": charts}))
    return records


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
    *,
    model: str | Callable[..., Any] | None = None,
    options: ExecutionOptions | None = None,
    **execution: Any,
) -> RunResult:
    """Make a run folder whole: finish an interrupted run, rebuild damaged tables, draw charts.

    Its scenario, seed and chunk size come from its manifest, which is read as data. A run
    made with a replicate function other than the project's model resumes only when that
    function is named again here (``model``): a results folder never chooses code to run.

    Raises:
        RunFolderError: not a run folder, a damaged one, or a model not named again.
    """
    opts = _options(options, execution)
    ref = None if model is None else model_reference(model)
    report: RunReport = resume_run(Path(path), opts, model=ref)
    if report.manifest.spec.charts and report.manifest.charts.status == "pending":
        draw_charts(report.folder)
    result = load_run(report.folder)
    result.notes = report.notes + _chart_notes(result.manifest)
    return result


def load_run(path: str | Path) -> RunResult:
    """Load a finished run folder; every table is verified against the manifest first.

    Raises:
        RunFolderError: the folder is missing, damaged or its run is not finished.
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    if not manifest.tables_complete:
        raise RunFolderError(
            f"{folder}: the run is not finished (status {manifest.status}); "
            f"finish it with: escalation run --resume {folder}"
        )
    scenario, _, _ = canonical_scenario_checked(manifest, folder)

    ladder = [r.name for r in scenario.ladder]
    outcomes = read_outcomes(folder, manifest)
    summary = read_summary(folder, manifest)
    _require_columns(folder, "outcomes.parquet", outcomes, ("replicate", "error"))
    _require_columns(
        folder, "summary.csv", summary, ("outcome", "estimate", "ci_low", "ci_high", "n", "kind")
    )
    return RunResult(
        outcomes=outcomes,
        summary=summary,
        occupancy=read_occupancy(folder, list(scenario.actors), ladder, manifest),
        alignment_occupancy=read_alignment_occupancy(
            folder, list(scenario.alignment_track), manifest
        ),
        manifest=manifest,
        path=folder,
        scenario=scenario,
    )


def _require_columns(folder: Path, name: str, df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RunFolderError(
            f"{folder / name}: lacks the column(s) {', '.join(missing)}; rebuild it with: "
            f"escalation run --resume {folder}"
        )


# ----------------------------------------------------------------------------- designs


@dataclass
class DesignResult:
    """A finished design run: every design point on the same replicates (common random numbers).

    Attributes:
        outcomes: One row per (point, replicate): ``replicate``, ``point``, ``param.<path>``
            for every design column (and every uncertain parameter), the outcomes, ``error``.
        design: The design table (one row per point).
        replicates_per_point: K.
        manifest: The run's manifest.
        path: The run folder, or ``None`` when nothing was kept on disk.
        notes: Remarks about the run.
    """

    outcomes: pd.DataFrame
    design: pd.DataFrame
    replicates_per_point: int
    manifest: Manifest
    path: Path | None
    notes: list[str] = field(default_factory=list)

    def to_df(self) -> pd.DataFrame:
        """The outcomes table."""
        return self.outcomes


def run_design(
    scenario: ScenarioLike,
    design: pd.DataFrame | Design,
    replicates_per_point: int | None = None,
    seed: int = DEFAULT_SEED,
    *,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    model: str | Callable[..., Any] | None = None,
    options: ExecutionOptions | None = None,
    source: str | None = None,
    overrides_record: Sequence[str] = (),
    **execution: Any,
) -> DesignResult:
    """Run every point of a parameter design, each on replicates ``0 .. K-1`` with one seed.

    Common random numbers: two design points differ only by their parameter values, so a
    difference between them measures the parameters, not the dice. The run is chunked by
    points and, with ``out``, resumable like any run (``resume(out)``); it runs on the process
    pool or Dask through ``options``.

    Args:
        scenario: A scenario file path, a ``Scenario`` or a scenario tree.
        design: One row per design point, one column per dotted parameter path (see
            :func:`sim.scenario.parameters.declared_parameters`), or a :class:`Design`.
        replicates_per_point: K (required with a plain table).
        seed: The seed shared by every point.
        out: Results folder to create; ``None`` keeps nothing on disk.
        overrides: ``--set`` overrides of the scenario file.
        model: The replicate function (see :func:`run`).
        options: How to execute (``chunk_size`` counts design points).
        source: Where a scenario given as a tree or object came from (for the record).
        overrides_record: The overrides already applied to such a tree (for the record).
        **execution: Shorthand for fields of ``options``.

    Raises:
        UserError: a column that is not a parameter, non-finite values, bad options.
    """
    opts = _options(options, execution)
    if isinstance(design, Design):
        if replicates_per_point not in (None, design.replicates_per_point):
            raise UserError("replicates_per_point differs from the Design's")
        d = design
    else:
        if replicates_per_point is None:
            raise UserError("give replicates_per_point (K replicates at every design point)")
        d = Design(design, check_int(replicates_per_point, "replicates per point", 1))
    tree, resolved_from = _resolve(scenario, overrides)
    spec = _spec(
        scenario=tree,
        seed=check_int(seed, "seed", 0),
        replicates=None,
        source=resolved_from or source,
        overrides=tuple(overrides) or tuple(overrides_record),
        model=model_reference(model),
    )
    with _run_folder(out) as folder:
        report = start_design_run(spec, d, folder, opts)
        result = load_design_run(report.folder)
    if out is None:
        result.path = None
    result.notes = report.notes
    return result


def load_design_run(path: str | Path) -> DesignResult:
    """Load a finished design run folder (tables verified against the manifest).

    Raises:
        RunFolderError: missing, damaged, unfinished, or not a design run.
    """
    from sim.runner.engine import read_design

    folder = Path(path)
    manifest = read_manifest(folder)
    info = manifest.spec.design
    if info is None:
        raise RunFolderError(f"{folder}: not a design run")
    if not manifest.tables_complete:
        raise RunFolderError(
            f"{folder}: the run is not finished (status {manifest.status}); "
            f"finish it with: escalation run --resume {folder}"
        )
    values = read_design(folder, info)
    design = pd.DataFrame({c: values[:, j] for j, c in enumerate(info.columns)})
    return DesignResult(
        outcomes=read_outcomes(folder, manifest),
        design=design,
        replicates_per_point=info.replicates_per_point,
        manifest=manifest,
        path=folder,
    )


# ----------------------------------------------------------------------------- comparing


def is_run_folder(path: str | Path) -> bool:
    """True for a folder holding a run manifest."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def compare(
    a: ScenarioLike,
    b: ScenarioLike,
    replicates: int = 1000,
    seed: int = DEFAULT_SEED,
    *,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    charts: bool | None = None,
    model: str | Callable[..., Any] | None = None,
    options: ExecutionOptions | None = None,
    **execution: Any,
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
    if out_dir is not None:
        require_new_folder(out_dir)
    if all(folders):
        run_a, run_b = load_run(a), load_run(b)
    elif any(folders):
        raise UserError("compare needs two scenario files or two run folders, not one of each")
    else:
        opts = _options(options, execution)
        with contextlib.ExitStack() as stack:
            if opts.scheduler is not None or opts.dask_local is not None:
                # One cluster connection (or local cluster) for both runs.
                from sim.runner.options import open_executor

                ex = stack.enter_context(open_executor(opts))
                opts = opts.replace(executor=ex, scheduler=None, dask_local=None)
            common: dict[str, Any] = dict(
                replicates=replicates,
                seed=seed,
                overrides=overrides,
                charts=charts,
                model=model,
                options=opts,
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
        # The run's own record of its scenario: a reader of the comparison checks the run
        # folder it names is still that run (sim.api.comparison_run).
        "scenario_sha256": r.manifest.scenario_sha256,
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
    """Write ``comparison.csv``, the comparison chart and ``comparison.json`` into ``folder``.

    ``comparison.json`` is the folder's record: what was compared (each run's scenario, title,
    seed, folder and scenario hash) and the size and SHA-256 of every file written, which every
    reader checks before believing a number (:func:`load_comparison`).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(folder, e, "create the folder") from None
    record = write_csv(folder / COMPARISON_TABLE, result.table)
    info: dict[str, Any] = {
        "format": COMPARISON_FORMAT,
        "files": {COMPARISON_TABLE: record.model_dump()},
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


COMPARISON_FORMAT = "escalation-sim/comparison/2"
"""Version of ``comparison.json``; the first had no format field and possibly no file records."""


def load_comparison(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and run descriptions of a comparison folder, checked against its record.

    ``comparison.json`` is read bounded in size and nesting, without following links; the
    table is believed only when it matches the size and SHA-256 recorded for it. A folder
    whose record lists no files (edited, or written before records were kept) is refused.

    Raises:
        RunFolderError: not a comparison folder, a damaged or edited one.
    """
    from sim.runner.folder import ResultsFolder
    from sim.runner.store import read_table

    folder = Path(folder)
    rf = ResultsFolder(folder)
    if rf.kind(COMPARISON_INFO) == "missing":
        raise RunFolderError(f"{folder}: not a comparison folder ({COMPARISON_INFO} missing)")
    info = rf.read_json(COMPARISON_INFO, "comparison record")
    try:
        if not isinstance(info, dict):
            raise TypeError("comparison.json is not a JSON object")
        for side in ("a", "b"):
            d = info[side]
            if not (isinstance(d["scenario"], str) and isinstance(d["title"], str)):
                raise TypeError(f"{side}: scenario and title must be text")
            for key in ("replicates", "seed"):
                if isinstance(d[key], bool) or not isinstance(d[key], int):
                    raise TypeError(f"{side}.{key} must be a whole number")
            if d.get("path") is not None and not isinstance(d["path"], str):
                raise TypeError(f"{side}.path must be text")
        files = info.get("files")
        record = files.get(COMPARISON_TABLE) if isinstance(files, dict) else None
        if record is None:
            raise RunFolderError(
                f"{folder / COMPARISON_INFO}: no record of {COMPARISON_TABLE} (size and "
                "SHA-256): the folder was edited or made by an older version; rerun the "
                "comparison"
            )
        rec = FileRecord.model_validate(record)
        if rec.path != COMPARISON_TABLE:
            raise ValueError(f"the record of {COMPARISON_TABLE} names {rec.path[:60]!r}")
        table = read_table(folder, rec)
        missing_cols = sorted(_COMPARISON_COLUMNS - set(table.columns))
        if missing_cols:
            raise ValueError(f"{COMPARISON_TABLE} lacks columns {', '.join(missing_cols)}")
        for col in _COMPARISON_COLUMNS - {"outcome", "kind"}:
            table[col] = pd.to_numeric(table[col], errors="raise")
    except RunFolderError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        text = " ".join(str(e).split())[:200]
        raise RunFolderError(f"{folder}: damaged comparison ({text})") from None
    return table, info


def comparison_run(folder: Path, info: dict[str, Any], side: str) -> Path | None:
    """The run folder a comparison names for ``side`` (``a`` or ``b``), checked, or None.

    The folder is where the comparison's record says (inside the comparison, or where the two
    compared folders were); it must still be that run: its manifest's scenario hash must be
    the one the comparison recorded (and its scenario its hash, :func:`load_run` checks).

    Raises:
        RunFolderError: the run folder the record names is another run now (one line naming
            the comparison's record).
    """
    path = info.get(side, {}).get("path")
    if not path:
        return None
    run = Path(path) if Path(path).is_absolute() else folder / path
    if not Path(path).is_absolute():
        from sim.runner.folder import ResultsFolder

        ResultsFolder(folder).require_folder(path)  # not a link planted inside the comparison
    if not is_run_folder(run):
        return None
    recorded = info[side].get("scenario_sha256")
    if recorded is not None:
        m = read_manifest(run)
        if m.scenario_sha256 != recorded:
            raise RunFolderError(
                f"{folder / COMPARISON_INFO}: run {side.upper()} ({run}) is not the run this "
                "comparison was made from (its scenario hash differs); rerun the comparison"
            )
    return run


_COMPARISON_COLUMNS = {
    "outcome",
    "kind",
    "estimate_a",
    "estimate_b",
    "difference",
    "ci_low",
    "ci_high",
}


def draw_comparison(folder: str | Path) -> list[FileRecord]:
    """(Re)draw ``charts/comparison.png`` and ``.svg`` of a comparison folder from its files."""
    folder = Path(folder)
    table, info = load_comparison(folder)
    fig = comparison_figure(folder, table, info)
    paths = save_figure(fig, folder / COMPARISON_CHART, folder)
    close_figure(fig)
    return paths


def comparison_figure(folder: Path, table: pd.DataFrame, info: dict[str, Any]) -> Any:
    """The comparison chart of a loaded comparison folder (nothing is written)."""
    from sim.charts import comparison_chart
    from sim.report.present import chart_labels

    labels = chart_labels(_comparison_scenario(folder, info), table["outcome"].astype(str))
    return comparison_chart(table, *_comparison_infos(info["a"], info["b"]), labels=labels)


def _comparison_scenario(folder: Path, info: dict[str, Any]) -> Any | None:
    """Run A's validated scenario, for labels; None when its folder is not at hand (the chart
    then names outcomes by their identifiers in words)."""
    run = comparison_run(folder, info, "a")
    if run is None:
        return None
    # An edited run is an error here too, not a chart quietly labelled from it.
    return canonical_scenario_checked(read_manifest(run), run)[0]


def default_comparison_dir(a: Any, b: Any, seed: int, root: str | Path = "results") -> Path:
    """``results/compare/<UTC timestamp>-<A>-vs-<B>-seed<S>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{safe_name(Path(str(a)).stem)}-vs-{safe_name(Path(str(b)).stem)}-seed{seed}"
    return Path(root) / "compare" / name
