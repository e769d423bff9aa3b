"""How a run is executed: one options object, and the one function that picks the executor.

Nothing here changes the results: the same scenario and seed give the same files with any
workers, chunk size, scheduler or progress display. :class:`ExecutionOptions` gathers every
such choice for :func:`sim.api.run`, :func:`sim.runner.engine.start_run`, ``resume_run`` and
the CLI; :func:`open_executor` is the only place that turns them into an executor.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sim.errors import UserError
from sim.runner.executors import Executor, make_executor

MAX_INT = 2**63 - 1
"""Largest value of any integer option (seeds, counts, ids are stored as int64)."""


def check_int(value: Any, what: str, minimum: int, maximum: int = MAX_INT) -> int:
    """``value`` as an int within ``[minimum, maximum]``, or a one-line :class:`UserError`.

    Used by every command and API function for every integer option, so that they are all
    checked the same way (no bools, no floats, nothing beyond 64 bits).
    """
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise UserError(f"{what} must be a whole number, got {value!r}")
    if value < minimum:
        raise UserError(f"{what} must be >= {minimum}, got {value}")
    if value > maximum:
        raise UserError(f"{what} must be <= {maximum:,}, got {value}")
    return int(value)


def parse_int(text: str | None, what: str, minimum: int, maximum: int = MAX_INT) -> int | None:
    """A command-line integer (``10_000`` and ``10,000`` allowed), checked by :func:`check_int`."""
    if text is None:
        return None
    cleaned = str(text).strip().replace("_", "").replace(",", "")
    if len(cleaned) > 40:
        raise UserError(f"{what} must be a whole number <= {maximum:,}, got {str(text)[:40]}...")
    try:
        value = int(cleaned)
    except ValueError:
        raise UserError(f"{what} must be a whole number, got {text!r}") from None
    return check_int(value, what, minimum, maximum)


@dataclass(frozen=True)
class ExecutionOptions:
    """Every choice about how a run executes (none of them changes its results).

    Attributes:
        workers: Local worker processes (``None``: all cores, or this process for small runs;
            1: this process).
        chunk_size: Replicates per chunk (design points per chunk in a design run); ``None``:
            :func:`sim.runner.engine.default_chunk_size`. Only when a run starts: a resume
            keeps the folder's.
        scheduler: Address of a Dask scheduler to run the chunks on (``tcp://HOST:PORT``).
        dask_local: Start a local Dask cluster of this many workers for the run.
        executor: Any :class:`~sim.runner.executors.Executor` to run chunks on (advanced;
            excludes ``scheduler``, ``dask_local`` and ``workers``).
        progress: Show a progress bar on stderr.
        fail_fast: Stop at the first failing replicate (exit status 1).
        max_failed: Fail the run (exit status 1) when more than this many replicates fail; a
            float in (0, 1) is a share of the replicates. ``None``: fail only when every
            replicate failed.
        yes: Start even when the pilot estimate exceeds the work limits.
        max_seconds: Work limit: refuse runs estimated to take longer (without ``yes``).
        max_disk_bytes: Work limit: refuse runs estimated to write more (without ``yes``).
        command: The command line, for the manifest.
    """

    workers: int | None = None
    chunk_size: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    executor: Executor | None = None
    progress: bool = False
    fail_fast: bool = False
    max_failed: int | float | None = None
    yes: bool = False
    max_seconds: float | None = None
    max_disk_bytes: int | None = None
    command: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.workers is not None:
            check_int(self.workers, "workers", 1, 4096)
        if self.chunk_size is not None:
            check_int(self.chunk_size, "chunk size", 1)
        if self.dask_local is not None:
            check_int(self.dask_local, "--dask-local", 1, 4096)
        if self.max_failed is not None:
            m = self.max_failed
            if isinstance(m, bool) or not isinstance(m, int | float):
                raise UserError(f"--max-failed must be a count or a share, got {m!r}")
            if isinstance(m, float) and not 0 <= m < 1:
                raise UserError(f"--max-failed as a share must be in [0, 1), got {m}")
            if isinstance(m, int):
                check_int(m, "--max-failed", 0)
        if self.scheduler is not None and self.dask_local is not None:
            raise UserError("give either --scheduler or --dask-local, not both")
        if self.executor is not None and (self.scheduler or self.dask_local):
            raise UserError("give either scheduler/dask_local or executor, not both")
        if self.workers is not None and (self.scheduler is not None or self.dask_local):
            raise UserError("--workers is for local runs; on a Dask cluster its workers count")

    def replace(self, **changes: Any) -> ExecutionOptions:
        """A copy with some options changed (checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, base: ExecutionOptions | None, **kwargs: Any) -> ExecutionOptions:
        """``base`` (or the defaults) with the given options changed; unknown names refused.

        Lets notebook calls say ``sim.run(path, workers=2)`` instead of building the object.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise UserError(
                f"unknown execution option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(names))}"
            )
        given = {k: v for k, v in kwargs.items() if v is not None}
        if "command" in given:
            given["command"] = tuple(given["command"])
        return dataclasses.replace(base or cls(), **given)


@contextlib.contextmanager
def open_executor(
    options: ExecutionOptions, n_tasks: int | None = None, n_replicates: int | None = None
) -> Iterator[Executor]:
    """The executor for a run, closed (and any cluster it started stopped) when the block ends.

    The one place that picks: ``options.executor`` when given; a Dask executor for
    ``scheduler`` or ``dask_local`` (Dask is imported only then); else a local one
    (:func:`~sim.runner.executors.make_executor`: in-process when a pool would not pay).

    Args:
        options: The execution options.
        n_tasks: Chunks still to run, when known (``None``: unbounded, ``--precision``).
        n_replicates: Replicates still to compute, when known.

    Raises:
        UserError: an unreachable scheduler, Dask not installed.
    """
    if options.executor is not None:
        yield options.executor
        return
    if options.scheduler is not None or options.dask_local is not None:
        from sim.runner.dask_executor import executor_from_options

        with executor_from_options(options.scheduler, options.dask_local) as ex:
            assert ex is not None
            yield ex
        return
    yield make_executor(options.workers, n_tasks, n_replicates)
