"""Running a Monte Carlo experiment into a results folder: plan, execute, store, resume.

:func:`start_run` creates a run folder for a :class:`RunSpec` and executes it;
:func:`start_design_run` does the same for a parameter :class:`Design` (rows of parameter
values, each run on the same replicate ids: common random numbers); :func:`resume_run` makes a
folder whole again after an interruption (or a damaged file). All go through :func:`_execute`:

1. plan the chunks: chunk ``i`` holds replicates ``[i * chunk_size, (i + 1) * chunk_size)``
   (design points in a design run; with ``--precision``, chunks keep being added up to
   ``max_replicates``);
2. hand the chunks that are not yet on disk to the executor that
   :func:`~sim.runner.options.open_executor` picks for the :class:`ExecutionOptions`;
3. as each chunk finishes, write its files atomically and record them (size, SHA-256, rows)
   in the manifest;
4. when every chunk is done (or the precision target is met), build the final tables from the
   chunk files on disk, verified against their records (see :mod:`sim.runner.store` for why
   that makes them reproducible).

The runner writes tables only; charts are drawn by :mod:`sim.api` (and so by the CLI).

A replicate that raises is recorded with its error (see :mod:`sim.runner.chunks`); with
``fail_fast`` the run stops at the first such replicate with :class:`ReplicateFailed`, and a run
where every replicate (or more than ``max_failed``) failed ends in :class:`TooManyFailed`.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import sys
import time
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.runner.chunks import (
    DEFAULT_MODEL,
    ERROR_COLUMN,
    ChunkResult,
    ChunkTask,
    resolve_model,
    run_chunk,
    scenario_to_json,
)
from sim.runner.folder import TEMPORARY, ResultsFolder
from sim.runner.manifest import (
    Charts,
    ChunkEntry,
    DesignInfo,
    Execution,
    FailureRecord,
    FileRecord,
    Manifest,
    PrecisionState,
    Resumption,
    RunSpec,
    Timing,
)
from sim.runner.options import ExecutionOptions, check_int, open_executor
from sim.runner.precision import PrecisionTracker, max_half_width
from sim.runner.results import (
    failed_ids,
    merge_chunk_outcomes,
    read_chunk,
    summarize_ok,
)
from sim.runner.store import (
    ALIGNMENT_OCCUPANCY,
    CHUNKS,
    DESIGN,
    LADDER_OCCUPANCY,
    MANIFEST,
    OUTCOMES,
    SUMMARY,
    ChunkFiles,
    RunFolderError,
    StorageError,
    alignment_long,
    code_version,
    file_record,
    folder_lock,
    is_nonempty_dir,
    occupancy_long,
    parquet_bytes,
    read_manifest,
    utc_now,
    verify_file,
    versions,
    write_bytes,
    write_csv,
    write_manifest,
    write_npy,
    write_parquet,
)

DEFAULT_SEED = 20240708
"""Seed used when none is given (the first day of the July 2024 drills), so runs reproduce."""

DEFAULT_CHUNK_SIZE = 5_000
"""Replicates per chunk of an unbounded (``--precision``) run."""

DEFAULT_MAX_REPLICATES = 1_000_000
"""Ceiling on replicates for ``--precision`` runs."""

MAX_FAILED_IDS_LISTED = 1_000
"""The manifest lists at most this many failed replicate ids (the outcomes table has all)."""


def default_chunk_size(replicates: int | None) -> int:
    """Replicates per chunk when the user names none: about a sixteenth of the run.

    Each finished chunk costs the writing process a transfer, a parquet file and a manifest
    update, and on a 2-core machine that process shares the cores with the workers: measured
    at a million replicates, 5,000-replicate chunks spent about 30% of a core there. Sixteen
    chunks keep both workers busy to the end; the bounds keep a chunk's arrays small (25,000
    worlds is about 100 MB per worker) and a killed run's loss short. The size depends only on
    the replicate count - not on workers or executor - so equal runs get equal manifests.
    Unbounded (``--precision``) runs use :data:`DEFAULT_CHUNK_SIZE`.
    """
    if replicates is None:
        return DEFAULT_CHUNK_SIZE
    size = -(-replicates // 16)
    size = -(-size // 1000) * 1000
    return max(2_000, min(25_000, size))


def default_points_per_chunk(points: int, replicates_per_point: int) -> int:
    """Design points per chunk: about :func:`default_chunk_size` rows, whole points only."""
    rows = default_chunk_size(points * replicates_per_point)
    return max(1, rows // replicates_per_point)


class ReplicateFailed(UserError):
    """A replicate raised and the run was asked to stop at the first failure (exit status 1)."""

    exit_code = 1

    def __init__(self, replicate: int, error: str, folder: Path | None = None):
        self.replicate = replicate
        self.error = error
        self.folder = folder
        super().__init__(f"replicate {replicate} failed: {error}")


class TooManyFailed(UserError):
    """Every replicate (or more than ``--max-failed``) failed: the tables hold errors, exit 1."""

    exit_code = 1

    def __init__(self, folder: Path, failed: int, total: int, first: str, limit: str):
        self.folder = folder
        self.failed = failed
        self.total = total
        super().__init__(
            f"{failed:,} of {total:,} replicates failed ({limit}); first: {first}; the errors "
            f"are in the '{ERROR_COLUMN}' column of {folder / OUTCOMES}"
        )


class WorkerCrashed(UserError):
    """A worker process died abruptly (killed, out of memory); the folder can be resumed."""

    exit_code = 1

    def __init__(self, folder: Path, cause: BaseException):
        detail = " ".join(str(cause).split())
        super().__init__(
            f"a worker process died abruptly ({detail}); chunks already done are kept - "
            f"finish the run with: escalation run --resume {folder}"
        )


class OutOfSpace(StorageError):
    """The disk filled up during a run; chunks already written are kept for a resume."""

    def __init__(self, error: StorageError, folder: Path):
        self.path = error.path
        self.errno = error.errno
        self.reason = error.reason
        self.advice = error.advice
        UserError.__init__(
            self,
            f"{error.path}: cannot write ({error.reason}); {error.advice}, then finish the run "
            f"with: escalation run --resume {folder}",
        )


@dataclass(frozen=True)
class Design:
    """A parameter design: rows of parameter values, each run on the same K replicates.

    Attributes:
        table: One row per design point, one float column per dotted parameter path (e.g. from
            :func:`sim.scenario.parameters.declared_parameters`); the index is ignored.
        replicates_per_point: K: replicate ids ``0 .. K-1`` (same seed) at every point.
    """

    table: pd.DataFrame
    replicates_per_point: int

    def values(self) -> np.ndarray:
        """The design as a float64 array (points, columns)."""
        return self.table.to_numpy(dtype=np.float64)


def check_design(design: Design, scenario: Any) -> tuple[tuple[str, ...], np.ndarray]:
    """The design's columns and values, checked against the scenario.

    Raises:
        UserError: no rows or columns, a column that is not a parameter of the scenario, a
            value that is not a finite number, or a bad ``replicates_per_point``.
    """
    from sim.scenario.parameters import declared_parameters

    check_int(design.replicates_per_point, "replicates per point", 1)
    table = design.table
    if not isinstance(table, pd.DataFrame) or table.shape[0] < 1 or table.shape[1] < 1:
        raise UserError("a design needs at least one row (point) and one column (parameter)")
    columns = tuple(str(c) for c in table.columns)
    if len(set(columns)) != len(columns):
        raise UserError("design columns must be distinct parameter paths")
    declared = declared_parameters(scenario)
    for c in columns:
        if c not in declared:
            import difflib

            close = difflib.get_close_matches(c, list(declared), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UserError(f"design column '{c}' is not a parameter of the scenario{hint}")
    try:
        values = table.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError("design values must be numbers") from None
    if not np.isfinite(values).all():
        raise UserError("design values must be finite numbers (no NaN or infinity)")
    return columns, values


@dataclass
class RunReport:
    """What a finished (or already complete) run produced.

    Attributes:
        folder: The run folder.
        manifest: The final manifest.
        replicates: Replicates (rows) in the results.
        failed: How many of them failed.
        seconds: Wall time of this execution.
        computed: Replicates computed by this execution (fewer than ``replicates`` on resume).
        precision_status: ``'met'`` or ``'max_replicates'`` with ``--precision``, else ``None``.
        notes: Human-readable remarks for the CLI to print.
    """

    folder: Path
    manifest: Manifest
    replicates: int
    failed: int
    seconds: float
    computed: int
    precision_status: str | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- planning


def plan_chunks(
    units: int | None, chunk_size: int, max_units: int | None = None
) -> Iterator[tuple[int, int, int]]:
    """Chunks as (index, start, stop); unbounded plans stop at ``max_units``.

    Units are replicates, or design points in a design run.
    """
    limit = units if units is not None else max_units
    assert limit is not None
    i = 0
    while i * chunk_size < limit:
        yield i, i * chunk_size, min((i + 1) * chunk_size, limit)
        i += 1


def scenario_hash(text: str) -> str:
    """SHA-256 of the canonical scenario JSON (identifies the resolved scenario)."""
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_scenario(tree: dict[str, Any]) -> tuple[Any, dict[str, Any], str]:
    """Validate a resolved tree; return the Scenario, its canonical tree and its JSON text.

    Raises:
        ScenarioError: the tree is not a valid scenario.
    """
    from sim.scenario.schema import validate_scenario

    scenario = validate_scenario(tree, source="<resolved scenario>")
    canon = scenario.model_dump(mode="json", by_alias=True)
    return scenario, canon, scenario_to_json(canon)


def canonical_scenario_checked(manifest: Manifest, folder: Path) -> tuple[Any, dict, str]:
    """:func:`canonical_scenario` for a manifest's scenario, checked against its record.

    Every reader of a run folder comes through here (``load_run``, resume, the analysis
    folders' design runs): the embedded scenario must be valid and hash to the manifest's
    ``scenario_sha256``, and the manifest's scenario name and title must be its own, so a
    scenario edited by hand is refused rather than shown beside outcomes it did not produce.

    Raises:
        RunFolderError: an invalid scenario, or one that does not match the manifest's record
            (one line naming the manifest).
    """
    from sim.scenario.schema import ScenarioError

    try:
        scenario, canon, text = canonical_scenario(manifest.spec.scenario)
    except ScenarioError as e:
        first = str(e).splitlines()[0] if str(e) else "invalid"
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: its scenario is invalid ({first[:200]})"
        ) from None
    except (RecursionError, TypeError, ValueError) as e:
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: its scenario is invalid ({type(e).__name__})"
        ) from None
    if manifest.scenario_sha256 != scenario_hash(text):
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: the scenario does not match its recorded "
            "hash (scenario_sha256); the folder was edited - rerun the scenario"
        )
    if (manifest.scenario_name, manifest.scenario_title) != (scenario.name, scenario.title):
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: scenario_name or scenario_title is not its "
            "scenario's; the folder was edited - rerun the scenario"
        )
    return scenario, canon, text


def check_spec(spec: RunSpec) -> None:
    """Raise :class:`UserError` for values no run can use (beyond what the type checks)."""
    check_int(spec.seed, "seed", 0, 2**63 - 1)
    if spec.chunk_size is not None:
        check_int(spec.chunk_size, "chunk size", 1)
    if spec.precision is None:
        if spec.replicates is None:
            raise UserError("replicates must be >= 1, got None")
        check_int(spec.replicates, "replicates", 1)
        if spec.max_replicates is not None:
            raise UserError("--max-replicates only applies with --precision")
    else:
        if spec.design is not None:
            raise UserError("--precision does not apply to a design run")
        if not (math.isfinite(spec.precision) and 0 < spec.precision < 0.5):
            raise UserError(f"precision must be between 0 and 0.5, got {spec.precision}")
        if spec.max_replicates is not None:
            check_int(spec.max_replicates, "max replicates", 1)


def _chunk_entry(index: int, start: int, stop: int) -> ChunkEntry:
    return ChunkEntry(index=index, start=start, stop=stop)


def new_manifest(spec: RunSpec, command: tuple[str, ...] | None) -> Manifest:
    """The manifest of a run that has not started any chunk yet (``spec.chunk_size`` set)."""
    scenario, canon, text = canonical_scenario(spec.scenario)
    spec = spec.model_copy(update={"scenario": canon})
    assert spec.chunk_size is not None
    precision = None
    if spec.precision is None:
        units = spec.design.points if spec.design is not None else spec.replicates
        chunks = tuple(_chunk_entry(*c) for c in plan_chunks(units, spec.chunk_size))
    else:
        chunks = ()  # added as they are scheduled; the stopping point is not known in advance
        precision = PrecisionState(
            target=spec.precision, max_replicates=spec.max_replicates or DEFAULT_MAX_REPLICATES
        )
    return Manifest(
        spec=spec,
        scenario_name=scenario.name,
        scenario_title=scenario.title,
        scenario_sha256=scenario_hash(text),
        replicates=spec.replicates,
        precision=precision,
        chunks=chunks,
        charts=Charts(status="pending" if spec.charts else "none"),
        versions=versions(),
        code_version=code_version(),
        created=utc_now(),
        command=command,
    )


# ----------------------------------------------------------------------------- work limits

PILOT_MIN_REPLICATES = 10_000
"""Runs of at least this many replicates are estimated by a pilot before they start."""

PILOT_REPLICATES = 400
"""Replicates the pilot runs (in this process, as 100 and then 400; its rows are not kept)."""

DEFAULT_MAX_SECONDS = 12 * 3600.0
"""Work limit on estimated wall time (``--yes`` overrides; env ``ESCALATION_MAX_SECONDS``)."""

DEFAULT_MAX_DISK_BYTES = 20 * 2**30
"""Work limit on estimated disk use (``--yes`` overrides; env ``ESCALATION_MAX_DISK_BYTES``);
never more than the free space where the folder goes."""

MAX_CHUNKS = 20_000
"""Most chunks a run folder holds (the manifest lists them all): a hard limit."""


class WorkLimitExceeded(UserError):
    """The pilot estimate exceeds the work limits; rerun with ``--yes`` to start anyway."""


@dataclass(frozen=True)
class WorkEstimate:
    """What a run is expected to cost, from a short pilot.

    Attributes:
        replicates: Replicates (rows) the run computes at most.
        workers: Workers assumed.
        seconds_per_replicate: Pilot wall time per replicate on one core.
        bytes_per_replicate: Disk bytes per replicate (chunk file and final table).
        seconds: Estimated wall time.
        disk_bytes: Estimated disk use.
        free_bytes: Free space on the disk the folder goes to (``None``: unknown).
    """

    replicates: int
    workers: int
    seconds_per_replicate: float
    bytes_per_replicate: float
    seconds: float
    disk_bytes: float
    free_bytes: int | None


def _limit(value: float | None, env: str, default: float) -> float:
    import os

    if value is not None:
        return float(value)
    text = os.environ.get(env)
    if text:
        try:
            return float(text)
        except ValueError:
            raise UserError(f"environment variable {env} must be a number, got {text!r}") from None
    return default


def _free_bytes(folder: Path) -> int | None:
    import shutil

    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def estimate_work(
    spec: RunSpec, folder: Path, options: ExecutionOptions, design: np.ndarray | None = None
) -> WorkEstimate:
    """Time and disk a run needs, from a pilot of :data:`PILOT_REPLICATES` replicates.

    The pilot runs the run's own replicate function on the run's first replicates (first
    design points), in this process; its rows are thrown away.
    """
    from sim.runner.executors import available_cores

    n = spec.replicates if spec.precision is None else spec.max_replicates
    n = int(n or DEFAULT_MAX_REPLICATES)
    _, _, text = canonical_scenario(spec.scenario)
    resolve_model(spec.model)  # imported before timing: the import is paid once per worker
    run_chunk(ChunkTask(0, 0, 1, spec.seed, text, False, spec.model))  # warm up
    if spec.design is not None and design is not None:
        k = spec.design.replicates_per_point
        pts = max(1, min(len(design), PILOT_REPLICATES // k))
        task = ChunkTask(
            0, 0, pts, spec.seed, text, False, spec.model,
            design_columns=spec.design.columns, design_values=design[:pts],
            replicates_per_point=k,
        )  # fmt: skip
        t0 = time.perf_counter()
        result = run_chunk(task)
        per_rep, per_chunk = (time.perf_counter() - t0) / max(1, task.size), 0.0
    else:
        # Two sizes separate the cost per replicate from the cost per chunk (a chunk steps
        # every day however few worlds it holds), which one small pilot would mix up.
        small = ChunkTask(0, 0, min(n, PILOT_REPLICATES // 4), spec.seed, text, False, spec.model)
        t0 = time.perf_counter()
        run_chunk(small)
        t_small = time.perf_counter() - t0
        task = ChunkTask(0, 0, min(n, PILOT_REPLICATES), spec.seed, text, False, spec.model)
        t0 = time.perf_counter()
        result = run_chunk(task)
        t_large = time.perf_counter() - t0
        extra = task.size - small.size
        per_rep = t_large / task.size
        if extra > 0:
            per_rep = max((t_large - t_small) / extra, 0.2 * per_rep)
        per_chunk = max(0.0, t_large - per_rep * task.size)
    out = result.outcomes
    half = max(1, len(out) // 2)
    full, part = len(parquet_bytes(out)), len(parquet_bytes(out.iloc[:half]))
    marginal = max(1.0, (full - part) / max(1, len(out) - half))
    workers = options.workers or available_cores()
    chunk = spec.chunk_size or default_chunk_size(n)
    chunks = -(-n // (chunk * (spec.design.replicates_per_point if spec.design else 1)))
    fixed = (
        result.occupancy.nbytes + result.alignment_occupancy.nbytes + (full - marginal * len(out))
    )
    disk = 2 * marginal * n + chunks * max(0.0, fixed)
    return WorkEstimate(
        replicates=n,
        workers=workers,
        seconds_per_replicate=per_rep,
        bytes_per_replicate=2 * marginal,
        seconds=(per_rep * n + per_chunk * chunks) / workers,
        disk_bytes=disk,
        free_bytes=_free_bytes(folder),
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 730 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365.25 * 86400):,.0f} years"


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} PB"


def check_work(
    spec: RunSpec, folder: Path, options: ExecutionOptions, design: np.ndarray | None = None
) -> WorkEstimate | None:
    """Refuse a run whose pilot estimate exceeds the work limits (unless ``options.yes``).

    Runs under :data:`PILOT_MIN_REPLICATES` replicates are not estimated (they take seconds).
    Then, and with ``--yes`` too, a plan of more than :data:`MAX_CHUNKS` chunks is refused.

    Raises:
        WorkLimitExceeded: the estimate is above the time or disk limit, or above the free
            space where the folder goes.
        UserError: too many chunks.
    """
    n = spec.replicates if spec.precision is None else spec.max_replicates
    n = int(n or DEFAULT_MAX_REPLICATES)
    estimate = None
    if n >= PILOT_MIN_REPLICATES and not options.yes:
        max_s = _limit(options.max_seconds, "ESCALATION_MAX_SECONDS", DEFAULT_MAX_SECONDS)
        max_b = _limit(options.max_disk_bytes, "ESCALATION_MAX_DISK_BYTES", DEFAULT_MAX_DISK_BYTES)
        estimate = estimate_work(spec, folder, options, design)
        free = estimate.free_bytes
        over = []
        if estimate.seconds > max_s:
            over.append(f"the time limit of {_duration(max_s)}")
        if estimate.disk_bytes > max_b:
            over.append(f"the disk limit of {_size(max_b)}")
        if free is not None and estimate.disk_bytes > free:
            over.append(f"the {_size(free)} free where {folder} goes")
        if over:
            raise WorkLimitExceeded(
                f"{n:,} replicates would take about {_duration(estimate.seconds)} on "
                f"{estimate.workers} worker(s) and write about {_size(estimate.disk_bytes)} "
                f"(from a pilot of {PILOT_REPLICATES} replicates), beyond {' and '.join(over)}; "
                "ask for fewer replicates, or add --yes to start anyway"
            )
    per_unit = spec.design.replicates_per_point if spec.design is not None else 1
    chunk = spec.chunk_size or default_chunk_size(n)
    chunks = -(-n // (chunk * per_unit))
    if chunks > MAX_CHUNKS:
        raise UserError(
            f"{n:,} replicates in chunks of {chunk:,} would make {chunks:,} chunks; a run folder "
            f"holds at most {MAX_CHUNKS:,}: give a larger --chunk-size or fewer replicates"
        )
    return estimate


# ----------------------------------------------------------------------------- entry points


def _check_folder(folder: Path) -> None:
    try:
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder}: exists and is not a folder; choose another -o")
        if is_nonempty_dir(folder):
            hint = " (to finish it: --resume)" if (folder / MANIFEST).exists() else ""
            raise UserError(f"{folder}: folder exists and is not empty; choose another -o{hint}")
    except OSError as e:
        raise StorageError(folder, e, "use the folder") from None


def _prepare_folder(folder: Path) -> None:
    _check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(folder, e, "create the folder") from None


def start_run(spec: RunSpec, folder: Path, options: ExecutionOptions | None = None) -> RunReport:
    """Create ``folder`` and run ``spec`` into it.

    Args:
        spec: What to run (``chunk_size`` ``None``: ``options.chunk_size`` or the default).
        folder: The run folder; must not exist or be empty.
        options: How to execute (workers, scheduler, progress, fail_fast, ...).

    Raises:
        UserError: bad options, an occupied or unwritable folder, or an invalid scenario.
        ReplicateFailed: with ``fail_fast``, when a replicate raises.
        TooManyFailed: every replicate (or more than ``max_failed``) failed.
    """
    options = options or ExecutionOptions()
    if spec.design is not None:
        raise UserError("a spec with a design runs through start_design_run")
    chunk = (
        spec.chunk_size
        or options.chunk_size
        or default_chunk_size(None if spec.precision is not None else spec.replicates)
    )
    spec = spec.model_copy(update={"chunk_size": chunk})
    check_spec(spec)
    if spec.model != DEFAULT_MODEL:
        try:
            resolve_model(spec.model)
        except ValueError as e:
            raise UserError(str(e)) from None
    check_work(spec, Path(folder), options)
    manifest = new_manifest(spec, options.command)
    return _start(Path(folder), manifest, options)


def _start(
    folder: Path, manifest: Manifest, options: ExecutionOptions, design: bytes | None = None
) -> RunReport:
    """Check the folder, reach the executor, then create the folder and run into it.

    The executor is opened before anything is written, so an unreachable scheduler leaves no
    folder behind.
    """
    _check_folder(folder)
    spec = manifest.spec
    bounded = manifest.precision is None
    with open_executor(
        options, len(manifest.chunks) if bounded else None, spec.replicates if bounded else None
    ) as executor:
        options = options.replace(executor=executor, scheduler=None, dask_local=None, workers=None)
        _prepare_folder(folder)
        with folder_lock(folder):
            if design is not None:
                write_bytes(folder / DESIGN, design)
            write_manifest(folder, manifest)
            return _execute(folder, manifest, options)


def start_design_run(
    spec: RunSpec, design: Design, folder: Path, options: ExecutionOptions | None = None
) -> RunReport:
    """Create ``folder`` and run every point of ``design``, K replicates each, into it.

    Every point runs replicate ids ``0 .. K-1`` with ``spec.seed`` (common random numbers):
    uncertain parameters not in the design are drawn the same at every point, so two points
    differ only by the design's values. The outcomes table has one row per (point,
    replicate), in that order, with a ``point`` column and a ``param.<path>`` column per
    design column. Chunked by points (``options.chunk_size`` points per chunk, default about
    :func:`default_chunk_size` rows), resumable and on any executor like any run. The design
    itself is stored as ``design.parquet`` and checked against its checksum on resume.

    Args:
        spec: What to run (``replicates`` and ``design`` are filled in from ``design``).
        design: The parameter design.
        folder: The run folder; must not exist or be empty.
        options: How to execute.

    Raises:
        UserError: a bad design or options, an occupied or unwritable folder.
    """
    options = options or ExecutionOptions()
    if spec.precision is not None:
        raise UserError("--precision does not apply to a design run")
    scenario, canon, _ = canonical_scenario(spec.scenario)
    columns, values = check_design(design, scenario)
    k = design.replicates_per_point
    points = values.shape[0]
    table = pd.DataFrame({c: values[:, j] for j, c in enumerate(columns)})
    data = parquet_bytes(table)
    info = DesignInfo(
        columns=columns,
        points=points,
        replicates_per_point=k,
        file=file_record(DESIGN, data, points),
    )
    chunk = spec.chunk_size or options.chunk_size or default_points_per_chunk(points, k)
    spec = spec.model_copy(
        update={"scenario": canon, "replicates": points * k, "design": info, "chunk_size": chunk}
    )
    check_spec(spec)
    check_work(spec, Path(folder), options, values)
    manifest = new_manifest(spec, options.command)
    return _start(Path(folder), manifest, options, design=data)


def resume_run(
    folder: Path, options: ExecutionOptions | None = None, model: str | None = None
) -> RunReport:
    """Make a run folder whole: compute missing chunks, rebuild missing or damaged tables.

    The scenario, seed, chunk size and precision settings all come from the manifest, which
    is read as data: nothing named in it is imported. A run made with a replicate function
    other than the project's model resumes only when the caller names that function again
    (``model``, ``--model`` on the command line).

    Raises:
        RunFolderError: not a run folder, a damaged one, or a model not named again.
        FolderLocked: another process is writing the folder.
    """
    options = options or ExecutionOptions()
    folder = Path(folder)
    if options.chunk_size is not None:
        raise UserError("--resume keeps the run's chunk size; drop --chunk-size")
    manifest = read_manifest(folder)
    recorded = manifest.spec.model
    if model is not None and model != recorded:
        raise RunFolderError(
            f"{folder}: the run used replicate function {recorded!r}, not {model!r}"
        )
    if recorded != DEFAULT_MODEL and model is None:
        raise RunFolderError(
            f"{folder}: the run used replicate function {recorded!r}; a results folder never "
            f"chooses code to run - name it on the command line to resume: --model {recorded}"
        )
    canonical_scenario_checked(manifest, folder)
    if recorded != DEFAULT_MODEL:
        try:
            resolve_model(recorded)
        except ValueError as e:
            raise UserError(str(e)) from None
    with folder_lock(folder):
        manifest = read_manifest(folder)  # as it is now that no one else writes it
        resumption = Resumption(
            at=utc_now(),
            command=options.command,
            code_version=code_version(),
            versions=versions(),
        )
        notes = []
        if resumption.code_version != manifest.code_version:
            notes.append(
                f"note: resuming with code {resumption.code_version}, the run "
                f"started with {manifest.code_version}; results may mix the two"
            )
        manifest = manifest.model_copy(update={"resumed": (*manifest.resumed, resumption)})
        report = _execute(folder, manifest, options)
    report.notes[:0] = notes
    return report


# ----------------------------------------------------------------------------- verification


def _chunk_ok(folder: Path, entry: ChunkEntry) -> bool:
    """A done chunk whose three files are there and match their records."""
    if entry.status != "done" or len(entry.files) != 3:
        return False
    try:
        for rec in entry.files:
            verify_file(folder, rec)
    except RunFolderError:
        return False
    return True


def _outputs_ok(folder: Path, manifest: Manifest) -> list[str]:
    """Final tables that are missing or damaged (empty when all match their records)."""
    bad = []
    for rec in manifest.outputs:
        try:
            verify_file(folder, rec)
        except RunFolderError:
            bad.append(rec.path)
    return bad


def read_design(folder: Path, info: DesignInfo) -> np.ndarray:
    """The design values of a design run, verified against the manifest (points, columns)."""
    from sim.runner.store import read_table

    table = read_table(folder, info.file)
    if tuple(table.columns) != info.columns:
        raise RunFolderError(f"{folder / DESIGN}: columns differ from the manifest's design")
    return table.to_numpy(dtype=np.float64)


# ----------------------------------------------------------------------------- execution


def _execute(folder: Path, manifest: Manifest, options: ExecutionOptions) -> RunReport:
    try:
        return _execute_inner(folder, manifest, options)
    except StorageError as e:
        if e.out_of_space and not isinstance(e, OutOfSpace):
            raise OutOfSpace(e, folder) from None
        raise


def _execute_inner(folder: Path, manifest: Manifest, options: ExecutionOptions) -> RunReport:
    t0 = time.perf_counter()
    spec = manifest.spec
    scenario, _, text = canonical_scenario_checked(manifest, folder)
    assert spec.chunk_size is not None
    design_values = read_design(folder, spec.design) if spec.design is not None else None
    precision = manifest.precision
    if spec.design is not None:
        units: int | None = spec.design.points
        per_unit = spec.design.replicates_per_point
    else:
        units, per_unit = (None if precision else spec.replicates), 1
    max_units = precision.max_replicates if precision else None
    plan = list(plan_chunks(units, spec.chunk_size, max_units))
    _check_plan(manifest, plan, folder)

    notes: list[str] = []
    if manifest.tables_complete:
        bad = _outputs_ok(folder, manifest)
        if not bad:
            failed_n, total_n = int(manifest.failed_replicates or 0), int(manifest.replicates or 0)
            _check_failures(folder, manifest, options, failed_n, total_n)
            return RunReport(
                folder,
                manifest,
                int(manifest.replicates or 0),
                int(manifest.failed_replicates or 0),
                0.0,
                0,
                precision.status if precision else None,
                ["the run was already complete"],
            )
        notes.append(f"rebuilt {', '.join(bad)} from the chunk files")

    _remove_partial_writes(folder)
    done: set[int] = set()
    for c in manifest.chunks:
        if _chunk_ok(folder, c):
            done.add(c.index)
        elif c.status == "done":
            # Its files went missing or were damaged: compute it again.
            manifest = manifest.with_chunk(c.model_copy(update={"status": "pending", "files": ()}))
            notes.append(f"chunk {c.index}: files missing or damaged, computed again")
    manifest = manifest.model_copy(update={"status": "running", "failure": None})

    tracker = PrecisionTracker(precision.target) if precision else None
    stop_index: int | None = None  # precision mode: last chunk of the accepted prefix
    pending_outcomes: dict[int, pd.DataFrame] = {}
    next_check = 0

    def check_prefix() -> None:
        # Judge prefixes strictly in chunk order, so that the stopping point does not depend
        # on which chunk happened to finish first.
        nonlocal next_check, stop_index
        assert tracker is not None
        while stop_index is None and next_check < len(plan):
            i = next_check
            if i in pending_outcomes:
                chunk_out = pending_outcomes.pop(i)
            elif i in done:
                chunk_out = read_chunk(folder, manifest.chunks[i])[0]
            else:
                return
            tracker.add(chunk_out)
            next_check += 1
            if tracker.screen():
                summary = summarize_ok(_merged_prefix(folder, manifest, i))
                if max_half_width(summary) <= tracker.target:
                    stop_index = i

    if tracker is not None:
        check_prefix()

    def tasks() -> Iterator[ChunkTask]:
        nonlocal manifest
        for index, start, stop in plan:
            if stop_index is not None:
                return
            if index in done:
                continue
            if index >= len(manifest.chunks):
                manifest = manifest.with_chunk(_chunk_entry(index, start, stop))
            if design_values is not None and spec.design is not None:
                yield ChunkTask(
                    index,
                    start,
                    stop,
                    spec.seed,
                    text,
                    options.fail_fast,
                    spec.model,
                    design_columns=spec.design.columns,
                    design_values=design_values[start:stop],
                    replicates_per_point=per_unit,
                )
            else:
                yield ChunkTask(index, start, stop, spec.seed, text, options.fail_fast, spec.model)

    total = None if precision else spec.replicates  # unknown in advance with --precision
    already = sum((plan[i][2] - plan[i][1]) * per_unit for i in done)
    computed = 0
    n_chunks_todo = len(plan) - len(done) if not precision else None
    reps_todo = (total - already) if total is not None else None
    bar = _progress_bar(options.progress, total, already)
    try:
        with open_executor(options, n_chunks_todo, reps_todo) as executor:
            manifest = manifest.model_copy(
                update={
                    "execution": Execution(
                        executor=str(getattr(executor, "name", type(executor).__name__)),
                        workers=getattr(executor, "workers", None),
                    )
                }
            )
            if stop_index is None and (precision or len(done) < len(plan)):
                with _closing(executor.run(run_chunk, tasks())) as results:
                    for task, result in results:
                        manifest, failures = _store_chunk(folder, manifest, task, result, options)
                        computed += task.size
                        bar.update(task.size)
                        if failures:
                            bar.write(failures)
                        done.add(task.index)
                        if tracker is not None:
                            pending_outcomes[task.index] = result.outcomes
                            check_prefix()
                            if stop_index is not None:
                                break
    except KeyboardInterrupt:
        _write_status(folder, manifest, "interrupted")
        raise
    except BrokenExecutor as e:
        _write_status(folder, manifest, "interrupted")
        raise WorkerCrashed(folder, e) from None
    except StorageError:
        _write_status(folder, manifest, "interrupted")
        raise
    finally:
        bar.close()

    precision_status = None
    if tracker is not None:
        if stop_index is None:
            stop_index = len(plan) - 1
            precision_status = "max_replicates"
        else:
            precision_status = "met"
        manifest = _drop_chunks_after(folder, manifest, stop_index)
        manifest = manifest.model_copy(update={"replicates": plan[stop_index][2]})
    missing = [c.index for c in manifest.chunks if c.index not in done]
    if missing:  # an executor that returned without running everything: a bug, not user error
        raise RuntimeError(f"chunks never ran: {missing[:10]}")

    try:
        manifest, summary = _finalize(folder, manifest, scenario)
    except KeyboardInterrupt:
        _write_status(folder, manifest, "interrupted")
        raise
    if precision is not None:
        worst = max_half_width(summary)
        n = manifest.replicates or 0
        manifest = manifest.model_copy(
            update={
                "precision": precision.model_copy(
                    update={
                        "status": precision_status,
                        "max_half_width": None if math.isinf(worst) else worst,
                    }
                )
            }
        )
        if precision_status == "met":
            notes.append(
                f"precision target met: every headline half-width <= {precision.target:g} "
                f"(widest {worst:.4f}) at {n:,} replicates"
            )
        else:
            notes.append(
                f"max replicates reached ({n:,}) before the precision target "
                f"{precision.target:g}: widest headline half-width is {worst:.4f}"
            )
    seconds = time.perf_counter() - t0
    manifest = manifest.model_copy(
        update={
            "timing": Timing(
                seconds=round(seconds, 3),
                replicates_computed=computed,
                replicates_per_second=round(computed / seconds, 1) if seconds > 0 else None,
            ),
            "completed": utc_now(),
            "status": "complete",
        }
    )
    write_manifest(folder, manifest)
    failed = int(manifest.failed_replicates or 0)
    n_total = int(manifest.replicates or 0)
    if failed:
        notes.append(f"{failed:,} replicates failed (see the 'error' column of {OUTCOMES})")
    _check_failures(folder, manifest, options, failed, n_total)
    return RunReport(folder, manifest, n_total, failed, seconds, computed, precision_status, notes)


@contextlib.contextmanager
def _closing[T](it: Iterator[T]) -> Iterator[Iterator[T]]:
    """Close a generator when the block ends (cancelling an executor's outstanding work)."""
    try:
        yield it
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def _check_failures(
    folder: Path, manifest: Manifest, options: ExecutionOptions, failed: int, total: int
) -> None:
    """Raise :class:`TooManyFailed` when every replicate, or more than allowed, failed."""
    if failed == 0:
        return
    limit = options.max_failed
    if limit is None:
        too_many, what = failed >= total, "every replicate failed"
    elif isinstance(limit, float):
        too_many, what = failed > limit * total, f"more than --max-failed {limit:g} of them"
    else:
        too_many, what = failed > limit, f"more than --max-failed {limit:,}"
    if not too_many:
        return
    from sim.runner.store import read_outcomes

    out = read_outcomes(folder, manifest)
    bad = out[out[ERROR_COLUMN].fillna("") != ""]
    first = f"replicate {int(bad['replicate'].iloc[0])}: {bad[ERROR_COLUMN].iloc[0]}"
    raise TooManyFailed(folder, failed, total, first[:300], what)


def _write_status(folder: Path, manifest: Manifest, status: str) -> None:
    """Record how the run stopped, if the disk still lets us (a resume works either way)."""
    with contextlib.suppress(StorageError):
        write_manifest(folder, manifest.model_copy(update={"status": status}))


def _check_plan(manifest: Manifest, plan: list[tuple[int, int, int]], folder: Path) -> None:
    for c in manifest.chunks:
        i = c.index
        if i >= len(plan) or (c.start, c.stop) != plan[i][1:]:
            raise RunFolderError(
                f"{folder / MANIFEST}: corrupt manifest: chunk {i} does not match the plan "
                f"for {manifest.spec.replicates} replicates in chunks of {manifest.spec.chunk_size}"
            )


def _store_chunk(
    folder: Path,
    manifest: Manifest,
    task: ChunkTask,
    result: ChunkResult,
    options: ExecutionOptions,
) -> tuple[Manifest, str]:
    if result.failures and options.fail_fast:
        first = result.failures[0]
        failed = manifest.model_copy(
            update={
                "status": "failed",
                "failure": FailureRecord(
                    replicate=first.replicate,
                    error=first.error,
                    traceback=first.traceback,
                    point=first.point,
                ),
            }
        )
        write_manifest(folder, failed)
        where = f" at design point {first.point}" if first.point is not None else ""
        raise ReplicateFailed(first.replicate, first.error + where, folder)
    files = ChunkFiles.for_index(task.index)
    # Occupancy first, outcomes last, manifest after all three: a chunk counts as done only
    # when the manifest says so and its files match their records, so a kill between writes
    # loses nothing.
    records: list[FileRecord] = [
        write_npy(folder / files.occupancy, result.occupancy, files.occupancy),
        write_npy(folder / files.alignment, result.alignment_occupancy, files.alignment),
        write_parquet(folder / files.outcomes, result.outcomes, files.outcomes),
    ]
    records = [records[2], records[0], records[1]]  # outcomes, occupancy, alignment
    entry = manifest.chunks[task.index].model_copy(
        update={"status": "done", "failed": len(result.failures), "files": tuple(records)}
    )
    manifest = manifest.with_chunk(entry)
    write_manifest(folder, manifest)
    if result.failures:
        f = result.failures[0]
        return manifest, (
            f"chunk {task.index}: {len(result.failures)} replicate(s) failed "
            f"(first: replicate {f.replicate}: {f.error})"
        )
    return manifest, ""


def _drop_chunks_after(folder: Path, manifest: Manifest, last: int) -> Manifest:
    # Chunks computed ahead of the stopping point are not part of the result; remove them so
    # that the folder is the same as a run that never computed them.
    rf = ResultsFolder(folder)
    for c in manifest.chunks[last + 1 :]:
        for f in ChunkFiles.for_index(c.index).as_dict().values():
            rf.unlink(f)
    for name in rf.listdir(CHUNKS):
        if name.startswith(("chunk-", "occupancy-", "alignment-")):
            try:
                idx = int(name.split("-")[1].split(".")[0])
            except ValueError:
                continue
            if idx > last:
                rf.unlink(f"{CHUNKS}/{name}")
    return manifest.model_copy(update={"chunks": manifest.chunks[: last + 1]})


def _remove_partial_writes(folder: Path) -> None:
    # A run killed in the middle of an atomic write leaves its temporary file behind; it is
    # not part of any result, and the finished folder must hold the same files as a run that
    # was never interrupted. Only the folder's own sub-folders are looked into (a linked one
    # is refused by ResultsFolder, never followed), and only the file itself is removed.
    rf = ResultsFolder(folder)
    for sub in ("", *(n for n in rf.listdir() if rf.kind(n) == "folder")):
        for name in rf.listdir(sub):
            rel = f"{sub}/{name}" if sub else name
            if TEMPORARY.match(name) and rf.kind(rel) in ("file", "link"):
                rf.unlink(rel)


def _merged_prefix(folder: Path, manifest: Manifest, last: int) -> pd.DataFrame:
    frames = [read_chunk(folder, manifest.chunks[i])[0] for i in range(last + 1)]
    return merge_chunk_outcomes(frames)


def _finalize(folder: Path, manifest: Manifest, scenario: Any) -> tuple[Manifest, pd.DataFrame]:
    """Build the final tables from the (verified) chunk files; returns the summary too.

    (Keeping this session's chunk tables in memory instead of reading them back saved about
    2.2 s at 1M replicates but raised the writing process's peak memory by 0.5 GB - 2.21 to
    2.71 GB, measured - which broke the 1M / 100k memory bound; so the files are read.)
    """
    from sim.runner.chunks import occupancy_shapes

    frames = []
    occ_shape, align_shape = occupancy_shapes(scenario)
    occupancy = np.zeros(occ_shape, dtype=np.int64)
    alignment = np.zeros(align_shape, dtype=np.int64)
    for entry in manifest.chunks:
        out, occ, align = read_chunk(folder, entry)
        if occ.shape != occ_shape or align.shape != align_shape:
            raise RunFolderError(f"{folder}: chunk {entry.index} has occupancy of the wrong shape")
        frames.append(out)
        occupancy += occ
        alignment += align
    design = manifest.spec.design
    outcomes = merge_chunk_outcomes(frames, design=design is not None)
    del frames  # the merged table replaces them: hold one copy of a million rows, not two
    last = manifest.chunks[-1].stop
    ids = outcomes["replicate"].to_numpy(dtype=np.int64)
    if design is None:
        n = last
        if len(ids) != n or not np.array_equal(ids, np.arange(n, dtype=np.int64)):
            raise RunFolderError(f"{folder}: chunk files do not hold replicates 0..{n - 1} exactly")
    else:
        k = design.replicates_per_point
        n = last * k
        points = outcomes["point"].to_numpy(dtype=np.int64)
        if (
            len(ids) != n
            or not np.array_equal(ids, np.tile(np.arange(k, dtype=np.int64), last))
            or not np.array_equal(points, np.repeat(np.arange(last, dtype=np.int64), k))
        ):
            raise RunFolderError(
                f"{folder}: chunk files do not hold points 0..{last - 1} x replicates 0..{k - 1}"
            )
    rungs = [r.name for r in scenario.ladder]
    levels = list(scenario.alignment_track)
    # The workers are done and a core is free: encode and write the big table in a thread
    # (pyarrow, zstd and the file writes release the GIL) while the summary is computed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        big = pool.submit(write_parquet, folder / OUTCOMES, outcomes, OUTCOMES)
        summary = summarize_ok(outcomes)
        rest = [
            write_parquet(
                folder / LADDER_OCCUPANCY,
                occupancy_long(occupancy, list(scenario.actors), rungs),
                LADDER_OCCUPANCY,
            ),
            write_parquet(
                folder / ALIGNMENT_OCCUPANCY,
                alignment_long(alignment, levels),
                ALIGNMENT_OCCUPANCY,
            ),
            write_csv(folder / SUMMARY, summary, SUMMARY),
        ]
        written = [big.result(), *rest]
    bad = failed_ids(outcomes)
    manifest = manifest.model_copy(
        update={
            "replicates": n,
            "failed_replicates": len(bad),
            "failed_ids": tuple(bad[:MAX_FAILED_IDS_LISTED]),
            "outputs": tuple(written),
        }
    )
    return manifest, summary


# ----------------------------------------------------------------------------- progress


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def write(self, text: str) -> None:
        print(text, file=sys.stderr)

    def close(self) -> None:
        pass


def _progress_bar(enabled: bool, total: int | None, initial: int) -> Any:
    if not enabled:
        return _NoBar()
    import os

    from tqdm import tqdm

    try:
        width, height = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        width, height = 0, 0
    # A terminal that reports no size (a fresh pty, some CI consoles) would get a bar 0
    # characters wide on 0 rows, that is none at all: fall back to a fixed size there.
    return tqdm(
        nrows=None if height > 0 else 20,
        total=total or None,
        initial=initial,
        unit="rep",
        unit_scale=True,
        file=sys.stderr,
        dynamic_ncols=width > 0,
        ncols=None if width > 0 else 100,
        mininterval=0.5,
        smoothing=0.1,
        desc="replicates",
    )
