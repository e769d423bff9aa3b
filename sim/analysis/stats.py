"""Outcome statistics: probabilities, means and medians with confidence intervals.

Each estimator is a small function that names the method it implements:

* :func:`wilson_interval` - a proportion (Wilson 1927);
* :func:`mean_interval` - a mean (Student's t interval);
* :func:`quantile_interval` - a quantile, distribution-free (Conover 1999, order statistics);
* :func:`newcombe_paired_interval` - the difference of two paired proportions (Newcombe 1998).

:func:`summarize` turns the per-replicate outcome table into one row per headline outcome, and
:func:`compare_paired` measures how two runs that shared their random numbers (same seed, same
replicate ids) differ. Both take the outcomes DataFrame as data and never touch the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

END_STATES: tuple[str, ...] = (
    "de_escalated",
    "frozen_crisis",
    "limited_clash",
    "regional_war",
    "nato_russia_war",
)
"""The end states of the shipped scenarios, from least to most severe."""

KNOWN_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "end_state": END_STATES,
}
"""Categories every summary lists for these text outcomes, even when a run never saw them.

A fixed set of rows keeps summaries of different runs aligned row for row (comparisons, the
runner's precision rule); categories a run produces beyond these are appended in sorted order.
"""

SUMMARY_COLUMNS: tuple[str, ...] = ("outcome", "estimate", "ci_low", "ci_high", "n", "kind")
COMPARISON_COLUMNS: tuple[str, ...] = (
    "outcome",
    "estimate_a",
    "estimate_b",
    "difference",
    "ci_low",
    "ci_high",
    "n",
    "kind",
    "only_a",
    "only_b",
)

_KIND_ORDER = {"probability": 0, "mean": 1, "median": 2}


class Interval(NamedTuple):
    """A confidence interval; unpacks as ``low, high``. Scalars or arrays of the same shape."""

    low: float | np.ndarray
    high: float | np.ndarray


# --------------------------------------------------------------------------------------------
# Interval estimators
# --------------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return float(confidence)


def _z(confidence: float) -> float:
    """Two-sided standard normal quantile for ``confidence`` (1.95996... for 0.95)."""
    return float(special.ndtri(0.5 + 0.5 * _check_confidence(confidence)))


def wilson_interval(
    k: int | np.ndarray | Sequence[int],
    n: int | np.ndarray | Sequence[int],
    confidence: float = 0.95,
) -> Interval:
    """Wilson score interval for a binomial proportion k/n.

    Inverts the score test of the proportion (Wilson 1927, "Probable inference, the law of
    succession, and statistical inference", JASA 22:209-212), in the form given by Newcombe
    (1998, Stat Med 17:857-872, method 3). Unlike the Wald interval it stays inside [0, 1] and
    keeps close to nominal coverage for rare events, which most escalation outcomes are.

    Args:
        k: number of replicates where the event happened (scalar or array).
        n: number of replicates (scalar or array, broadcast against ``k``).
        confidence: two-sided confidence level.

    Returns:
        ``Interval(low, high)``, floats for scalar input, arrays otherwise. Where ``n`` is 0
        nothing is known and the interval is the whole range (0, 1).
    """
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("wilson_interval needs 0 <= k <= n")
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 2.0 * (n_arr + z * z)
        centre = (2.0 * k_arr + z * z) / denom
        half = z / denom * np.sqrt(4.0 * k_arr * (n_arr - k_arr) / n_arr + z * z)
    # The bounds at k = 0 and k = n are exactly 0 and 1 in theory; set them so rounding cannot
    # leave a -1e-17 that prints badly or fails a 0 <= p check.
    low = np.where((k_arr == 0) | (n_arr == 0), 0.0, centre - half)
    high = np.where((k_arr == n_arr) | (n_arr == 0), 1.0, centre + half)
    low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    if low.ndim == 0:
        return Interval(float(low), float(high))
    return Interval(low, high)


def _finite(x: pd.Series | np.ndarray | Sequence[float]) -> np.ndarray:
    """Values as a float array with missing entries (NaN, None, pd.NA) dropped."""
    arr = pd.to_numeric(pd.Series(x), errors="raise").astype("Float64")
    return arr.dropna().to_numpy(dtype=float)


def mean_interval(
    x: pd.Series | np.ndarray | Sequence[float], confidence: float = 0.95
) -> Interval:
    """Student's t interval for the mean of ``x``.

    ``mean ± t_{n-1, (1+confidence)/2} · s / sqrt(n)`` (Student 1908, "The probable error of a
    mean", Biometrika 6:1-25). Replicates are independent, so the only approximation is the
    normality of the mean, which the central limit theorem makes good for the hundreds of
    replicates a run has.

    Args:
        x: values; missing ones (NaN / NA: "not applicable", e.g. no incident) are ignored.
        confidence: two-sided confidence level.

    Returns:
        ``Interval(low, high)``, clipped to the observed range (the mean cannot lie outside
        it; without the clip a rare non-negative outcome such as blockade days would get a
        negative lower bound); NaN bounds when fewer than two values remain.
    """
    values = _finite(x)
    n = values.size
    conf = _check_confidence(confidence)
    if n < 2:
        return Interval(float("nan"), float("nan"))
    mean = float(values.mean())
    half = float(sps.t.ppf(0.5 + 0.5 * conf, n - 1)) * float(values.std(ddof=1)) / np.sqrt(n)
    return Interval(max(mean - half, float(values.min())), min(mean + half, float(values.max())))


def quantile_interval(
    x: pd.Series | np.ndarray | Sequence[float], q: float, confidence: float = 0.95
) -> Interval:
    """Distribution-free confidence interval for the q-quantile of ``x``.

    The order-statistic interval ``[x_(l), x_(u)]`` (Conover 1999, "Practical Nonparametric
    Statistics", 3rd ed., section 3.2): the number of observations below the true quantile is
    Binomial(n, q), so ranks are picked with ``P(B <= l-1) < alpha/2`` and
    ``P(B >= u) <= alpha/2``, giving coverage of at least ``confidence`` for any continuous
    distribution (and at least that for discrete ones such as days).

    Args:
        x: values; missing ones are ignored.
        q: the quantile, strictly between 0 and 1 (0.5 for the median).
        confidence: two-sided confidence level.

    Returns:
        ``Interval(low, high)``. A bound the sample is too small to give (e.g. the median of
        five values at 95%) is -inf or +inf; both are NaN for an empty sample.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be between 0 and 1 (exclusive), got {q}")
    alpha = 1.0 - _check_confidence(confidence)
    values = np.sort(_finite(x))
    n = values.size
    if n == 0:
        return Interval(float("nan"), float("nan"))
    cdf = sps.binom.cdf(np.arange(n + 1), n, q)
    # l: smallest rank with P(B <= l) >= alpha/2, so P(B <= l-1) < alpha/2 (1-based rank).
    lower_rank = int(np.searchsorted(cdf, alpha / 2, side="left"))
    # u - 1: smallest count with P(B <= u-1) >= 1 - alpha/2, so P(B >= u) <= alpha/2.
    upper_rank = int(np.searchsorted(cdf, 1.0 - alpha / 2, side="left")) + 1
    low = float(values[lower_rank - 1]) if lower_rank >= 1 else float("-inf")
    high = float(values[upper_rank - 1]) if upper_rank <= n else float("inf")
    return Interval(low, high)


def newcombe_paired_interval(
    both: int, only_first: int, only_second: int, neither: int, confidence: float = 0.95
) -> Interval:
    """Interval for ``p_first - p_second`` when both proportions come from the same units.

    Newcombe's square-and-add interval for paired data (Newcombe 1998, "Improved confidence
    intervals for the difference between binomial proportions based on paired data", Stat Med
    17:2635-2650, method 10): the Wilson limits of the two marginal proportions are combined
    with the estimated correlation phi between them, with phi shrunk towards 0 by N/2 as in the
    paper. Fagerland, Lydersen & Laake (2014, Stat Med 33:2850-2875) recommend it for paired
    proportions. Under common random numbers the two runs of a replicate are strongly
    correlated, and this is what makes the difference interval narrow.

    Args:
        both: replicates where the event happened in both runs.
        only_first: replicates where it happened in the first run only.
        only_second: replicates where it happened in the second run only.
        neither: replicates where it happened in neither.
        confidence: two-sided confidence level.

    Returns:
        ``Interval(low, high)`` for the difference; NaN bounds when there are no pairs.
    """
    counts = (both, only_first, only_second, neither)
    if any(c < 0 for c in counts):
        raise ValueError("newcombe_paired_interval needs non-negative counts")
    n = sum(counts)
    if n == 0:
        return Interval(float("nan"), float("nan"))
    first, second = both + only_first, both + only_second
    p1, p2 = first / n, second / n
    l1, u1 = wilson_interval(first, n, confidence)
    l2, u2 = wilson_interval(second, n, confidence)
    margins = first * (n - first) * second * (n - second)
    phi = 0.0
    if margins > 0:
        cross = both * neither - only_first * only_second
        # Newcombe's correction: a positive cross-product is reduced by n/2 (never below 0).
        if cross > n / 2:
            phi = (cross - n / 2) / np.sqrt(margins)
        elif cross < 0:
            phi = cross / np.sqrt(margins)
    d1, d2 = p1 - l1, u2 - p2
    e1, e2 = u1 - p1, p2 - l2
    # max(..., 0) guards a rounding -1e-17 under the root when both limits are 0 away.
    delta = float(np.sqrt(max(float(d1 * d1 + d2 * d2 - 2.0 * phi * d1 * d2), 0.0)))
    epsilon = float(np.sqrt(max(float(e1 * e1 + e2 * e2 - 2.0 * phi * e1 * e2), 0.0)))
    diff = p1 - p2
    return Interval(max(-1.0, diff - delta), min(1.0, diff + epsilon))


# --------------------------------------------------------------------------------------------
# Shares, cumulative incidence
# --------------------------------------------------------------------------------------------


def category_shares(
    values: pd.Series | Sequence[object],
    categories: Sequence[object] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of replicates in each category, each with its Wilson interval.

    Args:
        values: one value per replicate; missing values are left out of ``n``.
        categories: categories to report, in this order, even when a share is 0; values outside
            the list are appended in sorted order. Default: the sorted values that occur.
        confidence: two-sided confidence level.

    Returns:
        Columns ``category, count, estimate, ci_low, ci_high, n``.
    """
    series = pd.Series(values).dropna()
    seen = sorted(series.unique().tolist(), key=str)
    wanted = list(categories) if categories is not None else []
    order = wanted + [c for c in seen if c not in wanted]
    counts = series.value_counts()
    k = np.array([int(counts.get(c, 0)) for c in order], dtype=np.int64)
    n = int(series.size)
    low, high = wilson_interval(k, np.full(k.shape, n), confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = k / n if n else np.full(k.shape, np.nan)
    return pd.DataFrame(
        {
            "category": order,
            "count": k,
            "estimate": estimate,
            "ci_low": low,
            "ci_high": high,
            "n": n,
        }
    )


def cumulative_incidence(
    first_day: pd.Series | Sequence[float],
    horizon: int,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of replicates whose event has happened by each day, with pointwise intervals.

    The empirical distribution function of the first-event day, with replicates where the event
    never happened counted in the denominator as "never": the curve ends at the event's
    probability within the horizon, not at 1. Each day's share is a binomial proportion, so its
    interval is the Wilson interval (pointwise, not a simultaneous band).

    Args:
        first_day: one entry per replicate, the day of the first event or missing (NA) if none.
        horizon: last day to report (days 0 .. horizon).
        confidence: two-sided confidence level.

    Returns:
        Columns ``day, count, estimate, ci_low, ci_high, n`` with one row per day.
    """
    days = pd.to_numeric(pd.Series(first_day), errors="raise").astype("Float64")
    n = int(days.size)
    happened = np.sort(days.dropna().to_numpy(dtype=float))
    grid = np.arange(int(horizon) + 1)
    k = np.searchsorted(happened, grid, side="right").astype(np.int64)
    low, high = wilson_interval(k, np.full(k.shape, n), confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = k / n if n else np.full(k.shape, np.nan)
    return pd.DataFrame(
        {"day": grid, "count": k, "estimate": estimate, "ci_low": low, "ci_high": high, "n": n}
    )


# --------------------------------------------------------------------------------------------
# The outcomes table
# --------------------------------------------------------------------------------------------


def failed_mask(outcomes: pd.DataFrame) -> pd.Series:
    """True for replicates the runner recorded as failed (a non-empty ``error``)."""
    if "error" not in outcomes.columns:
        return pd.Series(False, index=outcomes.index)
    err = outcomes["error"].astype("string").fillna("").str.strip()
    return (err != "").astype(bool)


def outcome_columns(outcomes: pd.DataFrame) -> list[str]:
    """The columns that are outcomes: not ``replicate``, ``error``, ``param.*`` or ``*_name``."""
    return [
        c
        for c in outcomes.columns
        if c not in ("replicate", "error")
        and not str(c).startswith("param.")
        and not str(c).endswith("_name")
    ]


def _column_kind(column: pd.Series) -> str:
    """'bool', 'category' or 'number' for an outcome column; anything else is an error."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "category"
    if pd.api.types.is_object_dtype(dtype):
        present = column.dropna()
        if present.map(lambda v: isinstance(v, (bool, np.bool_))).all() and len(present):
            return "bool"
        return "category"
    raise ValueError(
        f"outcome column '{column.name}' has type {dtype}; expected bool, number or text"
    )


def _as_float(column: pd.Series) -> np.ndarray:
    """A bool or numeric column as floats, missing values as NaN."""
    return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _categories_for(name: str, columns: Sequence[pd.Series]) -> list[object]:
    """Known categories of ``name`` first, then every other value that occurs, sorted."""
    known: list[object] = list(KNOWN_CATEGORIES.get(name, ()))
    if name.endswith("_blames_incident_on"):  # the audience's blame, whoever the audience is
        known = ["west", "east", "none"]
    for column in columns:
        if isinstance(column.dtype, pd.CategoricalDtype):
            known += [c for c in column.cat.categories if c not in known]
    seen: set[object] = set()
    for column in columns:
        seen.update(column.dropna().unique().tolist())
    return known + sorted((c for c in seen if c not in known), key=str)


def _is_median_outcome(name: str) -> bool:
    """Day-of-event outcomes get a median row: their distributions are skewed and censored."""
    return name.endswith("_day")


def summarize(outcomes: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per headline outcome of a run: estimate, confidence interval and sample size.

    Rules, applied to every outcome column (see :func:`outcome_columns`):

    * bool -> probability with its Wilson interval, named after the column;
    * text -> one probability per category, named ``column=category``; the categories of
      :data:`KNOWN_CATEGORIES` (all five end states, ...) are always listed;
    * number -> mean with its t interval, named ``mean:column``; columns ending in ``_day``
      also get ``median:column`` with the order-statistic interval.

    Missing values (e.g. no incident day) are left out, so ``n`` counts the replicates the
    row is about. Replicates with a non-empty ``error`` are left out of every row; how many
    were is in ``summary.attrs["failed"]``.

    Args:
        outcomes: one row per replicate, as produced by the model.
        confidence: two-sided confidence level.

    Returns:
        Columns ``outcome, estimate, ci_low, ci_high, n, kind`` (kind: probability, mean or
        median); probability rows first, then means, then medians, each in column order.
    """
    failed = failed_mask(outcomes)
    ok = outcomes.loc[~failed]
    rows: list[dict[str, object]] = []
    for name in outcome_columns(ok):
        column = ok[name]
        kind = _column_kind(column)
        if kind == "bool":
            values = _as_float(column)
            values = values[~np.isnan(values)]
            rows.append(_probability_row(name, int(values.sum()), values.size, confidence))
        elif kind == "category":
            shares = category_shares(column, _categories_for(name, [column]), confidence)
            for cat, count, n_cat in zip(
                shares["category"], shares["count"], shares["n"], strict=True
            ):
                rows.append(_probability_row(f"{name}={cat}", int(count), int(n_cat), confidence))
        else:
            values = _finite(column)
            rows.append(_mean_row(name, values, confidence))
            if _is_median_outcome(name):
                rows.append(_median_row(name, values, confidence))
    summary = _frame(rows, SUMMARY_COLUMNS)
    summary.attrs.update(
        {"replicates": len(outcomes), "failed": int(failed.sum()), "confidence": confidence}
    )
    return summary


def _probability_row(name: str, k: int, n: int, confidence: float) -> dict[str, object]:
    low, high = wilson_interval(k, n, confidence)
    estimate = k / n if n else float("nan")
    return {
        "outcome": name,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "kind": "probability",
    }


def _mean_row(name: str, values: np.ndarray, confidence: float) -> dict[str, object]:
    low, high = mean_interval(values, confidence)
    estimate = float(values.mean()) if values.size else float("nan")
    return {
        "outcome": f"mean:{name}",
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "n": int(values.size),
        "kind": "mean",
    }


def _median_row(name: str, values: np.ndarray, confidence: float) -> dict[str, object]:
    low, high = quantile_interval(values, 0.5, confidence)
    estimate = float(np.median(values)) if values.size else float("nan")
    return {
        "outcome": f"median:{name}",
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "n": int(values.size),
        "kind": "median",
    }


def _frame(rows: list[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by kind (stable, so column order is kept within a kind), typed columns."""
    rows = sorted(rows, key=lambda r: _KIND_ORDER[str(r["kind"])])
    frame = pd.DataFrame(rows, columns=list(columns))
    for col in frame.columns:
        if col in ("outcome", "kind"):
            frame[col] = frame[col].astype(object)
        elif col in ("n",):
            frame[col] = frame[col].astype(np.int64)
        elif col in ("only_a", "only_b"):
            frame[col] = frame[col].astype("Int64")
        else:
            frame[col] = frame[col].astype(float)
    return frame


def headline_probabilities(summary: pd.DataFrame) -> pd.DataFrame:
    """The probability rows of a summary (what the runner's precision rule checks).

    Args:
        summary: a table from :func:`summarize`.

    Returns:
        The rows whose ``kind`` is ``probability``, index reset; with no ``kind`` column, the
        rows whose outcome is not a ``mean:`` or ``median:`` row.
    """
    if "kind" in summary.columns:
        mask = summary["kind"] == "probability"
    else:
        mask = ~summary["outcome"].astype(str).str.contains(r"^(?:mean|median):", regex=True)
    return summary.loc[mask].reset_index(drop=True)


def compare_paired(a: pd.DataFrame, b: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """How run B differs from run A, replicate by replicate (common random numbers).

    The runs must share their seed and replicate ids, so replicate k of A and of B saw the same
    random numbers; the per-replicate differences then cancel most of the Monte Carlo noise.
    Rows are joined on ``replicate`` (failed replicates of either run are left out).

    * probabilities (bool outcomes and text categories, named as in :func:`summarize`): the
      interval of ``p_B - p_A`` is Newcombe's paired interval
      (:func:`newcombe_paired_interval`); ``only_a`` / ``only_b`` count the discordant pairs
      (event in A only / in B only);
    * means (numeric outcomes): paired t interval of the per-replicate differences ``B - A``,
      over the replicates where both runs have a value; the estimates are over the same
      replicates, so ``difference == estimate_b - estimate_a`` on every row.

    Args:
        a: outcomes of run A (usually the baseline).
        b: outcomes of run B (the variant).
        confidence: two-sided confidence level.

    Returns:
        Columns ``outcome, estimate_a, estimate_b, difference, ci_low, ci_high, n, kind,
        only_a, only_b``; ``attrs`` holds the number of replicates paired, failed and unmatched.

    Raises:
        ValueError: no replicate id occurs in both runs, or an id occurs twice in one run.
    """
    left, right = _paired_frames(a, b)
    rows: list[dict[str, object]] = []
    for name in [c for c in outcome_columns(left) if c in right.columns]:
        kind = _column_kind(left[name])
        if kind == "bool":
            rows.append(_paired_probability_row(name, left[name], right[name], confidence))
        elif kind == "category":
            for cat in _categories_for(name, [left[name], right[name]]):
                xa, xb = _indicator(left[name], cat), _indicator(right[name], cat)
                rows.append(_paired_probability_row(f"{name}={cat}", xa, xb, confidence))
        else:
            rows.append(_paired_mean_row(name, left[name], right[name], confidence))
    table = _frame(rows, COMPARISON_COLUMNS)
    table.attrs.update(
        {
            "paired": len(left),
            "failed_a": int(failed_mask(a).sum()),
            "failed_b": int(failed_mask(b).sum()),
            "unmatched_a": int(a.shape[0] - failed_mask(a).sum() - len(left)),
            "unmatched_b": int(b.shape[0] - failed_mask(b).sum() - len(left)),
            "confidence": confidence,
        }
    )
    return table


def _paired_frames(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ok replicates both runs have, indexed by replicate id, in the same order."""
    frames = []
    for label, frame in (("A", a), ("B", b)):
        if "replicate" not in frame.columns:
            raise ValueError(f"run {label} has no 'replicate' column to pair on")
        ok = frame.loc[~failed_mask(frame)]
        if ok["replicate"].duplicated().any():
            raise ValueError(f"run {label} lists a replicate id more than once")
        frames.append(ok.set_index("replicate"))
    common = frames[0].index.intersection(frames[1].index).sort_values()
    if len(common) == 0:
        raise ValueError(
            "the two runs share no replicate id; a paired comparison needs runs made with the "
            "same seed and replicate ids"
        )
    return frames[0].loc[common], frames[1].loc[common]


def _indicator(column: pd.Series, category: object) -> pd.Series:
    """Whether each value equals ``category``, missing where the value is missing."""
    out = (column == category).astype("boolean")
    return out.mask(column.isna())


def _paired_probability_row(
    name: str, xa: pd.Series, xb: pd.Series, confidence: float
) -> dict[str, object]:
    va, vb = _as_float(xa.astype("boolean")), _as_float(xb.astype("boolean"))
    both_known = ~(np.isnan(va) | np.isnan(vb))
    va, vb = va[both_known].astype(bool), vb[both_known].astype(bool)
    n = int(va.size)
    both = int(np.sum(va & vb))
    only_a = int(np.sum(va & ~vb))
    only_b = int(np.sum(~va & vb))
    neither = n - both - only_a - only_b
    # p_B - p_A: B is the "first" proportion of Newcombe's interval.
    low, high = newcombe_paired_interval(both, only_b, only_a, neither, confidence)
    pa = float(va.mean()) if n else float("nan")
    pb = float(vb.mean()) if n else float("nan")
    return {
        "outcome": name,
        "estimate_a": pa,
        "estimate_b": pb,
        "difference": pb - pa,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "kind": "probability",
        "only_a": only_a,
        "only_b": only_b,
    }


def _paired_mean_row(
    name: str, xa: pd.Series, xb: pd.Series, confidence: float
) -> dict[str, object]:
    va, vb = _as_float(xa), _as_float(xb)
    both_known = ~(np.isnan(va) | np.isnan(vb))
    va, vb = va[both_known], vb[both_known]
    low, high = mean_interval(vb - va, confidence)
    pa = float(va.mean()) if va.size else float("nan")
    pb = float(vb.mean()) if vb.size else float("nan")
    return {
        "outcome": f"mean:{name}",
        "estimate_a": pa,
        "estimate_b": pb,
        "difference": float(np.mean(vb - va)) if va.size else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": int(va.size),
        "kind": "mean",
        "only_a": pd.NA,
        "only_b": pd.NA,
    }
