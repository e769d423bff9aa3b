"""Time ``escalation calibrate`` with its default settings, locally and on Dask.

    .venv/bin/python bench/bench_calibrate.py [--dask-local 2] [--quick]

Prints the wall time of each run, its generations (tolerance, acceptance, candidates
simulated) and whether the posteriors of the local and the Dask run are identical. Record the
figures in bench/README.md with the date and the load average; nothing here asserts a timing.
Target (issue 10): under 30 minutes on 2 cores with the default settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.calibration.abc import Settings  # noqa: E402
from sim.calibration.fit import calibrate  # noqa: E402
from sim.runner.options import ExecutionOptions  # noqa: E402


def one(options: ExecutionOptions, settings: Settings, label: str) -> np.ndarray:
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        f = calibrate(settings=settings, options=options, out=Path(tmp) / "c")
    wall = time.perf_counter() - t0
    sims = sum(g.simulated for g in f.posterior.generations)
    print(
        f"{label}: {wall:.0f} s wall (load {load:.1f} at start), {len(f.posterior.generations)} "
        f"generations, {sims:,} candidates x {settings.replicates} disputes = "
        f"{sims * settings.replicates:,} simulated disputes; stopped: {f.posterior.stopped}"
    )
    for g in f.posterior.generations:
        print(
            f"  generation {g.index}: tolerance {g.tolerance:.2f}, accepted {g.accepted} of "
            f"{g.simulated} ({g.acceptance:.0%}), {g.seconds:.0f} s"
        )
    return f.posterior.theta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dask-local", type=int, default=0, help="also run on N local Dask workers")
    ap.add_argument("--quick", action="store_true", help="small settings (a smoke test)")
    args = ap.parse_args()
    settings = (
        Settings(particles=40, generations=3, replicates=40, batch=80) if args.quick else Settings()
    )
    local = one(ExecutionOptions(workers=2), settings, "process pool, 2 workers")
    if args.dask_local:
        dask = one(ExecutionOptions(dask_local=args.dask_local), settings,
                   f"Dask, {args.dask_local} local workers")  # fmt: skip
        print(f"identical posterior on Dask: {np.array_equal(local, dask)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
