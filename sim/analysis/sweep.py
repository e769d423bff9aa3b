"""Parameter sweeps: an outcome along a grid of one or two parameters, on common random numbers.

Every grid point runs the same replicate ids with the same seed, so neighbouring points differ
only by the swept values (the other uncertain parameters keep their per-replicate draws, the
same at every point). Per point the outcome gets an interval: Wilson's for a probability, the
Student t interval for a mean (see :mod:`sim.analysis.stats`). For one key, the point where the
estimate crosses a threshold is found by linear interpolation between grid points.
Functions here take data and never run the model.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import POINT_COLUMN, OutcomeSpec, field_limits
from sim.errors import UserError

MAX_STEPS = 201


@dataclass(frozen=True)
class Vary:
    """One swept parameter: a dotted path and the values it takes."""

    key: str
    values: tuple[float, ...]

    @property
    def text(self) -> str:
        """``key=low:high:steps`` as it would be written."""
        return f"{self.key}={self.values[0]:g}:{self.values[-1]:g}:{len(self.values)}"


_VARY = re.compile(r"^\s*([^=\s]+)\s*=\s*([^:]+):([^:]+):([^:]+)\s*$")


def parse_vary(text: str, scenario: Any) -> Vary:
    """``actors.china.resolve=0.1:0.9:9`` -> a :class:`Vary` checked against the scenario.

    Raises:
        UserError: malformed text, a key that is not a parameter of the scenario, a range
            outside the schema's bounds or a bad step count.
    """
    from sim.scenario.parameters import declared_parameters

    m = _VARY.match(text)
    if not m:
        raise UserError(
            f"--vary {text!r}: write KEY=LOW:HIGH:STEPS, e.g. actors.china.resolve=0.1:0.9:9"
        )
    key = m.group(1)
    try:
        low, high = float(m.group(2)), float(m.group(3))
        steps = int(m.group(4))
    except ValueError:
        raise UserError(
            f"--vary {text!r}: LOW and HIGH must be numbers and STEPS a whole number"
        ) from None
    declared = declared_parameters(scenario)
    if key not in declared:
        import difflib

        close = difflib.get_close_matches(key, list(declared), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UserError(f"--vary {text!r}: '{key}' is not a parameter of the scenario{hint}")
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise UserError(f"--vary {text!r}: needs LOW < HIGH, got {low:g} and {high:g}")
    if not 2 <= steps <= MAX_STEPS:
        raise UserError(f"--vary {text!r}: STEPS must be between 2 and {MAX_STEPS}, got {steps}")
    flo, fhi = field_limits(key)
    if low < flo or high > fhi:
        raise UserError(
            f"--vary {text!r}: {key} must stay within [{flo:g}, {fhi:g}], got {low:g}:{high:g}"
        )
    return Vary(key, tuple(float(v) for v in np.linspace(low, high, steps)))


def grid(varies: Sequence[Vary]) -> pd.DataFrame:
    """The sweep's design: one row per grid point (the last key varies fastest)."""
    if not 1 <= len(varies) <= 2:
        raise UserError(f"sweep takes one or two --vary keys, got {len(varies)}")
    keys = [v.key for v in varies]
    if len(set(keys)) != len(keys):
        raise UserError(f"--vary names {keys[0]} twice")
    rows = list(itertools.product(*(v.values for v in varies)))
    return pd.DataFrame(rows, columns=keys)


def point_estimates(
    outcomes: pd.DataFrame, spec: OutcomeSpec, design: pd.DataFrame, confidence: float = 0.95
) -> pd.DataFrame:
    """Estimate and interval of an outcome at every grid point.

    Returns:
        The design's columns, then outcome, estimate, ci_low, ci_high, n, kind.
    """
    from sim.analysis.stats import mean_interval, wilson_interval

    y = spec.values(outcomes)
    pt = outcomes[POINT_COLUMN].to_numpy(dtype=np.int64)
    rows = []
    for i in range(len(design)):
        v = y[pt == i]
        v = v[~np.isnan(v)]
        n = int(v.size)
        if spec.kind == "probability":
            k = int(v.sum())
            est = k / n if n else float("nan")
            lo, hi = wilson_interval(k, n, confidence) if n else (float("nan"), float("nan"))
        else:
            est = float(v.mean()) if n else float("nan")
            lo, hi = mean_interval(v, confidence)
        rows.append({"outcome": spec.text, "estimate": est, "ci_low": lo, "ci_high": hi, "n": n})
    out = pd.concat([design.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    out["kind"] = spec.kind
    return out


def crossings(x: np.ndarray, y: np.ndarray, threshold: float) -> list[float]:
    """Where a piecewise-linear curve through (x, y) crosses ``threshold``, in order of x.

    A grid value exactly at the threshold counts once; flat stretches at the threshold are not
    crossings.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out: list[float] = []
    d = y - threshold
    for i in range(len(x) - 1):
        a, b = d[i], d[i + 1]
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        if a == 0 and (i == 0 or d[i - 1] != 0):
            out.append(float(x[i]))
        elif a * b < 0:
            out.append(float(x[i] + (x[i + 1] - x[i]) * a / (a - b)))
    if len(x) and d[-1] == 0 and (len(x) == 1 or d[-2] != 0):
        out.append(float(x[-1]))
    return out


@dataclass
class SweepResult:
    """Estimates along a one- or two-key grid.

    Attributes:
        keys: The swept parameter paths.
        table: One row per grid point and outcome (see :func:`point_estimates`).
        threshold: The threshold marked, or ``None``.
        crossing: ``{outcome: [x, ...]}`` crossing points (one key only).
        info: Scenario, seed, replicates per point, command, folder.
    """

    keys: list[str]
    table: pd.DataFrame
    threshold: float | None = None
    crossing: dict[str, list[float]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        """Outcomes in the table, in order."""
        return list(dict.fromkeys(self.table["outcome"]))

    def to_df(self) -> pd.DataFrame:
        """The table of estimates."""
        return self.table

    def plot(self, ax: Any = None, outcome: str | None = None) -> Any:
        """Response curve with its band (one key) or heat map (two keys); returns the Figure."""
        from sim.charts.sweep import heatmap, response_curve

        name = outcome or self.outcomes[0]
        if len(self.keys) == 1:
            return response_curve(self, name, ax=ax)
        return heatmap(self, name, ax=ax)


def analyze_sweep(
    outcomes: pd.DataFrame,
    design: pd.DataFrame,
    specs: Sequence[OutcomeSpec],
    threshold: float | None = None,
    confidence: float = 0.95,
    info: dict[str, Any] | None = None,
) -> SweepResult:
    """Estimates per grid point for each outcome, with threshold crossings for one key."""
    keys = list(design.columns)
    table = pd.concat(
        [point_estimates(outcomes, s, design, confidence) for s in specs], ignore_index=True
    )
    cross: dict[str, list[float]] = {}
    if threshold is not None and len(keys) == 1:
        for s in specs:
            t = table[table["outcome"] == s.text]
            cross[s.text] = crossings(t[keys[0]].to_numpy(), t["estimate"].to_numpy(), threshold)
    return SweepResult(keys, table, threshold, cross, dict(info or {}))
