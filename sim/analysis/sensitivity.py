"""Global sensitivity analysis of a scenario's parameters: factors, designs and estimators.

What varies (the *factors*):

* every **uncertain** parameter (declared as a distribution), over its declared distribution:
  a design coordinate ``u`` in [0, 1] becomes the value ``ppf(u)``, so the indices apportion the
  outcome's variance under the distributions the scenario states;
* with ``screen_fixed=x``, every **fixed number** the schema marks as a scenario parameter
  (motive weights, move costs and effects, actor traits, attribution weights, incident, fog,
  economy, commitment and dynamics coefficients, inject probabilities), uniformly within
  ``value * (1 - x) .. value * (1 + x)``, cut to the schema's bounds for that field (a
  probability stays in [0, 1]). Structural integers (days, windows, rung severities, the
  horizon) are not parameters in the schema and are not varied; numbers equal to zero have no
  relative range and are listed as skipped.

Every design point runs the same K replicate ids with the same seed (common random numbers),
so two points differ only by their parameter values. The outcome of a point is the mean of its
K replicates (a probability for yes/no outcomes).

The estimators are SALib's: Morris elementary effects (Morris 1991; ``mu*`` of Campolongo,
Cariboni & Saltelli 2007) and Sobol first and total order indices (Saltelli 2002; Saltelli et
al. 2010, with the Jansen estimator for the total index), each with bootstrap intervals.
Functions here take data (arrays, DataFrames) and never run the model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError

METHODS = ("morris", "sobol")
POINT_COLUMN = "point"
"""Column of a design run's outcomes table naming the design row (0-based)."""

DEFAULT_N = {"morris": 20, "sobol": 256}
"""Default trajectories (Morris) or base samples (Sobol)."""

MORRIS_LEVELS = 4


# ----------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class OutcomeSpec:
    """An outcome to analyse, as written on the command line.

    ``armed_incident`` (yes/no: its probability), ``blockade_days`` (a number: its mean),
    ``end_state=regional_war`` (a category: its probability), ``blockade_days>10`` (a number
    against a threshold: the probability of exceeding it).

    Attributes:
        text: As written.
        column: The outcomes column.
        op: ``None`` (the value itself), ``'='`` or a comparison (``>``, ``>=``, ``<``, ``<=``).
        value: The category or threshold (text for ``=``, a number otherwise).
        kind: ``'probability'`` or ``'mean'``.
    """

    text: str
    column: str
    op: str | None = None
    value: Any = None
    kind: str = "probability"

    def values(self, outcomes: pd.DataFrame) -> np.ndarray:
        """The outcome per row as float64 (0/1 for probabilities; NaN where it is missing)."""
        col = outcomes[self.column]
        if self.op == "=":
            missing = col.isna().to_numpy()
            out = (col.astype(str) == str(self.value)).to_numpy(dtype=np.float64)
            out[missing] = np.nan
            return out
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if self.op is None:
            return x
        ops = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
        out = ops[self.op](x, float(self.value)).astype(np.float64)
        out[np.isnan(x)] = np.nan
        return out


_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<|=)?\s*(.*?)\s*$")
_NOT_OUTCOMES = ("replicate", "error", "days", POINT_COLUMN)


def category_domain(name: str, scenario: Any | None) -> list[str] | None:
    """Every value the text outcome ``name`` can take in a scenario's worlds, or None when the
    scenario does not say (then only the values seen are known).

    End states, rung names and actors come from the scenario's declarations; the causes of a
    first armed incident and the blame outcomes from the model's fixed vocabulary.
    """
    if scenario is None:
        return None
    actors = [str(a) for a in (getattr(scenario, "actor_names", None) or scenario.actors)]
    if name == "end_state":
        return [e.name for e in scenario.end_states]
    if name == "max_rung_name":
        return [r.name for r in scenario.ladder]
    if name == "dispute_initiator":
        return [*actors, ""]
    if name == "first_armed_incident_cause":
        from sim.model.state import CAUSES

        return list(CAUSES)
    if name.endswith("_blames_incident_on"):
        return ["west", "east", "none"]
    if name.endswith("_blames_blockade_on"):
        return [*actors, "none"]
    return None


