"""The ``--precision`` stopping rule: add chunks until every headline interval is narrow enough.

Chunks are judged strictly in index order (chunk 0, then 0-1, then 0-2, ...), whatever order
they finish in, and the run stops at the first prefix that meets the target. The stopping
point is therefore a function of the seed, the chunk size and the target alone.

Re-summarising the whole prefix after every chunk would cost time quadratic in the number of
chunks, so a cheap running count (successes and trials per headline outcome, from each chunk's
own summary) screens the prefixes, and only a prefix that passes the screen is confirmed with
the full summary - the same one written to ``summary.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sim.runner.results import headline, summarize_ok


def wilson_half_width(successes: int, n: int, confidence: float = 0.95) -> float:
    """Half the width of the Wilson score interval for ``successes`` out of ``n``.

    The interval is :func:`sim.analysis.stats.wilson_interval` (Wilson 1927), the one the
    summary reports, so the screen and the final check measure the same thing.
    """
    if n <= 0:
        return math.inf
    from sim.analysis.stats import wilson_interval

    low, high = wilson_interval(successes, n, confidence)
    return (float(high) - float(low)) / 2


def max_half_width(summary: pd.DataFrame) -> float:
    """The widest headline interval's half-width in a summary table (inf when none)."""
    rows = headline(summary)
    if rows.empty:
        return math.inf
    return float(((rows["ci_high"] - rows["ci_low"]) / 2).max())


@dataclass
class PrecisionTracker:
    """Running per-outcome counts over the chunks seen so far (in index order).

    Args:
        target: Largest acceptable half-width of any headline interval.
        confidence: Confidence level of the intervals.
    """

    target: float
    confidence: float = 0.95
    successes: dict[str, int] = field(default_factory=dict)
    trials: dict[str, int] = field(default_factory=dict)

    def add(self, chunk_outcomes: pd.DataFrame) -> None:
        """Count one more chunk's headline outcomes."""
        rows = headline(summarize_ok(chunk_outcomes, self.confidence))
        for outcome, est, n in zip(rows["outcome"], rows["estimate"], rows["n"], strict=True):
            n = int(n)
            if n == 0:
                continue
            # A probability row's estimate is k / n exactly, so k is recovered without error.
            self.trials[outcome] = self.trials.get(outcome, 0) + n
            self.successes[outcome] = self.successes.get(outcome, 0) + round(float(est) * n)

    def screen(self) -> bool:
        """True when the running counts suggest the target is met (confirm with the summary)."""
        if not self.trials:
            return False
        return all(
            wilson_half_width(self.successes[k], self.trials[k], self.confidence) <= self.target
            for k in self.trials
        )
