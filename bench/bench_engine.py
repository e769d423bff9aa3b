"""Benchmark the engine: ensemble vs one world at a time, end-to-end runs, peak memory.

Run with ``make bench`` or ``.venv/bin/python bench/bench_engine.py [--quick]``. Prints a table
of figures; copy them into bench/README.md with the date and machine. Nothing here asserts a
timing: benchmarks measure, tests check behaviour.

Measures, on scenarios/staged_provocation.yaml:
  (a) the ensemble (one EscalationModel stepping R worlds as arrays), in this process, at 1,000,
      10,000 and 100,000 replicates: actor-decisions/s and replicate-days/s;
  (b) the same model one world at a time (replicate_ids=[k], as mesa.batch_run would run it)
      and the ratio (a)/(b);
  (c) ``escalation run`` end to end (chunks, parquet, summary, charts) at 10,000 and 100,000
      replicates with 1 and 2 workers;
  (d) peak memory (summed RSS of the run's process tree) at 100,000 and 1,000,000 replicates;
  (e) with ``--safety``: what the fault checks cost - the work-limit pilot, verifying a folder's
      files against their manifest records (SHA-256) when loading and resuming, and the lock.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "staged_provocation.yaml"
ESCALATION = shutil.which("escalation") or str(Path(sys.executable).with_name("escalation"))


def ensemble(scenario, n: int, seed: int = 1) -> tuple[float, int]:
    """Seconds to run n worlds in one ensemble, and the days stepped."""
    from sim.model import EscalationModel

    t = time.perf_counter()
    m = EscalationModel(scenario, seed=seed, replicates=n, collect=False).run()
    return time.perf_counter() - t, m.day


def one_at_a_time(scenario, n: int, seed: int = 1) -> tuple[float, int]:
    """Seconds to run n worlds as n single-world models (what batch_run would do)."""
    from sim.model import EscalationModel

    days = 0
    t = time.perf_counter()
    for k in range(n):
        m = EscalationModel(scenario, seed=seed, replicate_ids=[k], collect=False).run()
        days += m.day
    return time.perf_counter() - t, days


def run_cli(n: int, workers: int, charts: bool = True) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, whole process tree) of one ``escalation run``."""
    out = Path(tempfile.mkdtemp(prefix="bench-"))
    cmd = [
        ESCALATION,
        "run",
        str(SCENARIO),
        "-n",
        str(n),
        "--seed",
        "1",
        "--workers",
        str(workers),
        "-o",
        str(out / "run"),
        "--quiet",
    ]
    if not charts:
        cmd.append("--no-charts")
    peak = 0.0
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [ps, *ps.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree if p.is_running())
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    done.set()
    th.join()
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"escalation run failed ({proc.returncode}): {err.decode()[-500:]}")
    return wall, peak


