"""Numerical robustness: the decision rules stay finite for every value the schema accepts.

Every numeric parameter of a scenario is set, one at a time, to each end of the range its
schema field allows (the bounds, or +-10^6 where a field is only capped), and a few worlds run
with tracing: every daily choice's probabilities must be finite and sum to one, every measure's
switch probability must lie in [0, 1], and beliefs and costs must stay finite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import EscalationModel
from sim.scenario import load_scenario
from sim.scenario.parameters import declared_parameters
from sim.scenario.schema import annotation_at, field_bounds

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = load_scenario(ROOT / "scenarios" / "combined.yaml")


def _key(path: str) -> tuple[str | int, ...]:
    """``injects[0].probability`` -> ("injects", 0, "probability")."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _ends(path: str) -> list[float]:
    b = field_bounds(annotation_at(_key(path)))
    lo = b.get("ge", b.get("gt", -1e6))
    hi = b.get("le", b.get("lt", 1e6))
    if "gt" in b:
        lo = b["gt"] + 1e-9
    return [float(lo), float(hi)]


CASES = [(p, v) for p in declared_parameters(SCENARIO) for v in _ends(p)]


def test_every_numeric_parameter_is_bounded_by_the_schema():
    unbounded = [
        p for p in declared_parameters(SCENARIO) if not field_bounds(annotation_at(_key(p)))
    ]
    assert not unbounded, f"fields without bounds: {unbounded[:5]}"


@pytest.mark.parametrize(("path", "value"), CASES, ids=[f"{p}={v:g}" for p, v in CASES])
def test_probabilities_stay_finite_at_the_bounds(path, value):
    # Overflow or an invalid operation fails the test; underflow to 0 in exp() is as it should be.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        m = EscalationModel(
            SCENARIO, seed=3, replicates=8, parameters={path: value}, trace=True, collect=False
        )
        for _ in range(12):
            m.step()
    for rec in m.trace.choices.values():
        p = rec["probabilities"]
        assert np.isfinite(p).all()
        assert np.allclose(p.sum(axis=1), 1.0)
    for rec in m.trace.reviews.values():
        assert np.isfinite(rec["p"]).all() and (rec["p"] >= 0).all() and (rec["p"] <= 1).all()
    st = m.state
    assert np.isfinite(st.lean).all() and np.isfinite(st.cost).all()
    assert np.isfinite(st.belief_west(m.tables)).all()
