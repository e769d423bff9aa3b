"""Running a Monte Carlo experiment into a results folder: plan, execute, store, resume.

:func:`start_run` creates a run folder for a :class:`RunSpec` and executes it; :func:`resume_run`
finishes a folder left by an interrupted run. Both go through :func:`_execute`:

1. plan the chunks: chunk ``i`` holds replicates ``[i * chunk_size, (i + 1) * chunk_size)``
   (with ``--precision``, chunks keep being added up to ``max_replicates``);
2. hand the chunks that are not yet on disk to an :class:`~sim.runner.executors.Executor`;
3. as each chunk finishes, write its files atomically and mark it done in the manifest;
4. when every chunk is done (or the precision target is met), build the final files from the
   chunk files on disk (see :mod:`sim.runner.store` for why that makes them reproducible).

A replicate that raises is recorded with its error (see :mod:`sim.runner.chunks`); with
``fail_fast`` the run stops at the first such replicate with :class:`ReplicateFailed`.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.runner.chunks import (
    DEFAULT_MODEL,
    ChunkResult,
    ChunkTask,
    resolve_model,
    run_chunk,
    scenario_to_json,
)
from sim.runner.executors import Executor, make_executor
from sim.runner.precision import PrecisionTracker, max_half_width
from sim.runner.results import (
    chart_figures,
    failed_ids,
    merge_chunk_outcomes,
    ok_rows,
    read_chunk,
    save_charts,
    summarize_ok,
)
from sim.runner.store import (
    ALIGNMENT_OCCUPANCY,
    CHARTS,
    FORMAT,
    LADDER_OCCUPANCY,
    MANIFEST,
    OUTCOMES,
    SUMMARY,
    ChunkFiles,
    RunFolderError,
    alignment_long,
    code_version,
    is_nonempty_dir,
    occupancy_long,
    read_manifest,
    utc_now,
    versions,
    write_csv,
    write_json,
    write_npy,
    write_parquet,
)

DEFAULT_SEED = 20240708
"""Seed used when none is given (the first day of the July 2024 drills), so runs reproduce."""

DEFAULT_CHUNK_SIZE = 5_000


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


"""Replicates per chunk: big enough to amortise per-chunk overhead, small enough to resume."""

DEFAULT_MAX_REPLICATES = 1_000_000
"""Ceiling on replicates for ``--precision`` runs."""

MAX_FAILED_IDS_LISTED = 1_000
"""The manifest lists at most this many failed replicate ids (the outcomes table has all)."""


class ReplicateFailed(UserError):
    """A replicate raised and the run was asked to stop at the first failure (exit status 1)."""

    exit_code = 1

    def __init__(self, replicate: int, error: str, folder: Path | None = None):
        self.replicate = replicate
        self.error = error
        self.folder = folder
        super().__init__(f"replicate {replicate} failed: {error}")


class WorkerCrashed(UserError):
    """A worker process died abruptly (killed, out of memory); the folder can be resumed."""

    exit_code = 1

    def __init__(self, folder: Path, cause: BaseException):
        detail = " ".join(str(cause).split())
        super().__init__(
            f"a worker process died abruptly ({detail}); chunks already done are kept - "
            f"finish the run with: escalation run --resume {folder}"
        )


@dataclass(frozen=True)
class RunSpec:
    """What to run: a resolved scenario, a seed, how many replicates and how to chunk them.

    Attributes:
        scenario: The resolved scenario tree (``Scenario.model_dump(mode="json",
            by_alias=True)``), the only scenario form that goes to workers or into the manifest.
        seed: Run seed (>= 0).
        replicates: Number of replicates (ids 0 .. replicates-1); ``None`` with ``precision``.
        chunk_size: Replicates per chunk.
        precision: Target half-width of every headline probability's interval, or ``None``.
        max_replicates: With ``precision``: stop adding chunks at this many replicates.
        charts: Draw the standard charts into ``charts/`` when the run completes.
        source: Where the scenario came from (file path), for the record.
        overrides: The ``--set`` overrides applied, for the record.
        model: The replicate function as ``module:function`` (default: the project's model).
    """

    scenario: dict[str, Any]
    seed: int
    replicates: int | None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    precision: float | None = None
    max_replicates: int | None = None
    charts: bool = True
    source: str | None = None
    overrides: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL

    def check(self) -> None:
        """Raise :class:`UserError` for values no run can use."""
        try:
            resolve_model(self.model)
        except ValueError as e:
            raise UserError(str(e)) from None
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UserError(f"seed must be a whole number >= 0, got {self.seed!r}")
        if self.seed >= 2**63:
            raise UserError(f"seed must be below 2**63, got {self.seed}")
        if self.chunk_size < 1:
            raise UserError(f"chunk size must be >= 1, got {self.chunk_size}")
        if self.precision is None:
            if self.replicates is None or self.replicates < 1:
                raise UserError(f"replicates must be >= 1, got {self.replicates}")
            if self.max_replicates is not None:
                raise UserError("--max-replicates only applies with --precision")
        else:
            if not 0 < self.precision < 0.5:
                raise UserError(f"precision must be between 0 and 0.5, got {self.precision}")
            if self.max_replicates is not None and self.max_replicates < 1:
                raise UserError(f"max replicates must be >= 1, got {self.max_replicates}")


@dataclass
class RunReport:
    """What a finished (or already complete) run produced.

    Attributes:
        folder: The run folder.
        manifest: The final manifest.
        replicates: Replicates in the results.
        failed: How many of them failed.
        seconds: Wall time of this execution.
        computed: Replicates computed by this execution (fewer than ``replicates`` on resume).
        precision_status: ``'met'`` or ``'max_replicates'`` with ``--precision``, else ``None``.
        notes: Human-readable remarks for the CLI to print.
    """

    folder: Path
    manifest: dict[str, Any]
    replicates: int
    failed: int
    seconds: float
    computed: int
    precision_status: str | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- planning


def plan_chunks(
    replicates: int | None, chunk_size: int, max_replicates: int | None = None
) -> Iterator[tuple[int, int, int]]:
    """Chunks as (index, start, stop); unbounded plans stop at ``max_replicates``."""
    limit = replicates if replicates is not None else max_replicates
    assert limit is not None
    i = 0
    while i * chunk_size < limit:
        yield i, i * chunk_size, min((i + 1) * chunk_size, limit)
        i += 1


def _chunk_entry(index: int, start: int, stop: int) -> dict[str, Any]:
    return {
        "index": index,
        "start": start,
        "stop": stop,
        "status": "pending",
        "failed": None,
        "files": ChunkFiles.for_index(index).as_dict(),
    }


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


def new_manifest(spec: RunSpec, command: Sequence[str] | None) -> dict[str, Any]:
    """The manifest of a run that has not started any chunk yet."""
    scenario, canon, text = canonical_scenario(spec.scenario)
    if spec.precision is None:
        chunks = [_chunk_entry(*c) for c in plan_chunks(spec.replicates, spec.chunk_size)]
        max_reps = None
    else:
        chunks = []  # added as they are scheduled; the stopping point is not known in advance
        max_reps = spec.max_replicates or DEFAULT_MAX_REPLICATES
    return {
        "format": FORMAT,
        "status": "running",
        "scenario_name": scenario.name,
        "scenario_title": scenario.title,
        "scenario_source": spec.source,
        "overrides": list(spec.overrides),
        "scenario_sha256": scenario_hash(text),
        "seed": spec.seed,
        "replicates": spec.replicates,
        "replicate_ids": "0 .. replicates-1",
        "chunk_size": spec.chunk_size,
        "precision": None
        if spec.precision is None
        else {"target": spec.precision, "max_replicates": max_reps, "status": None},
        "charts": spec.charts,
        "charts_error": None,
        "model": spec.model,
        "failed_replicates": None,
        "failed_ids": [],
        "failure": None,
        "outputs": {},
        "chunks": chunks,
        "versions": versions(),
        "code_version": code_version(),
        "created": utc_now(),
        "completed": None,
        "command": list(command) if command is not None else None,
        "execution": None,
        "timing": None,
        "resumed": [],
        "scenario": canon,
    }


# ----------------------------------------------------------------------------- entry points


def start_run(
    spec: RunSpec,
    folder: Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = False,
    fail_fast: bool = False,
    command: Sequence[str] | None = None,
) -> RunReport:
    """Create ``folder`` and run ``spec`` into it.

    Args:
        spec: What to run.
        folder: The run folder; must not exist or be empty.
        executor: Where chunks run; default: a local executor for ``workers``.
        workers: Worker processes for the default executor (``None``: all cores).
        progress: Show a progress bar on stderr.
        fail_fast: Stop at the first failing replicate with :class:`ReplicateFailed`.
        command: The command line, for the manifest.

    Raises:
        UserError: bad options, an occupied folder, or an invalid scenario.
        ReplicateFailed: with ``fail_fast``, when a replicate raises.
    """
    spec.check()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder")
    if is_nonempty_dir(folder):
        hint = " (to finish it: --resume)" if (folder / MANIFEST).exists() else ""
        raise UserError(f"{folder}: folder exists and is not empty; choose another -o{hint}")
    manifest = new_manifest(spec, command)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / MANIFEST, manifest)
    return _execute(
        folder,
        manifest,
        executor=executor,
        workers=workers,
        progress=progress,
        fail_fast=fail_fast,
    )


def resume_run(
    folder: Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = False,
    fail_fast: bool = False,
    command: Sequence[str] | None = None,
) -> RunReport:
    """Finish a run folder left by an interrupted run (only missing chunks are computed).

    The scenario, seed, chunk size and precision settings all come from the manifest.

    Raises:
        RunFolderError: not a run folder, or its manifest is damaged.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    _, _, text = canonical_scenario_checked(manifest, folder)
    if manifest.get("scenario_sha256") != scenario_hash(text):
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: the scenario does not match its recorded hash"
        )
    manifest["resumed"] = [
        *manifest.get("resumed", []),
        {
            "at": utc_now(),
            "command": list(command) if command else None,
            "code_version": code_version(),
            "versions": versions(),
        },
    ]
    notes = []
    if manifest["resumed"][-1]["code_version"] != manifest.get("code_version"):
        notes.append(
            f"note: resuming with code {manifest['resumed'][-1]['code_version']}, the run "
            f"started with {manifest.get('code_version')}; results may mix the two"
        )
    report = _execute(
        folder,
        manifest,
        executor=executor,
        workers=workers,
        progress=progress,
        fail_fast=fail_fast,
    )
    report.notes[:0] = notes
    return report


