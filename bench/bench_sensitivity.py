"""Sensitivity benchmarks: Morris screening of every number, Sobol over every uncertainty.

Prints figures (never asserts):

* ``morris``: Morris over every number in staged_provocation (uncertain parameters and, with
  ``--screen-fixed 20%``, every fixed number), and how stable the top-10 ranking of each
  headline outcome is between N/2 and N trajectories. Target: under 5 minutes on 2 cores.
* ``sobol``: Sobol first and total order over every uncertain parameter of combined, and the
  widest interval half-width relative to the largest total index. Target: half-widths at most
  about a tenth of the larger indices, under 15 minutes on 2 cores.

Usage::

    python bench/bench_sensitivity.py morris [-N 40] [-k 50] [--workers 2]
    python bench/bench_sensitivity.py sobol [-N 1024] [-k 32] [--workers 2]
    python bench/bench_sensitivity.py sobol --dask-local 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import sim
from sim.analysis.sensitivity import ranking_stability

REPO = Path(__file__).resolve().parents[1]
HEADLINE = [
    "armed_incident",
    "staged_incident",
    "china_escalates",
    "blockade",
    "article4",
    "article5",
]


def _workers(args: argparse.Namespace) -> dict[str, object]:
    if args.dask_local:
        return {"dask_local": args.dask_local}
    return {"workers": args.workers}


def bench_morris(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    r = sim.sensitivity(
        REPO / "scenarios" / "staged_provocation.yaml",
        HEADLINE,
        method="morris",
        n=args.n or 40,
        replicates_per_point=args.k or 50,
        screen_fixed="20%",
        out=args.out,
        **_workers(args),
    )
    seconds = time.perf_counter() - t0
    info = r.info
    reps = info["points"] * info["replicates_per_point"]
    print(
        f"morris staged_provocation: {len(r.factors.factors)} factors "
        f"({sum(f.kind == 'uncertain' for f in r.factors.factors)} uncertain), "
        f"{len(r.factors.skipped)} zero numbers skipped, N={info['n']}, K="
        f"{info['replicates_per_point']}, {info['points']:,} points, {reps:,} replicates: "
        f"{seconds:.1f} s ({reps / seconds:,.0f} replicates/s), cpus={os.cpu_count()}"
    )
    for o in r.outcomes:
        conv = r.convergence[r.convergence["outcome"] == o]
        noise = r.noise[r.noise["outcome"] == o].iloc[0]
        top = r.top(o, 5)
        names = ", ".join(
            f"{f} ({v:.3f})" for f, v in zip(top["factor"], top["mu_star"], strict=True)
        )
        print(
            f"  {o}: mean {noise['mean']:.3f}, top-10 kept {ranking_stability(conv, 10):.0%} "
            f"between N/2 and N; chance {noise['noise_share']:.0%} of replicate variance, "
            f"{noise['noise_in_means']:.0%} of point means (split-half); top 5: {names}"
        )


def bench_sobol(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    r = sim.sensitivity(
        REPO / "scenarios" / "combined.yaml",
        HEADLINE,
        method="sobol",
        n=args.n or 1024,
        replicates_per_point=args.k or 32,
        out=args.out,
        **_workers(args),
    )
    seconds = time.perf_counter() - t0
    info = r.info
    reps = info["points"] * info["replicates_per_point"]
    print(
        f"sobol combined: {len(r.factors.factors)} uncertain parameters, N={info['n']}, "
        f"K={info['replicates_per_point']}, {info['points']:,} points, {reps:,} replicates: "
        f"{seconds:.1f} s ({reps / seconds:,.0f} replicates/s), cpus={os.cpu_count()}"
    )
    df = r.to_df()
    for o in r.outcomes:
        d = df[df["outcome"] == o]
        st_max = float(d["ST"].max())
        half = ((d["ST_ci_high"] - d["ST_ci_low"]) / 2).max()
        half1 = ((d["S1_ci_high"] - d["S1_ci_low"]) / 2).max()
        noise = r.noise[r.noise["outcome"] == o].iloc[0]
        top = d.nsmallest(3, "rank")
        names = ", ".join(
            f"{f} (ST {st:.2f}, S1 {s1:.2f})"
            for f, st, s1 in zip(top["factor"], top["ST"], top["S1"], strict=True)
        )
        ratio = half / st_max if st_max > 0 else float("nan")
        print(
            f"  {o}: mean {noise['mean']:.3f}; max ST {st_max:.3f}; widest half-width ST "
            f"{half:.3f}, S1 {half1:.3f} ({ratio:.2f} of max ST); noise in point means "
            f"{noise['noise_in_means']:.0%} (split-half); top: {names}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("which", choices=["morris", "sobol"])
    p.add_argument("-N", dest="n", type=int)
    p.add_argument("-k", type=int)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--dask-local", type=int)
    p.add_argument("--out", help="keep the folder here")
    args = p.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    (bench_morris if args.which == "morris" else bench_sobol)(args)


if __name__ == "__main__":
    main()
