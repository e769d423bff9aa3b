"""Executors: where chunk functions run. One tiny interface, several implementations.

The interface (:class:`Executor`) is a single method::

    def run(self, fn, tasks) -> Iterator[tuple[task, result]]

* ``fn`` is a picklable, module-level function of one argument (here
  :func:`sim.runner.chunks.run_chunk`); ``tasks`` is an iterable of picklable tasks.
* ``run`` yields ``(task, fn(task))`` pairs **as they complete**, in any order. The runner puts
  results back in order itself, so an executor never needs to.
* ``tasks`` may be lazy and even unbounded (the ``--precision`` mode keeps adding chunks until
  a target is met): pull tasks only as capacity frees up, keeping a bounded number in flight
  (about twice the number of workers is plenty).
* When the consumer stops iterating (``close()`` on the generator, an exception or Ctrl-C in the
  consumer), stop submitting, cancel what has not started and release the workers; a generator
  with a ``try/finally`` around its loop does this for free.
* If ``fn`` itself raises (it should not: :func:`run_chunk` records failures as data), let the
  exception propagate out of ``run``. If the workers themselves are lost for good, raise a
  :class:`concurrent.futures.BrokenExecutor` (or a subclass): the runner then marks the folder
  resumable and tells the user how to finish it.
* Optional attributes ``name`` (str) and ``workers`` (int or None) are recorded in the
  manifest's ``execution`` field.

Implementations here: :class:`InProcessExecutor` (serial, in this process) and
:class:`ProcessPoolExecutor` (local processes via :mod:`concurrent.futures`). A Dask executor
lives in ``sim/runner/dask_executor.py`` and implements the same method, for instance with
``distributed.as_completed`` and ``client.submit(fn, task, pure=False)``.

No start method is set globally: the process pool takes its own multiprocessing context
('forkserver' where available, else 'spawn') when it is created.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over tasks and yields ``(task, result)`` pairs as they complete."""

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` on every task; yield each task with its result, in completion order."""
        ...


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class InProcessExecutor:
    """Runs tasks one after another in this process: no start-up cost, easy to debug."""

    name = "in-process"
    workers = 1

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` on each task in turn, yielding as each finishes (BLAS on one thread)."""
        with blas_threads(1):
            for task in tasks:
                yield task, fn(task)


class ProcessPoolExecutor:
    """Runs tasks in a pool of local worker processes.

    Args:
        workers: Number of worker processes (default: every core this process may use).
        start_method: 'forkserver' or 'spawn' (default: 'forkserver' where available). 'fork'
            is not offered: forking a process that holds threads (tqdm, BLAS) can deadlock.
        in_flight: Tasks submitted ahead of completion, per worker.
    """

    name = "process-pool"

    def __init__(
        self, workers: int | None = None, start_method: str | None = None, in_flight: int = 2
    ):
        self.workers = workers or available_cores()
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if start_method is None:
            methods = multiprocessing.get_all_start_methods()
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in ("forkserver", "spawn"):
            raise ValueError(f"start_method must be 'forkserver' or 'spawn', got {start_method!r}")
        self.start_method = start_method
        self.in_flight = max(1, in_flight)

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` over ``tasks`` in worker processes, yielding results as they complete."""
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            _start_forkserver_quietly()
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        pending: dict[cf.Future[R], T] = {}
        it = iter(tasks)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self.workers * self.in_flight:
                    try:
                        task = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[pool.submit(fn, task)] = task
                if not pending:
                    return
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                # Yield in submission order among those finished together, so that a serial
                # consumer sees as regular an order as the timing allows.
                for fut in [f for f in pending if f in done]:
                    task = pending.pop(fut)
                    yield task, fut.result()
        finally:
            # Stopped early (Ctrl-C, an error, or the consumer has enough): drop what has not
            # started. Chunks already running are left to finish (at most one per worker)
            # rather than terminated: a worker killed while sending its result leaves half a
            # message in the pool's result pipe, and the pool's manager thread - which Python
            # joins at exit - then waits for the rest forever.
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_OPENBLAS_SUFFIXES = (
    "scipy_openblas_{}_num_threads64_",
    "scipy_openblas_{}_num_threads",
    "openblas_{}_num_threads64_",
    "openblas_{}_num_threads",
)


