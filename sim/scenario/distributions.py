"""Uncertain parameters: how a scenario declares them and how they are sampled.

A parameter in a scenario file is either a plain number (fixed) or a mapping with a ``dist`` key::

    resolve: 0.6                                   # fixed
    resolve: {dist: uniform, low: 0.4, high: 0.8}
    resolve: {dist: truncnormal, mean: 0.6, sd: 0.1, low: 0, high: 1}
    resolve: {dist: beta, a: 6, b: 4}              # on [0, 1]; add low/high to rescale
    resolve: {dist: triangular, low: 0.3, mode: 0.6, high: 0.9}
    resolve: {dist: choice, values: [0.3, 0.6, 0.9], weights: [1, 2, 1]}
    resolve: {dist: fixed, value: 0.6}
    restraint: {dist: draws, table: ladder, values: [1.2, 0.7, ...]}   # a row of a joint table

A ``draws`` distribution is one column of a table of joint draws (a calibration posterior):
every parameter naming the same ``table`` takes the same row in a replicate, so the
correlations between the columns are kept.

Every distribution is sampled by its inverse CDF applied to a uniform number from the project's
counter-based streams, so a replicate's parameter values are a pure function of (seed, replicate,
parameter path) - the same in any chunk, process or machine - and the same declarations give the
bounds used by sensitivity analysis.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator
from scipy import special

Num = Annotated[float, Strict()]
"""A number as written in a file: an int or a float, never a boolean or a string; never NaN."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def support(self) -> tuple[float, float]:
        """The smallest interval holding every value this distribution can produce."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map uniform numbers in (0, 1) to values of this distribution (inverse CDF)."""
        raise NotImplementedError

    def mean(self) -> float:
        """The distribution's mean (used for 'nominal' single runs and reports)."""
        raise NotImplementedError


class Fixed(_Dist):
    """A known value, written out as a distribution (same as a plain number)."""

    dist: Literal["fixed"]
    value: Num

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=np.float64)

    def mean(self) -> float:
        return self.value


class Uniform(_Dist):
    """Every value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"]
    low: Num
    high: Num

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"uniform needs low < high, got low={self.low}, high={self.high}")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


class TruncNormal(_Dist):
    """A normal distribution with ``mean`` and ``sd``, cut to ``[low, high]``."""

    dist: Literal["truncnormal"]
    mean_: Num = Field(alias="mean")
    sd: Num = Field(gt=0)
    low: Num
    high: Num

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _order(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"truncnormal needs low < high, got low={self.low}, high={self.high}")
        a, b = self._z()
        if special.ndtr(b) - special.ndtr(a) < 1e-9:
            raise ValueError(
                f"truncnormal interval [{self.low}, {self.high}] holds almost no mass of "
                f"normal(mean={self.mean_}, sd={self.sd})"
            )
        return self

    def _z(self) -> tuple[float, float]:
        return (self.low - self.mean_) / self.sd, (self.high - self.mean_) / self.sd

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, b = self._z()
        pa, pb = special.ndtr(a), special.ndtr(b)
        x = self.mean_ + self.sd * special.ndtri(pa + u * (pb - pa))
        return np.clip(x, self.low, self.high)

    def mean(self) -> float:
        a, b = self._z()
        pdf = np.exp(-0.5 * np.array([a, b]) ** 2) / np.sqrt(2 * np.pi)
        z = special.ndtr(b) - special.ndtr(a)
        return float(self.mean_ + self.sd * (pdf[0] - pdf[1]) / z)


class Beta(_Dist):
    """A beta(a, b) distribution on [0, 1], optionally rescaled to ``[low, high]``."""

    dist: Literal["beta"]
    a: Num = Field(gt=0)
    b: Num = Field(gt=0)
    low: Num = 0.0
    high: Num = 1.0

    @model_validator(mode="after")
    def _order(self) -> Beta:
        if not self.low < self.high:
            raise ValueError(f"beta needs low < high, got low={self.low}, high={self.high}")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, u)

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)


class Triangular(_Dist):
    """A triangular distribution from ``low`` to ``high`` peaking at ``mode``."""

    dist: Literal["triangular"]
    low: Num
    mode: Num
    high: Num

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "triangular needs low <= mode <= high and low < high, got "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        lo, c, hi = self.low, self.mode, self.high
        fc = (c - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (c - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - c))
        return np.where(u < fc, left, right)

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class Choice(_Dist):
    """One of ``values``, with probabilities proportional to ``weights`` (equal if omitted)."""

    dist: Literal["choice"]
    values: list[Num] = Field(min_length=1)
    weights: list[Num] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"choice needs one weight per value, got {len(self.values)} values and "
                    f"{len(self.weights)} weights"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("choice weights must be >= 0 and not all zero")
        return self

    def _p(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return w / w.sum()

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        cdf = np.cumsum(self._p())
        idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=np.float64)[idx]

    def mean(self) -> float:
        return float(np.dot(self._p(), self.values))


MAX_DRAWS = 100_000
"""Most rows a table of draws may have."""


class Draws(_Dist):
    """One column of a table of joint draws: a replicate takes one row of ``table``.

    The row is drawn uniformly, once per replicate and table, so every parameter of the table
    takes its value from the same row. On its own (a sensitivity design) a column is sampled
    by its empirical quantiles.
    """

    dist: Literal["draws"]
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    values: list[Num] = Field(min_length=1, max_length=MAX_DRAWS)
    source: str = Field("", max_length=500, description="provenance of the table")

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))

    def row(self, u: np.ndarray) -> np.ndarray:
        """Row index for uniform numbers ``u``."""
        n = len(self.values)
        return np.minimum((np.asarray(u) * n).astype(np.int64), n - 1)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Values of the given rows."""
        return np.asarray(self.values, dtype=np.float64)[rows]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        ordered = np.sort(np.asarray(self.values, dtype=np.float64))
        return ordered[self.row(u)]

    def mean(self) -> float:
        return float(np.mean(self.values))


Dist = Annotated[
    Fixed | Uniform | TruncNormal | Beta | Triangular | Choice | Draws, Field(discriminator="dist")
]
"""Any declared distribution, chosen by its ``dist`` key."""

Param = Num | Dist
"""A scenario parameter: a plain number (fixed) or a distribution (uncertain)."""


def is_uncertain(p: Param) -> bool:
    """Whether a parameter varies between replicates (a distribution other than ``fixed``)."""
    return isinstance(p, _Dist) and not isinstance(p, Fixed)


def support(p: Param) -> tuple[float, float]:
    """The interval a parameter's values lie in (a point for fixed values)."""
    if isinstance(p, _Dist):
        return p.support()
    return (float(p), float(p))


def nominal(p: Param) -> float:
    """A parameter's central value: the number itself, or the distribution's mean."""
    return p.mean() if isinstance(p, _Dist) else float(p)


def sample(p: Param, u: np.ndarray) -> np.ndarray:
    """Values of a parameter for uniform numbers ``u`` (one per replicate)."""
    if isinstance(p, _Dist):
        return np.asarray(p.ppf(u), dtype=np.float64)
    return np.full(np.shape(u), float(p), dtype=np.float64)
