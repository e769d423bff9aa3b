"""Running chunks on a Dask cluster: the same chunk function, on other machines.

:class:`DaskExecutor` implements the :class:`~sim.runner.executors.Executor` interface on a
``distributed.Client``: each chunk becomes one ``client.submit(run_chunk, task, pure=False)``,
at most about two per worker thread are in flight, and results come back to this process as
they complete (``distributed.as_completed``). The engine writes the results folder here, exactly
as for a local run; workers need the project installed, but no data files and no shared disk.

Results are identical to a local run: a replicate's random numbers are a pure function of
(seed, replicate, day, actor, purpose), so a chunk computes the same rows on any worker. That is
also why a lost worker costs only time: the scheduler recomputes its chunks elsewhere (up to
``allowed-failures`` deaths per chunk), and the run completes with the same numbers.

Dask is imported only inside the functions here, so that importing :mod:`sim.runner` (or the
CLI) stays cheap and works without Dask installed; nothing global (dask config,
multiprocessing start method) is changed - settings go to the cluster or client we create.

Typical use::

    with executor_from_options(scheduler="tcp://10.0.0.5:8786", dask_local=None) as ex:
        start_run(spec, folder, executor=ex)
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures as cf
import contextlib
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from sim.errors import UserError

if TYPE_CHECKING:
    from distributed import Client, Future

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to keep trying to reach a scheduler before giving up (it may still be starting)."""

IN_FLIGHT_PER_THREAD = 2
"""Chunks submitted per worker thread: one running, one queued so no thread waits on us."""

ALLOWED_FAILURES = 3
"""Workers that may die while running one chunk; one more and the run stops (our clusters)."""

NO_WORKERS_TIMEOUT = 300.0
"""Give up (resumably) when the cluster has had no worker at all for this many seconds."""

_POLL = 0.01  # seconds between checks for a finished chunk; small next to any chunk's duration
_REFRESH = 1.0  # seconds between asking the scheduler how many worker threads there are


class DaskRunBroken(cf.BrokenExecutor):
    """The cluster can no longer finish the run: workers keep dying, or the scheduler is gone.

    A :class:`concurrent.futures.BrokenExecutor`, so the engine records the run as interrupted
    and tells the user how to resume it (chunks already written are kept).
    """


# ----------------------------------------------------------------------------- connecting


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserError(
            "Dask is not installed: pip install 'escalation-sim[dask]' (or run without "
            "--scheduler/--dask-local)"
        ) from None


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


async def _probe(address: str, timeout: float) -> None:
    from distributed.comm import connect as comm_connect

    comm = await comm_connect(address, timeout=timeout)
    await comm.close()


def _check_reachable(address: str, timeout: float) -> None:
    """Open (and close) one connection to ``address``, or raise a one-line :class:`UserError`.

    Done before creating a ``Client`` because a ``Client`` whose connection failed is left
    half-built: when it is garbage-collected it spends seconds trying to close and prints a
    traceback. A bare comm connection fails cleanly. It runs in its own thread with its own
    event loop, so it also works where a loop is already running (Jupyter).
    """
    with cf.ThreadPoolExecutor(1, thread_name_prefix="dask-probe") as pool:
        try:
            pool.submit(asyncio.run, _probe(address, timeout)).result()
        except ValueError as e:  # unknown scheme, missing port, ...
            raise UserError(
                f"bad Dask scheduler address {address!r}: {_one_line(e)} "
                "(expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786)"
            ) from None
        except OSError as e:  # refused, unknown host, timed out (TimeoutError is an OSError)
            raise UserError(
                f"cannot reach Dask scheduler at {address}: {_one_line(e)}; "
                "is `dask scheduler` running there?"
            ) from None
        except Exception as e:
            # Something answered, but not in Dask's protocol (a web server, the dashboard
            # port): its reply is read as a frame header, which fails in odd ways.
            raise UserError(
                f"cannot talk to Dask scheduler at {address}: something answered but not as a "
                f"Dask scheduler ({type(e).__name__}); the scheduler listens on port 8786 by "
                "default, its dashboard on 8787"
            ) from None