def safety(n: int) -> None:
    """(e): seconds spent on the pilot, on verification when loading/resuming, on the lock."""
    import pandas as pd

    from sim import api
    from sim.runner.engine import estimate_work
    from sim.runner.manifest import RunSpec
    from sim.runner.options import ExecutionOptions
    from sim.runner.store import folder_lock, read_manifest, verify_file
    from sim.scenario import load_scenario

    tree = load_scenario(SCENARIO).model_dump(mode="json", by_alias=True)
    spec = RunSpec(scenario=tree, seed=1, replicates=n)
    print(f"(e) fault checks, {n:,} replicates, {SCENARIO.name}")
    with tempfile.TemporaryDirectory(prefix="bench-safety-") as tmp:
        folder = Path(tmp) / "run"
        t0 = time.perf_counter()
        est = estimate_work(spec, folder, ExecutionOptions())
        pilot = time.perf_counter() - t0
        print(
            f"    work-limit pilot: {pilot:.2f} s (estimate {est.seconds:.1f} s, "
            f"{est.disk_bytes / 1e6:.1f} MB on {est.workers} workers)"
        )
        t0 = time.perf_counter()
        api.run(SCENARIO, replicates=n, seed=1, out=folder, charts=False, workers=2, yes=True)
        run_s = time.perf_counter() - t0
        print(f"    the run itself: {run_s:.2f} s")
        m = read_manifest(folder)
        records = [*m.outputs, *(r for c in m.chunks for r in c.files)]
        size = sum(r.bytes for r in records)
        t0 = time.perf_counter()
        for r in records:
            verify_file(folder, r)
        check = time.perf_counter() - t0
        print(
            f"    verifying every file ({len(records)} files, {size / 1e6:.1f} MB): {check:.3f} s"
        )
        t0 = time.perf_counter()
        api.load_run(folder)
        load_checked = time.perf_counter() - t0
        t0 = time.perf_counter()
        pd.read_parquet(folder / "outcomes.parquet")
        pd.read_csv(folder / "summary.csv")
        pd.read_parquet(folder / "ladder_occupancy.parquet")
        pd.read_parquet(folder / "alignment_occupancy.parquet")
        load_raw = time.perf_counter() - t0
        print(f"    load_run (verified): {load_checked:.3f} s; the same files unverified: "
              f"{load_raw:.3f} s")  # fmt: skip
        t0 = time.perf_counter()
        api.resume(folder)
        print(f"    --resume of the complete folder (verifies, then nothing to do): "
              f"{time.perf_counter() - t0:.3f} s")  # fmt: skip
        t0 = time.perf_counter()
        for _ in range(100):
            with folder_lock(folder):
                pass
        print(f"    take and release the folder lock: {(time.perf_counter() - t0) * 10:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    ap.add_argument("--safety", action="store_true", help="only (e): the fault checks' costs")
    args = ap.parse_args()
    if args.safety:
        safety(100_000 if not args.quick else 20_000)
        return
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"numpy {np.__version__}; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"scenario: {SCENARIO.name} (6 actors, horizon {scenario.horizon_days} days)\n")

    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    print("(a) ensemble, one process")
    rate = {}
    for n in sizes:
        ensemble(scenario, min(n, 1000))  # warm caches and imports
        secs, days = ensemble(scenario, n)
        rate[n] = n * days * 6 / secs
        print(
            f"    R={n:>7,}: {secs:7.2f} s  {rate[n] / 1e6:6.2f} M actor-decisions/s  "
            f"{n * days / secs / 1e6:6.3f} M replicate-days/s"
        )

    single_n = 100 if args.quick else 300
    secs, days = one_at_a_time(scenario, single_n)
    single = days * 6 / secs
    print(
        f"\n(b) one world at a time ({single_n} worlds): {secs:.2f} s  "
        f"{single / 1e6:.4f} M actor-decisions/s"
    )
    print(f"    ratio ensemble(10,000) / one-at-a-time: {rate[10_000] / single:,.0f}x")

    print("\n(c) escalation run end to end (writes and charts included)")
    e2e = {}
    for n in [10_000] if args.quick else [10_000, 100_000]:
        for w in (1, 2):
            wall, peak = run_cli(n, w)
            e2e[(n, w)] = wall
            print(
                f"    n={n:>7,} workers={w}: {wall:7.2f} s  "
                f"{n * scenario.horizon_days * 6 / wall / 1e6:6.2f} M actor-decisions/s "
                f"(upper bound: worlds that end early step fewer days)  peak {peak:,.0f} MiB"
            )
    if not args.quick:
        print(f"    cost 100,000 / 10,000 (2 workers): {e2e[(100_000, 2)] / e2e[(10_000, 2)]:.1f}x")
        print(
            f"    speed-up 2 workers / 1 at 100,000: {e2e[(100_000, 1)] / e2e[(100_000, 2)]:.2f}x"
        )
        # Start-up, merging and charts do not parallelise; at a million replicates they are a
        # small share of the run, so this is where the workers' speed-up shows.
        for w in (1, 2):
            wall, peak = run_cli(1_000_000, w)
            e2e[(1_000_000, w)] = wall
            rate = 1_000_000 * scenario.horizon_days * 6 / wall / 1e6
            print(f"    n=1,000,000 workers={w}: {wall:7.2f} s  {rate:6.2f} M actor-decisions/s")
        speedup = e2e[(1_000_000, 1)] / e2e[(1_000_000, 2)]
        print(f"    speed-up 2 workers / 1 at 1,000,000: {speedup:.2f}x")

    print("\n(d) peak memory of the whole process tree (2 workers, no charts)")
    for n in [100_000] if args.quick else [100_000, 1_000_000]:
        wall, peak = run_cli(n, 2, charts=False)
        print(
            f"    n={n:>9,}: {wall:7.2f} s  peak {peak:,.0f} MiB  "
            f"({n * scenario.horizon_days * 6 / wall / 1e6:.2f} M actor-decisions/s)"
        )


if __name__ == "__main__":
    main()