def parse_outcomes(
    texts: Sequence[str], outcomes: pd.DataFrame, scenario: Any | None = None
) -> list[OutcomeSpec]:
    """Outcome specifications checked against an outcomes table and the scenario.

    A categorical column named alone (``end_state``) stands for each of its categories. A
    category named (``end_state=settled``) must be one the outcome can take
    (:func:`category_domain`, else one seen in the table): a misspelt one would otherwise be
    estimated as 0 in every world and read as an answer.

    Raises:
        UserError: an unknown column or category (with "did you mean ...?" and the names
            available), or a bad threshold.
    """
    import difflib

    from sim.analysis.stats import KNOWN_CATEGORIES

    available = [
        c for c in outcomes.columns if not c.startswith("param.") and c not in _NOT_OUTCOMES
    ]
    specs: list[OutcomeSpec] = []
    for text in texts:
        m = _SPEC.match(text)
        if not m or (m.group(2) and not m.group(3)):
            raise UserError(
                f"outcome {text!r}: write NAME, NAME=CATEGORY or NAME>NUMBER "
                "(e.g. armed_incident, end_state=regional_war, blockade_days>10)"
            )
        name, op, value = m.group(1), m.group(2), m.group(3)
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise UserError(
                f"unknown outcome '{name}'; {hint}outcomes are: {', '.join(sorted(available))}"
            )
        col = outcomes[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        boolean = pd.api.types.is_bool_dtype(col)
        if op is None:
            if boolean:
                specs.append(OutcomeSpec(text, name, kind="probability"))
            elif numeric:
                specs.append(OutcomeSpec(text, name, kind="mean"))
            else:
                cats = list(KNOWN_CATEGORIES.get(name, ()))
                cats += sorted(set(col.dropna().astype(str)) - set(cats))
                specs += [OutcomeSpec(f"{name}={c}", name, "=", c) for c in cats]
        elif op == "=":
            if numeric or boolean:
                raise UserError(f"outcome {text!r}: '=' needs a text outcome such as end_state")
            domain = category_domain(name, scenario)
            if domain is None:
                domain = list(KNOWN_CATEGORIES.get(name, ()))
                domain += sorted(set(col.dropna().astype(str)) - set(domain))
            if value not in domain:
                close = difflib.get_close_matches(value, [d for d in domain if d], n=1)
                hint = f"did you mean '{name}={close[0]}'? " if close else ""
                shown = ", ".join(repr(d) if d == "" else d for d in dict.fromkeys(domain))
                raise UserError(
                    f"outcome {text!r}: {name} never takes the value {value!r}; {hint}"
                    f"its values are: {shown}"
                )
            specs.append(OutcomeSpec(text, name, "=", value))
        else:
            if not numeric:
                raise UserError(f"outcome {text!r}: '{op}' needs a numeric outcome")
            try:
                threshold = float(value)
            except ValueError:
                raise UserError(f"outcome {text!r}: {value!r} is not a number") from None
            specs.append(OutcomeSpec(text, name, op, threshold))
    return specs


# ----------------------------------------------------------------------------- factors

_CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    (r"^actors\.[^.]+\.motives\.", "motive weight"),
    (r"^actors\.[^.]+\.attribution\.", "attribution"),
    (r"^actors\.", "actor trait"),
    (r"^moves\.[^.]+\.cost$", "move cost"),
    (r"^moves\.", "move effect"),
    (r"^injects\[\d+\]\.", "inject"),
    (r"^incidents\.", "incidents"),
    (r"^fog\.", "fog of war"),
    (r"^economy\.", "economy"),
    (r"^commitments\.", "commitments"),
    (r"^dynamics\.", "dynamics"),
)


def category_of(path: str) -> str:
    """The kind of number a parameter path names (``motive weight``, ``move cost``, ...)."""
    for pattern, name in _CATEGORY_RULES:
        if re.search(pattern, path):
            return name
    return path.split(".")[0].split("[")[0]