def canonical_scenario_checked(manifest: dict[str, Any], folder: Path) -> tuple[Any, dict, str]:
    """:func:`canonical_scenario` for a manifest's scenario, as a folder error when invalid."""
    from sim.scenario.schema import ScenarioError

    try:
        return canonical_scenario(manifest["scenario"])
    except ScenarioError as e:
        first = str(e).splitlines()[0] if str(e) else "invalid"
        raise RunFolderError(
            f"{folder / MANIFEST}: corrupt manifest: its scenario is invalid ({first})"
        ) from None


# ----------------------------------------------------------------------------- execution


def _execute(
    folder: Path,
    manifest: dict[str, Any],
    *,
    executor: Executor | None,
    workers: int | None,
    progress: bool,
    fail_fast: bool,
) -> RunReport:
    t0 = time.perf_counter()
    scenario, _, text = canonical_scenario(manifest["scenario"])
    seed = int(manifest["seed"])
    chunk_size = int(manifest["chunk_size"])
    precision = manifest.get("precision")
    replicates = manifest.get("replicates")
    model = manifest.get("model") or DEFAULT_MODEL
    try:
        resolve_model(model)
    except ValueError as e:
        raise RunFolderError(f"{folder / MANIFEST}: {e}") from None
    max_reps = precision["max_replicates"] if precision else None
    plan = list(plan_chunks(None if precision else replicates, chunk_size, max_reps))
    _check_plan(manifest, plan, folder)

    if manifest.get("status") == "complete" and _final_files_present(folder, manifest):
        n = int(manifest["replicates"])
        return RunReport(
            folder,
            manifest,
            n,
            int(manifest.get("failed_replicates") or 0),
            0.0,
            0,
            precision["status"] if precision else None,
            ["the run was already complete"],
        )

    _remove_partial_writes(folder)
    done = {
        c["index"]
        for c in manifest["chunks"]
        if c["status"] == "done" and _chunk_files_present(folder, c["index"])
    }
    for c in manifest["chunks"]:
        if c["status"] == "done" and c["index"] not in done:
            c["status"] = "pending"  # its files went missing: compute it again
    manifest["status"] = "running"
    manifest["failure"] = None

    tracker = PrecisionTracker(precision["target"]) if precision else None
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
                chunk_out = read_chunk(folder, i)[0]
            else:
                return
            tracker.add(chunk_out)
            next_check += 1
            if tracker.screen():
                summary = summarize_ok(_merged_prefix(folder, i))
                if max_half_width(summary) <= tracker.target:
                    stop_index = i

    if tracker is not None:
        check_prefix()

    def tasks() -> Iterator[ChunkTask]:
        for index, start, stop in plan:
            if stop_index is not None:
                return
            if index in done:
                continue
            if index >= len(manifest["chunks"]):
                manifest["chunks"].append(_chunk_entry(index, start, stop))
            yield ChunkTask(index, start, stop, seed, text, fail_fast, model)

    total = None if precision else replicates  # unknown in advance with --precision
    already = sum(plan[i][2] - plan[i][1] for i in done)
    computed = 0
    n_chunks_todo = len(plan) - len(done) if not precision else None
    reps_todo = (total - already) if total is not None else None
    if executor is None:
        executor = make_executor(workers, n_chunks_todo, reps_todo)
    manifest["execution"] = {
        "executor": getattr(executor, "name", type(executor).__name__),
        "workers": getattr(executor, "workers", None),
    }
    bar = _progress_bar(progress, total, already)
    try:
        if stop_index is None:
            with contextlib.closing(executor.run(run_chunk, tasks())) as results:
                for task, result in results:
                    failures = _store_chunk(folder, manifest, task, result, fail_fast)
                    computed += task.size
                    bar.update(task.size)
                    if failures:
                        bar.write(failures)
                    if tracker is not None:
                        pending_outcomes[task.index] = result.outcomes
                        done.add(task.index)
                        check_prefix()
                        if stop_index is not None:
                            break
                    else:
                        done.add(task.index)
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        write_json(folder / MANIFEST, manifest)
        raise
    except BrokenExecutor as e:
        manifest["status"] = "interrupted"
        write_json(folder / MANIFEST, manifest)
        raise WorkerCrashed(folder, e) from None
    finally:
        bar.close()

    notes: list[str] = []
    precision_status = None
    if tracker is not None:
        if stop_index is None:
            stop_index = len(plan) - 1
            precision_status = "max_replicates"
        else:
            precision_status = "met"
        _drop_chunks_after(folder, manifest, stop_index)
        manifest["replicates"] = plan[stop_index][2]
    missing = [c["index"] for c in manifest["chunks"] if c["index"] not in done]
    if missing:  # an executor that returned without running everything: a bug, not user error
        raise RuntimeError(f"chunks never ran: {missing[:10]}")

    summary = _finalize(folder, manifest, scenario)
    if precision is not None:
        worst = max_half_width(summary)
        precision["status"] = precision_status
        precision["max_half_width"] = None if math.isinf(worst) else worst
        n = manifest["replicates"]
        if precision_status == "met":
            notes.append(
                f"precision target met: every headline half-width <= {precision['target']:g} "
                f"(widest {worst:.4f}) at {n:,} replicates"
            )
        else:
            notes.append(
                f"max replicates reached ({n:,}) before the precision target "
                f"{precision['target']:g}: widest headline half-width is {worst:.4f}"
            )
    seconds = time.perf_counter() - t0
    manifest["timing"] = {
        "seconds": round(seconds, 3),
        "replicates_computed": computed,
        "replicates_per_second": round(computed / seconds, 1) if seconds > 0 else None,
    }
    manifest["completed"] = utc_now()
    manifest["status"] = "complete"
    write_json(folder / MANIFEST, manifest)
    if manifest.get("charts_error"):
        notes.append(f"warning: charts not drawn ({manifest['charts_error']})")
    failed = int(manifest["failed_replicates"])
    if failed:
        notes.append(f"{failed:,} replicates failed (see the 'error' column of {OUTCOMES})")
    return RunReport(
        folder,
        manifest,
        int(manifest["replicates"]),
        failed,
        seconds,
        computed,
        precision_status,
        notes,
    )


