"""One-at-a-time screen: which numbers of a scenario move its headline outcomes, and how.

For every parameter (uncertain ones between their 5% and 95% quantiles, fixed ones from half to
one and a half times their value, within their schema bounds), run the scenario at the low and
the high value on common random numbers and record the change of each headline outcome. The
output is a Markdown table of the largest moves per outcome (docs/MODEL.md, "What drives the
headline outcomes"). A quick screen, not a sensitivity analysis: ``escalation sensitivity``
does that properly (Morris, Sobol, intervals).

    python tools/screen.py scenarios/combined.yaml [-n 1000] [--top 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model import run_replicates  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.scenario.distributions import is_uncertain, sample  # noqa: E402
from sim.scenario.parameters import declared_parameters  # noqa: E402
from sim.scenario.schema import annotation_at, field_bounds  # noqa: E402

HEADLINE = ("armed_incident", "china_escalates", "blockade", "article5", "fatal")


def _range(path: str, p, value: float) -> tuple[float, float] | None:
    if is_uncertain(p):
        # The 5% and 95% quantiles: a beta(1, 1000) rate's support is 0..1, its plausible
        # range is not.
        lo, hi = sample(p, np.array([0.05, 0.95]))
        return (float(lo), float(hi)) if hi > lo else None
    if value == 0:
        return None
    lo, hi = sorted((0.5 * value, 1.5 * value))
    b = field_bounds(annotation_at(tuple(int(x) if x.isdigit() else x for x in path.split("."))))
    lo = max(lo, b.get("ge", b.get("gt", -np.inf) + 1e-9))
    hi = min(hi, b.get("le", b.get("lt", np.inf) - 1e-9))
    return (lo, hi) if hi > lo else None


def screen(path: Path, n: int) -> list[tuple[str, str, float, float, float]]:
    """(parameter, outcome, low value, high value, change high - low) for every pair."""
    s = load_scenario(path)
    ids = np.arange(n)
    seed = 20240708
    base = run_replicates(s, seed, ids).outcomes
    outcomes = [o for o in HEADLINE if o in base.columns]
    rows = []
    for name, p in declared_parameters(s).items():
        value = float(p) if not is_uncertain(p) else float("nan")
        r = _range(name, p, value)
        if r is None:
            continue
        lo = run_replicates(s, seed, ids, parameters={name: r[0]}).outcomes
        hi = run_replicates(s, seed, ids, parameters={name: r[1]}).outcomes
        for o in outcomes:
            rows.append((name, o, r[0], r[1], float(hi[o].mean() - lo[o].mean())))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    rows = screen(args.scenario, args.n)
    print(f"### {args.scenario.name} ({args.n} replicates per run, common random numbers)\n")
    print("| outcome | parameter | range | change |")
    print("| --- | --- | --- | --- |")
    for o in HEADLINE:
        mine = sorted((r for r in rows if r[1] == o), key=lambda r: -abs(r[4]))[: args.top]
        for name, _, lo, hi, d in mine:
            if abs(d) > 0:
                print(f"| {o} | `{name}` | {lo:.3g} .. {hi:.3g} | {d:+.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
