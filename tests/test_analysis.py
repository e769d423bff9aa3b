"""Tests of sim.analysis.stats and sim.analysis.occupancy.

Every interval is checked against a direct computation (scipy, or the published formula written
out step by step), and the coverage of the Wilson and Newcombe intervals against data drawn from
a process whose answer is known: Bernoulli(p) with local PCG64 generators, one per seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.analysis.occupancy import occupancy_shares, rung_quantile
from sim.analysis.stats import (
    END_STATES,
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


def rng(seed: int) -> np.random.Generator:
    """A local generator; no test touches global random state."""
    return np.random.Generator(np.random.PCG64(seed))


def scipy_wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


def fake_outcomes(n: int = 500, seed: int = 7, p_incident: float = 0.2) -> pd.DataFrame:
    """Outcomes of the model's shape from known closed-form processes.

    armed_incident ~ Bernoulli(p_incident); its day ~ uniform 0..59 when it happened, else NA;
    end_state ~ categorical over three of the five end states (two never occur);
    blockade_days ~ Poisson(3).
    """
    g = rng(seed)
    armed = g.random(n) < p_incident
    day = pd.Series(g.integers(0, 60, n)).astype("Int64").mask(~armed)
    end_state = g.choice(["de_escalated", "frozen_crisis", "limited_clash"], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(
        {
            "replicate": np.arange(n, dtype=np.int64),
            "param.actors.china.resolve": g.beta(2, 6, n),
            "max_rung": g.integers(0, 9, n),
            "max_rung_name": "threat",
            "armed_incident": armed,
            "first_armed_incident_day": day,
            "end_state": pd.Series(end_state, dtype="str"),
            "blockade_days": g.poisson(3, n),
            "china_belief_west": np.where(armed, g.random(n), np.nan),
            "days": np.full(n, 60),
        }
    )


# --------------------------------------------------------------------------------------------
# Wilson
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (57, 1000), (1, 3)])
def test_wilson_equals_scipy(k: int, n: int, confidence: float) -> None:
    low, high = wilson_interval(k, n, confidence)
    exp_low, exp_high = scipy_wilson(k, n, confidence)
    assert low == pytest.approx(exp_low, abs=1e-12)
    assert high == pytest.approx(exp_high, abs=1e-12)
    assert isinstance(low, float) and isinstance(high, float)


def test_wilson_is_vectorised() -> None:
    k = np.array([0, 5, 17, 40])
    n = np.array([40, 40, 40, 40])
    low, high = wilson_interval(k, n)
    assert low.shape == (4,) and high.shape == (4,)
    for i in range(4):
        assert (low[i], high[i]) == pytest.approx(scipy_wilson(int(k[i]), int(n[i])), abs=1e-12)


def test_wilson_without_data_is_the_whole_range_and_rejects_impossible_counts() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(1, 4, confidence=1.0)


def test_wilson_covers_known_p_in_about_95_percent_of_seeds() -> None:
    p, n, seeds = 0.3, 200, 400
    covered = 0
    for seed in range(seeds):
        k = int((rng(seed).random(n) < p).sum())
        low, high = wilson_interval(k, n)
        covered += low <= p <= high
    # Binomial tolerance: sd of the coverage estimate is about 0.011 at 400 seeds.
    assert 0.92 <= covered / seeds <= 0.98
    # The exact coverage at (p, n) from the binomial distribution agrees with the simulation.
    ks = np.arange(n + 1)
    low, high = wilson_interval(ks, np.full(n + 1, n))
    exact = sps.binom.pmf(ks, n, p)[(low <= p) & (p <= high)].sum()
    assert 0.93 <= exact <= 0.97
    assert abs(covered / seeds - exact) < 0.035


# --------------------------------------------------------------------------------------------
# Means and quantiles
# --------------------------------------------------------------------------------------------


def test_mean_interval_equals_scipy_t_interval_and_ignores_missing_values() -> None:
    x = rng(1).normal(10.0, 3.0, 50)
    with_missing = pd.Series(np.concatenate([x, [np.nan]])).astype("Float64")
    with_missing.iloc[-1] = pd.NA
    expected = sps.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert mean_interval(x, 0.9) == pytest.approx(expected, rel=1e-12)
    assert mean_interval(with_missing, 0.9) == pytest.approx(expected, rel=1e-12)


def test_mean_interval_needs_two_values() -> None:
    assert all(np.isnan(mean_interval([3.0])))
    assert mean_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_quantile_interval_for_the_median_of_20_is_the_textbook_ranks_6_and_15() -> None:
    # Conover (1999) Table A3 / the classic sign-test interval: X(6)..X(15), coverage 0.9586.
    x = rng(2).permutation(np.arange(1.0, 21.0))
    assert quantile_interval(x, 0.5) == (6.0, 15.0)
    assert sps.binom.cdf(14, 20, 0.5) - sps.binom.cdf(5, 20, 0.5) == pytest.approx(0.9586, 1e-4)


@pytest.mark.parametrize("n,q,confidence", [(30, 0.5, 0.95), (101, 0.9, 0.9), (400, 0.25, 0.99)])
def test_quantile_interval_ranks_equal_a_direct_binomial_scan(
    n: int, q: float, confidence: float
) -> None:
    x = np.sort(rng(n).normal(size=n))
    alpha = 1 - confidence
    cum, lower = 0.0, None
    upper = None
    for k in range(n + 1):  # walk the binomial pmf once, as Conover's table is read
        cum += sps.binom.pmf(k, n, q)
        if lower is None and cum >= alpha / 2:
            lower = k
        if upper is None and cum >= 1 - alpha / 2:
            upper = k + 1
    assert lower is not None and upper is not None
    assert quantile_interval(x, q, confidence) == (x[lower - 1], x[upper - 1])
    # Coverage of the chosen ranks is at least the confidence level.
    coverage = sps.binom.cdf(upper - 1, n, q) - sps.binom.cdf(lower - 1, n, q)
    assert coverage >= confidence


def test_quantile_interval_is_unbounded_when_the_sample_is_too_small() -> None:
    assert quantile_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == (float("-inf"), float("inf"))
    assert all(np.isnan(quantile_interval([], 0.5)))


def test_quantile_interval_covers_the_true_median() -> None:
    seeds, covered = 400, 0
    for seed in range(seeds):
        x = rng(seed).exponential(1.0, 41)
        low, high = quantile_interval(x, 0.5)
        covered += low <= np.log(2.0) <= high
    # Nominal coverage of the chosen ranks at n=41 is 0.9724; allow binomial noise.
    assert 0.94 <= covered / seeds <= 0.995


# --------------------------------------------------------------------------------------------
# Newcombe's paired interval
# --------------------------------------------------------------------------------------------


def newcombe_by_hand(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> tuple:
    """Newcombe (1998) method 10, written out as in the paper; a=both, b=first only, ..."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = scipy_wilson(a + b, n, confidence)
    l2, u2 = scipy_wilson(a + c, n, confidence)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    ad_bc = a * d - b * c
    if denom == 0:
        phi = 0.0
    elif ad_bc > n / 2:
        phi = (ad_bc - n / 2) / np.sqrt(denom)
    elif ad_bc >= 0:
        phi = 0.0
    else:
        phi = ad_bc / np.sqrt(denom)
    lower = (p1 - p2) - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    upper = (p1 - p2) + np.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return lower, upper