def _check_plan(manifest: dict[str, Any], plan: list[tuple[int, int, int]], folder: Path) -> None:
    for c in manifest["chunks"]:
        i = c["index"]
        if i >= len(plan) or (c["start"], c["stop"]) != plan[i][1:]:
            raise RunFolderError(
                f"{folder / MANIFEST}: corrupt manifest: chunk {i} does not match the plan "
                f"for {manifest.get('replicates')} replicates in chunks of {manifest['chunk_size']}"
            )


def _chunk_files_present(folder: Path, index: int) -> bool:
    files = ChunkFiles.for_index(index)
    return all((folder / f).is_file() for f in (files.outcomes, files.occupancy, files.alignment))


def _final_files_present(folder: Path, manifest: dict[str, Any]) -> bool:
    return all((folder / f).exists() for f in manifest.get("outputs", {}).get("files", []))


def _store_chunk(
    folder: Path, manifest: dict[str, Any], task: ChunkTask, result: ChunkResult, fail_fast: bool
) -> str:
    entry = manifest["chunks"][task.index]
    if result.failures and fail_fast:
        first = result.failures[0]
        manifest["status"] = "failed"
        manifest["failure"] = {
            "replicate": first.replicate,
            "error": first.error,
            "traceback": first.traceback,
        }
        write_json(folder / MANIFEST, manifest)
        raise ReplicateFailed(first.replicate, first.error, folder)
    files = ChunkFiles.for_index(task.index)
    # Occupancy first, outcomes last, manifest after all three: a chunk counts as done only
    # when the manifest says so and its files exist, so a kill between writes loses nothing.
    write_npy(folder / files.occupancy, result.occupancy)
    write_npy(folder / files.alignment, result.alignment_occupancy)
    write_parquet(folder / files.outcomes, result.outcomes)
    entry["status"] = "done"
    entry["failed"] = len(result.failures)
    write_json(folder / MANIFEST, manifest)
    if result.failures:
        f = result.failures[0]
        return (
            f"chunk {task.index}: {len(result.failures)} replicate(s) failed "
            f"(first: replicate {f.replicate}: {f.error})"
        )
    return ""


