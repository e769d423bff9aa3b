"""Escalation-scenario simulation engine.

The notebook API in three names::

    import sim
    result = sim.run("scenarios/staged_provocation.yaml", replicates=10_000, seed=1)
    result.summary                       # probabilities with 95% intervals
    diff = sim.compare("scenarios/baseline.yaml", "scenarios/staged_provocation.yaml")
    model = sim.EscalationModel("scenarios/baseline.yaml", replicates=100, seed=1).run()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model import EscalationModel

__all__ = ["EscalationModel", "compare", "discover", "report", "run", "sensitivity", "sweep"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The model pulls in mesa, pandas and scipy, the runner pyarrow and process pools: import
    # them only when asked for, so that `escalation validate` starts fast.
    if name == "EscalationModel":
        from sim.model import EscalationModel

        return EscalationModel
    if name in ("run", "compare"):
        from sim import api

        return getattr(api, name)
    if name in ("sensitivity", "sweep", "discover", "report"):
        from sim import api_analysis

        return getattr(api_analysis, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