@pytest.mark.parametrize(
    "table",
    [(14, 5, 0, 22), (1, 1, 7, 12), (59, 6, 16, 80), (0, 3, 1, 96), (10, 0, 0, 90), (5, 9, 8, 2)],
)
def test_newcombe_paired_equals_the_formula(table: tuple[int, int, int, int]) -> None:
    assert newcombe_paired_interval(*table) == pytest.approx(newcombe_by_hand(*table), abs=1e-12)


def test_newcombe_paired_reproduces_a_published_example() -> None:
    # Bentur et al. (2009) as analysed by Fagerland, Lydersen & Laake (2014, Stat Med
    # 33:2850-2875): Newcombe hybrid score interval -0.507 to -0.026.
    low, high = newcombe_paired_interval(1, 1, 7, 12)
    assert (round(low, 3), round(high, 3)) == (-0.507, -0.026)


def correlated_pairs(seed: int, n: int, p_a: float, p_b: float) -> tuple[np.ndarray, np.ndarray]:
    """Common random numbers: both runs threshold the same uniform, as the model's CRN do."""
    u = rng(seed).random(n)
    return u < p_a, u < p_b


def test_newcombe_paired_covers_the_true_difference() -> None:
    p_a, p_b, n, seeds = 0.3, 0.36, 300, 400
    covered = 0
    for seed in range(seeds):
        xa, xb = correlated_pairs(seed, n, p_a, p_b)
        both, only_b, only_a = int(np.sum(xa & xb)), int(np.sum(xb & ~xa)), int(np.sum(xa & ~xb))
        low, high = newcombe_paired_interval(both, only_b, only_a, n - both - only_a - only_b)
        covered += low <= p_b - p_a <= high
    assert 0.92 <= covered / seeds <= 0.995