def _drop_chunks_after(folder: Path, manifest: dict[str, Any], last: int) -> None:
    # Chunks computed ahead of the stopping point are not part of the result; remove them so
    # that the folder is the same as a run that never computed them.
    for c in manifest["chunks"][last + 1 :]:
        for f in ChunkFiles.for_index(c["index"]).as_dict().values():
            (folder / f).unlink(missing_ok=True)
    del manifest["chunks"][last + 1 :]
    chunk_dir = folder / "chunks"
    if chunk_dir.is_dir():
        for stray in chunk_dir.iterdir():
            if stray.name.startswith(("chunk-", "occupancy-", "alignment-")):
                idx = int(stray.name.split("-")[1].split(".")[0])
                if idx > last:
                    stray.unlink()


def _remove_partial_writes(folder: Path) -> None:
    # A run killed in the middle of an atomic write leaves its temporary file behind; it is
    # not part of any result, and the finished folder must hold the same files as a run that
    # was never interrupted.
    for pattern in (".*.tmp-*", "*/.*.tmp-*"):
        for stray in folder.glob(pattern):
            if stray.is_file():
                stray.unlink()


def _merged_prefix(folder: Path, last: int) -> pd.DataFrame:
    return merge_chunk_outcomes([read_chunk(folder, i)[0] for i in range(last + 1)])


