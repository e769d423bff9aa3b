"""The explorer's page: Mesa's SolaraViz around one world of a scenario, with a Monte Carlo.

Served by ``escalation explore`` (see :mod:`sim.cli_explore`); the scenario to open first and
the folder of scenarios to pick from come from the environment variables it sets. Everything
computed here comes from :mod:`sim.explore.model`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any, cast

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.errors import UserError
from sim.explore.model import (
    MC_REPLICATES,
    ExplorerModel,
    MonteCarlo,
    Settings,
    bars_svg,
    day_story,
    measures,
    monte_carlo,
    save_scenario,
    scenario_files,
    warm,
    world_table,
)
from sim.explore.panels import ladder_svg
from sim.explore.panels import sliders as grouped_sliders
from sim.play.policy import PERSONAS
from sim.report.present import chart_labels

OWN_RULE = "model's own rule"
"""The choice, for a seat, of no persona."""

SCENARIO_ENV = "ESCALATION_EXPLORE_SCENARIO"
"""The scenario file the page opens with."""


def _start_path() -> Path:
    return Path(os.environ.get(SCENARIO_ENV, "scenarios/baseline.yaml"))


@solara.component
def WorldPanel(model: ExplorerModel) -> None:
    """Day, each actor's rung, lasting measures, the alignment and the day's story."""
    update_counter.get()
    s = model.scenario_spec
    with solara.Card(f"One world of '{s.name}': {s.title}"):
        solara.HTML(tag="div", unsafe_innerHTML=world_html(model), classes=["world"])
        solara.HTML(
            tag="div", unsafe_innerHTML=ladder_svg(model.history, s), classes=["world-ladder"]
        )
        _pre(day_story(model), "world-story")


def world_html(model: ExplorerModel) -> str:
    """The world's day, rungs, moves, lasting measures and the alignment as HTML."""
    s = model.scenario_spec
    cell = "<td style='padding:2px 12px 2px 0'>{}</td>"
    table = world_table(model)
    head = "".join(f"<th align=left>{escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(cell.format(escape(str(v))) for v in r) + "</tr>"
        for r in table.values.tolist()
    )
    m = measures(model)
    taken = [k for k, v in m.items() if v is True]
    others = "".join(
        f" {escape(k)}: <b>{escape(str(v))}</b>." for k, v in m.items() if not isinstance(v, bool)
    )
    ended = "" if model.running else " - this world has ended (press Reset)"
    return (
        f"<p><b>{escape(s.title)}</b></p>"
        f'<p class="world-day" data-day="{model.day}">Day {model.day} of {s.horizon_days}'
        f"{ended}</p>"
        f'<table style="border-collapse:collapse" cellpadding="3"><tr>{head}</tr>{rows}</table>'
        f"<p>Alliance steps taken: <b>{escape(', '.join(taken) if taken else 'none')}</b>."
        f"{others}</p>"
    )