@dataclass(frozen=True)
class Factor:
    """One parameter a design varies.

    Attributes:
        name: Dotted parameter path (``actors.china.resolve``).
        kind: ``'uncertain'`` (a declared distribution) or ``'fixed'`` (a number, screened).
        category: What kind of number it is (see :func:`category_of`).
        low: Smallest value the design gives it.
        high: Largest value.
        nominal: The declared number, or the distribution's mean.
        dist: The declared distribution (uncertain factors), mapped from [0, 1] by its inverse
            CDF; ``None`` for fixed numbers (uniform on ``low .. high``).
    """

    name: str
    kind: str
    category: str
    low: float
    high: float
    nominal: float
    dist: Any = None

    def values(self, u: np.ndarray) -> np.ndarray:
        """Parameter values for design coordinates ``u`` in [0, 1]."""
        u = np.asarray(u, dtype=np.float64)
        if self.dist is not None:
            return np.asarray(self.dist.ppf(np.clip(u, 1e-12, 1 - 1e-12)), dtype=np.float64)
        return self.low + (self.high - self.low) * u


@dataclass(frozen=True)
class FactorSet:
    """The factors of a design and the fixed numbers left out, with the reason."""

    factors: tuple[Factor, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> list[str]:
        """Factor names in design-column order."""
        return [f.name for f in self.factors]

    def to_df(self) -> pd.DataFrame:
        """One row per factor: name, kind, category, low, high, nominal."""
        return pd.DataFrame(
            [
                {
                    "factor": f.name,
                    "kind": f.kind,
                    "category": f.category,
                    "low": f.low,
                    "high": f.high,
                    "nominal": f.nominal,
                }
                for f in self.factors
            ],
            columns=["factor", "kind", "category", "low", "high", "nominal"],
        )


def parse_relative_range(text: str | float | None) -> float | None:
    """``'20%'`` or ``0.2`` -> 0.2; ``None`` stays ``None``.

    Raises:
        UserError: not a number or percentage strictly between 0 and 100%.
    """
    if text is None:
        return None
    s = str(text).strip()
    try:
        x = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    except ValueError:
        raise UserError(
            f"--screen-fixed: expected a percentage such as 20%, got {text!r}"
        ) from None
    if not 0.0 < x < 1.0 or not math.isfinite(x):
        raise UserError(f"--screen-fixed: must be between 0% and 100% (exclusive), got {text!r}")
    return x


def _path_tuple(dotted: str) -> tuple[str | int, ...]:
    from sim.scenario.loader import parse_key_path

    return parse_key_path(dotted)


def field_limits(path: str) -> tuple[float, float]:
    """The schema's bounds for the parameter at a dotted path (``-inf``/``inf`` when open)."""
    from sim.scenario.schema import annotation_at, field_bounds

    b = field_bounds(annotation_at(_path_tuple(path)))
    lo = max(b.get("ge", -math.inf), b.get("gt", -math.inf))
    hi = min(b.get("le", math.inf), b.get("lt", math.inf))
    return lo, hi


def scenario_factors(
    scenario: Any,
    screen_fixed: float | None = None,
    include: Sequence[str] | None = None,
) -> FactorSet:
    """The factors of a sensitivity design for a validated scenario.

    Args:
        scenario: A validated :class:`~sim.scenario.schema.Scenario`.
        screen_fixed: Relative half-range for fixed numbers (0.2 = +-20%); ``None`` varies only
            the uncertain parameters.
        include: Optional factor names (or ``fnmatch`` patterns) to keep; others stay as
            declared.

    Returns:
        The factors (uncertain first, then fixed, each in scenario order) and skipped numbers.

    Raises:
        UserError: nothing to vary.
    """
    import fnmatch

    from sim.scenario.distributions import is_uncertain, nominal, support
    from sim.scenario.parameters import declared_parameters

    factors: list[Factor] = []
    fixed: list[Factor] = []
    skipped: list[tuple[str, str]] = []
    for path, p in declared_parameters(scenario).items():
        if include is not None and not any(fnmatch.fnmatchcase(path, pat) for pat in include):
            continue
        if is_uncertain(p):
            lo, hi = support(p)
            factors.append(Factor(path, "uncertain", category_of(path), lo, hi, nominal(p), p))
        elif screen_fixed is not None:
            v = nominal(p)
            if v == 0:
                skipped.append((path, "zero: no relative range"))
                continue
            a, b = sorted((v * (1 - screen_fixed), v * (1 + screen_fixed)))
            flo, fhi = field_limits(path)
            a, b = max(a, flo), min(b, fhi)
            if not a < b:
                skipped.append((path, "no room within the schema's bounds"))
                continue
            fixed.append(Factor(path, "fixed", category_of(path), a, b, v))
    out = FactorSet(tuple(factors + fixed), tuple(skipped))
    if not out.factors and include is not None:
        raise UserError(f"--include {' '.join(include)}: matched no parameter to vary")
    if not out.factors:
        what = "uncertain parameters" if screen_fixed is None else "parameters"
        hint = "" if screen_fixed is not None else "; add --screen-fixed 20% to vary fixed numbers"
        raise UserError(f"scenario {scenario.name} has no {what} to vary{hint}")
    return out


# ----------------------------------------------------------------------------- designs


def salib_problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem dict for factors on the unit cube (values are mapped afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def derived_seed(seed: int, purpose: str) -> int:
    """A 32-bit seed for a library sampler, drawn from the project's streams (sim/rng.py)."""
    from sim.rng import Streams

    bits = Streams(seed, np.zeros(1, dtype=np.int64)).bits(0, 254, purpose)
    return int(bits[0] >> np.uint64(32))


@dataclass(frozen=True)
class Design:
    """A sensitivity design: unit-cube coordinates and the parameter values they stand for.

    Attributes:
        method: ``'morris'`` or ``'sobol'``.
        factors: The factors, in column order.
        unit: float64 (points, factors), coordinates in [0, 1] as SALib sampled them.
        n: Morris trajectories or Sobol base samples.
        seed: The run seed the sampler's seed was derived from.
    """

    method: str
    factors: FactorSet
    unit: np.ndarray
    n: int
    seed: int

    @property
    def points(self) -> int:
        """Number of design points."""
        return int(self.unit.shape[0])

    @property
    def block(self) -> int:
        """Rows per Morris trajectory (factors + 1) or per Sobol base sample (factors + 2)."""
        d = len(self.factors.factors)
        return d + 1 if self.method == "morris" else d + 2

    def values(self) -> pd.DataFrame:
        """Parameter values, one row per design point, one column per factor path."""
        return pd.DataFrame(
            {f.name: f.values(self.unit[:, j]) for j, f in enumerate(self.factors.factors)}
        )


def check_n(method: str, n: int) -> int:
    """Validate the design size.

    Raises:
        UserError: unknown method, too few points, or a Sobol size that is not a power of 2.
    """
    if method not in METHODS:
        raise UserError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise UserError(f"-N must be a whole number >= 2, got {n!r}")
    if method == "sobol" and n & (n - 1):
        raise UserError(f"-N for sobol must be a power of 2 (e.g. 256, 512, 1024), got {n}")
    return int(n)


def sample_design(factors: FactorSet, method: str, n: int, seed: int) -> Design:
    """Sample a Morris or Sobol design with SALib.

    Args:
        factors: What to vary.
        method: ``'morris'`` (``n`` trajectories of ``d + 1`` points, 4 levels) or ``'sobol'``
            (``n`` base samples, ``n * (d + 2)`` points, scrambled Sobol' sequence, first and
            total order only).
        n: Trajectories or base samples.
        seed: The run seed; the sampler's own seed is derived from it.
    """
    import warnings

    n = check_n(method, n)
    problem = salib_problem(factors.names)
    sampler_seed = derived_seed(seed, f"sensitivity:{method}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "morris":
            from SALib.sample import morris as morris_sample

            unit = morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=sampler_seed)
        else:
            from SALib.sample import sobol as sobol_sample

            unit = sobol_sample.sample(
                problem, n, calc_second_order=False, scramble=True, seed=sampler_seed
            )
    return Design(method, factors, np.asarray(unit, dtype=np.float64), n, seed)


# ----------------------------------------------------------------------------- estimators


@dataclass(frozen=True)
class PointOutcomes:
    """One outcome summarised per design point.

    Attributes:
        mean: float64 (points,): mean of the K replicates at each point.
        within: float64 (points,): variance of the K replicates at each point (population).
        k: Replicates per point.
        half_a: float64 (points,): mean over the even replicate ids (NaN if none).
        half_b: float64 (points,): mean over the odd replicate ids (NaN if none).
    """

    mean: np.ndarray
    within: np.ndarray
    k: int
    half_a: np.ndarray | None = None
    half_b: np.ndarray | None = None


def _point_means(pt: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(pt, minlength=points).astype(np.float64)
    sums = np.bincount(pt, weights=y, minlength=points)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts


def point_outcomes(outcomes: pd.DataFrame, spec: OutcomeSpec, points: int) -> PointOutcomes:
    """Mean and within-point variance of an outcome for every design point.

    Failed replicates (NaN) are left out of their point's mean; a numeric outcome that is
    missing by nature (a day that never came) is left out the same way. The means over the
    even and the odd replicate ids are kept too, for :func:`noise_share`'s split-half check.

    Raises:
        UserError: a design point without any usable replicate.
    """
    y = spec.values(outcomes)
    pt = outcomes[POINT_COLUMN].to_numpy(dtype=np.int64)
    ok = ~np.isnan(y)
    mean, counts = _point_means(pt[ok], y[ok], points)
    if (counts == 0).any():
        bad = int(np.flatnonzero(counts == 0)[0])
        raise UserError(
            f"outcome {spec.text}: design point {bad} has no replicate with a value; "
            "choose an outcome every world has (or more replicates per point)"
        )
    s2 = np.bincount(pt[ok], weights=y[ok] ** 2, minlength=points)
    within = np.maximum(s2 / counts - mean**2, 0.0)
    k = round(float(np.median(counts)))
    halves: list[np.ndarray | None] = [None, None]
    if "replicate" in outcomes.columns and k >= 2:
        even = outcomes["replicate"].to_numpy(dtype=np.int64) % 2 == 0
        for i, side in enumerate((even, ~even)):
            m = ok & side
            halves[i] = _point_means(pt[m], y[m], points)[0]
    return PointOutcomes(mean, within, k, halves[0], halves[1])


def noise_share(po: PointOutcomes) -> dict[str, float]:
    """How much of an outcome's spread is the dice rather than the parameters.

    ``noise_share`` is the within-point variance over the total variance of single replicates
    (law of total variance: total = mean within + variance of point means); 1 means the
    parameters do not matter at all.

    ``noise_in_means`` is the share of the point means' variance that belongs to the particular
    K worlds rather than to the parameters. Under common random numbers the same worlds are
    used at every point, so this noise is not independent between points and within / K would
    overstate it; it is measured instead by splitting each point's worlds in two (even and odd
    replicate ids): with ``r`` the correlation of the two halves' point means across the design,
    the reliability of the full K is ``2r / (1 + r)`` (Spearman-Brown) and ``noise_in_means`` is
    one minus it. The indices describe the parameters, not the dice, when it is small.
    ``noise_in_means_independent`` is the within / K ratio kept for comparison.
    """
    within = float(np.mean(po.within))
    between = float(np.var(po.mean))
    total = within + between
    share = within / total if total > 0 else float("nan")
    indep = (within / po.k) / between if between > 0 else float("nan")
    split = float("nan")
    if po.half_a is not None and po.half_b is not None:
        a, b = po.half_a, po.half_b
        ok = ~(np.isnan(a) | np.isnan(b))
        if ok.sum() > 2 and np.std(a[ok]) > 0 and np.std(b[ok]) > 0:
            r = float(np.corrcoef(a[ok], b[ok])[0, 1])
            reliability = 2 * r / (1 + r) if r > -1 else 0.0
            split = min(1.0, max(0.0, 1.0 - reliability))
        elif between > 0:
            split = 1.0
    return {
        "noise_share": share,
        "noise_in_means": split,
        "noise_in_means_independent": min(indep, 1.0) if math.isfinite(indep) else indep,
        "total_variance": total,
        "mean": float(np.mean(po.mean)),
    }


def morris_indices(
    unit: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    seed: int,
    confidence: float = 0.95,
    resamples: int = 1000,
) -> pd.DataFrame:
    """Morris elementary-effect statistics (SALib ``morris.analyze``).

    ``mu_star`` is the mean absolute elementary effect over the unit range: roughly how much
    the outcome moves when the factor goes from the bottom to the top of its range
    (Campolongo, Cariboni & Saltelli 2007); ``sigma`` its spread (interactions, curvature).

    Returns:
        factor, mu, mu_star, mu_star_ci_low, mu_star_ci_high, sigma.
    """
    import warnings

    from SALib.analyze import morris as morris_analyze

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = morris_analyze.analyze(
            salib_problem(names),
            unit,
            np.asarray(y, dtype=np.float64),
            num_resamples=resamples,
            conf_level=confidence,
            num_levels=MORRIS_LEVELS,
            seed=derived_seed(seed, "sensitivity:morris-bootstrap"),
        )
    mu_star = np.asarray(r["mu_star"], dtype=np.float64)
    conf = np.nan_to_num(np.asarray(r["mu_star_conf"], dtype=np.float64))
    return pd.DataFrame(
        {
            "factor": list(names),
            "mu": np.asarray(r["mu"], dtype=np.float64),
            "mu_star": mu_star,
            "mu_star_ci_low": np.maximum(mu_star - conf, 0.0),
            "mu_star_ci_high": mu_star + conf,
            "sigma": np.asarray(r["sigma"], dtype=np.float64),
        }
    )


def sobol_indices(
    y: np.ndarray,
    names: Sequence[str],
    seed: int,
    confidence: float = 0.95,
    resamples: int = 500,
) -> pd.DataFrame:
    """Sobol first and total order indices (SALib's estimators, Saltelli et al. 2010).

    The point estimates are SALib's ``first_order`` and ``total_order``; the bootstrap
    intervals are SALib ``sobol.analyze``'s to the last bit (same normalisation, the same
    resamples from the same seed, the same formulas), computed with the resampled A, B and
    their variance shared by every factor instead of redrawn for each one: at N = 16,384
    base samples and 500 resamples ``analyze`` spent minutes per outcome gathering the same
    arrays 57 times over. ``tests/test_sensitivity.py`` checks the equality with ``analyze``.

    Returns:
        factor, S1, S1_ci_low, S1_ci_high, ST, ST_ci_low, ST_ci_high (bootstrap intervals).
    """
    import warnings

    from SALib.analyze.sobol import first_order, separate_output_values, total_order
    from scipy.stats import norm

    y = np.asarray(y, dtype=np.float64)
    d = len(names)
    zeros = np.zeros(d)
    if np.var(y) == 0:
        return pd.DataFrame(
            {"factor": list(names), "S1": zeros, "S1_ci_low": zeros, "S1_ci_high": zeros}
            | {"ST": zeros, "ST_ci_low": zeros, "ST_ci_high": zeros}
        )
    if y.size % (d + 2):
        raise ValueError(f"{y.size} outputs are not a whole number of {d + 2}-point blocks")
    n = y.size // (d + 2)
    y = (y - y.mean()) / y.std()
    a, b, ab, _ = separate_output_values(y, d, n, False)
    r = np.random.default_rng(derived_seed(seed, "sensitivity:sobol-bootstrap")).integers(
        n, size=(n, resamples)
    )
    z = norm.ppf(0.5 + confidence / 2)
    eps = np.finfo(float).eps
    s1, st = np.empty(d), np.empty(d)
    s1_conf, st_conf = np.zeros(d), np.zeros(d)
    ar, br = a[r], b[r]
    yr = np.r_[ar, br]
    varies = np.ptp(yr) > eps  # else SALib's estimators return 0 for every resample
    y_var = np.var(yr, axis=0)
    ok = y_var > eps
    for j in range(d):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib warns of a constant output; zeros follow
            s1[j] = first_order(a, ab[:, j], b)
            st[j] = total_order(a, ab[:, j], b)
        if not varies:
            continue
        abr = ab[r, j]
        first = np.divide(
            np.mean(br * (abr - ar), axis=0), y_var, out=np.zeros_like(y_var), where=ok
        )
        total = np.divide(
            0.5 * np.mean((ar - abr) ** 2, axis=0), y_var, out=np.zeros_like(y_var), where=ok
        )
        s1_conf[j] = z * first.std(ddof=1)
        st_conf[j] = z * total.std(ddof=1)
    out: dict[str, Any] = {"factor": list(names)}
    for key, v, c in (("S1", s1, s1_conf), ("ST", st, st_conf)):
        c = np.nan_to_num(c)
        out[key], out[f"{key}_ci_low"], out[f"{key}_ci_high"] = v, v - c, v + c
    return pd.DataFrame(out)


SOBOL_PRECISION = 0.1
"""The widest interval half-width, as a share of the largest total index, a Sobol run aims at."""


def sobol_precision(rows: pd.DataFrame, n: int | None) -> str:
    """How wide one outcome's Sobol intervals are, and the N that would narrow them.

    Bootstrap intervals shrink as 1/sqrt(N), so the N that would bring the widest half-width
    to a tenth of the largest index is about N * (width / 0.1) ** 2 (an estimate, rounded up
    to a power of two as Sobol designs are).

    Args:
        rows: The outcome's rows of the indices table.
        n: The run's base samples.
    """
    largest = float(rows["ST"].max())
    if not largest > 0:
        return "intervals: no factor has a total index above 0"
    half = max(
        float(((rows[f"{k}_ci_high"] - rows[f"{k}_ci_low"]) / 2).max()) for k in ("ST", "S1")
    )
    rel = half / largest
    line = f"intervals: widest half-width {rel:.2f} of the largest total index"
    if rel <= SOBOL_PRECISION or not n:
        return line + f" (at most {SOBOL_PRECISION:g}: resolved)"
    need = 2 ** math.ceil(math.log2(n * (rel / SOBOL_PRECISION) ** 2))
    return line + f"; about N={need:,} would bring it to {SOBOL_PRECISION:g} (1/sqrt(N))"


INDEX_COLUMN = {"morris": "mu_star", "sobol": "ST"}
"""The index a method's factors are ranked by."""


def indices_for(design: Design, y: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """The method's indices for one outcome's point means, ranked (1 = most influential)."""
    names = design.factors.names
    if design.method == "morris":
        df = morris_indices(design.unit, y, names, design.seed, confidence)
    else:
        df = sobol_indices(y, names, design.seed, confidence)
    key = INDEX_COLUMN[design.method]
    df["rank"] = df[key].rank(ascending=False, method="first").astype(int)
    return df


def convergence(
    design: Design, y: np.ndarray, steps: int = 4, confidence: float = 0.95
) -> pd.DataFrame:
    """Indices recomputed on the first n trajectories / base samples, for growing n.

    Both samplers lay their points out in blocks (a Morris trajectory, a Sobol base sample and
    its radial points), so the first ``n`` blocks are themselves a valid, smaller design.

    Returns:
        n, factor, index (the ranking index), ci_low, ci_high, rank.
    """
    key = INDEX_COLUMN[design.method]
    sizes = sorted({max(2, design.n >> s) for s in range(steps)})
    if design.method == "sobol":
        sizes = [s for s in sizes if s & (s - 1) == 0]
    frames = []
    for n in sizes:
        rows = n * design.block
        sub = Design(design.method, design.factors, design.unit[:rows], n, design.seed)
        df = indices_for(sub, y[:rows], confidence)
        frames.append(
            pd.DataFrame(
                {
                    "n": n,
                    "factor": df["factor"],
                    "index": df[key],
                    "ci_low": df[f"{key}_ci_low"],
                    "ci_high": df[f"{key}_ci_high"],
                    "rank": df["rank"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def ranking_stability(conv: pd.DataFrame, top: int = 10) -> float:
    """Share of the top-``top`` factors at the largest n that were also top-``top`` at half n."""
    ns = sorted(conv["n"].unique())
    if len(ns) < 2:
        return float("nan")
    last = conv[conv["n"] == ns[-1]]
    prev = conv[conv["n"] == ns[-2]]
    k = min(top, len(last))
    a = set(last.nsmallest(k, "rank")["factor"])
    b = set(prev.nsmallest(k, "rank")["factor"])
    return len(a & b) / k if k else float("nan")


@dataclass
class SensitivityResult:
    """Indices, noise shares and convergence of a sensitivity run, per outcome.

    Attributes:
        method: ``'morris'`` or ``'sobol'``.
        indices: outcome, factor, kind, category, low, high, the method's index columns with
            their interval bounds, rank.
        noise: outcome, noise_share, noise_in_means, total_variance, mean, replicates_per_point.
        convergence: outcome, n, factor, index, ci_low, ci_high, rank.
        factors: The factors varied (and the fixed numbers skipped).
        info: Scenario name and title, seed, N, K, points, command, folder.
    """

    method: str
    indices: pd.DataFrame
    noise: pd.DataFrame
    convergence: pd.DataFrame
    factors: FactorSet
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        """The outcomes analysed, in order."""
        return list(dict.fromkeys(self.indices["outcome"]))

    def to_df(self) -> pd.DataFrame:
        """The indices table (one row per outcome and factor), ranked within each outcome."""
        return self.indices.sort_values(["outcome", "rank"], kind="stable").reset_index(drop=True)

    def top(self, outcome: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` most influential factors for an outcome."""
        df = self.indices[self.indices["outcome"] == outcome]
        return df.nsmallest(k, "rank")

    def plot(self, ax: Any = None, outcome: str | None = None, top: int = 15) -> Any:
        """Ranked (tornado) bar chart of one outcome's indices; returns the Figure."""
        from sim.charts.sensitivity import tornado_chart

        return tornado_chart(self, outcome or self.outcomes[0], ax=ax, top=top)


def analyze_design(
    design: Design,
    outcomes: pd.DataFrame,
    specs: Sequence[OutcomeSpec],
    confidence: float = 0.95,
    info: Mapping[str, Any] | None = None,
) -> SensitivityResult:
    """Indices, noise shares and convergence for each outcome of a design run.

    Args:
        design: The design that was run.
        outcomes: The run's outcomes, with a ``point`` column (design row) per replicate.
        specs: Outcomes to analyse (see :func:`parse_outcomes`).
        confidence: Level of the bootstrap intervals.
        info: Extra description kept on the result.
    """
    meta = design.factors.to_df().rename(columns={"factor": "factor"})
    idx_frames, noise_rows, conv_frames = [], [], []
    for spec in specs:
        po = point_outcomes(outcomes, spec, design.points)
        df = indices_for(design, po.mean, confidence)
        df.insert(0, "outcome", spec.text)
        idx_frames.append(
            df.merge(meta[["factor", "kind", "category", "low", "high"]], on="factor")
        )
        noise_rows.append({"outcome": spec.text, **noise_share(po), "replicates_per_point": po.k})
        conv = convergence(design, po.mean, confidence=confidence)
        conv.insert(0, "outcome", spec.text)
        conv_frames.append(conv)
    indices = pd.concat(idx_frames, ignore_index=True)
    first = ["outcome", "factor", "kind", "category", "low", "high"]
    indices = indices[first + [c for c in indices.columns if c not in first]]
    return SensitivityResult(
        design.method,
        indices,
        pd.DataFrame(noise_rows),
        pd.concat(conv_frames, ignore_index=True),
        design.factors,
        dict(info or {}),
    )
