"""The labelled-outcomes layer (sim.report.present): what a reader sees instead of identifiers.

Summaries come from the real model on the shipped scenarios (a few hundred worlds), so a new
outcome column or a renamed actor shows up here as a label check, not as a silent gap.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stats import compare_paired, summarize
from sim.report.present import (
    HEADLINE,
    NEVER,
    ZERO,
    Labeller,
    format_comparison_groups,
    format_groups,
    present_comparison,
    present_summary,
)

REPO = Path(__file__).resolve().parents[1]


def _outcomes(path: str, n: int = 200, seed: int = 5, overrides: tuple[str, ...] = ()):
    from sim.model import run_replicates
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(REPO / path, overrides=overrides)
    return scenario, run_replicates(scenario, seed, np.arange(n)).outcomes


@pytest.fixture(scope="module")
def staged():
    return _outcomes("scenarios/staged_provocation.yaml")


def _all_text(groups) -> list[str]:
    out = []
    for g in groups:
        out.append(g.title)
        out += [r.label.label for r in g.rows]
        out += list(g.quiet)
    return out


def _raw_identifiers(texts, columns) -> list[str]:
    """Texts that show a column identifier or a summary row's machine syntax."""
    bad = []
    for t in texts:
        if re.search(r"\b(mean|median):|=|\w_\w", t):
            bad.append(t)
        bad += [t for c in columns if "_" in c and c in t]
    return bad


def test_declared_outcomes_come_first_with_their_descriptions(staged) -> None:
    scenario, outcomes = staged
    groups = present_summary(summarize(outcomes), scenario)
    assert groups[0].key == HEADLINE
    declared = scenario.outcomes.declared
    labels = [r.label.label for r in groups[0].rows]
    # The armed incident (the scenario's armed_incident_rung) leads, then the declared ones in
    # the file's order, each under its declared description.
    assert [r.label.column for r in groups[0].rows] == ["armed_incident", *declared]
    for name, label in zip(declared, labels[1:], strict=True):
        assert label.lower() == declared[name].description.lower()
    for r in groups[0].rows:
        assert r.text.endswith("%") and re.fullmatch(r"\[\d+\.\d%, \d+\.\d%\]", r.interval)
        assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0


def test_no_raw_identifiers_and_no_empty_categories(staged) -> None:
    scenario, outcomes = staged
    summary = summarize(outcomes)
    groups = present_summary(summary, scenario)
    texts = _all_text(groups)
    assert _raw_identifiers(texts, list(outcomes.columns)) == []
    # Every summary row is shown or listed as never happening: nothing is dropped.
    shown = sum(len(g.rows) + len(g.quiet) for g in groups)
    assert shown == len(summary)
    # The empty category of the first incident's cause is read as "no armed incident".
    none = [
        r
        for g in groups
        for r in g.rows
        if r.label.column == "first_armed_incident_cause" and r.label.category == ""
    ]
    assert len(none) == 1 and none[0].label.label == "No armed incident"
    assert none[0].estimate == pytest.approx(1.0 - outcomes["armed_incident"].mean())
    # Actor names come from the scenario's labels.
    actor_labels = {a.label for a in scenario.actors.values()}
    initiators = [
        r.label.label for g in groups for r in g.rows if r.label.column == "dispute_initiator"
    ]
    assert initiators and all(
        any(a in t for a in actor_labels) for t in initiators if "No" not in t
    )


def test_never_happened_means_are_quiet_not_nan_or_zero() -> None:
    # The staged incident of the baseline scenario is switched off: no world has one.
    scenario, outcomes = _outcomes("scenarios/baseline.yaml", n=100)
    summary = summarize(outcomes)
    staged_day = summary.set_index("outcome").loc["mean:staged_incident_day"]
    assert staged_day["n"] == 0
    groups = present_summary(summary, scenario)
    rows = {r.label.key: r for g in groups for r in g.rows}
    assert "mean:staged_incident_day" not in rows
    quiet = [q for g in groups for q in g.quiet]
    assert any("staged incident" in q.lower() for q in quiet)
    text = format_groups(groups)
    assert "nan" not in text and "not in any world" in text
    # The same row read alone says why.
    assert not any(r.text in (NEVER, ZERO) for r in rows.values())


def test_units_and_days_are_written_out(staged) -> None:
    scenario, outcomes = staged
    groups = present_summary(summarize(outcomes), scenario)
    rows = {r.label.key: r for g in groups for r in g.rows}
    day = rows["median:first_armed_incident_day"]
    assert day.text.startswith("day ") and day.label.unit == "day"
    assert str(scenario.start_date.year) in day.label.description
    costs = [
        lab
        for lab in (Labeller(scenario).describe(c) for c in outcomes.columns)
        if lab.unit == "musd"
    ]
    assert costs and all("cost" in lab.label for lab in costs)
    from sim.report.present import value

    assert value(120.0, "musd") == "US$ 120 million" and value(0.638, "percent") == "63.8%"


def test_an_unknown_column_gets_words_not_dropped() -> None:
    summary = pd.DataFrame(
        {
            "outcome": ["new_outcome_flag", "mean:new_gap_days", "mean:ghost_day"],
            "estimate": [0.25, 3.5, float("nan")],
            "ci_low": [0.2, 3.0, float("nan")],
            "ci_high": [0.3, 4.0, float("nan")],
            "n": [100, 100, 0],
            "kind": ["probability", "mean", "mean"],
        }
    )
    groups = present_summary(summary, None)
    (other,) = groups
    assert other.title == "Other outcomes"
    assert [r.label.label for r in other.rows] == ["New outcome flag", "New gap days, mean"]
    assert other.rows[1].text == "3.5 days" and other.quiet == ("Ghost day, mean",)


def test_another_scenarios_actors_label_its_rows() -> None:
    scenario, outcomes = _outcomes("scenarios/calibration/rival_dyad.yaml", n=100)
    groups = present_summary(summarize(outcomes), scenario)
    assert _raw_identifiers(_all_text(groups), list(outcomes.columns)) == []
    assert groups[0].key == HEADLINE


def test_comparison_rows_are_labelled_in_percentage_points(staged) -> None:
    scenario, a = staged
    _, b = _outcomes("scenarios/staged_provocation.yaml", overrides=("actors.china.resolve=0.9",))
    table = compare_paired(a, b)
    groups = present_comparison(table, scenario)
    assert groups[0].key == HEADLINE
    assert _raw_identifiers(_all_text(groups), list(a.columns)) == []
    first = groups[0].rows[0]
    assert first.a.endswith("%") and first.diff.endswith("pp")
    text = format_comparison_groups(groups)
    assert "Headline outcomes" in text.splitlines()[0]
