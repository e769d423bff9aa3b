"""Benchmark the second-edition model with 2, 6 and 7 actors.

    .venv/bin/python bench/bench_actors.py [--quick] [--workers-run | --only-workers-run]

Prints, per scenario (the rival dyad: 2 actors; staged provocation: 6; Suwalki: 7):

- ensemble throughput in this process (one EscalationModel stepping R worlds as arrays) at
  10,000 and 100,000 replicates, in actor-decisions per second of CPU time and of wall time
  (actor-decisions = replicates x actors x days);
- the same model one world at a time (``replicate_ids=[k]``, as ``mesa.batch_run`` runs it),
  timed on 200 worlds, and the ratio per world at 10,000 replicates;
- with ``--workers-run``: ``escalation run`` end to end with 2 workers at 1,000,000 replicates
  of the 6-actor scenario (wall time, actor-decisions/s, the CPU time of each process of the
  run and the load average before and after).

Record the figures in bench/README.md with the date, the machine and its load (the 2-core
machine here is shared; CPU time is the steadier figure). Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model import EscalationModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

CASES = (
    ("calibration/rival_dyad.yaml", 2),
    ("staged_provocation.yaml", 6),
    ("suwalki.yaml", 7),
)


def ensemble(path: Path, n: int) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and actor-decisions of one ensemble of n worlds."""
    s = load_scenario(path)
    c0, w0 = time.process_time(), time.perf_counter()
    m = EscalationModel(s, seed=1, replicates=n, collect=False).run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return cpu, wall, n * len(s.actors) * m.day


def one_at_a_time(path: Path, worlds: int) -> float:
    """Wall seconds per world, each world its own model."""
    s = load_scenario(path)
    w0 = time.perf_counter()
    for k in range(worlds):
        EscalationModel(s, seed=1, replicate_ids=[k], collect=False).run()
    return (time.perf_counter() - w0) / worlds


def tree_cpu(proc: subprocess.Popen) -> list[float]:
    """Wait for ``proc``; the CPU seconds of it and of every process it started, each.

    Pool workers are not this process's children, so their time never reaches
    ``getrusage``: the tree is polled instead (each figure is the last reading, at most 0.2 s
    before that process ended). On a shared machine this is the steadier figure.
    """
    import psutil

    root = psutil.Process(proc.pid)
    seen: dict[int, float] = {}
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                t = p.cpu_times()
                seen[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        time.sleep(0.2)
    return list(seen.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    ap.add_argument("--workers-run", action="store_true", help="also 1M replicates, 2 workers")
    ap.add_argument("--only-workers-run", action="store_true", help="the 1M run alone")
    args = ap.parse_args()
    args.workers_run |= args.only_workers_run
    sizes = (2_000,) if args.quick else (10_000, 100_000)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| scenario | actors | replicates | M actor-decisions/s (CPU) | (wall) | x one world |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for rel, actors in () if args.only_workers_run else CASES:
        path = ROOT / "scenarios" / rel
        single = one_at_a_time(path, 20 if args.quick else 200)
        for n in sizes:
            cpu, wall, work = ensemble(path, n)
            ratio = f"{single / (wall / n):.0f}x" if n == sizes[0] else ""
            print(
                f"| {rel} | {actors} | {n:,} | {work / cpu / 1e6:.2f} | {work / wall / 1e6:.2f} "
                f"| {ratio} |",
                flush=True,
            )
    if args.workers_run:
        exe = shutil.which("escalation") or str(Path(sys.executable).with_name("escalation"))
        with tempfile.TemporaryDirectory() as tmp:
            n = 1_000_000
            print(f"load average before the 1M run: {os.getloadavg()[0]:.1f}", flush=True)
            w0 = time.perf_counter()
            proc = subprocess.Popen(
                [exe, "run", str(ROOT / "scenarios/staged_provocation.yaml"), "-n", str(n),
                 "--workers", "2", "--quiet", "--no-charts", "--yes", "-o", f"{tmp}/r"],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            cpu = tree_cpu(proc)
            wall = time.perf_counter() - w0
            if proc.returncode:
                raise SystemExit(f"escalation run failed ({proc.returncode})")
            print(
                f"escalation run, 1,000,000 replicates, 2 workers: {wall:.0f} s wall, "
                f"{n * 6 * 60 / wall / 1e6:.2f} M actor-decisions/s; CPU s by process: "
                f"{' + '.join(f'{c:.0f}' for c in sorted(cpu, reverse=True) if c >= 0.5)}; "
                f"load average after: {os.getloadavg()[0]:.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
