"""The unit of work: one chunk of replicates, run by a pure, picklable function.

A :class:`ChunkTask` is small (the resolved scenario as JSON text, the seed and a replicate
range) and :func:`run_chunk` is a module-level function without I/O, so the same task can run
in this process, in a process pool or on a Dask worker that shares no files with us. Because the
model's random numbers are a pure function of (seed, replicate, day, actor, purpose), a
replicate's row does not depend on which chunk, process or machine ran it.

A replicate that raises does not sink its chunk: the chunk is split in halves until every
failing replicate is isolated, and each one is recorded as a row whose ``error`` column holds
the exception (failures are data). The ``error`` column is always present, empty when all went
well, so that the table's schema does not depend on whether something failed.
"""

from __future__ import annotations

import gc
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

ERROR_COLUMN = "error"
"""Name of the outcome column holding a failed replicate's error (empty string when ok)."""

DEFAULT_MODEL = "sim.model:run_replicates"
"""The replicate function chunks call, as ``module:function`` (see :func:`resolve_model`)."""


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of replicates to run: everything a worker needs, and nothing more.

    Attributes:
        index: Position of the chunk in the run (chunk ``i`` holds replicates
            ``[i * chunk_size, (i + 1) * chunk_size)``, or design points in a design run).
        start: First replicate id (inclusive); first design point in a design run.
        stop: Last replicate id (exclusive); last design point + 1 in a design run.
        seed: The run seed.
        scenario_json: The resolved scenario as canonical JSON text (see
            :func:`scenario_to_json`); text rather than a pydantic object so that the task
            pickles the same way with any library versions on the other side.
        fail_fast: Stop isolating failures at the first failing replicate (the run is about to
            stop anyway, so finding every failure would be wasted work).
        model: The replicate function as ``module:function``, with the signature of
            :func:`sim.model.run_replicates`; a name rather than a function object so the task
            stays small and the manifest can record it.
        design_columns: Dotted parameter paths of a design run's design (else empty).
        design_values: The chunk's design rows, float64 (points, columns); ``None`` for a
            plain run.
        replicates_per_point: K: replicates ``0 .. K-1`` run at every design point.
    """

    index: int
    start: int
    stop: int
    seed: int
    scenario_json: str
    fail_fast: bool = False
    model: str = DEFAULT_MODEL
    design_columns: tuple[str, ...] = ()
    design_values: np.ndarray | None = None
    replicates_per_point: int = 0

    @property
    def is_design(self) -> bool:
        """The chunk runs design points (``start``/``stop`` count points, not replicates)."""
        return self.design_values is not None

    @property
    def size(self) -> int:
        """Number of replicates (rows) in the chunk."""
        if self.is_design:
            return (self.stop - self.start) * self.replicates_per_point
        return self.stop - self.start

    def rows(self) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray] | None]:
        """Replicate id, design point and design parameter values of each of the chunk's rows.

        A plain chunk has rows ``start .. stop-1`` and no points or parameters. A design chunk
        holds points ``start .. stop-1``, each with replicate ids ``0 .. K-1`` (the same ids,
        hence the same random numbers, at every point), ordered by point, then replicate.
        """
        if self.design_values is None:
            return np.arange(self.start, self.stop, dtype=np.int64), None, None
        k = self.replicates_per_point
        n_points = self.stop - self.start
        ids = np.tile(np.arange(k, dtype=np.int64), n_points)
        points = np.repeat(np.arange(self.start, self.stop, dtype=np.int64), k)
        values = np.asarray(self.design_values, dtype=np.float64).reshape(n_points, -1)
        params = {c: np.repeat(values[:, j], k) for j, c in enumerate(self.design_columns)}
        return ids, points, params


@dataclass(frozen=True)
class Failure:
    """A replicate that raised: its id, a one-line error, the full traceback (and its point)."""

    replicate: int
    error: str
    traceback: str
    point: int | None = None


@dataclass
class ChunkResult:
    """What one chunk produced.

    Attributes:
        index: The chunk's index (same as its task's).
        outcomes: One row per replicate, sorted by replicate id, with an ``error`` column.
            Failed replicates have their id and error and missing values elsewhere.
        occupancy: int64 array (days + 1, actors, rungs): successful replicates on each rung.
        alignment_occupancy: int64 array (days + 1, levels).
        failures: The replicates that raised, in id order.
        seconds: Wall time spent (informational; never written into result files).
    """

    index: int
    outcomes: pd.DataFrame
    occupancy: np.ndarray
    alignment_occupancy: np.ndarray
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0


def scenario_to_json(tree: dict[str, Any]) -> str:
    """Canonical JSON text of a resolved scenario tree.

    Key order is kept (actors and moves are ordered mappings that the model indexes), and the
    separators are fixed, so the same tree always gives the same text and the same hash.
    """
    return json.dumps(tree, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=8)
def _scenario_from_json(text: str) -> Any:
    # Validating a scenario costs milliseconds; a worker sees the same text for every chunk of a
    # run, so validate it once per process.
    from sim.scenario.schema import validate_scenario

    return validate_scenario(json.loads(text), source="<run manifest>")


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


@lru_cache(maxsize=8)
def resolve_model(ref: str) -> Callable[..., Any]:
    """The function a ``module:function`` reference names.

    Raises:
        ValueError: the reference is malformed or names nothing callable.
    """
    import importlib

    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"model must be written module:function, got {ref!r}")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"model {ref!r} not found: {e}") from None
    if not callable(obj):
        raise ValueError(f"model {ref!r} is not a function")
    return obj


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run one chunk of replicates; never raises for a replicate's failure.

    Args:
        task: The chunk to run.

    Returns:
        The chunk's outcomes (with the ``error`` column; in a design run also ``point`` and a
        ``param.<path>`` column per design column), occupancy counts and failures.
    """
    run_replicates = resolve_model(task.model)
    t0 = time.perf_counter()
    scenario = _scenario_from_json(task.scenario_json)
    ids, points, params = task.rows()
    pieces: list[tuple[int, pd.DataFrame, np.ndarray, np.ndarray]] = []
    failures: list[tuple[int, Failure]] = []

    def attempt(lo: int, hi: int) -> None:
        if task.fail_fast and failures:
            return
        try:
            if params is None:
                out = run_replicates(scenario, task.seed, ids[lo:hi])
            else:
                given = {k: v[lo:hi] for k, v in params.items()}
                out = run_replicates(scenario, task.seed, ids[lo:hi], given)
        except Exception as e:
            if hi - lo == 1:
                point = None if points is None else int(points[lo])
                failures.append(
                    (lo, Failure(int(ids[lo]), _one_line(e), traceback.format_exc(), point))
                )
                return
            # Replicates are independent, so halving the range isolates the failing ones with
            # far fewer model calls than re-running every replicate alone when failures are rare.
            mid = (lo + hi) // 2
            attempt(lo, mid)
            attempt(mid, hi)
            return
        pieces.append((lo, out.outcomes, out.occupancy, out.alignment_occupancy))

    attempt(0, len(ids))
    # Under fail_fast the chunk stops at its first failure (and is not stored): rows missing.
    complete = not (task.fail_fast and failures)
    outcomes, occupancy, alignment = _assemble(
        scenario, pieces, failures, ids if complete else None
    )
    if points is not None and params is not None:
        outcomes = _with_design(outcomes, points, params)
    # A Mesa model and its agents point at each other, so a finished model's arrays are freed
    # only by the cyclic garbage collector, which runs rarely here: without this, a pool
    # worker's memory grew by ~40 MB per 25,000-replicate chunk (measured), 2 GB at 1M.
    gc.collect()
    return ChunkResult(
        index=task.index,
        outcomes=outcomes,
        occupancy=occupancy,
        alignment_occupancy=alignment,
        failures=[f for _, f in sorted(failures, key=lambda x: x[0])],
        seconds=time.perf_counter() - t0,
    )