def _openblas_controls() -> list[tuple[Any, Any]]:
    """(setter, getter) of every OpenBLAS copy loaded in this process (Linux; else none)."""
    import ctypes
    import re

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            maps = f.read()
    except OSError:
        return []
    out = []
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pattern in _OPENBLAS_SUFFIXES:
            setter = getattr(lib, pattern.format("set"), None)
            getter = getattr(lib, pattern.format("get"), None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                out.append((setter, getter))
                break
    return out


@contextlib.contextmanager
def blas_threads(n: int = 1) -> Iterator[None]:
    """Run a block with OpenBLAS capped at ``n`` threads, restoring the previous counts after.

    The model's matrix products are small (a handful of features by a chunk of replicates):
    threads cannot speed them up, but OpenBLAS's spinning threads slow everything down as soon
    as the cores are shared. Measured on the 2-core machine under load: 30,000 replicates in
    one process took 5.6 s with one BLAS thread and 12-15 s with the default two; with a pool
    of two workers, each with two BLAS threads, 100,000 replicates took 21-75 s instead of 8 s.
    """
    import ctypes

    controls = _openblas_controls()
    before = [int(get()) for _, get in controls]
    for set_, _ in controls:
        set_(ctypes.c_int(n))
    try:
        yield
    finally:
        for (set_, _), old in zip(controls, before, strict=True):
            set_(ctypes.c_int(old))


def limit_blas_threads(n: int = 1) -> None:
    """Cap BLAS threads for the rest of this process's life (pool workers).

    Environment variables cover libraries loaded later (scipy's own OpenBLAS, for one); copies
    already loaded (numpy's, imported with the main module) are told directly, as
    ``threadpoolctl`` would. See :func:`blas_threads` for why.
    """
    import ctypes

    for name in _THREAD_VARIABLES:
        os.environ[name] = str(n)
    for set_, _ in _openblas_controls():
        set_(ctypes.c_int(n))


def _start_forkserver_quietly() -> None:
    """Start multiprocessing's forkserver with its stderr on /dev/null.

    When a run is interrupted while a worker is being started, the forkserver reads a pipe the
    parent has closed and prints a traceback on its way out - into the user's terminal, since it
    shares the parent's stderr. Worker errors never need that stream: they come back as data.
    """
    from multiprocessing import forkserver

    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        forkserver.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _worker_init(parent_pid: int) -> None:
    # Ctrl-C reaches the whole process group; only the parent should react to it (it cancels
    # the pool and records where the run stopped). Workers would otherwise die mid-task with
    # KeyboardInterrupt tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads(1)
    # If the parent is killed outright (kill -9), nothing tells pool workers to exit: they would
    # wait on their task queue forever. Watch the parent and leave when it is gone.
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    import psutil

    try:
        created = psutil.Process(parent_pid).create_time()
    except psutil.Error:
        os._exit(1)
    while True:
        time.sleep(1.0)
        try:
            alive = psutil.Process(parent_pid).create_time() == created
        except psutil.Error:
            alive = False
        if not alive:
            os._exit(1)


SMALL_RUN_CHUNKS = 2
SMALL_RUN_REPLICATES = 30_000  # about 2 s of model time: what starting a pool costs
"""With the default worker count, runs of at most this many chunks stay in this process."""


def make_executor(
    workers: int | None, n_tasks: int | None = None, n_replicates: int | None = None
) -> InProcessExecutor | ProcessPoolExecutor:
    """The local executor for a run: in-process when a pool would not pay for itself.

    Starting a pool costs about 0.8 s and each worker spends about as long importing the model
    before its first chunk (measured on the 2-core reference machine), while a default chunk of
    5,000 replicates takes under a second; so with the default worker count a run of one or two
    chunks is faster here, and so is a run of up to ``SMALL_RUN_REPLICATES`` replicates (the
    model steps about 15,000 replicates a second per core). An explicit worker count is always
    honoured (except that a pool never gets more workers than there are chunks).

    Args:
        workers: Requested worker count; ``None`` means every available core.
        n_tasks: Number of chunks when known (``None``: unbounded, as with ``--precision``).
        n_replicates: Replicates still to compute, when known.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    n = workers or available_cores()
    if n == 1 or (n_tasks is not None and n_tasks <= 1):
        return InProcessExecutor()
    if workers is None and n_tasks is not None and n_tasks <= SMALL_RUN_CHUNKS:
        return InProcessExecutor()
    if workers is None and n_replicates is not None and n_replicates <= SMALL_RUN_REPLICATES:
        return InProcessExecutor()
    if n_tasks is not None:
        n = min(n, n_tasks)
    return ProcessPoolExecutor(workers=n)
