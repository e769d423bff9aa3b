"""Dask executor: a real scheduler and real workers give the same files as a local run.

Every test here starts real processes (``dask scheduler``, ``dask worker`` or a
``LocalCluster``) on 127.0.0.1 and runs the real model; nothing is faked. Workers run with
``--no-nanny``, so that killing a worker's process really loses the worker (a nanny would
restart it). Every process is started in its own session and killed with its process group by
a fixture finalizer, whether the test passes or not; as a last resort, an orphaned scheduler
stops itself after ``--idle-timeout`` and its workers after ``--death-timeout``.

Select them with ``pytest -m dask``; they also run in the default ``make test``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")

from distributed import Client

from sim import api
from sim.errors import UserError
from sim.runner.dask_executor import (
    DaskExecutor,
    add_dask_options,
    connect,
    executor_from_options,
    local_cluster,
)
from sim.runner.engine import WorkerCrashed, resume_run, start_run
from sim.runner.manifest import RunSpec
from sim.runner.options import ExecutionOptions
from sim.runner.store import read_manifest
from sim.scenario.loader import load_scenario

pytestmark = [pytest.mark.dask, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "staged_provocation.yaml"
SEED = 20240708
REPLICATES = 6_000
CHUNK = 300  # 20 chunks: enough to kill something partway through
FINAL_FILES = (
    "outcomes.parquet",
    "ladder_occupancy.parquet",
    "alignment_occupancy.parquet",
    "summary.csv",
)
BIN = Path(sys.executable).parent
CONNECT_LIMIT = 15.0  # seconds: the functional limit for giving up on a scheduler


def make_spec() -> RunSpec:
    """The run every test makes: the same spec the CLI builds for these options."""
    scenario = load_scenario(SCENARIO)
    return RunSpec(
        scenario=scenario.model_dump(mode="json", by_alias=True),
        seed=SEED,
        replicates=REPLICATES,
        chunk_size=CHUNK,
        charts=False,
        source=str(SCENARIO),
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run in this process (the local runner, one worker): what Dask must match."""
    folder = tmp_path_factory.mktemp("local") / "run"
    start_run(make_spec(), folder, ExecutionOptions(workers=1))
    return folder


def assert_same_results(folder: Path, reference: Path) -> None:
    """The final files are byte-for-byte those of the reference run."""
    assert read_manifest(folder).status == "complete"
    for name in FINAL_FILES:
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name


# ----------------------------------------------------------------------------- real clusters