def test_paired_intervals_are_narrower_than_unpaired_for_positively_correlated_runs() -> None:
    xa, xb = correlated_pairs(11, 1000, 0.3, 0.35)
    a = pd.DataFrame({"replicate": np.arange(1000), "event": xa, "x": xa * 10.0 + 1})
    b = pd.DataFrame({"replicate": np.arange(1000), "event": xb, "x": xb * 10.0 + 2})
    table = compare_paired(a, b).set_index("outcome")

    paired = table.loc["event"]
    # Unpaired: Newcombe's square-and-add for independent samples (phi = 0).
    l1, u1 = wilson_interval(int(xb.sum()), 1000)
    l2, u2 = wilson_interval(int(xa.sum()), 1000)
    pb, pa = xb.mean(), xa.mean()
    unpaired_width = np.hypot(pb - l1, u2 - pa) + np.hypot(u1 - pb, pa - l2)
    assert paired.ci_high - paired.ci_low < 0.5 * unpaired_width

    mean_row = table.loc["mean:x"]
    welch = sps.ttest_ind(b["x"], a["x"], equal_var=False).confidence_interval()
    assert mean_row.ci_high - mean_row.ci_low < 0.5 * (welch.high - welch.low)


# --------------------------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------------------------


def test_summarize_columns_rows_and_values() -> None:
    out = fake_outcomes()
    summary = summarize(out)
    assert list(summary.columns) == ["outcome", "estimate", "ci_low", "ci_high", "n", "kind"]
    rows = summary.set_index("outcome")

    k = int(out["armed_incident"].sum())
    assert rows.loc["armed_incident", "estimate"] == k / len(out)
    assert (rows.loc["armed_incident", "ci_low"], rows.loc["armed_incident", "ci_high"]) == (
        pytest.approx(scipy_wilson(k, len(out)), abs=1e-12)
    )
    # Every end state is listed, in order of severity, even the two that never occur.
    end_rows = [o for o in summary["outcome"] if o.startswith("end_state=")]
    assert end_rows == [f"end_state={s}" for s in END_STATES]
    assert rows.loc["end_state=regional_war", "estimate"] == 0.0
    assert rows.loc["end_state=regional_war", "ci_high"] > 0.0
    assert rows.loc["end_state=frozen_crisis", "estimate"] == pytest.approx(
        (out["end_state"] == "frozen_crisis").mean()
    )
    # Skipped columns.
    names = set(summary["outcome"])
    assert not any("param." in o or "replicate" in o or "_name" in o for o in names)

    mean_days = rows.loc["mean:blockade_days"]
    x = out["blockade_days"].to_numpy(dtype=float)
    assert mean_days.estimate == pytest.approx(x.mean())
    assert (mean_days.ci_low, mean_days.ci_high) == pytest.approx(
        sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    )
    assert set(summary["kind"]) == {"probability", "mean", "median"}


def test_summarize_handles_missing_days() -> None:
    out = fake_outcomes()
    rows = summarize(out).set_index("outcome")
    days = out["first_armed_incident_day"].dropna().to_numpy(dtype=float)
    median = rows.loc["median:first_armed_incident_day"]
    assert median.n == len(days) == int(out["armed_incident"].sum())
    assert median.estimate == np.median(days)
    assert (median.ci_low, median.ci_high) == quantile_interval(days, 0.5)
    assert rows.loc["mean:first_armed_incident_day", "estimate"] == pytest.approx(days.mean())
    assert rows.loc["mean:china_belief_west", "n"] == len(days)