def _with_design(
    outcomes: pd.DataFrame, points: np.ndarray, params: dict[str, np.ndarray]
) -> pd.DataFrame:
    """``replicate``, ``point``, then the design's values as ``param.<path>``, then the rest."""
    from sim.scenario.parameters import PARAM_PREFIX

    cols: dict[str, Any] = {"replicate": outcomes["replicate"], "point": points}
    for path, values in params.items():
        cols[PARAM_PREFIX + path] = values
    for name in outcomes.columns:
        if name not in cols:
            cols[name] = outcomes[name]
    return pd.DataFrame(cols)


def occupancy_shapes(scenario: Any) -> tuple[tuple[int, int, int], tuple[int, int]]:
    """Shapes of the ladder and alignment occupancy arrays for a scenario."""

    days = scenario.horizon_days + 1
    return (days, len(scenario.actors), len(scenario.ladder)), (days, len(scenario.alignment_track))


def _assemble(
    scenario: Any,
    pieces: list[tuple[int, pd.DataFrame, np.ndarray, np.ndarray]],
    failures: list[tuple[int, Failure]],
    ids: np.ndarray | None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    occ_shape, align_shape = occupancy_shapes(scenario)
    occupancy = np.zeros(occ_shape, dtype=np.int64)
    alignment = np.zeros(align_shape, dtype=np.int64)
    for _, _, occ, al in pieces:
        occupancy += np.asarray(occ, dtype=np.int64)
        alignment += np.asarray(al, dtype=np.int64)

    # Rows go back in the chunk's own order (by position), whatever order they were computed.
    parts: list[tuple[int, pd.DataFrame]] = [(lo, df) for lo, df, _, _ in pieces]
    if failures:
        failed = pd.DataFrame(
            {
                "replicate": np.array([f.replicate for _, f in failures], dtype=np.int64),
                ERROR_COLUMN: pd.array([f.error for _, f in failures], dtype="str"),
            }
        )
        frames = [_with_error(df) for _, df in parts]
        if frames:
            # Give failed rows the successful rows' columns, with dtypes that can hold a
            # missing value (bool -> boolean, int -> Int64), so the chunk keeps one schema.
            template = nullable(frames[0])
            frames = [nullable(df) for df in frames]
            failed = conform(failed, template)
        order = np.concatenate(
            [np.arange(lo, lo + len(df)) for (lo, _), df in zip(parts, frames, strict=True)]
            + [np.array([pos for pos, _ in failures], dtype=np.int64)]
        )
        outcomes = pd.concat([*frames, failed], ignore_index=True)
        outcomes = outcomes.take(np.argsort(order, kind="stable")).reset_index(drop=True)
    else:
        parts.sort(key=lambda x: x[0])
        outcomes = _with_error(pd.concat([df for _, df in parts], ignore_index=True))
    if ids is not None and (
        len(outcomes) != len(ids)
        or not np.array_equal(outcomes["replicate"].to_numpy(dtype=np.int64), ids)
    ):
        raise RuntimeError("the replicate function returned rows other than those asked for")
    return outcomes, occupancy, alignment


def _with_error(df: pd.DataFrame) -> pd.DataFrame:
    if ERROR_COLUMN in df.columns:
        return df
    out = df.copy()
    out[ERROR_COLUMN] = pd.array([""] * len(df), dtype="str")
    return out


def nullable(df: pd.DataFrame) -> pd.DataFrame:
    """The same table with bool and plain integer columns turned into nullable dtypes."""
    changes: dict[str, Any] = {}
    for name, dtype in df.dtypes.items():
        if dtype == np.bool_:
            changes[str(name)] = "boolean"
        elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
            changes[str(name)] = "Int64"
    return df.astype(changes) if changes else df


def conform(df: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``df`` with exactly ``template``'s columns, order and dtypes (missing ones all-NA).

    Columns that ``template`` lacks but ``df`` has are kept at the end (an ``error`` column,
    for instance), so no information is dropped.
    """
    out = {}
    n = len(df)
    for name, dtype in template.dtypes.items():
        if name in df.columns:
            out[name] = df[name].astype(dtype)
        else:
            out[name] = pd.Series(pd.array([None] * n, dtype=_missing_dtype(dtype)))
    for name in df.columns:
        if name not in out:
            out[name] = df[name]
    return pd.DataFrame(out, index=df.index)


def _missing_dtype(dtype: Any) -> Any:
    if dtype == np.bool_:
        return "boolean"
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return "Int64"
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return dtype
    return dtype
