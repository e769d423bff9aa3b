"""Sensitivity analysis: estimators on functions with known indices, the whole pipeline on
scenarios with a known answer, factors and their ranges, and the CLI's errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sensitivity import (
    Factor,
    FactorSet,
    OutcomeSpec,
    convergence,
    indices_for,
    noise_share,
    parse_outcomes,
    point_outcomes,
    ranking_stability,
    sample_design,
    scenario_factors,
)
from sim.errors import UserError

REPO = Path(__file__).resolve().parents[1]

FIXTURES = REPO / "tests" / "fixtures" / "sensitivity"
ONE = FIXTURES / "one_driver.yaml"
TWO = FIXTURES / "two_interact.yaml"


def _unit_factors(d: int, low: float = 0.0, high: float = 1.0) -> FactorSet:
    return FactorSet(tuple(Factor(f"x{i}", "fixed", "test", low, high, 0.5) for i in range(d)))


# ----------------------------------------------------------------------------- estimators


def test_sobol_recovers_the_ishigami_indices() -> None:
    # Ishigami & Homma (1990), a = 7, b = 0.1: S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244).
    design = sample_design(_unit_factors(3, -np.pi, np.pi), "sobol", 2048, seed=3)
    x = design.values().to_numpy()
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    df = indices_for(design, y).set_index("factor")
    expected_s1 = {"x0": 0.3139, "x1": 0.4424, "x2": 0.0}
    expected_st = {"x0": 0.5576, "x1": 0.4424, "x2": 0.2437}
    for name in expected_s1:
        assert df.loc[name, "S1"] == pytest.approx(expected_s1[name], abs=0.05)
        assert df.loc[name, "ST"] == pytest.approx(expected_st[name], abs=0.05)
        assert df.loc[name, "ST_ci_low"] <= df.loc[name, "ST"] <= df.loc[name, "ST_ci_high"]
    assert list(df.sort_values("rank").index) == ["x0", "x1", "x2"]


def test_morris_mu_star_of_a_linear_function_is_its_slope_over_the_range() -> None:
    design = sample_design(_unit_factors(4, 0.0, 2.0), "morris", 30, seed=1)
    x = design.values().to_numpy()
    y = 3.0 * x[:, 0] - 1.0 * x[:, 1] + 0.0 * x[:, 2] + 0.25 * x[:, 3]
    df = indices_for(design, y).set_index("factor")
    # The effect over the whole range (2 units) of each factor.
    assert df["mu_star"].to_dict() == pytest.approx({"x0": 6.0, "x1": 2.0, "x2": 0.0, "x3": 0.5})
    assert df.loc["x1", "mu"] == pytest.approx(-2.0)
    assert df["sigma"].max() == pytest.approx(0.0, abs=1e-9)  # no interactions, no curvature
    assert list(df.sort_values("rank").index) == ["x0", "x1", "x3", "x2"]


def test_convergence_uses_nested_designs_and_ranking_is_stable_for_a_clear_case() -> None:
    design = sample_design(_unit_factors(5), "sobol", 256, seed=2)
    x = design.values().to_numpy()
    y = 5 * x[:, 0] + 2 * x[:, 1] + 0.5 * x[:, 2]
    conv = convergence(design, y)
    assert sorted(conv["n"].unique()) == [32, 64, 128, 256]
    last = conv[conv["n"] == 256].set_index("factor")
    assert last.loc["x0", "index"] > last.loc["x1", "index"] > last.loc["x2", "index"]
    assert ranking_stability(conv, top=3) == 1.0


def test_noise_share_separates_parameters_from_dice() -> None:
    # Two points, four replicates each: values 0/1 within points, point means 0.25 and 0.75.
    rows = pd.DataFrame({"point": [0] * 4 + [1] * 4, "hit": [1, 0, 0, 0, 1, 1, 1, 0]})
    rows["hit"] = rows["hit"].astype(bool)
    po = point_outcomes(rows, OutcomeSpec("hit", "hit"), 2)
    assert po.mean.tolist() == [0.25, 0.75]
    n = noise_share(po)
    within, between = 0.1875, 0.0625  # p(1-p) at each point; variance of {0.25, 0.75}
    assert n["noise_share"] == pytest.approx(within / (within + between))
    assert n["noise_in_means_independent"] == pytest.approx(min(1.0, within / 4 / between))


def test_noise_in_means_is_the_split_half_unreliability_of_the_point_means() -> None:
    from sim.rng import Streams

    points, k = 200, 40
    st = Streams(1, np.arange(points * k))
    p = np.repeat(np.linspace(0.05, 0.95, points), k)
    rep = np.tile(np.arange(k), points)
    u = Streams(1, rep).uniform(0, 0, "u")  # common random numbers: the same k worlds
    crn = pd.DataFrame({"point": np.repeat(np.arange(points), k), "replicate": rep})
    crn["hit"] = u < p
    n_crn = noise_share(point_outcomes(crn, OutcomeSpec("hit", "hit"), points))
    # Under CRN the point means are a monotone function of p for fixed worlds: reliable.
    assert n_crn["noise_in_means"] < 0.05
    fresh = crn.copy()
    fresh["hit"] = st.uniform(0, 0, "v") < 0.5  # nothing depends on the point: all noise
    n_fresh = noise_share(point_outcomes(fresh, OutcomeSpec("hit", "hit"), points))
    assert n_fresh["noise_in_means"] > 0.8


# ----------------------------------------------------------------------------- factors


def test_uncertain_factors_are_the_scenarios_distributions_and_fixed_ones_stay_in_bounds() -> None:
    from sim.scenario.loader import load_scenario
    from sim.scenario.parameters import declared_parameters, uncertain_parameters

    s = load_scenario(REPO / "scenarios" / "staged_provocation.yaml")
    only = scenario_factors(s)
    assert only.names == list(uncertain_parameters(s))
    screened = scenario_factors(s, 0.2)
    fixed = [f for f in screened.factors if f.kind == "fixed"]
    skipped = {p for p, _ in screened.skipped}
    declared = declared_parameters(s)
    # Every declared number is either a factor or skipped (with its reason).
    assert set(screened.names) | skipped == set(declared)
    assert {f.category for f in fixed} >= {"motive weight", "move cost", "actor trait"}
    for f in fixed:
        v = float(declared[f.name])
        assert f.low < f.high
        assert min(v * 0.8, v * 1.2) <= f.low + 1e-12 and f.high <= max(v * 0.8, v * 1.2) + 1e-12
    probs = [f for f in fixed if f.name.endswith(".probability")]
    assert probs and all(f.low >= 0.0 and f.high <= 1.0 for f in probs)
    assert all(declared[p] == 0 for p in skipped)


def test_outcome_specs_check_names_kinds_and_categories() -> None:
    rows = pd.DataFrame(
        {
            "armed_incident": [True, False],
            "blockade_days": [0, 4],
            "end_state": pd.array(["frozen_crisis", "limited_clash"], dtype="str"),
        }
    )
    specs = parse_outcomes(["armed_incident", "blockade_days>2", "end_state"], rows)
    assert [s.text for s in specs][:2] == ["armed_incident", "blockade_days>2"]
    assert "end_state=limited_clash" in [s.text for s in specs]
    assert specs[1].values(rows).tolist() == [0.0, 1.0]
    with pytest.raises(UserError, match="unknown outcome 'armed_incidnt'; did you mean"):
        parse_outcomes(["armed_incidnt"], rows)
    with pytest.raises(UserError, match="needs a numeric outcome"):
        parse_outcomes(["end_state>3"], rows)


def test_a_misspelt_category_is_refused_with_its_scenario_values() -> None:
    """``end_state=setled`` estimated 0.000 in every world and exited 0 (issue 21)."""
    from sim.scenario import load_scenario

    s = load_scenario(REPO / "scenarios" / "staged_provocation.yaml")
    rows = pd.DataFrame({"end_state": pd.array(["limited_clash"], dtype="str"), "error": [""]})
    with pytest.raises(UserError, match=r"never takes the value 'de_escalatd'; did you mean "
                       r"'end_state=de_escalated'\?"):  # fmt: skip
        parse_outcomes(["end_state=de_escalatd"], rows, s)
    with pytest.raises(UserError, match="never takes the value 'setled'"):
        parse_outcomes(["end_state=setled"], rows, s)
    # A declared end state the rows never saw is a real question with the answer 0.
    names = [e.name for e in s.end_states]
    assert parse_outcomes([f"end_state={names[0]}"], rows, s)[0].value == names[0]


# ----------------------------------------------------------------------------- known answers


def _by_factor(result: object, outcome: str = "staged_incident") -> pd.DataFrame:
    df = result.to_df()  # type: ignore[attr-defined]
    return df[df["outcome"] == outcome].set_index("factor")


def test_one_parameter_alone_drives_the_outcome_sobol() -> None:
    import sim

    r = sim.sensitivity(ONE, ["staged_incident"], method="sobol", n=128, replicates_per_point=16)
    df = _by_factor(r)
    driver = "injects[0].probability"
    assert df["rank"].idxmin() == driver
    # P(staged | p) = p: all of the variance is p's, alone.
    for key in ("S1", "ST"):
        assert df.loc[driver, f"{key}_ci_low"] <= 1.0 <= df.loc[driver, f"{key}_ci_high"] + 0.02
        assert df.loc[driver, key] == pytest.approx(1.0, abs=0.1)
    others = df.drop(index=driver)
    assert len(others) >= 10  # the base world's uncertain parameters are all in the design
    assert others["ST"].abs().max() < 0.02


def test_one_parameter_alone_drives_the_outcome_morris() -> None:
    import sim

    r = sim.sensitivity(ONE, ["staged_incident"], method="morris", n=10, replicates_per_point=64)
    df = _by_factor(r)
    driver = "injects[0].probability"
    assert df["rank"].idxmin() == driver
    # P(staged | p) = p: the effect of p over its whole range is 1. The K replicates' own
    # uniforms make the point means an empirical CDF of p, off by O(1/sqrt(K)).
    assert df.loc[driver, "mu_star"] == pytest.approx(1.0, abs=0.15)
    assert (
        df.loc[driver, "mu_star_ci_low"] - 0.05 <= 1.0 <= df.loc[driver, "mu_star_ci_high"] + 0.05
    )
    assert df.drop(index=driver)["mu_star"].max() == 0.0


def test_two_parameters_that_interact_get_their_sobol_indices() -> None:
    import sim

    # Ten factors keep the design small (3,072 points); the one-driver test above already
    # checks that every one of the base world's uncertain parameters gets nothing.
    include = ["injects*", "actors.belarus.*", "incidents.*"]
    r = sim.sensitivity(
        TWO, ["staged_incident"], method="sobol", n=256, replicates_per_point=32, include=include
    )
    df = _by_factor(r)
    pair = ["injects[0].probability", "injects[1].probability"]
    assert set(df.nsmallest(2, "rank").index) == set(pair)
    # f = 1 - (1 - p)(1 - q), p, q ~ U(0, 1): S1 = 3/7, ST = 4/7 for each.
    for name in pair:
        assert df.loc[name, "S1_ci_low"] - 0.03 <= 3 / 7 <= df.loc[name, "S1_ci_high"] + 0.03
        assert df.loc[name, "ST_ci_low"] - 0.03 <= 4 / 7 <= df.loc[name, "ST_ci_high"] + 0.03
        assert df.loc[name, "ST"] > df.loc[name, "S1"]  # the interaction
    assert df.loc[pair, "S1"].sum() < 0.95
    assert df.drop(index=pair)["ST"].abs().max() < 0.02


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_a_sensitivity_folder_and_prints_the_ranking(escalation, tmp_path) -> None:
    out = tmp_path / "s"
    p = escalation(
        "sensitivity", str(ONE), "--method", "morris", "-N", "6", "-k", "8",
        "--outcome", "staged_incident", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    first_rank = next(line for line in lines if line.strip().startswith("1 "))
    assert "injects[0].probability" in first_rank
    assert "not forecasts" in p.stdout
    info = json.loads((out / "analysis.json").read_text())
    assert info["kind"] == "sensitivity" and info["method"] == "morris"
    indices = pd.read_csv(out / "indices.csv")
    assert indices.loc[indices["rank"] == 1, "factor"].item() == "injects[0].probability"
    assert (out / "charts" / "tornado_staged_incident.png").stat().st_size > 0
    assert (out / "charts" / "convergence_staged_incident.svg").stat().st_size > 0
    assert (out / "run" / "outcomes.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "fast"], "--method must be one of morris, sobol"),
        (["--method", "sobol", "-N", "100"], "must be a power of 2"),
        (["--outcome", "armed_incidnt"], "unknown outcome 'armed_incidnt'"),
        (["--screen-fixed", "150%"], "--screen-fixed: must be between 0% and 100%"),
        (["-k", "zero"], "-k must be a whole number"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(escalation, tmp_path, args, message) -> None:
    p = escalation("sensitivity", str(ONE), "--out", str(tmp_path / "x"), "--quiet", *args)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_cli_names_the_file_and_line_of_a_bad_scenario(escalation, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {REPO / 'scenarios' / 'base.yaml'}\nname: bad\nhorizon_days: -3\n")
    p = escalation("sensitivity", str(bad), "--out", str(tmp_path / "x"))
    assert p.returncode == 2
    assert f"{bad}:3: horizon_days" in p.stderr
    assert "Traceback" not in p.stderr


def test_same_seed_same_indices_and_every_point_shares_its_replicate_ids(tmp_path) -> None:
    import sim

    kw = {"method": "morris", "n": 4, "replicates_per_point": 8}
    a = sim.sensitivity(TWO, ["staged_incident"], out=tmp_path / "a", **kw)
    b = sim.sensitivity(TWO, ["staged_incident"], **kw)
    pd.testing.assert_frame_equal(a.to_df(), b.to_df())
    rows = pd.read_parquet(tmp_path / "a" / "run" / "outcomes.parquet")
    ids = rows.groupby("point")["replicate"].apply(tuple)
    assert len(ids) == a.info["points"] and set(ids) == {tuple(range(8))}
    # The design's values are the rows' parameter values.
    unit = pd.read_parquet(tmp_path / "a" / "unit.parquet")
    p = rows.groupby("point")["param.injects[0].probability"].first().to_numpy()
    np.testing.assert_allclose(p, unit["injects[0].probability"].to_numpy(), atol=1e-9)


def test_cli_resume_finishes_a_sensitivity_folder_with_the_same_indices(escalation, tmp_path):
    out = tmp_path / "s"
    args = ["--method", "morris", "-N", "6", "-k", "8", "--outcome", "staged_incident"]
    p = escalation("sensitivity", str(TWO), *args, "--out", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    before = (out / "indices.csv").read_text()
    # What an interrupted run leaves: no final table, no analysis.
    (out / "run" / "outcomes.parquet").unlink()
    (out / "indices.csv").unlink()
    p = escalation("sensitivity", "--resume", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    assert (out / "indices.csv").read_text() == before
    p = escalation("sensitivity", str(TWO), "--resume", str(out))
    assert p.returncode == 2 and "not both" in p.stderr


def test_cli_interrupted_sensitivity_says_how_to_resume_and_resumes(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "s"
    exe = Path(sys.executable).parent / "escalation"
    args = [str(exe), "sensitivity", str(TWO), "--method", "morris", "-N", "30", "-k", "32"]
    args += ["--outcome", "staged_incident", "--out", str(out), "--quiet", "--workers", "1"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not (out / "run" / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the design finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert f"escalation sensitivity --resume {out}" in err
    assert not (out / "indices.csv").exists()
    p = subprocess.run(
        [str(exe), "sensitivity", "--resume", str(out), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    ranked = pd.read_csv(out / "indices.csv").sort_values("rank")["factor"].tolist()
    assert set(ranked[:2]) == {"injects[0].probability", "injects[1].probability"}


@pytest.mark.parametrize("rare", [False, True])
def test_sobol_indices_equal_salib_analyze_to_the_last_bit(rare: bool) -> None:
    """The shared-resample bootstrap is SALib's ``sobol.analyze``, only faster."""
    import warnings

    from SALib.analyze import sobol as sobol_analyze

    from sim.analysis.sensitivity import derived_seed, salib_problem, sobol_indices

    names = [f"x{i}" for i in range(5)]
    rng = np.random.default_rng(7)
    n, d = 256, len(names)
    x = rng.random((n * (d + 2), d))
    y = x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + 0.1 * rng.random(len(x))
    if rare:  # a 1%-of-worlds outcome, as article5 is: mostly zeros
        y = (y > np.quantile(y, 0.99)).astype(float)
    got = sobol_indices(y, names, seed=11, resamples=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sobol_analyze.analyze(
            salib_problem(names),
            y,
            calc_second_order=False,
            num_resamples=200,
            conf_level=0.95,
            seed=derived_seed(11, "sensitivity:sobol-bootstrap"),
        )
    for key in ("S1", "ST"):
        assert np.array_equal(got[key].to_numpy(), np.asarray(want[key]))
        conf = np.nan_to_num(np.asarray(want[f"{key}_conf"]))
        assert np.array_equal(got[f"{key}_ci_high"].to_numpy(), np.asarray(want[key]) + conf)
        assert np.array_equal(got[f"{key}_ci_low"].to_numpy(), np.asarray(want[key]) - conf)


def test_the_sobol_printout_says_whether_intervals_are_resolved_and_what_n_would_do() -> None:
    from sim.analysis.sensitivity import sobol_precision

    def rows(half: float) -> pd.DataFrame:
        st = np.array([0.5, 0.2, 0.0])
        return pd.DataFrame(
            {"ST": st, "ST_ci_low": st - half, "ST_ci_high": st + half}
            | {"S1": st / 2, "S1_ci_low": st / 2 - half / 2, "S1_ci_high": st / 2 + half / 2}
        )

    line = sobol_precision(rows(0.04), 1024)
    assert "0.08 of the largest total index" in line and "resolved" in line
    line = sobol_precision(rows(0.1), 1024)  # 0.2 of 0.5: 4x the samples
    assert "0.20 of the largest" in line and "about N=4,096 would bring it to 0.1" in line
