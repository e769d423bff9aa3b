"""Tests of sim.charts: they assert on what is drawn, not only that drawing does not fail.

Data are small synthetic tables and arrays whose right picture is known by hand; one
integration test feeds real model output through summarize and every chart once the model's
``run_replicates`` exists.
"""

from __future__ import annotations

import datetime as dt
import io
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # only to check that no pyplot figure is left open
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from sim.analysis.stats import END_STATES, compare_paired, summarize
from sim.charts import (
    RunInfo,
    alignment_chart,
    comparison_chart,
    draw_all,
    end_state_chart,
    heatmap_chart,
    ladder_fan_chart,
    probabilities_chart,
    time_to_incident_chart,
)
from sim.charts.common import STAMP_GID, day_label, stamp_text

RUNGS = [
    "status_quo",
    "rhetoric",
    "threat",
    "show_of_force",
    "hybrid_pressure",
    "armed_incident",
    "limited_clash",
    "regional_war",
    "nato_russia_war",
]
LEVELS = [
    "neutral",
    "rhetorical_support",
    "diplomatic_cover",
    "economic_support",
    "military_technical_support",
    "military_involvement",
]
ACTORS = ["belarus", "russia", "china", "ukraine", "poland", "nato"]
INFO = RunInfo("staged_provocation", "Staged provocation during the drills", 400, 20240708)
START = dt.date(2024, 7, 6)


def rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def fake_outcomes(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Outcomes of the model's shape from known Bernoulli / categorical draws."""
    g = rng(seed)
    armed = g.random(n) < 0.25
    align_final = g.integers(0, 4, n)
    return pd.DataFrame(
        {
            "replicate": np.arange(n, dtype=np.int64),
            "max_rung": g.integers(0, 9, n),
            "armed_incident": armed,
            "first_armed_incident_day": pd.Series(g.integers(0, 30, n))
            .astype("Int64")
            .mask(~armed),
            "china_escalates": g.random(n) < 0.1,
            "blockade": g.random(n) < 0.4,
            "china_alignment_final": align_final,
            "china_alignment_max": align_final + g.integers(0, 2, n),
            "end_state": g.choice(list(END_STATES), n, p=[0.5, 0.2, 0.2, 0.08, 0.02]),
            "days": np.full(n, 40),
        }
    )


def fake_occupancy(days: int = 41, n: int = 400, seed: int = 2) -> np.ndarray:
    """Counts (days, 6 actors, 9 rungs) of independent uniform rungs, summing to n each day."""
    g = rng(seed)
    return g.multinomial(n, np.full(9, 1 / 9), size=(days, 6)).astype(np.int64)


def info_text(fig: Figure) -> str:
    return stamp_text(fig)


def assert_stamped(fig: Figure, info: RunInfo = INFO) -> None:
    text = info_text(fig)
    assert f"scenario {info.scenario}" in text
    assert f"{info.replicates} replicates" in text
    assert f"seed {info.seed}" in text


def assert_intervals(drawn: list[tuple[float, float]], low: pd.Series, high: pd.Series) -> None:
    """Drawn (low, high) pairs equal the table's interval columns, row for row."""
    assert np.allclose(np.array(drawn, dtype=float), np.column_stack([low, high]), atol=1e-12)


def errorbar_extents(ax) -> list[tuple[float, float]]:
    """(low, high) of every error bar in the axes, along the bar direction."""
    out = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for segment in container.lines[2][0].get_segments():
                (x0, y0), (x1, y1) = segment
                out.append((min(x0, x1), max(x0, x1)) if y0 == y1 else (min(y0, y1), max(y0, y1)))
    return out


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """Charts must not register figures with pyplot (they would never be freed)."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------------------------


def test_run_info_stamp_format() -> None:
    assert INFO.stamp() == "scenario staged_provocation · 400 replicates · seed 20240708"
    labelled = RunInfo("a", "A", 10, 1, label="variant")
    assert labelled.stamp().endswith("· variant")
    assert day_label(START) == "day (0 = 6 July 2024)"
    assert day_label("2024-07-06") == "day (0 = 6 July 2024)"


def test_probabilities_chart_draws_estimates_and_wilson_intervals() -> None:
    summary = summarize(fake_outcomes())
    fig = probabilities_chart(summary, INFO)
    ax = fig.axes[0]
    rows = summary[
        (summary["kind"] == "probability")
        & ~summary["outcome"].str.startswith("end_")
        & ~summary["outcome"].str.endswith("=none")
    ]
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    assert [b.get_width() for b in bars] == pytest.approx(list(rows["estimate"]))
    assert_intervals(errorbar_extents(ax), rows["ci_low"], rows["ci_high"])
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_xlabel().startswith("probability") and "95% Wilson" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "armed incident"
    printed = [t.get_text() for t in ax.texts if t.get_gid() == "estimate-label"]
    assert printed[0].startswith(f"{100 * rows['estimate'].iloc[0]:.1f}%")
    assert ax.get_title(loc="left")
    assert_stamped(fig)


def test_probabilities_chart_leaves_out_the_none_categories_by_default() -> None:
    out = fake_outcomes()
    out["china_blames_incident_on"] = rng(5).choice(["west", "belarus_russia", "none"], len(out))
    summary = summarize(out)
    assert "china_blames_incident_on=none" in set(summary["outcome"])
    labels = [t.get_text() for t in probabilities_chart(summary, INFO).axes[0].get_yticklabels()]
    assert "china blames incident on: west" in labels
    assert not [label for label in labels if label.endswith("none")]


def test_probabilities_chart_draws_into_a_given_axes_and_selects_rows() -> None:
    summary = summarize(fake_outcomes())
    fig = Figure()
    ax = fig.add_subplot()
    assert probabilities_chart(summary, INFO, ax=ax, outcomes=["blockade"]) is fig
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    assert [b.get_width() for b in bars] == pytest.approx(
        [summary.set_index("outcome").loc["blockade", "estimate"]]
    )
    # Drawing again keeps one stamp, not two.
    probabilities_chart(summary, INFO, ax=fig.add_subplot(212), outcomes=["blockade"])
    assert len([t for t in fig.texts if t.get_gid() == STAMP_GID]) == 1
    with pytest.raises(ValueError, match="nonsense"):
        probabilities_chart(summary, INFO, outcomes=["nonsense"])


def test_end_state_chart_orders_by_severity_with_intervals() -> None:
    summary = summarize(fake_outcomes())
    fig = end_state_chart(summary, INFO)
    ax = fig.axes[0]
    rows = summary.set_index("outcome").loc[[f"end_state={s}" for s in END_STATES]]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [s.replace("_", " ") for s in END_STATES]
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    assert [b.get_height() for b in bars] == pytest.approx(list(rows["estimate"]))
    assert_intervals(errorbar_extents(ax), rows["ci_low"], rows["ci_high"])
    assert ax.get_ylabel().startswith("probability") and "Wilson" in ax.get_ylabel()
    assert "severe" in ax.get_xlabel()
    assert_stamped(fig)


def test_ladder_fan_chart_median_and_bands_match_a_hand_computation() -> None:
    # 2 actors, 4 rungs, 3 days, 10 replicates.
    occupancy = np.array(
        [
            [[10, 0, 0, 0], [0, 10, 0, 0]],
            [[3, 4, 3, 0], [0, 2, 2, 6]],
            [[0, 5, 0, 5], [1, 1, 1, 7]],
        ]
    )
    rungs = ["status_quo", "rhetoric", "threat", "war"]
    fig = ladder_fan_chart(occupancy, rungs, ["belarus", "nato"], INFO, start_date=START)
    first, second = fig.axes[0], fig.axes[1]
    median = next(line for line in first.lines if line.get_gid() == "median")
    # Day 1: cumulative 3, 7, 10 -> half (5) reached on rung 1. Day 2: 0, 5 -> rung 1.
    assert list(median.get_ydata()) == [0, 1, 1]
    assert list(median.get_xdata()) == [0, 1, 2]
    median_nato = next(line for line in second.lines if line.get_gid() == "median")
    assert list(median_nato.get_ydata()) == [1, 3, 3]
    # The 90% band of actor 1 spans rungs 0..2 on day 1 (q05 = rung 0, q95 = rung 2).
    band = next(c for c in first.collections if c.get_gid() == "band90")
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0 - 0.4) and ys.max() == pytest.approx(3 + 0.4)
    assert [t.get_text() for t in first.get_yticklabels()] == [
        "status quo",
        "rhetoric",
        "threat",
        "war",
    ]
    assert first.get_title(loc="left") == "Belarus" and second.get_title(loc="left") == "NATO"
    assert any(ax.get_xlabel() == "day (0 = 6 July 2024)" for ax in fig.axes)
    assert any(ax.get_ylabel() == "rung" for ax in fig.axes)
    assert_stamped(fig)


def test_ladder_fan_chart_has_one_panel_per_actor() -> None:
    fig = ladder_fan_chart(fake_occupancy(), RUNGS, ACTORS, INFO)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == [
        "Belarus",
        "Russia",
        "China",
        "Ukraine",
        "Poland",
        "NATO",
    ]
    with pytest.raises(ValueError, match="rung names"):
        ladder_fan_chart(fake_occupancy(), RUNGS[:-1], ACTORS, INFO)


def test_heatmap_chart_for_one_actor_shows_shares() -> None:
    occupancy = fake_occupancy()
    fig = heatmap_chart(occupancy, RUNGS, INFO, actor="china", actor_names=ACTORS, start_date=START)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if c.get_gid() == "shares")
    expected = occupancy[:, 2, :] / occupancy[:, 2, :].sum(axis=1, keepdims=True)
    drawn = np.ma.filled(mesh.get_array(), 0.0).reshape(len(RUNGS), -1)
    assert np.allclose(drawn, expected.T)
    colorbar_axes = fig.axes[1]
    assert colorbar_axes.get_ylabel() == "share of replicates"
    assert ax.get_xlabel() == "day (0 = 6 July 2024)"
    assert "China" in ax.get_title(loc="left")
    assert_stamped(fig)


def test_heatmap_chart_accepts_a_days_by_rungs_array_and_all_actors() -> None:
    counts = np.array([[4, 0, 0], [1, 2, 1]])
    fig = heatmap_chart(counts, ["a", "b", "c"], INFO)
    mesh = next(c for c in fig.axes[0].collections if c.get_gid() == "shares")
    drawn = np.ma.filled(mesh.get_array(), 0.0).reshape(3, 2)
    assert np.allclose(drawn, np.array([[1.0, 0.0, 0.0], [0.25, 0.5, 0.25]]).T)
    # A rung nobody reached is left blank (masked), not drawn as a share of 0.
    assert np.ma.getmaskarray(mesh.get_array()).reshape(3, 2)[1, 0]

    fig_all = heatmap_chart(fake_occupancy(), RUNGS, INFO)
    meshes = [c for ax in fig_all.axes for c in ax.collections if c.get_gid() == "shares"]
    assert len(meshes) == 6
    with pytest.raises(ValueError, match="actor"):
        heatmap_chart(fake_occupancy(), RUNGS, INFO, ax=Figure().add_subplot())


def test_time_to_incident_chart_ends_at_the_incident_share() -> None:
    out = fake_outcomes()
    fig = time_to_incident_chart(out, INFO, horizon=40, start_date=START)
    ax = fig.axes[0]
    curve = next(line for line in ax.lines if line.get_gid() == "cdf")
    assert curve.get_ydata()[-1] == pytest.approx(out["armed_incident"].mean())
    assert curve.get_xdata()[-1] == 40
    assert np.all(np.diff(curve.get_ydata()) >= 0)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "never" in legend and "below 1" in legend and "Wilson" in legend
    assert ax.get_xlabel() == "day (0 = 6 July 2024)"
    assert "share of replicates" in ax.get_ylabel()
    assert_stamped(fig)


def test_alignment_chart_from_outcomes_and_from_occupancy() -> None:
    out = fake_outcomes()
    fig = alignment_chart(out, LEVELS, INFO)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 2  # highest level reached, level on the last day
    expected_max = [(out["china_alignment_max"] == k).mean() for k in range(len(LEVELS))]
    assert [b.get_width() for b in bars[0]] == pytest.approx(expected_max)
    assert ax.get_yticklabels()[0].get_text() == "neutral"
    assert "probability" in ax.get_xlabel()
    assert_stamped(fig)

    counts = np.array([[0, 10, 0, 0, 0, 0], [2, 5, 3, 0, 0, 0]])
    fig2 = alignment_chart(counts, LEVELS, INFO)
    bars2 = [c for c in fig2.axes[0].containers if isinstance(c, BarContainer)]
    assert [b.get_width() for b in bars2[0]] == pytest.approx([0.2, 0.5, 0.3, 0, 0, 0])
    assert len(errorbar_extents(fig2.axes[0])) == len(LEVELS)


def test_comparison_chart_shows_paired_differences_and_both_runs() -> None:
    a = fake_outcomes(seed=1)
    b = a.copy()
    b["blockade"] = a["blockade"] | (rng(9).random(len(a)) < 0.2)
    table = compare_paired(a, b)
    info_b = RunInfo("transit_blockade", "Transit blockade", 400, 20240708)
    fig = comparison_chart(table, INFO, info_b)
    est_ax, diff_ax = fig.axes[:2]
    rows = table[table["kind"] == "probability"].reset_index(drop=True)
    extents = []
    for container in diff_ax.containers:
        if isinstance(container, ErrorbarContainer):
            points = container.lines[0].get_ydata()
            segments = container.lines[2][0].get_segments()
            extents += [(int(y), s[0][0], s[1][0]) for y, s in zip(points, segments, strict=True)]
    extents.sort()
    assert [e[0] for e in extents] == list(range(len(rows)))
    assert_intervals([(lo, hi) for _, lo, hi in extents], rows["ci_low"], rows["ci_high"])
    assert any(line.get_xdata()[0] == 0.0 for line in diff_ax.lines)  # the zero line
    assert "B − A" in diff_ax.get_xlabel()
    marker_a = next(line for line in est_ax.lines if line.get_gid() == "estimate_a")
    assert list(marker_a.get_xdata()) == pytest.approx(list(rows["estimate_a"]))
    assert_stamped(fig, INFO)
    assert_stamped(fig, info_b)
    assert "transit_blockade" in fig.get_suptitle() and "staged_provocation" in fig.get_suptitle()


def test_draw_all_returns_every_chart_stamped_and_renderable() -> None:
    out = fake_outcomes()
    occupancy = fake_occupancy()
    alignment = np.tile(np.bincount(out["china_alignment_final"], minlength=6), (41, 1))
    figs = draw_all(out, summarize(out), occupancy, alignment, RUNGS, LEVELS, INFO, START)
    assert list(figs) == [
        "probabilities",
        "end_states",
        "ladder_fan",
        "heatmap",
        "time_to_incident",
        "china_alignment",
    ]
    for fig in figs.values():
        assert isinstance(fig, Figure)
        assert_stamped(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=50)
        assert buffer.getvalue()[:4] == b"\x89PNG"


def test_real_model_output_through_summarize_and_every_chart() -> None:
    """Integration: the model's ChunkOutput feeds summarize and every chart unchanged."""
    model = pytest.importorskip("sim.model")
    run_replicates = getattr(model, "run_replicates", None)
    if run_replicates is None:
        pytest.skip("sim.model.run_replicates has not landed yet")
    loader = pytest.importorskip("sim.scenario.loader")
    load = getattr(loader, "load_scenario", None)
    if load is None:
        pytest.skip("sim.scenario.loader.load_scenario has not landed yet")
    from pathlib import Path

    scenario = load(Path(__file__).resolve().parents[1] / "scenarios" / "base.yaml")
    chunk = run_replicates(scenario, 20240708, np.arange(64))
    summary = summarize(chunk.outcomes)
    assert (summary["n"] > 0).any()
    rungs = [r.name for r in scenario.ladder]
    info = RunInfo(scenario.name, scenario.title, len(chunk.outcomes), 20240708)
    figs = draw_all(
        chunk.outcomes,
        summary,
        chunk.occupancy,
        chunk.alignment_occupancy,
        rungs,
        list(scenario.alignment_track),
        info,
        scenario.start_date,
        scenario.horizon_days,
    )
    assert len(figs) == 6
    for fig in figs.values():
        assert_stamped(fig, info)
        fig.savefig(io.BytesIO(), format="png", dpi=40)
    twin = compare_paired(chunk.outcomes, chunk.outcomes)
    assert (twin["difference"].fillna(0.0) == 0.0).all()
    comparison_chart(twin, info, info).savefig(io.BytesIO(), format="png", dpi=40)
