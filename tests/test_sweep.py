"""Sweeps: the grid, intervals per point, threshold crossings, charts, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sweep import crossings, grid, parse_vary
from sim.errors import UserError

REPO = Path(__file__).resolve().parents[1]
ONE = REPO / "tests" / "fixtures" / "sensitivity" / "one_driver.yaml"


@pytest.fixture(scope="module")
def scenario():
    from sim.scenario.loader import load_scenario

    return load_scenario(ONE)


def test_vary_parses_a_grid_and_refuses_bad_keys_and_ranges(scenario) -> None:
    v = parse_vary("injects[0].probability=0:1:5", scenario)
    assert v.values == (0.0, 0.25, 0.5, 0.75, 1.0)
    with pytest.raises(UserError, match="not a parameter of the scenario; did you mean"):
        parse_vary("injects[0].probabilty=0:1:5", scenario)
    with pytest.raises(UserError, match=r"must stay within \[0, 1\]"):
        parse_vary("injects[0].probability=0:1.5:5", scenario)
    with pytest.raises(UserError, match="KEY=LOW:HIGH:STEPS"):
        parse_vary("injects[0].probability=0:1", scenario)
    with pytest.raises(UserError, match="needs LOW < HIGH"):
        parse_vary("injects[0].probability=0.5:0.5:3", scenario)


def test_two_keys_make_a_full_grid(scenario) -> None:
    a = parse_vary("injects[0].probability=0:1:3", scenario)
    b = parse_vary("actors.china.resolve=0.2:0.4:2", scenario)
    g = grid([a, b])
    assert len(g) == 6
    assert g.iloc[1].tolist() == [0.0, 0.4]


def test_crossings_interpolate_between_grid_points() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert crossings(x, np.array([0.1, 0.3, 0.7, 0.9]), 0.5) == [pytest.approx(1.5)]
    assert crossings(x, np.array([0.1, 0.5, 0.7, 0.2]), 0.5) == [1.0, pytest.approx(2 + 0.4)]
    assert crossings(x, np.array([0.1, 0.2, 0.3, 0.4]), 0.5) == []


def test_sweep_of_the_driver_follows_the_identity_with_wilson_bands() -> None:
    import sim

    r = sim.sweep(
        ONE, ["injects[0].probability=0:1:5"], ["staged_incident"], replicates_per_point=400,
        threshold=0.5,
    )  # fmt: skip
    t = r.to_df()
    assert t["injects[0].probability"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # P(staged | p) = p, and every point covers its true value.
    assert (t["ci_low"] <= t["injects[0].probability"] + 1e-9).all()
    assert (t["injects[0].probability"] <= t["ci_high"] + 1e-9).all()
    assert t["estimate"].iloc[0] == 0.0 and t["estimate"].iloc[-1] == 1.0
    assert (t["n"] == 400).all()
    # Common random numbers: the same worlds at every point, so the curve never goes down.
    assert (np.diff(t["estimate"].to_numpy()) >= 0).all()
    (x,) = r.crossing["staged_incident"]
    assert x == pytest.approx(0.5, abs=0.06)
    fig = r.plot()
    ax = fig.axes[0]
    assert [line.get_gid() for line in ax.lines].count("crossing") == 1
    curve = next(line for line in ax.lines if line.get_gid() == "curve")
    assert list(curve.get_ydata()) == t["estimate"].tolist()


def test_cli_sweep_with_two_keys_draws_a_heat_map(escalation, tmp_path) -> None:
    out = tmp_path / "w"
    p = escalation(
        "sweep", str(ONE), "--vary", "injects[0].probability=0:1:3",
        "--vary", "actors.china.resolve=0.2:0.6:2", "--outcome", "staged_incident",
        "-k", "50", "--threshold", "0.5", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "injects[0].probability=0.5" in p.stdout
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 6
    assert json.loads((out / "analysis.json").read_text())["kind"] == "sweep"
    assert (out / "charts" / "heatmap_staged_incident.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "nope=0:1:3"], "'nope' is not a parameter of the scenario"),
        (["--vary", "injects[0].probability=0:1:3", "--threshold", "x"], "--threshold must be"),
        (
            ["--vary", "injects[0].probability=0:1:3", "--vary", "injects[0].probability=0:1:2"],
            "names injects[0].probability twice",
        ),
    ],
)
def test_cli_sweep_bad_input_is_one_line(escalation, tmp_path, args, message) -> None:
    p = escalation("sweep", str(ONE), "--out", str(tmp_path / "x"), "--quiet", *args)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