def connect(scheduler_address: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Client:
    """A ``distributed.Client`` connected to a running scheduler.

    Args:
        scheduler_address: The scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
        timeout: Seconds to keep trying (a scheduler that is starting up refuses at first).

    Returns:
        The connected client (not set as Dask's default client). Close it when done.

    Raises:
        UserError: Dask is not installed, the address is malformed, or nothing that speaks
            Dask answers there within ``timeout`` seconds (one line, no traceback).
    """
    _require_distributed()
    from distributed import Client

    address = scheduler_address.strip()
    _check_reachable(address, timeout)
    try:
        # set_as_default=False: do not make this the client that every dask.compute() in the
        # user's session silently uses.
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as e:  # reachable a moment ago; gone or refusing us now
        raise UserError(
            f"cannot connect to Dask scheduler at {address}: {_one_line(e)}; "
            "is `dask scheduler` running there?"
        ) from None


@contextlib.contextmanager
def local_cluster(
    n_workers: int, *, announce: bool = True, allowed_failures: int = ALLOWED_FAILURES
) -> Iterator[Client]:
    """A Dask ``LocalCluster`` on 127.0.0.1 for the duration of a ``with`` block.

    ``n_workers`` worker processes with one thread each (the model is numpy-bound and holds
    the GIL between numpy calls, so processes, not threads, give parallelism). The dashboard
    address is printed on stderr. Cluster and client are closed when the block ends.

    Args:
        n_workers: Worker processes (>= 1).
        announce: Print the cluster's size and dashboard address (served only when ``bokeh``
            is installed) on stderr.
        allowed_failures: Worker deaths a chunk may witness before the run stops.

    Yields:
        A client connected to the cluster.

    Raises:
        UserError: Dask is not installed, or ``n_workers`` < 1.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise UserError(f"--dask-local must be a whole number >= 1, got {n_workers!r}")
    _require_distributed()
    from distributed import Client, LocalCluster

    has_bokeh = _has_module("bokeh")
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # Port 0: a free port, so two runs (or a notebook's own cluster) never collide. The
        # HTTP servers start even without bokeh (health checks); keep them on loopback too.
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"allowed_failures": allowed_failures},
    )
    try:
        if announce:
            link = cluster.dashboard_link if has_bokeh else None
            where = link or "not available (pip install bokeh to get one)"
            print(f"Dask local cluster: {n_workers} workers, dashboard: {where}", file=sys.stderr)
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


class _DropCancelled(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


def _close_quietly(client: Client) -> None:
    # A client that lost its scheduler keeps trying to reconnect; closing it cancels that
    # attempt, which distributed logs as an ERROR with a full traceback - noise after the
    # one-line message the user already gets. Drop just that record, just while closing.
    logger = logging.getLogger("distributed.client")
    quiet = _DropCancelled()
    logger.addFilter(quiet)
    try:
        client.close()
    except Exception as e:  # closing is best effort; the run's outcome is already decided
        log.debug("closing the Dask client failed: %s", e)
    finally:
        logger.removeFilter(quiet)


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# ----------------------------------------------------------------------------- the executor


class DaskExecutor:
    """Runs chunk tasks on a Dask cluster; yields ``(task, result)`` as chunks complete.

    Args:
        client: A connected ``distributed.Client`` (left open: its owner closes it), or a
            scheduler address: the executor then connects at once (so a bad address fails
            before any run folder is made), and closes its connection when a run ends or on
            :meth:`close` (a later run connects again).
        in_flight: Chunks submitted ahead per worker thread. Recomputed as workers come and
            go, so a cluster that grows during a run gets used.
        connect_timeout: Seconds to try to reach the scheduler (address form only).
        no_workers_timeout: Give up (resumably, with :class:`DaskRunBroken`) when the cluster
            has had no worker at all for this long; ``None`` waits forever.

    Raises:
        UserError: the scheduler cannot be reached (address form).
    """

    name = "dask"

    def __init__(
        self,
        client: Client | str,
        *,
        in_flight: int = IN_FLIGHT_PER_THREAD,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        no_workers_timeout: float | None = NO_WORKERS_TIMEOUT,
    ):
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {in_flight}")
        self.in_flight = in_flight
        self.connect_timeout = connect_timeout
        self.no_workers_timeout = no_workers_timeout
        self._address: str | None
        self._client: Client | None
        if isinstance(client, str):
            self._address, self._owns = client, True
            self._client = connect(client, connect_timeout)
        else:
            self._address, self._owns = None, False
            self._client = client

    @property
    def client(self) -> Client:
        """The client, (re)connecting when this executor owns the connection."""
        if self._client is None or self._client.status in ("closing", "closed"):
            if not self._owns:
                raise UserError("the Dask client given to DaskExecutor has been closed")
            assert self._address is not None
            self._client = connect(self._address, self.connect_timeout)
        return self._client

    @property
    def scheduler_address(self) -> str:
        """The scheduler's address (recorded for people; results do not depend on it)."""
        if self._client is not None:
            return str(self._client.scheduler.address)
        return self._address or ""

    @property
    def workers(self) -> int | None:
        """Worker threads in the cluster right now (recorded in the run manifest)."""
        if self._client is None or self._client.status != "running":
            return None
        try:
            return sum(self._client.nthreads().values())
        except Exception:  # informational only: never fail a run over it
            return None

    def close(self) -> None:
        """Close the connection if this executor opened it (a given client is left open)."""
        if self._owns and self._client is not None:
            client, self._client = self._client, None
            _close_quietly(client)

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run[T, R](self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` on every task on the cluster, yielding ``(task, result)`` as each finishes.

        Tasks are pulled lazily, about :attr:`in_flight` per worker thread at a time. When the
        consumer stops early (an error, Ctrl-C, enough chunks), outstanding chunks are
        cancelled on the cluster.

        Raises:
            DaskRunBroken: a chunk was on too many workers that died, the scheduler went away,
                or there were no workers for ``no_workers_timeout`` seconds.
            Exception: whatever ``fn`` raised on a worker.
        """
        from distributed import as_completed

        client = self.client
        # Keys must be unique on the scheduler, also between runs sharing a client: one random
        # token per run, then the submission number.
        token = uuid.uuid4().hex[:8]
        prefix = getattr(fn, "__name__", "chunk")
        pending: dict[Future[R], T] = {}
        ac = as_completed(loop=client.loop)  # explicit loop: the client is not the default one
        it = iter(tasks)
        exhausted = False
        submitted = 0
        slots = _Slots(client, self.in_flight, self.no_workers_timeout)
        try:
            while True:
                limit = slots.limit()
                while not exhausted and len(pending) < limit:
                    try:
                        task = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    # pure=False: never serve a task from another run's result. The key's
                    # prefix groups the run's chunks on the dashboard.
                    key = f"{prefix}-{token}-{submitted}"
                    try:
                        fut = client.submit(fn, task, pure=False, key=key)
                    except Exception as e:
                        if client.status == "running":
                            raise  # e.g. a task that cannot be pickled: a bug, not the cluster
                        raise DaskRunBroken(
                            f"lost the Dask scheduler at {self.scheduler_address} "
                            f"({type(e).__name__}); restart it and its workers"
                        ) from None
                    submitted += 1
                    pending[fut] = task
                    ac.add(fut)
                if not pending:
                    return
                while not ac.has_ready():
                    slots.check_alive()
                    time.sleep(_POLL)
                for fut in ac.next_batch(block=False):
                    task = pending.pop(fut)
                    result = _result(fut, task, self.scheduler_address)
                    fut.release()  # free the worker's copy now, not when the Future is GC'd
                    yield task, result
        finally:
            if pending:
                # Stopped early: chunks nobody will use should not keep the cluster busy.
                with contextlib.suppress(Exception):
                    client.cancel(list(pending), force=True)
            ac.clear()
            if self._owns:
                self.close()


def _result[R](fut: Future[R], task: object, address: str) -> R:
    from distributed import KilledWorker

    try:
        return fut.result()
    except KilledWorker:
        start, stop = getattr(task, "start", None), getattr(task, "stop", None)
        which = f"chunk {getattr(task, 'index', fut.key)}"
        if start is not None and stop is not None:
            which += f", replicates {start}-{stop - 1},"
        # Dask counts a death against every chunk assigned to the worker, queued or running,
        # so the chunk named here was with every dead worker but need not be the one to blame.
        raise DaskRunBroken(
            f"Dask workers kept dying while {which} was assigned to them, and the scheduler "
            "gave up on it - see its allowed-failures setting"
        ) from None
    except Exception as e:
        if fut.status == "error":
            raise  # ``fn`` itself raised on the worker: the executor contract passes it on
        # Cancelled (nobody else cancels our futures) or the result could not be fetched:
        # the client lost its scheduler.
        raise DaskRunBroken(
            f"lost the Dask scheduler at {address} ({type(e).__name__}); restart it and its workers"
        ) from None


class _Slots:
    """How many chunks to keep in flight, and whether the cluster still has any worker."""

    def __init__(self, client: Client, per_thread: int, no_workers_timeout: float | None):
        self.client = client
        self.per_thread = per_thread
        self.no_workers_timeout = no_workers_timeout
        self.threads = 0
        self.checked = -float("inf")
        self.empty_since: float | None = None
        self.warned = False

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self.checked < _REFRESH:
            return
        self.checked = now
        try:
            self.threads = sum(self.client.nthreads().values())
        except Exception as e:
            raise DaskRunBroken(f"lost the Dask scheduler ({_one_line(e)})") from None
        if self.threads:
            self.empty_since = None
            return
        if self.empty_since is None:
            self.empty_since = now
        if not self.warned:
            self.warned = True
            log.warning(
                "the Dask cluster at %s has no workers; waiting for some to join (start them "
                "with: dask worker %s)",
                self.client.scheduler.address,
                self.client.scheduler.address,
            )
        if self.no_workers_timeout is not None and now - self.empty_since > self.no_workers_timeout:
            raise DaskRunBroken(
                f"the Dask cluster at {self.client.scheduler.address} has had no workers for "
                f"{self.no_workers_timeout:g} s"
            )

    def limit(self) -> int:
        """Chunks to keep in flight: ``per_thread`` per worker thread, at least one."""
        self._refresh()
        return max(1, self.per_thread * self.threads)

    def check_alive(self) -> None:
        """Raise :class:`DaskRunBroken` after too long without any worker."""
        self._refresh()


# ----------------------------------------------------------------------------- CLI helpers


def add_dask_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--scheduler tcp://HOST:PORT`` and ``--dask-local N`` (one or the other).

    Values are kept as given (strings); :func:`executor_from_options` checks them, so that a
    bad value ends in the CLI's usual one-line message.
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the chunks on the Dask cluster with this scheduler (see docs/cluster.md); "
        "results are identical to a local run",
    )
    group.add_argument(
        "--dask-local",
        metavar="N",
        help="run the chunks on a Dask cluster of N worker processes started on this machine "
        "for the run (prints its dashboard address)",
    )


@contextlib.contextmanager
def executor_from_options(
    scheduler: str | None, dask_local: int | str | None
) -> Iterator[DaskExecutor | None]:
    """The Dask executor the options ask for, closed (and its cluster stopped) on exit.

    Yields ``None`` when neither option is given, without importing Dask: the caller then
    uses the local runner as usual.

    Args:
        scheduler: Scheduler address (``--scheduler``), or ``None``.
        dask_local: Number of local workers (``--dask-local``, as text or int), or ``None``.

    Raises:
        UserError: both options, a bad number, an unreachable scheduler, Dask not installed.
    """
    if scheduler is not None and dask_local is not None:
        raise UserError("give either --scheduler or --dask-local, not both")
    if scheduler is not None:
        with DaskExecutor(scheduler) as ex:
            yield ex
    elif dask_local is not None:
        with local_cluster(_whole(dask_local, "--dask-local")) as client:
            yield DaskExecutor(client)
    else:
        yield None


def _whole(value: int | str, option: str) -> int:
    try:
        n = int(str(value).replace("_", "").replace(",", ""))
    except ValueError:
        raise UserError(f"{option} must be a whole number, got {value!r}") from None
    if n < 1:
        raise UserError(f"{option} must be >= 1, got {n}")
    return n