@solara.component
def Page() -> None:
    """The whole page."""
    first = solara.use_memo(lambda: ExplorerModel(Settings(_start_path())), [])
    model: solara.Reactive[ExplorerModel] = solara.use_reactive(first)
    mc, set_mc = solara.use_state(cast(MonteCarlo | None, None))
    message, set_message = solara.use_state("")
    settings: Settings = model.value.settings
    folder = settings.path.parent
    files = [p.name for p in scenario_files(folder)]
    if settings.path.name not in files:
        files.insert(0, settings.path.name)
    save_name, set_save_name = solara.use_state(f"{settings.path.stem}_explored.yaml")
    # Sliders come from the scenario as picked: a moved parameter is fixed in the settings'
    # scenario and would otherwise lose its slider.
    groups = solara.use_memo(
        lambda: grouped_sliders(settings.base(), settings.path), [str(settings.path)]
    )
    query, set_query = solara.use_state("")

    def start_warm() -> None:
        warm(settings)

    # Run the unchanged side in the background as soon as a scenario is open.
    solara.use_effect(start_warm, [str(settings.path)])

    def pick(name: str) -> None:
        path = folder / name
        try:
            model.value = ExplorerModel(Settings(path, seed=settings.seed))
        except UserError as e:
            set_message(f"{name}: {e}")
            return
        set_mc(None)
        set_message("")
        set_save_name(f"{path.stem}_explored.yaml")

    def move(path: str, value: float) -> None:
        settings.values[path] = float(value)
        model.value = ExplorerModel(settings)

    def forget() -> None:
        settings.values.clear()
        model.value = ExplorerModel(settings)

    def seat(actor: str, persona: str) -> None:
        if persona in PERSONAS:
            settings.policies[actor] = persona
        else:
            settings.policies.pop(actor, None)
        model.value = ExplorerModel(settings)

    def seater(actor: str) -> Callable[[str], None]:
        return lambda persona: seat(actor, persona)

    def mover(path: str) -> Callable[[float], None]:
        return lambda value: move(path, value)

    def run_mc() -> None:
        try:
            set_mc(monte_carlo(settings))
        except UserError as e:
            set_message(str(e))

    def save() -> None:
        try:
            if Path(save_name).name != save_name:
                raise UserError(f"{save_name}: give a file name; it is saved beside {folder}")
            p = save_scenario(settings, folder / save_name)
        except UserError as e:
            set_message(str(e))
            return
        set_message(f"saved {p} (extends {settings.path.name}); run it with: escalation run {p}")

    SolaraViz(
        model,
        components=[],
        model_params={"settings": settings},
        name="Escalation explorer",
    ).key(str(settings.path))

    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select("scenario", values=files, value=settings.path.name, on_value=pick)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"in {escape(str(folder))}/ &middot; seed {settings.seed}",
                style="font-size: 12px",
            )
        with solara.Card(
            "Uncertain parameters (moved ones are fixed; the others keep their spread)"
        ):
            solara.InputText(
                "search (actor, mechanism, word, tag)",
                value=query,
                on_value=set_query,
                continuous_update=True,
                classes=["explore-search"],
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML="Each is drawn per world from the distribution shown; its tag "
                "says where it comes from: [source] the source document, [history] the record, "
                "[assumption] a modelling choice, calibrated a fit to data.",
                style="font-size: 11px; color: #555",
            )
            with solara.Column(classes=["explore-params"]):
                for group, items in groups:
                    shown = [x for x in items if not query or x.matches(query)]
                    if not shown:
                        continue
                    solara.HTML(
                        tag="h4",
                        unsafe_innerHTML=escape(group),
                        classes=["param-group"],
                        style="margin: 10px 0 0",
                    )
                    for x in shown:
                        c = x.control
                        value = settings.values.get(c.path, c.default)
                        mark = " (set)" if c.path in settings.values else ""
                        solara.SliderFloat(
                            f"{x.label} [{x.tag}] = {value:.3g}{mark}",
                            value=value,
                            min=c.low,
                            max=c.high,
                            step=c.step,
                            on_value=mover(c.path),
                        )
                        solara.HTML(
                            tag="div",
                            unsafe_innerHTML=f"{escape(x.description)} "
                            f"<i>uncertain: {escape(x.distribution)}</i>",
                            classes=["param-help"],
                            style="font-size: 11px; color: #666; margin: -6px 0 4px",
                        )
            if settings.values:
                with solara.Row():
                    solara.Button(
                        "Forget moved parameters",
                        on_click=forget,
                        text=True,
                    )
        with (
            solara.Card("Who plays each actor (the world and the Monte Carlo)"),
            solara.Column(classes=["explore-seats"]),
        ):
            for actor in model.value.tables.names:
                solara.Select(
                    actor,
                    values=[OWN_RULE, *sorted(PERSONAS)],
                    value=settings.policies.get(actor, OWN_RULE),
                    on_value=seater(actor),
                    dense=True,
                )
        with solara.Card("Save as scenario"):
            solara.InputText(
                f"file name (in {folder.name}/)", value=save_name, on_value=set_save_name
            )
            solara.Button("Save as scenario", on_click=save, color="primary")

    with solara.Column(style={"padding": "12px"}):
        if message:
            solara.Info(message, classes=["explore-message"])
        with solara.Row():
            WorldPanel(model.value)
            MonteCarloPanel(mc, run_mc, model.value.scenario_spec)


@solara.component
def MonteCarloPanel(mc: MonteCarlo | None, run: Any, scenario: Any = None) -> None:
    """The Monte Carlo button and its bars, labelled from the scenario."""
    with solara.Card(f"Monte Carlo: {MC_REPLICATES:,} worlds, current settings vs unchanged"):
        solara.Button("Monte Carlo", on_click=run, color="primary", classes=["mc-button"])
        if mc is None:
            solara.Text(
                "Press Monte Carlo to run the current settings (blue) beside the unchanged "
                "scenario (grey) on common random numbers."
            )
            return
        changed = ", ".join(mc.overrides) if mc.overrides else "nothing moved"
        solara.HTML(
            tag="p",
            unsafe_innerHTML=f"Back in <b>{mc.seconds:.2f} s</b>. Settings: "
            f"<code>{escape(changed)}</code>. Same seed and replicate ids on both sides "
            "(paired); results are explorations of the scenario's assumptions, not forecasts.",
            classes=["mc-info"],
        )
        rows = mc.rows
        labels = chart_labels(scenario, rows["outcome"].astype(str))
        solara.HTML(tag="div", unsafe_innerHTML=bars_svg(mc, labels=labels), classes=["mc-result"])
        lines = [
            f"{labels.get(str(r['outcome']), str(r['outcome']))}: current - unchanged "
            f"{100 * float(r['difference']):+.1f}pp [{100 * float(r['diff_low']):+.1f}, "
            f"{100 * float(r['diff_high']):+.1f}]"
            for r in rows.to_dict("records")
        ]
        _pre(lines, "mc-diff")


def _pre(lines: list[str], cls: str) -> None:
    solara.HTML(
        tag="pre",
        unsafe_innerHTML=escape("\n".join(lines)),
        classes=[cls],
        style="white-space: pre-wrap; font-size: 12px",
    )
