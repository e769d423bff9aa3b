"""Analysis of run results: outcome statistics, paired comparisons, ladder occupancy.

Functions here take data (the outcomes DataFrame, occupancy arrays) and return tables or
arrays; they never run the model, read files or draw.
"""

from sim.analysis.occupancy import occupancy_shares, rung_quantile
from sim.analysis.stats import (
    END_STATES,
    Interval,
    category_shares,
    compare_paired,
    cumulative_incidence,
    headline_probabilities,
    mean_interval,
    newcombe_paired_interval,
    quantile_interval,
    summarize,
    wilson_interval,
)

__all__ = [
    "END_STATES",
    "Interval",
    "category_shares",
    "compare_paired",
    "cumulative_incidence",
    "headline_probabilities",
    "mean_interval",
    "newcombe_paired_interval",
    "occupancy_shares",
    "quantile_interval",
    "rung_quantile",
    "summarize",
    "wilson_interval",
]
