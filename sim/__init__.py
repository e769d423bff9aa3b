"""Escalation-scenario simulation engine.

The notebook API in three names::

    import sim
    result = sim.run("scenarios/staged_provocation.yaml", replicates=10_000, seed=1)
    result.summary                       # probabilities with 95% intervals
    diff = sim.compare("scenarios/baseline.yaml", "scenarios/staged_provocation.yaml")
    model = sim.EscalationModel("scenarios/baseline.yaml", replicates=100, seed=1).run()
"""

from __future__ import annotations

from typing import Any

from sim.model import EscalationModel

__all__ = ["EscalationModel", "compare", "run"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The runner pulls in pyarrow, tqdm and process pools: import it only when asked for.
    if name in ("run", "compare"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
