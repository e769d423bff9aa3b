"""The runner: replicates in chunks, on any executor, streamed into a resumable results folder.

Pieces, each with one job:

* :mod:`sim.runner.chunks` - :class:`ChunkTask` (resolved scenario as JSON text, seed,
  replicate range, optionally a slice of a parameter design) and :func:`run_chunk`, the pure,
  picklable function every executor runs. A replicate that raises is isolated and recorded in
  an ``error`` column (failures are data).
* :mod:`sim.runner.executors` - where chunks run. The whole interface is one method::

      class Executor(Protocol):
          def run(self, fn, tasks) -> Iterator[tuple[task, result]]: ...

  yielding ``(task, fn(task))`` as tasks complete, pulling tasks lazily (the stream may be
  unbounded) with a bounded number in flight, and cancelling outstanding work when the
  consumer closes the iterator. :class:`InProcessExecutor` and :class:`ProcessPoolExecutor`
  live here; :class:`~sim.runner.dask_executor.DaskExecutor` implements the same method.
* :mod:`sim.runner.options` - :class:`ExecutionOptions` (workers, chunk size, scheduler,
  progress, fail-fast, failure limit, work limits) and :func:`open_executor`, the one place
  that picks the executor.
* :mod:`sim.runner.manifest` - the typed, frozen :class:`Manifest` embedding the
  :class:`RunSpec`, with a checksum record of every file written.
* :mod:`sim.runner.store` - the folder layout, atomic writes, verified reads, the folder lock.
* :mod:`sim.runner.results` - merging chunk files, the summary, chart helpers.
* :mod:`sim.runner.precision` - the ``--precision`` stopping rule.
* :mod:`sim.runner.engine` - :func:`start_run`, :func:`start_design_run` and
  :func:`resume_run`, which tie them together. The runner writes tables only; charts are drawn
  by :mod:`sim.api`.

Results never depend on the executor, the number of workers, the chunk size or on whether the
run was interrupted and resumed: same scenario and seed, same bytes (manifest aside, see
:data:`~sim.runner.manifest.RUN_SPECIFIC_FIELDS`).
"""

from sim.runner.chunks import ChunkResult, ChunkTask, run_chunk
from sim.runner.engine import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SEED,
    Design,
    ReplicateFailed,
    RunReport,
    TooManyFailed,
    default_chunk_size,
    resume_run,
    start_design_run,
    start_run,
)
from sim.runner.executors import (
    Executor,
    InProcessExecutor,
    ProcessPoolExecutor,
    available_cores,
    make_executor,
)
from sim.runner.manifest import RUN_SPECIFIC_FIELDS, Manifest, RunSpec
from sim.runner.options import ExecutionOptions, open_executor
from sim.runner.store import RunFolderError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SEED",
    "RUN_SPECIFIC_FIELDS",
    "ChunkResult",
    "ChunkTask",
    "Design",
    "ExecutionOptions",
    "Executor",
    "InProcessExecutor",
    "Manifest",
    "ProcessPoolExecutor",
    "ReplicateFailed",
    "RunFolderError",
    "RunReport",
    "RunSpec",
    "TooManyFailed",
    "available_cores",
    "default_chunk_size",
    "make_executor",
    "open_executor",
    "resume_run",
    "run_chunk",
    "start_design_run",
    "start_run",
]