def test_summarize_with_no_incident_at_all() -> None:
    out = fake_outcomes(n=50, p_incident=0.0)
    rows = summarize(out).set_index("outcome")
    assert rows.loc["armed_incident", "estimate"] == 0.0
    assert rows.loc["median:first_armed_incident_day", "n"] == 0
    assert np.isnan(rows.loc["median:first_armed_incident_day", "estimate"])


def test_summarize_excludes_and_counts_failed_replicates() -> None:
    out = fake_outcomes(n=100)
    out["error"] = ""
    out.loc[[3, 50], "error"] = "ValueError: boom"
    out.loc[[3, 50], "armed_incident"] = True  # must not count
    summary = summarize(out)
    assert summary.attrs["failed"] == 2
    assert summary.attrs["replicates"] == 100
    assert (summary.loc[summary["kind"] == "probability", "n"] == 98).all()
    ok = out.drop(index=[3, 50])
    expected = ok["armed_incident"].mean()
    assert summary.set_index("outcome").loc["armed_incident", "estimate"] == expected
    assert "error" not in " ".join(summary["outcome"])


def test_summarize_row_order_is_deterministic_and_grouped_by_kind() -> None:
    out = fake_outcomes()
    first, second = summarize(out), summarize(out.sample(frac=1.0, random_state=0))
    assert list(first["outcome"]) == list(second["outcome"])
    pd.testing.assert_frame_equal(first, second)
    kinds = list(first["kind"])
    assert kinds == sorted(kinds, key=["probability", "mean", "median"].index)


def test_summarize_rejects_an_outcome_it_cannot_summarise() -> None:
    out = fake_outcomes(n=5)
    out["when"] = pd.Timestamp("2024-07-06")
    with pytest.raises(ValueError, match="when"):
        summarize(out)


def test_headline_probabilities_selects_the_probability_rows() -> None:
    summary = summarize(fake_outcomes())
    head = headline_probabilities(summary)
    assert (head["kind"] == "probability").all()
    assert len(head) == (summary["kind"] == "probability").sum()
    no_kind = headline_probabilities(summary.drop(columns="kind"))
    assert list(no_kind["outcome"]) == list(head["outcome"])


def test_category_shares_lists_requested_categories_first() -> None:
    shares = category_shares(["b", "a", "b", None], ["c", "b"])
    assert list(shares["category"]) == ["c", "b", "a"]
    assert list(shares["count"]) == [0, 2, 1]
    assert (shares["n"] == 3).all()


def test_cumulative_incidence_ends_at_the_incident_share() -> None:
    out = fake_outcomes()
    curve = cumulative_incidence(out["first_armed_incident_day"], 59)
    assert curve["estimate"].iloc[-1] == out["armed_incident"].mean()
    assert curve["estimate"].is_monotonic_increasing
    day10 = int((out["first_armed_incident_day"].dropna() <= 10).sum())
    row = curve.set_index("day").loc[10]
    assert row["count"] == day10
    assert (row.ci_low, row.ci_high) == pytest.approx(scipy_wilson(day10, len(out)), abs=1e-12)


# --------------------------------------------------------------------------------------------
# compare_paired
# --------------------------------------------------------------------------------------------


