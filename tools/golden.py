"""Golden outcomes: every shipped scenario at a fixed seed, as a stored table.

``python tools/golden.py`` (``make golden``) rewrites ``tests/golden/*.csv``; the test
``tests/test_golden.py`` recomputes each table and requires it to be equal, so any change to
the model's behaviour shows up in review as a diff of these files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SEED = 20240708
REPLICATES = 200


def shipped() -> list[Path]:
    """Every runnable shipped scenario (base.yaml is a base, not a scenario to run)."""
    # base.yaml and ladder_dynamics.yaml are parts other scenarios extend, not scenarios.
    parts = {"base.yaml", "ladder_dynamics.yaml"}
    return sorted(p for p in (ROOT / "scenarios").rglob("*.yaml") if p.name not in parts)


def golden_name(path: Path) -> str:
    """The golden file's name for a scenario path."""
    rel = path.relative_to(ROOT / "scenarios").with_suffix("")
    return "__".join(rel.parts) + ".csv"


def table(path: Path) -> pd.DataFrame:
    """The outcomes of a scenario at the golden seed, floats to 10 significant digits."""
    sys.path.insert(0, str(ROOT))
    from sim.model import run_replicates
    from sim.scenario import load_scenario

    s = load_scenario(path)
    n = REPLICATES if s.horizon_days <= 200 else REPLICATES // 4
    out = run_replicates(s, SEED, np.arange(n)).outcomes
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].map(lambda v: float(f"{v:.10g}"))
    return out


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for old in GOLDEN.glob("*.csv"):
        old.unlink()
    for path in shipped():
        table(path).to_csv(GOLDEN / golden_name(path), index=False)
        print(f"wrote tests/golden/{golden_name(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
