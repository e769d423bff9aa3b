"""Benchmark the Dask executor against the local runners: replicates per second.

Run with ``.venv/bin/python bench/bench_dask.py [--quick] [--repeat K]``. Prints a table and
writes nothing else (runs go to a temporary folder that is removed). Nothing here asserts a
timing: benchmarks measure, tests check behaviour. Copy the figures into bench/README.md and
docs/cluster.md with the date, the machine and the load average printed at the top.

Measures full runs (``start_run``: chunks, chunk files, final parquet files and summary; charts
off) of scenarios/staged_provocation.yaml at 20,000 and 100,000 replicates in chunks of the
default size, with:

* ``in-process``: the local runner with one worker (no pool);
* ``pool x2``: the local process pool with two workers;
* ``dask x2``: a real ``dask scheduler`` and two ``dask worker --nthreads 1`` processes on
  127.0.0.1, already running and warmed up (the cluster's start-up is reported on its own);
* ``dask-local x2``: ``--dask-local 2``, a LocalCluster started and stopped for each run, so its
  start-up is included - what a one-off ``escalation run --dask-local 2`` costs.

Each configuration runs ``--repeat`` times (default 3), taking turns with the others, after
``--warmup`` unmeasured rounds (default 1); the table shows the median rate and the min-max
range, which says how noisy the machine was. The warm-up matters on virtual machines where the
first touch of fresh memory is slow (on the development VM, allocating 2 GiB took 0.6-4.9 s the
first time and 0.13 s once the memory had been used): without it, whichever runner goes first
pays for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "staged_provocation.yaml"
DASK = Path(sys.executable).with_name("dask")


@contextmanager
def dask_cluster(workdir: Path, n_workers: int = 2) -> Iterator[tuple[str, float]]:
    """A real scheduler and ``n_workers`` one-thread workers on 127.0.0.1.

    Yields the scheduler address and the seconds until every worker had joined.
    """
    from distributed import Client

    t0 = time.perf_counter()
    info = workdir / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(*args: str) -> None:
        procs.append(
            subprocess.Popen(
                [str(DASK), *args],
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # kill each with its process group, never ourselves
            )
        )

    try:
        spawn(
            "scheduler",
            "--host=127.0.0.1",
            "--port=0",
            "--dashboard-address=127.0.0.1:0",
            f"--scheduler-file={info}",
        )
        while not info.exists():
            if procs[0].poll() is not None:
                raise SystemExit("dask scheduler did not start")
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        for i in range(n_workers):
            spawn(
                "worker",
                address,
                "--nthreads=1",
                "--host=127.0.0.1",
                "--dashboard-address=127.0.0.1:0",
                f"--local-directory={workdir / f'worker-{i}'}",
            )
        with Client(address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(n_workers, timeout=60)
        yield address, time.perf_counter() - t0
    finally:
        for proc in procs:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs:
            proc.wait()


def client_cost(tree: dict[str, object], workdir: Path, rounds: int = 10) -> tuple[float, int]:
    """What this process does per finished chunk whichever runner computed it.

    Writes one real 5,000-replicate chunk's files and a manifest the way the engine does, and
    returns the median seconds per chunk and the chunk's size as pickled for transfer.
    """
    import pickle

    from sim.runner.chunks import ChunkTask, run_chunk, scenario_to_json
    from sim.runner.store import write_json, write_npy, write_parquet

    result = run_chunk(ChunkTask(0, 0, 5_000, 1, scenario_to_json(tree)))
    manifest = {"chunks": [{"index": i, "status": "done"} for i in range(200)]}
    secs = []
    for i in range(rounds):
        t0 = time.perf_counter()
        write_npy(workdir / f"occupancy-{i}.npy", result.occupancy)
        write_npy(workdir / f"alignment-{i}.npy", result.alignment_occupancy)
        write_parquet(workdir / f"chunk-{i}.parquet", result.outcomes)
        write_json(workdir / "manifest.json", manifest)
        secs.append(time.perf_counter() - t0)
    return statistics.median(secs), len(pickle.dumps(result, protocol=5))


def timed(run: Callable[[Path, int], object], n: int, workdir: Path) -> float:
    """Seconds for ``run(folder, n)`` into a fresh folder (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(dir=workdir)) / "run"
    t0 = time.perf_counter()
    run(folder, n)
    seconds = time.perf_counter() - t0
    shutil.rmtree(folder.parent, ignore_errors=True)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 replicates only, one repeat")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (default 3)")
    ap.add_argument(
        "--warmup", type=int, default=1, help="unmeasured rounds before the measured ones (1)"
    )
    args = ap.parse_args()
    repeat = 1 if args.quick else max(1, args.repeat)
    warmup = 0 if args.quick else max(0, args.warmup)
    sizes = [20_000] if args.quick else [20_000, 100_000]

    import psutil

    from sim.runner.dask_executor import DaskExecutor, local_cluster
    from sim.runner.engine import DEFAULT_CHUNK_SIZE, start_run
    from sim.runner.manifest import RunSpec
    from sim.runner.options import ExecutionOptions as Opts
    from sim.scenario.loader import load_scenario

    tree = load_scenario(SCENARIO).model_dump(mode="json", by_alias=True)
    load_before = os.getloadavg()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
        f"load average {load_before[0]:.2f} / {load_before[1]:.2f} (1 / 5 min)"
    )
    print(
        f"scenario: {SCENARIO.name}; chunks of {DEFAULT_CHUNK_SIZE:,}; charts off; "
        f"{repeat} measured run(s) per row after {warmup} unmeasured round(s)\n"
    )

    def spec(n: int) -> RunSpec:
        return RunSpec(scenario=tree, seed=1, replicates=n, chunk_size=DEFAULT_CHUNK_SIZE)

    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        work = Path(tmp)
        per_chunk, wire = client_cost(tree, work)
        print(
            f"client side, per 5,000-replicate chunk: {per_chunk * 1000:.0f} ms to write its "
            f"files; {wire / 2**20:.1f} MiB pickled result"
        )
        with dask_cluster(work) as (address, startup):
            print(f"dask scheduler + 2 workers up in {startup:.1f} s (not in the rates below)")
            with DaskExecutor(address) as dask_ex:
                # The first chunk on a fresh worker pays for importing the model (~1 s).
                on_dask = Opts(executor=dask_ex)
                cold = timed(lambda f, n: start_run(spec(n), f, on_dask), 10_000, work)
                print(f"first run on the fresh workers (10,000 replicates): {cold:.2f} s\n")

                def dask_local(folder: Path, n: int) -> None:
                    with local_cluster(2, announce=False) as client:
                        start_run(spec(n), folder, Opts(executor=DaskExecutor(client)))

                configs: list[tuple[str, Callable[[Path, int], object]]] = [
                    ("in-process", lambda f, n: start_run(spec(n), f, Opts(workers=1))),
                    ("pool x2", lambda f, n: start_run(spec(n), f, Opts(workers=2))),
                    ("dask x2", lambda f, n: start_run(spec(n), f, Opts(executor=dask_ex))),
                    ("dask-local x2", dask_local),
                ]
                print(f"{'replicates':>10}  {'runner':<14} {'rep/s':>8}  {'range':>17}  seconds")
                for n in sizes:
                    # Round robin over the runners, so that load from elsewhere on the machine
                    # falls on all of them alike rather than on whichever ran during it.
                    secs: dict[str, list[float]] = {name: [] for name, _ in configs}
                    for round_ in range(warmup + repeat):
                        for name, fn in configs:
                            seconds = timed(fn, n, work)
                            if round_ >= warmup:
                                secs[name].append(seconds)
                    for name, _ in configs:
                        rates = [n / s for s in secs[name]]
                        print(
                            f"{n:>10,}  {name:<14} {statistics.median(rates):>8,.0f}  "
                            f"{min(rates):>7,.0f} - {max(rates):>7,.0f}  "
                            f"{statistics.median(secs[name]):7.2f}",
                            flush=True,
                        )
    load_after = os.getloadavg()
    print(f"\nload average after: {load_after[0]:.2f} / {load_after[1]:.2f} (1 / 5 min)")


if __name__ == "__main__":
    main()
