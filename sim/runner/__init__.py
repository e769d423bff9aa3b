"""The runner: replicates in chunks, on any executor, streamed into a resumable results folder.

Pieces, each with one job:

* :mod:`sim.runner.chunks` - :class:`ChunkTask` (resolved scenario as JSON text, seed,
  replicate range) and :func:`run_chunk`, the pure, picklable function every executor runs.
  A replicate that raises is isolated and recorded in an ``error`` column (failures are data).
* :mod:`sim.runner.executors` - where chunks run. The whole interface is one method::

      class Executor(Protocol):
          def run(self, fn, tasks) -> Iterator[tuple[task, result]]: ...

  yielding ``(task, fn(task))`` as tasks complete, pulling tasks lazily (the stream may be
  unbounded) with a bounded number in flight, and cancelling outstanding work when the
  consumer closes the iterator. :class:`InProcessExecutor` and :class:`ProcessPoolExecutor`
  live here; a Dask executor (``sim/runner/dask_executor.py``, class ``DaskExecutor(scheduler)``)
  implements the same method and is picked up by ``sim.api.run(scheduler=...)``.
* :mod:`sim.runner.store` - the folder layout, the manifest, atomic and deterministic writes.
* :mod:`sim.runner.results` - merging chunk files, the summary, the charts.
* :mod:`sim.runner.precision` - the ``--precision`` stopping rule.
* :mod:`sim.runner.engine` - :func:`start_run` and :func:`resume_run`, which tie them together.

Results never depend on the executor, the number of workers, the chunk size or on whether the
run was interrupted and resumed: same scenario and seed, same bytes (manifest aside, see
:data:`~sim.runner.store.RUN_SPECIFIC_FIELDS`).
"""

from sim.runner.chunks import ChunkResult, ChunkTask, run_chunk
from sim.runner.engine import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SEED,
    ReplicateFailed,
    RunReport,
    RunSpec,
    default_chunk_size,
    resume_run,
    start_run,
)
from sim.runner.executors import (
    Executor,
    InProcessExecutor,
    ProcessPoolExecutor,
    available_cores,
    make_executor,
)
from sim.runner.store import RUN_SPECIFIC_FIELDS, RunFolderError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SEED",
    "RUN_SPECIFIC_FIELDS",
    "ChunkResult",
    "ChunkTask",
    "Executor",
    "InProcessExecutor",
    "ProcessPoolExecutor",
    "ReplicateFailed",
    "RunFolderError",
    "RunReport",
    "RunSpec",
    "available_cores",
    "default_chunk_size",
    "make_executor",
    "resume_run",
    "run_chunk",
    "start_run",
]