def test_compare_paired_joins_on_replicate_and_measures_b_minus_a() -> None:
    a = fake_outcomes(n=300, seed=3)
    b = a.copy()
    g = rng(4)
    flip = g.random(len(b)) < 0.1  # B has extra incidents in about 10% of replicates
    b["armed_incident"] = a["armed_incident"] | flip
    b["blockade_days"] = a["blockade_days"] + g.integers(0, 3, len(b))
    b = b.sample(frac=1.0, random_state=1)  # row order must not matter
    table = compare_paired(a, b)
    assert list(table.columns[:7]) == [
        "outcome",
        "estimate_a",
        "estimate_b",
        "difference",
        "ci_low",
        "ci_high",
        "n",
    ]
    rows = table.set_index("outcome")

    inc = rows.loc["armed_incident"]
    xa, xb = a["armed_incident"].to_numpy(), b.sort_values("replicate")["armed_incident"]
    xb = xb.to_numpy()
    only_b, only_a, both = int(np.sum(xb & ~xa)), int(np.sum(xa & ~xb)), int(np.sum(xa & xb))
    assert (inc.only_a, inc.only_b) == (only_a, only_b) == (0, only_b)
    assert inc.difference == pytest.approx(xb.mean() - xa.mean())
    expected = newcombe_by_hand(both, only_b, only_a, len(xa) - both - only_a - only_b)
    assert (inc.ci_low, inc.ci_high) == pytest.approx(expected, abs=1e-12)

    days = rows.loc["mean:blockade_days"]
    ya = a["blockade_days"].to_numpy(dtype=float)
    yb = b.sort_values("replicate")["blockade_days"].to_numpy(dtype=float)
    ci = sps.ttest_rel(yb, ya).confidence_interval(0.95)
    assert (days.ci_low, days.ci_high) == pytest.approx((ci.low, ci.high))
    assert days.difference == pytest.approx(days.estimate_b - days.estimate_a)
    # Identical outcomes give a zero difference with a zero-width interval around it.
    same = rows.loc["end_state=limited_clash"]
    assert same.difference == 0.0 and same.only_a == same.only_b == 0
    assert same.ci_low <= 0.0 <= same.ci_high


def test_compare_paired_skips_failed_and_unmatched_replicates() -> None:
    a = fake_outcomes(n=40)
    b = fake_outcomes(n=40).iloc[5:]
    a["error"] = ""
    a.loc[0, "error"] = "boom"
    table = compare_paired(a, b)
    assert (table["n"].loc[table["kind"] == "probability"] == 35).all()
    assert table.attrs["paired"] == 35
    assert table.attrs["failed_a"] == 1
    assert table.attrs["unmatched_a"] == 4


def test_compare_paired_needs_shared_replicates() -> None:
    a = fake_outcomes(n=10)
    b = a.assign(replicate=a["replicate"] + 100)
    with pytest.raises(ValueError, match="same seed"):
        compare_paired(a, b)


# --------------------------------------------------------------------------------------------
# Occupancy
# --------------------------------------------------------------------------------------------


def test_rung_quantile_by_hand() -> None:
    counts = np.array(
        [
            [10, 0, 0, 0],  # all on rung 0
            [3, 4, 3, 0],  # cum 3, 7, 10
            [0, 5, 0, 5],  # cum 0, 5, 5, 10: exactly half by rung 1
            [0, 0, 0, 0],  # nobody (should not happen, but must not crash)
        ]
    )
    assert list(rung_quantile(counts, 0.5)) == [0, 1, 1, -1]
    assert list(rung_quantile(counts, 0.05)) == [0, 0, 1, -1]
    assert list(rung_quantile(counts, 0.95)) == [0, 2, 3, -1]
    assert list(rung_quantile(counts, 0.3)) == [0, 0, 1, -1]  # 3/10 is exactly 0.3
    assert list(rung_quantile(counts, 0.0)) == [0, 0, 1, -1]


def test_rung_quantile_matches_sorted_values() -> None:
    g = rng(5)
    values = g.integers(0, 9, (300, 7))  # 300 replicates, 7 days
    counts = np.stack([np.bincount(values[:, d], minlength=9) for d in range(7)])
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        expected = np.quantile(values, q, axis=0, method="inverted_cdf")
        assert list(rung_quantile(counts, q)) == list(expected)


def test_occupancy_shares_sum_to_one() -> None:
    counts = rng(6).integers(0, 20, (5, 6, 9))
    shares = occupancy_shares(counts)
    assert np.allclose(shares.sum(axis=-1), 1.0)
    assert np.isnan(occupancy_shares(np.zeros((1, 3)))).all()


def test_mean_interval_stays_within_the_observed_range():
    # A rare non-negative outcome (one blockade day in 1,000 replicates): the t interval alone
    # would reach below zero, which no mean of non-negative values can.
    x = np.zeros(1000)
    x[0] = 1.0
    low, high = mean_interval(x)
    assert low == 0.0
    assert 0.001 < high < 0.01
