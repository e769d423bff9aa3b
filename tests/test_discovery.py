"""Scenario discovery: PRIM on data with a planted box, rules in words, the CLI on a run."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.discovery import discover, peel
from sim.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def _planted(n: int = 4000, flip: float = 0.03, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    from sim.rng import Streams

    st = Streams(seed, np.arange(n))
    x = pd.DataFrame({f"param.x{i}": st.uniform(0, 1, f"x{i}") for i in range(6)})
    y = ((x["param.x0"] > 0.6) & (x["param.x3"] < 0.3)).to_numpy(dtype=float)
    noise = st.uniform(0, 1, "flip") < flip
    return x, np.where(noise, 1 - y, y)


def test_peeling_trajectory_trades_coverage_for_density() -> None:
    x, y = _planted()
    boxes = peel(x.to_numpy(), y)
    assert boxes[0].coverage == 1.0 and boxes[0].mass == 1.0
    assert boxes[-1].mass >= 0.05
    dens = [b.density for b in boxes]
    assert dens[-1] > 3 * dens[0]
    assert all(b2.coverage <= b1.coverage + 1e-12 for b1, b2 in itertools.pairwise(boxes))


def test_prim_finds_the_planted_box_and_says_it_in_words() -> None:
    x, y = _planted()
    r = discover(x, y, "china_escalates")
    lim = r.limits.set_index("parameter")
    assert set(lim.index) == {"param.x0", "param.x3"}
    assert lim.loc["param.x0", "lower"] == pytest.approx(0.6, abs=0.06)
    assert lim.loc["param.x3", "upper"] == pytest.approx(0.3, abs=0.06)
    box = r.boxes.iloc[0]
    assert box["density"] > 0.85 and box["coverage"] >= 0.5
    rule = r.rules[0]
    assert rule.startswith("when x0 >= 0.")
    assert " and x3 <= 0." in rule
    assert f"china escalates in {box['density']:.0%} of such worlds" in rule
    assert f"which hold {box['coverage']:.0%} of all worlds where it happens" in rule
    fig = r.plot()
    chosen = [c for c in fig.axes[0].collections if c.get_gid() == "chosen"]
    assert chosen and tuple(chosen[0].get_offsets()[0]) == pytest.approx(
        (box["coverage"], box["density"])
    )


def test_discovery_refuses_what_it_cannot_do() -> None:
    x, _ = _planted(200)
    with pytest.raises(UserError, match="never happens"):
        discover(x, np.zeros(200), "blockade")
    with pytest.raises(UserError, match="no sampled parameters"):
        discover(x.iloc[:, :0], np.ones(200), "blockade")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    import sim

    out = tmp_path_factory.mktemp("disc") / "run"
    sim.run(REPO / "tests" / "fixtures" / "sensitivity" / "one_driver.yaml", replicates=3000,
            seed=4, out=out, workers=1)  # fmt: skip
    return out


def test_cli_discover_on_a_run_finds_the_driver(escalation, run_folder, tmp_path) -> None:
    out = tmp_path / "d"
    p = escalation("discover", str(run_folder), "--outcome", "staged_incident", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "box 1: when injects[0].probability >= 0." in p.stdout
    assert "of such worlds, which hold" in p.stdout
    boxes = pd.read_csv(out / "boxes.csv")
    assert boxes.loc[0, "density"] > 0.6
    assert (out / "tradeoff.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "blockade_days"], "needs a yes/no outcome"),
        (["--outcome", "nonsense"], "unknown outcome 'nonsense'"),
    ],
)
def test_cli_discover_bad_input(escalation, run_folder, tmp_path, args, message) -> None:
    p = escalation("discover", str(run_folder), "--out", str(tmp_path / "x"), *args)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_cli_discover_on_a_folder_that_is_no_run(escalation, tmp_path) -> None:
    p = escalation("discover", str(tmp_path), "--outcome", "blockade")
    assert p.returncode == 2
    assert str(tmp_path) in p.stderr and "Traceback" not in p.stderr
