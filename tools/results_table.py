"""The shipped scenarios' measured outcomes, as the Markdown table of docs/MODEL.md.

    python tools/results_table.py [-n 4000] [--seed 20240708]

Each scenario runs on the same seed and replicate ids (common random numbers); the table gives
shares of replicates (and the mean blockade length where there was one). These are the
consequences of the stated assumptions, not forecasts.
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

SHIPPED = (
    "baseline",
    "staged_provocation",
    "transit_blockade",
    "combined",
    "whatif_strong_disclosure",
    "whatif_china_exposed",
    "whatif_hardliners",
    "whatif_uncalibrated",
)
ENDS = ("de_escalated", "limited_clash", "frozen_crisis", "regional_war", "nato_russia_war")


def _pct(x: float) -> str:
    return "-" if x == 0 else f"{100 * x:.1f}%"


def row(name: str, n: int, seed: int) -> str:
    """One scenario's row."""
    o = run_replicates(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), seed, np.arange(n))
    o = o.outcomes
    chosen = (o.first_armed_incident_cause == "chosen").mean()
    bd = o.blockade_days[o.blockade].mean() if o.blockade.any() else 0.0
    ends = " / ".join(f"{100 * (o.end_state == e).mean():.1f}" for e in ENDS)
    return (
        f"| {name} | {_pct(o.armed_incident.mean())} | {_pct(chosen)} | "
        f"{_pct(o.staged_incident.mean())} | {_pct(o.china_escalates.mean())} | "
        f"{_pct(o.blockade.mean())} | {bd:.1f} | {o.china_blockade_cost_musd.mean():.1f} | "
        f"{_pct(o.article4.mean())} | {_pct(o.article5.mean())} | {_pct(o.fatal.mean())} | "
        f"{ends} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20240708)
    args = ap.parse_args()
    print(
        "| scenario | armed incident | of which chosen first | staged | China escalates | "
        "blockade | blockade days (if any) | China cost, mean MUSD | Article 4 | Article 5 | "
        "fatal | end: de-escalated / limited clash / frozen / regional war / NATO-Russia war |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in SHIPPED:
        print(row(name, args.n, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