@dataclass
class Cluster:
    """A scheduler and workers running as separate processes on 127.0.0.1."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    client: Client
    logs: Path

    def worker_address(self, proc: subprocess.Popen[bytes]) -> str:
        """The address of the worker running in ``proc`` (looked up by process id)."""
        pids = self.client.run(os.getpid)
        return next(addr for addr, pid in pids.items() if pid == proc.pid)


@dataclass
class Processes:
    """Processes and clients a test started, all stopped by the fixture's finalizer."""

    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)

    def spawn(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BIN / "dask"), *args],
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own session: killing the group never reaches pytest, and catches any child.
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def start_cluster(self, n_workers: int = 2) -> Cluster:
        """``dask scheduler`` + ``n_workers`` x ``dask worker --nthreads 1 --no-nanny``."""
        tag = len(self.procs)
        info = self.tmp / f"scheduler-{tag}.json"
        # Port 0 everywhere: the OS picks free ports, so concurrent test runs never collide.
        # The HTTP (dashboard) servers start even without bokeh; keep them on loopback too.
        scheduler = self.spawn(
            "scheduler",
            "--host=127.0.0.1",
            "--port=0",
            "--dashboard-address=127.0.0.1:0",
            f"--scheduler-file={info}",
            "--idle-timeout=120",
            name=f"scheduler-{tag}",
        )
        deadline = time.monotonic() + 30
        address = None
        while address is None:
            if scheduler.poll() is not None or time.monotonic() > deadline:
                log = (self.tmp / f"scheduler-{tag}.log").read_text(errors="replace")
                pytest.fail(f"dask scheduler did not start:\n{log[-2000:]}")
            time.sleep(0.05)
            try:  # the scheduler writes the file in place: it may be empty or half-written
                address = json.loads(info.read_text())["address"]
            except (OSError, ValueError, KeyError):
                address = None
        workers = [
            self.spawn(
                "worker",
                address,
                "--nthreads=1",
                "--no-nanny",
                "--host=127.0.0.1",
                "--dashboard-address=127.0.0.1:0",
                f"--local-directory={self.tmp / f'worker-{tag}-{i}'}",
                "--death-timeout=60",
                name=f"worker-{tag}-{i}",
            )
            for i in range(n_workers)
        ]
        client = connect(address)
        self.clients.append(client)
        if n_workers:
            client.wait_for_workers(n_workers, timeout=60)
        return Cluster(address, scheduler, workers, client, self.tmp)

    def stop(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.close(timeout=5)
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Start clusters with ``processes.start_cluster()``; all are killed afterwards."""
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop()


def when_chunks_done(
    folder: Path, n: int, action: Callable[[], bool], fired: threading.Event
) -> threading.Thread:
    """Call ``action`` once ``n`` chunk files exist in ``folder`` (and again until it is True).

    The engine writes each chunk's files when its result arrives, so this watches the run's
    progress from outside, the way a user would see it.
    """

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = len(list((folder / "chunks").glob("chunk-*")))
            if done >= n and action():
                fired.set()
                return
            time.sleep(0.005)

    thread = threading.Thread(target=watch, name="chunk-watch", daemon=True)
    thread.start()
    return thread


# ----------------------------------------------------------------------------- tests


def test_cluster_run_matches_local_run(processes: Processes, reference: Path, tmp_path: Path):
    cluster = processes.start_cluster(2)
    folder = tmp_path / "dask"
    report = start_run(make_spec(), folder, ExecutionOptions(executor=DaskExecutor(cluster.client)))
    assert_same_results(folder, reference)
    assert report.computed == REPLICATES
    assert report.manifest.execution is not None
    assert report.manifest.execution.model_dump() == {"executor": "dask", "workers": 2}
    # Both workers took part: each has imported the chunk function to run it.
    ran = cluster.client.run(lambda: "sim.runner.chunks" in sys.modules)
    assert list(ran.values()) == [True, True]


def test_killed_worker_loses_time_not_results(
    processes: Processes, reference: Path, tmp_path: Path
):
    cluster = processes.start_cluster(2)
    victim = cluster.workers[0]
    victim_address = cluster.worker_address(victim)
    folder = tmp_path / "dask"
    held: list[tuple[str, ...]] = []

    def kill_while_busy() -> bool:
        # Kill only while the victim is running a chunk, so that chunk must be recomputed.
        busy = cluster.client.processing(workers=[victim_address]).get(victim_address, ())
        if not busy:
            return False
        held.append(tuple(busy))
        os.killpg(victim.pid, signal.SIGKILL)
        return True

    killed = threading.Event()
    watcher = when_chunks_done(folder, 3, kill_while_busy, killed)
    start_run(make_spec(), folder, ExecutionOptions(executor=DaskExecutor(cluster.client)))
    watcher.join(timeout=5)
    assert killed.is_set(), "the run finished before a worker could be killed"
    assert held and held[0], "the killed worker was running no chunk"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert len(cluster.client.nthreads()) == 1
    assert_same_results(folder, reference)


def test_lost_scheduler_stops_resumably_and_resume_on_new_cluster_matches(
    processes: Processes, reference: Path, tmp_path: Path
):
    first = processes.start_cluster(2)
    folder = tmp_path / "dask"

    def kill_scheduler() -> bool:
        os.killpg(first.scheduler.pid, signal.SIGKILL)
        return True

    killed = threading.Event()
    when_chunks_done(folder, 3, kill_scheduler, killed)
    t0 = time.monotonic()
    with pytest.raises(WorkerCrashed) as err:
        start_run(make_spec(), folder, ExecutionOptions(executor=DaskExecutor(first.client)))
    assert killed.is_set()
    assert time.monotonic() - t0 < 60
    message = str(err.value)
    assert "\n" not in message and "Dask scheduler" in message and "--resume" in message
    manifest = read_manifest(folder)
    assert manifest.status == "interrupted"
    done = [c for c in manifest.chunks if c.status == "done"]
    assert 3 <= len(done) < REPLICATES // CHUNK

    second = processes.start_cluster(2)
    report = resume_run(folder, ExecutionOptions(executor=DaskExecutor(second.client)))
    assert report.computed == REPLICATES - sum(c.stop - c.start for c in done)
    assert_same_results(folder, reference)


def free_port() -> int:
    """A port nothing listens on (bound, then released, by the OS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dies_on_replicate_13(scenario, seed, replicate_ids, parameters=None):
    """The project's model, except that the process running replicate 13 dies (like an OOM kill).

    Only ever run on Dask workers: in the test process it would end pytest.
    """
    from sim.model import run_replicates

    if 13 in {int(i) for i in replicate_ids}:
        os._exit(1)
    return run_replicates(scenario, seed, replicate_ids, parameters)


def test_chunk_that_keeps_killing_workers_stops_resumably(tmp_path: Path):
    # The worker processes of a LocalCluster import this module by name (they start with the
    # test process's sys.path), so the model above runs there.
    spec = make_spec().model_copy(
        update={"replicates": 2 * CHUNK, "model": f"{__name__}:dies_on_replicate_13"}
    )
    folder = tmp_path / "poison"
    with (
        local_cluster(1, announce=False, allowed_failures=1) as client,
        pytest.raises(WorkerCrashed) as err,
    ):
        start_run(spec, folder, ExecutionOptions(executor=DaskExecutor(client)))
    message = str(err.value)
    assert "\n" not in message
    # Chunk 1 may be named instead: it can sit queued on the same dying worker.
    assert re.search(r"workers kept dying while chunk [01], replicates (0-299|300-599),", message)
    assert "--resume" in message
    manifest = read_manifest(folder)
    assert manifest.status == "interrupted"
    assert manifest.chunks[0].status != "done"


def test_cluster_without_workers_gives_up_after_timeout(
    processes: Processes, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    cluster = processes.start_cluster(0)
    folder = tmp_path / "idle"
    t0 = time.monotonic()
    with pytest.raises(WorkerCrashed, match="has had no workers for 2 s"):
        start_run(
            make_spec(),
            folder,
            ExecutionOptions(executor=DaskExecutor(cluster.client, no_workers_timeout=2)),
        )
    assert 2 <= time.monotonic() - t0 < 30
    assert "has no workers; waiting for some to join" in caplog.text
    assert read_manifest(folder).status == "interrupted"


def test_unreachable_scheduler_is_a_one_line_error_within_15_s(capfd: pytest.CaptureFixture):
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    with pytest.raises(UserError) as err:
        DaskExecutor(address)
    elapsed = time.monotonic() - t0
    gc.collect()  # a half-built Client would complain here, on stderr, while being collected
    message = str(err.value)
    assert elapsed < CONNECT_LIMIT, f"took {elapsed:.1f} s"
    assert "\n" not in message
    assert message.startswith(f"cannot reach Dask scheduler at {address}")
    assert "dask scheduler" in message
    assert "Traceback" not in capfd.readouterr().err


def test_addresses_that_are_not_schedulers_are_one_line_errors():
    with pytest.raises(UserError, match=r"^bad Dask scheduler address 'http://127\.0\.0\.1:8787'"):
        connect("http://127.0.0.1:8787")
    with pytest.raises(UserError, match=r"^bad Dask scheduler address '127\.0\.0\.1'"):
        connect("127.0.0.1")

    # A server that answers in another protocol (as a dashboard or web server would).
    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer_http() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n")

        threading.Thread(target=answer_http, daemon=True).start()
        port = server.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(UserError) as err:
            connect(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - t0 < CONNECT_LIMIT
    assert "\n" not in str(err.value)
    assert "not as a Dask scheduler" in str(err.value)


def test_dask_local_cluster_matches_and_is_closed(
    reference: Path, tmp_path: Path, capfd: pytest.CaptureFixture
):
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    folder = tmp_path / "dask-local"
    with executor_from_options(None, "2") as ex:
        assert isinstance(ex, DaskExecutor)
        assert ex.workers == 2
        address = ex.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        workers = set(ex.client.run(os.getpid).values())
        assert workers.isdisjoint(before) and len(workers) == 2
        start_run(make_spec(), folder, ExecutionOptions(executor=ex))
        # A parameter design runs on the cluster like any run, with the local run's rows.
        from sim.scenario.parameters import uncertain_parameters

        names = list(uncertain_parameters(load_scenario(SCENARIO)))[:2]
        design = api.Design(pd.DataFrame([[0.3, 0.35], [0.6, 0.45]], columns=names), 25)
        on_dask = api.run_design(SCENARIO, design, seed=SEED, options=ExecutionOptions(executor=ex))
        local = api.run_design(SCENARIO, design, seed=SEED, workers=1)
        pd.testing.assert_frame_equal(on_dask.outcomes, local.outcomes)
    assert_same_results(folder, reference)
    assert "Dask local cluster: 2 workers, dashboard:" in capfd.readouterr().err
    deadline = time.monotonic() + 10
    while workers & {p.pid for p in psutil.Process().children(recursive=True)}:
        assert time.monotonic() < deadline, "local cluster workers outlived the run"
        time.sleep(0.1)


def test_options_without_dask_do_not_import_dask():
    # The default (no --scheduler, no --dask-local) must not pay for importing Dask.
    code = (
        "import sys\n"
        "import sim.cli, sim.runner.engine\n"
        "sim.cli.build_parser()\n"
        "from sim.runner.dask_executor import executor_from_options\n"
        "with executor_from_options(None, None) as ex:\n"
        "    assert ex is None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_option_helpers_parse_and_refuse_bad_values(capsys: pytest.CaptureFixture):
    import argparse

    parser = argparse.ArgumentParser(prog="escalation run")
    add_dask_options(parser)
    args = parser.parse_args(["--scheduler", "tcp://10.0.0.5:8786"])
    assert (args.scheduler, args.dask_local) == ("tcp://10.0.0.5:8786", None)
    args = parser.parse_args(["--dask-local", "3"])
    assert (args.scheduler, args.dask_local) == (None, "3")
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--scheduler", "tcp://x:1", "--dask-local", "2"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err

    for scheduler, local, message in [
        ("tcp://x:1", "2", "either --scheduler or --dask-local"),
        (None, "0", "--dask-local must be >= 1"),
        (None, "two", "--dask-local must be a whole number"),
    ]:
        with pytest.raises(UserError, match=message), executor_from_options(scheduler, local):
            pass


# ----------------------------------------------------------------------------- CLI and API


def test_cli_and_api_runs_on_cluster_match_local_run(
    escalation, processes: Processes, reference: Path, tmp_path: Path
):
    cluster = processes.start_cluster(2)
    folder = tmp_path / "cli"
    # Replicates and chunks as in make_spec(); charts off like the reference run.
    out = escalation(
        "run",
        str(SCENARIO),
        *("-n", str(REPLICATES), "--seed", str(SEED), "--chunk-size", str(CHUNK)),
        *("--no-charts", "--quiet", "-o", str(folder), "--scheduler", cluster.address),
    )
    assert out.returncode == 0, out.stderr
    assert_same_results(folder, reference)
    assert read_manifest(folder).execution.executor == "dask"  # type: ignore[union-attr]

    api_folder = tmp_path / "api"
    result = api.run(
        SCENARIO,
        replicates=REPLICATES,
        seed=SEED,
        chunk_size=CHUNK,
        out=api_folder,
        charts=False,
        scheduler=cluster.address,
    )
    assert result.manifest.execution.executor == "dask"  # type: ignore[union-attr]
    assert_same_results(api_folder, reference)


def test_cli_unreachable_scheduler_exits_2_with_one_line(escalation, tmp_path: Path):
    address = f"tcp://127.0.0.1:{free_port()}"
    folder = tmp_path / "never"
    t0 = time.monotonic()
    out = escalation("run", str(SCENARIO), "-n", "100", "-o", str(folder), "--scheduler", address)
    elapsed = time.monotonic() - t0
    assert out.returncode == 2, out.stderr
    assert elapsed < CONNECT_LIMIT, f"took {elapsed:.1f} s"
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert address in lines[0] and "dask scheduler" in lines[0]
    assert "Traceback" not in out.stderr
    assert not folder.exists()  # nothing made before the scheduler was found