def _finalize(folder: Path, manifest: dict[str, Any], scenario: Any) -> pd.DataFrame:
    """Build the final files from the chunk files; returns the summary table."""
    from sim.runner.chunks import occupancy_shapes

    n_chunks = len(manifest["chunks"])
    frames = []
    occ_shape, align_shape = occupancy_shapes(scenario)
    occupancy = np.zeros(occ_shape, dtype=np.int64)
    alignment = np.zeros(align_shape, dtype=np.int64)
    for i in range(n_chunks):
        out, occ, align = read_chunk(folder, i)
        if occ.shape != occ_shape or align.shape != align_shape:
            raise RunFolderError(f"{folder}: chunk {i} has occupancy of the wrong shape")
        frames.append(out)
        occupancy += occ
        alignment += align
    outcomes = merge_chunk_outcomes(frames)
    del frames  # the merged table replaces them: hold one copy of a million rows, not two
    n = manifest["chunks"][-1]["stop"]
    ids = outcomes["replicate"].to_numpy(dtype=np.int64)
    if len(ids) != n or not np.array_equal(ids, np.arange(n, dtype=np.int64)):
        raise RunFolderError(f"{folder}: chunk files do not hold replicates 0..{n - 1} exactly")
    rungs = [r.name for r in scenario.ladder]
    levels = list(scenario.alignment_track)
    summary = summarize_ok(outcomes)

    written = [OUTCOMES, LADDER_OCCUPANCY, ALIGNMENT_OCCUPANCY, SUMMARY]
    write_parquet(folder / OUTCOMES, outcomes)
    write_parquet(
        folder / LADDER_OCCUPANCY, occupancy_long(occupancy, list(scenario.actors), rungs)
    )
    write_parquet(folder / ALIGNMENT_OCCUPANCY, alignment_long(alignment, levels))
    write_csv(folder / SUMMARY, summary)
    manifest["charts_error"] = None
    if manifest.get("charts", True):
        if len(ok_rows(outcomes)) == 0:
            manifest["charts_error"] = "no replicate succeeded: nothing to chart"
        else:
            try:
                figures = chart_figures(
                    outcomes, summary, occupancy, alignment, scenario, int(manifest["seed"])
                )
                written += [str(p.relative_to(folder)) for p in save_charts(figures, folder)]
            except Exception as e:
                # The results are complete without pictures; a drawing bug must not hold them
                # hostage (a resume would only fail again). Say so; `escalation plot` retries.
                manifest["charts_error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"

    bad = failed_ids(outcomes)
    manifest["replicates"] = n
    manifest["failed_replicates"] = len(bad)
    manifest["failed_ids"] = bad[:MAX_FAILED_IDS_LISTED]
    manifest["outputs"] = {"files": written, "charts": CHARTS if manifest.get("charts") else None}
    return summary


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
