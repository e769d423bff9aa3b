"""The run report's first page: the question, the declared outcomes, one chart, the drivers.

An analyst hands over page one: the scenario's declared outcomes as percentages with their
intervals (:mod:`sim.report.present`), the chart of exactly those rows, what drives them when a
sensitivity folder of the same scenario sits beside the run, and the caveat. Everything else
(every other outcome, grouped; the standard charts; assumptions, methods, reproduction) follows
as appendices.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.report.parameters import describe_parameter
from sim.report.present import Group, headline, present_summary

TOP_DRIVERS = 3
"""Factors listed per headline outcome on page one (the sensitivity appendix has more)."""


def _row(r: Any) -> dict[str, str]:
    return {
        "key": r.label.key,
        "label": r.label.label,
        "description": r.label.description,
        "estimate": r.text,
        "interval": r.interval,
        "n": f"{r.n:,}",
    }


def _group(g: Group) -> dict[str, Any]:
    return {
        "key": g.key,
        "title": g.title,
        "rows": [_row(r) for r in g.rows],
        "quiet": [q[:1].lower() + q[1:] for q in g.quiet],
    }


def sensitivity_folders(run: Path, scenario_name: str) -> list[Path]:
    """Sensitivity folders of the same scenario beside a run, newest first.

    Looked for among the run's siblings and in ``sensitivity/`` beside the run's scenario
    folder (where ``escalation sensitivity`` writes by default: ``results/sensitivity/...``
    next to ``results/<scenario>/<run>``).
    """
    from sim.runner.folder import ResultsFolder

    run = run.resolve()
    places = [run.parent, run.parent.parent / "sensitivity", run.parent / "sensitivity"]
    found: dict[Path, float] = {}
    for place in places:
        if not place.is_dir():
            continue
        for child in ResultsFolder(place).listdir():
            folder = place / child
            # A link among the run's neighbours is not followed (it may lead anywhere); each
            # folder's analysis.json is read through the folder's own door.
            if folder == run or ResultsFolder(place).kind(child) != "folder":
                continue
            rf = ResultsFolder(folder)
            if rf.kind("analysis.json") != "file":
                continue
            try:
                d = rf.read_json("analysis.json", "analysis record")
            except UserError:
                continue
            if (
                isinstance(d, dict)
                and d.get("kind") == "sensitivity"
                and d.get("scenario") == scenario_name
            ):
                found[folder] = (folder / "analysis.json").stat(follow_symlinks=False).st_mtime
    return sorted(found, key=lambda p: -found[p])


def drivers_beside(
    run: Path, scenario: Any, headline: list[tuple[str, str]]
) -> dict[str, Any] | None:
    """What drives the headline outcomes, from the newest sensitivity folder beside the run.

    Args:
        run: The run folder.
        scenario: Its validated scenario (parameter labels).
        headline: (outcome column, label) of each headline row.

    Returns:
        ``{"folder", "method", "rows": [{"outcome", "factors": [{"label", "group", "index"}]}]}``
        for the headline outcomes the sensitivity analysed, or None when there is none.
    """
    from sim.analysis.sensitivity import INDEX_COLUMN
    from sim.api_analysis import load_sensitivity

    labels = dict(headline)
    for folder in sensitivity_folders(run, scenario.name):
        try:
            res = load_sensitivity(folder)
        except (UserError, OSError, ValueError, KeyError):
            continue
        key = INDEX_COLUMN[res.method]
        rows = []
        for o in res.outcomes:
            if o not in labels:
                continue
            top = res.top(o, TOP_DRIVERS)
            factors = []
            for _, f in top.iterrows():
                p = describe_parameter(scenario, str(f["factor"]))
                factors.append(
                    {
                        "label": p.label,
                        "group": p.group,
                        "index": f"{float(f[key]):.2f}",
                    }
                )
            rows.append({"outcome": labels[o], "factors": factors})
        if rows:
            name = "total-order Sobol index" if res.method == "sobol" else "Morris mu*"
            return {"folder": str(folder), "method": name, "rows": rows}
    return None


def headline_context(folder: Path, r: Any) -> dict[str, Any]:
    """The labelled parts of a run report: page one and the outcomes appendix.

    Args:
        folder: The run folder.
        r: The loaded run (:func:`sim.api.load_run`).

    Returns:
        ``headline`` (rows), ``headline_figure`` (a figure dict for the template),
        ``outcome_groups`` (every other group) and ``headline_drivers`` (or None).
    """
    from sim.charts.common import RunInfo
    from sim.charts.probabilities import probabilities_chart
    from sim.report import figure_data
    from sim.report.present import chart_labels

    groups = present_summary(r.summary, r.scenario)
    head = headline(groups)
    rows = [_row(x) for x in head.rows] if head is not None else []
    figure = None
    if head is not None and head.rows:
        keys = [x.label.key for x in head.rows if x.label.stat == "probability"]
        info = RunInfo(r.scenario.name, r.scenario.title, r.replicates - r.failed, r.seed)
        fig = probabilities_chart(
            r.summary,
            info,
            outcomes=keys,
            # Wrapped so long declared descriptions leave the bars their width.
            labels={k: textwrap.fill(v, 34) for k, v in chart_labels(r.scenario, keys).items()},
            title="Headline outcomes",
        )
        figure = {
            "data": figure_data(fig, dpi=130),
            "caption": "The headline outcomes: estimate (bar) and 95% Wilson interval (line), "
            f"over {r.replicates - r.failed:,} simulated worlds, seed {r.seed}.",
        }
    pairs = [(x.label.column, x.label.label) for x in head.rows] if head is not None else []
    return {
        "headline": rows,
        "headline_figure": figure,
        "outcome_groups": [_group(g) for g in groups if g.key != "headline"],
        "headline_drivers": drivers_beside(folder, r.scenario, pairs),
    }


__all__ = ["drivers_beside", "headline_context", "sensitivity_folders"]
