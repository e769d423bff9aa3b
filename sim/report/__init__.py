"""The analyst's report: one self-contained HTML file (and a PDF) for a results folder.

:func:`write_report` finds what kind of folder it is given (a run, a comparison, a
sensitivity, a sweep or a backtest), builds the report's context with that kind's builder in
:data:`BUILDERS`, renders the ``page`` template (see :mod:`sim.report.templates`) with the
kind's ``block/<kind>`` inside, and writes ``report.html`` with every chart inlined as a base64
PNG, so the file can be mailed on its own. The PDF is the same HTML printed by headless
Chromium through Playwright (``page.pdf``), so the two never differ in content.

Provenance tags ([source], [history], [assumption]) are read from the comments of the scenario
files, at the line the loader recorded for each parameter (see :func:`provenance`).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shlex
import shutil
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UserError

REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CAVEAT_INTERVALS = (
    "Intervals measure Monte Carlo sampling error only: they do not cover errors in the "
    "assumptions or in the model's structure."
)
CAVEATS = [
    "An exploration of stated assumptions, not a forecast: every number follows from the "
    "assumptions table and the model, and from nothing else.",
    "Actors are modelled as choosing moves by a noisy comparison of utilities; real decisions "
    "involve people, information and institutions the model does not represent.",
    CAVEAT_INTERVALS,
    "Values tagged [assumption] are modelling choices; change them, and say why, in your own "
    "variant, then compare the two on common random numbers (escalation compare).",
]

_TAG = re.compile(r"\[(source|history|assumption)\b[^\]]*\]", re.IGNORECASE)


# ----------------------------------------------------------------------------- provenance


@dataclass(frozen=True)
class Provenance:
    """Where a parameter's value was set and how the file tags it.

    Attributes:
        tag: ``source``, ``history``, ``assumption``, ``untagged`` (set in a file without a
            tag), ``default`` (not in any file: the schema's default) or ``calibrated`` (a
            table of draws with its own provenance, see :func:`assumptions_table`).
        where: ``file:line`` (or ``--set ...``), empty for a default.
        note: The tag's comment text, shortened.
    """

    tag: str
    where: str
    note: str


def _comment(line: str) -> str:
    # A '#' inside quotes is rare in scenario files; take the first '#' after the value.
    i = line.find("#")
    return line[i + 1 :].strip() if i >= 0 else ""


def _tag_in(text: str) -> tuple[str, str] | None:
    m = _TAG.search(text)
    if not m:
        return None
    note = text[m.end() :].strip() or text[: m.start()].strip()
    return m.group(1).lower(), note[:120]


def provenance(source: str | Path, overrides: tuple[str, ...] = ()) -> dict[str, Provenance]:
    """The provenance of every parameter set in a scenario file (through ``extends``).

    For each key path the loader recorded the file and line that set it. The tag is looked for
    in the comment on that line, then in the comment lines directly above it (a comment block
    introducing a key), then on the line of the enclosing key.

    Args:
        source: The scenario file.
        overrides: The ``--set`` overrides the run used (these are tagged ``override``).

    Returns:
        Dotted parameter path -> :class:`Provenance` (only paths set in some file).
    """
    from sim.scenario.loader import _dotted, _resolve

    tree = _resolve(str(source), tuple(overrides))
    lines_of: dict[str, list[str]] = {}

    def lines(file: str) -> list[str]:
        if file not in lines_of:
            try:
                lines_of[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except OSError:
                lines_of[file] = []
        return lines_of[file]

    def tag_at(file: str, line: int | None) -> tuple[str, str] | None:
        if line is None:
            return None
        text = lines(file)
        if not 0 < line <= len(text):
            return None
        found = _tag_in(_comment(text[line - 1]))
        i = line - 2
        while found is None and i >= 0 and text[i].strip().startswith("#"):
            found = _tag_in(text[i].strip()[1:])
            i -= 1
        return found

    out: dict[str, Provenance] = {}
    for path, (file, line) in tree.where.items():
        if not path:
            continue
        dotted = _dotted(path)
        if file.startswith("--set"):
            out[dotted] = Provenance("override", file, "")
            continue
        found = tag_at(file, line)
        parent = path[:-1]
        while found is None and parent:
            pw = tree.where.get(parent)
            if pw is None or pw[0] != file:
                break
            found = tag_at(file, pw[1])
            parent = parent[:-1]
        where = f"{file}:{line}" if line else file
        out[dotted] = (
            Provenance(found[0], where, found[1]) if found else Provenance("untagged", where, "")
        )
    return out


def _holds_scenario(source: str, overrides: tuple[str, ...], scenario: Any) -> bool:
    """Whether the file ``source``, with ``overrides``, resolves to exactly ``scenario``.

    A record names the scenario file it was made from; the report reads that file's comments
    for provenance tags only when the file still makes the very scenario the folder holds.
    """
    from sim.runner.chunks import scenario_to_json
    from sim.scenario.loader import load_scenario

    if not Path(source).is_file():
        return False
    try:
        loaded = load_scenario(source, overrides=tuple(overrides))
    except (UserError, OSError, ValueError, RecursionError):
        return False

    def canon(s: Any) -> str:
        return scenario_to_json(s.model_dump(mode="json", by_alias=True))

    return canon(loaded) == canon(scenario)


def _describe_param(p: Any) -> str:
    import numpy as np

    from sim.scenario.distributions import Draws, is_uncertain

    if not is_uncertain(p):
        v = p.value if hasattr(p, "value") else p
        return f"{float(v):g}"
    if isinstance(p, Draws):
        # A calibrated table: its size and spread, not every one of its values.
        lo, med, hi = np.quantile(np.asarray(p.values, dtype=np.float64), [0.05, 0.5, 0.95])
        spread = f"5/50/95%: {lo:.4g}/{med:.4g}/{hi:.4g}"
        return f"draws(table={p.table}, {len(p.values)} rows, {spread})"
    d = p.model_dump(by_alias=True)
    name = d.pop("dist")
    return (
        f"{name}("
        + ", ".join(
            f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}"
            for k, v in d.items()
            if v is not None
        )
        + ")"
    )


def assumptions_table(
    scenario: Any, source: str | None, overrides: tuple[str, ...]
) -> tuple[list[dict[str, str]], str]:
    """One row per parameter (uncertain first): path, value, tag, where, note; and a note."""
    from sim.scenario.distributions import Draws, is_uncertain
    from sim.scenario.parameters import declared_parameters

    prov: dict[str, Provenance] = {}
    note = ""
    if source and _holds_scenario(str(source), overrides, scenario):
        try:
            prov = provenance(source, overrides)
        except UserError:
            note = "(Tags could not be read from the scenario file.)"
    elif source and Path(str(source)).is_file():
        # The record names a file that does not (or no longer) hold this scenario: its
        # comments are not this scenario's tags, and nothing of it goes into the report.
        note = (
            "(The scenario file the record names does not hold this scenario now, so its "
            "provenance tags were not read; values are from the run's record.)"
        )
    else:
        note = (
            "(The scenario file is not available here, so provenance tags could not be read; "
            "values are from the run's record.)"
        )
    rows = []
    for path, p in declared_parameters(scenario).items():
        pv = prov.get(path)
        if pv is None:
            pv = (
                Provenance("default", "", "schema default")
                if prov
                else Provenance("untagged", "", "")
            )
        if isinstance(p, Draws) and p.source and pv.tag in ("untagged", "default"):
            # A calibrated table carries its provenance in the value itself.
            pv = Provenance("calibrated", pv.where, p.source[:120])
        rows.append(
            {
                "path": path,
                "value": _describe_param(p),
                "tag": pv.tag,
                "where": pv.where,
                "note": pv.note,
                "kind": "uncertain" if is_uncertain(p) else "fixed",
            }
        )
    rows.sort(key=lambda r: r["kind"] != "uncertain")
    return rows, note


# ----------------------------------------------------------------------------- figures


def figure_data(fig: Any, dpi: int = 110) -> str:
    """A matplotlib figure as base64 PNG text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    from sim.runner.results import close_figure

    close_figure(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fig(fig: Any, caption: str) -> dict[str, str]:
    return {"data": figure_data(fig), "caption": caption}


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(data: bytes, path: Path, caption: str) -> dict[str, str]:
    """A PNG of a results folder (already checked against its record), inlined like
    :func:`_fig`'s figures; anything that is not a PNG is refused, not inlined."""
    if not data.startswith(_PNG_SIGNATURE):
        raise UserError(f"{path}: not a PNG image")
    return {"data": base64.b64encode(data).decode("ascii"), "caption": caption}


# ----------------------------------------------------------------------------- manifests


def _manifest(folder: Path) -> dict[str, Any]:
    from sim.runner.store import read_manifest, versions

    if not (folder / "manifest.json").exists():
        # A design run without a runner manifest (kept until the runner's design runs land).
        return {"versions": versions()}
    m = read_manifest(folder)
    return m if isinstance(m, dict) else m.model_dump(mode="json")


def _spec_get(m: dict[str, Any], key: str, old: str | None = None) -> Any:
    spec = m.get("spec")
    if isinstance(spec, dict) and key in spec:
        return spec[key]
    return m.get(old or key)


def _versions(m: dict[str, Any]) -> list[tuple[str, str]]:
    v = [(k, str(x)) for k, x in (m.get("versions") or {}).items()]
    if m.get("code_version"):
        v.insert(0, ("code", str(m["code_version"])))
    return v


def _command(m: dict[str, Any], fallback: list[str]) -> str:
    cmd = m.get("command")
    if isinstance(cmd, list | tuple) and cmd:
        return shlex.join(str(c) for c in cmd)
    return shlex.join(fallback)


def _question(scenario: Any, ask: str | None = None) -> list[str]:
    """The question a report answers, then the scenario's own description."""
    days = getattr(scenario, "horizon_days", None)
    start = getattr(scenario, "start_date", None)
    span = f" over {days} days from {start}" if days and start else ""
    out = [
        ask
        or f"What follows, under this model and its stated assumptions, from the scenario "
        f"\u201c{scenario.title}\u201d{span}?"
    ]
    desc = " ".join(str(getattr(scenario, "description", "") or "").split())
    if desc:
        out.append(desc)
    return out


def _methods_run(replicates: int, seed: int) -> list[str]:
    return [
        f"Monte Carlo: {replicates:,} replicates (simulated worlds) of the agent-based model, "
        f"seed {seed}. Each replicate draws every uncertain parameter once from its declared "
        "distribution and plays the scenario day by day; actors choose moves by a logit "
        "comparison of utilities (docs/MODEL.md).",
        "Random numbers are a pure function of (seed, replicate, day, actor, purpose), so the "
        "same seed reproduces every number on any machine and worker count, and two scenarios "
        "run on the same seed share their random numbers (common random numbers).",
        "Probabilities carry Wilson score intervals (Wilson 1927), means Student t intervals, "
        "medians distribution-free order-statistic intervals; paired differences Newcombe's "
        "interval (1998).",
    ]


def _discovery_drivers(folder: Path, run: Any) -> list[dict[str, Any]]:
    """The PRIM results kept in a run folder's ``discovery/``, each believed only when its
    tables match the records in its ``discovery.json`` and it was made from this run."""
    from sim.runner.folder import ResultsFolder
    from sim.runner.manifest import FileRecord
    from sim.runner.store import verify_file

    rf = ResultsFolder(folder)
    out = []
    for name in rf.listdir("discovery"):
        rel = f"discovery/{name}"
        if rf.kind(rel) != "folder" or rf.kind(f"{rel}/discovery.json") != "file":
            continue  # a link or a stray file is not a discovery of this run
        try:
            d = rf.read_json(f"{rel}/discovery.json", "discovery record")
            if not isinstance(d, dict) or not isinstance(d.get("files"), dict):
                continue  # written before records were kept, or edited: not shown
            for key, rec in d["files"].items():
                record = FileRecord.model_validate(rec)
                if record.path != f"{rel}/{key}":
                    raise ValueError("a record names another file")
                verify_file(folder, record)
            rules = d.get("rules") or []
            if not (
                isinstance(d.get("outcome"), str)
                and isinstance(rules, list)
                and all(isinstance(r, str) for r in rules)
                and d.get("seed") == run.seed
                and d.get("replicates") == run.replicates - run.failed
                and d.get("scenario") == run.scenario.name
            ):
                continue
            base_rate = float(d.get("base_rate", float("nan")))
        except (UserError, ValueError, TypeError):
            continue
        out.append(
            {
                "title": f"Scenario discovery (PRIM): {d.get('outcome')}",
                "text": f"Base rate {base_rate:.1%} of worlds.",
                "rules": list(rules),
                "columns": [],
                "rows": [],
            }
        )
    return out


# ----------------------------------------------------------------------------- builders


def _common(scenario: Any, m: dict[str, Any], ask: str | None = None) -> dict[str, Any]:
    source = _spec_get(m, "source", "scenario_source")
    overrides = tuple(_spec_get(m, "overrides") or ())
    rows, note = assumptions_table(scenario, source, overrides)
    return {
        "question": _question(scenario, ask),
        "assumptions": rows,
        "provenance_note": note,
        "scenario_label": f"scenario {scenario.name}"
        + (f" ({source})" if source else "")
        + (f" with {' '.join(overrides)}" if overrides else ""),
        "versions": _versions(m),
        "caveats": CAVEATS,
    }


def build_run(folder: Path) -> dict[str, Any]:
    """Context of a run folder's report."""
    from sim import api
    from sim.report.headline import headline_context

    r = api.load_run(folder)
    m = _manifest(folder)
    figs = r.plot()
    captions = {
        "probabilities": "Headline probabilities with 95% Wilson intervals.",
        "end_states": "End states of the worlds.",
        "ladder_fan": "Each actor's rung on the escalation ladder over time (fan of quantiles).",
        "heatmap": "Share of worlds on each rung, by day.",
        "china_alignment": "China's alignment level at the end.",
        "time_to_incident": "Time to the first armed incident.",
    }
    source = _spec_get(m, "source", "scenario_source") or "SCENARIO.yaml"
    fallback = ["escalation", "run", str(source), "-n", str(r.replicates), "--seed", str(r.seed)]
    return {
        **_common(r.scenario, m),
        "title": f"{r.scenario.title}",
        "kind_label": "Monte Carlo run",
        "replicates": f"{r.replicates - r.failed:,}",
        "seed": r.seed,
        # Page one and the outcomes appendix, labelled (sim.report.headline, issue 23).
        **headline_context(folder, r),
        "figures": [_fig(f, captions.get(k, k.replace("_", " "))) for k, f in figs.items()],
        "drivers": _discovery_drivers(folder, r),
        "methods": _methods_run(r.replicates, r.seed),
        "command": _command(m, fallback),
    }


def build_comparison(folder: Path) -> dict[str, Any]:
    """Context of a comparison folder's report."""
    from sim import api

    table, info = api.load_comparison(folder)
    a_path = api.comparison_run(folder, info, "a")
    api.comparison_run(folder, info, "b")  # still the run compared, when at hand
    if a_path is None:
        where = info["a"].get("path")
        raise UserError(f"{folder}: the report needs run A's folder ({where}) to list assumptions")
    ra = api.load_run(a_path)
    m = _manifest(a_path)
    from sim.report.present import present_comparison

    # Labelled and grouped as the run report and the terminal are (sim.report.present).
    rows = [
        {
            "group": g.title,
            "outcome": r.label.label,
            "key": r.label.key,
            "a": r.a,
            "b": r.b,
            "diff": r.diff,
            "interval": r.interval,
        }
        for g in present_comparison(table, ra.scenario)
        for r in g.rows
    ]
    # Drawn from the verified table, never inlined from whatever charts/comparison.png is.
    figs = [_fig(api.comparison_figure(folder, table, info), "B - A with paired 95% intervals.")]
    cmd = m.get("command") or []
    ask = (
        f"How do the outcomes of B, \u201c{info['b']['title']}\u201d, differ from those of A, "
        f"\u201c{info['a']['title']}\u201d, in the same simulated worlds?"
    )
    ctx = _common(ra.scenario, m, ask)
    ctx["scenario_label"] = f"run A ({info['a'].get('label')}); B differs as its label says"
    return {
        **ctx,
        "title": f"{info['a']['title']} vs {info['b']['title']}",
        "kind_label": "Paired comparison",
        "a_label": str(info["a"].get("label")),
        "b_label": str(info["b"].get("label")),
        "headline": rows,
        "figures": figs,
        "drivers": [],
        "methods": _methods_run(int(info["a"]["replicates"]), int(info["seed"])),
        "command": shlex.join(str(c) for c in cmd) if cmd else "escalation compare A B",
    }


def build_sensitivity(folder: Path) -> dict[str, Any]:
    """Context of a sensitivity folder's report."""
    from sim.analysis.sensitivity import INDEX_COLUMN, ranking_stability, sobol_precision
    from sim.api_analysis import _checked_scenario, _read_info, _run_of, load_sensitivity
    from sim.charts.sensitivity import convergence_chart

    res = load_sensitivity(folder)
    info = _read_info(folder, "sensitivity")
    m = _manifest(_run_of(folder))
    scenario = _checked_scenario(folder, info)
    key = INDEX_COLUMN[res.method]
    drivers, figs, headline = [], [], []
    for o in res.outcomes:
        noise = res.noise[res.noise["outcome"] == o].iloc[0]
        headline.append(
            {
                "outcome": o,
                "mean": f"{noise['mean']:.3f}",
                "noise": f"{noise['noise_share']:.0%}",
                "noise_means": "n/a"
                if noise["noise_in_means"] != noise["noise_in_means"]
                else f"{noise['noise_in_means']:.0%}",
            }
        )
        if not noise["total_variance"] > 0:
            continue
        top = res.top(o, 10)
        conv = res.convergence[res.convergence["outcome"] == o]
        if res.method == "sobol":
            cols = ["rank", "factor", "kind", "ST [95%]", "S1 [95%]"]
            rows = [
                [
                    int(r["rank"]),
                    r["factor"],
                    r["kind"],
                    f"{r['ST']:.3f} [{r['ST_ci_low']:.3f}, {r['ST_ci_high']:.3f}]",
                    f"{r['S1']:.3f} [{r['S1_ci_low']:.3f}, {r['S1_ci_high']:.3f}]",
                ]
                for _, r in top.iterrows()
            ]
        else:
            cols = ["rank", "factor", "kind", "mu* [95%]", "sigma"]
            rows = [
                [
                    int(r["rank"]),
                    r["factor"],
                    r["kind"],
                    f"{r[key]:.3f} [{r['mu_star_ci_low']:.3f}, {r['mu_star_ci_high']:.3f}]",
                    f"{r['sigma']:.3f}",
                ]
                for _, r in top.iterrows()
            ]
        stab = ranking_stability(conv, 10)
        text = f"Top-10 ranking kept {stab:.0%} of its members between N/2 and N."
        if res.method == "sobol":
            rows_o = res.indices[res.indices["outcome"] == o]
            text += " " + sobol_precision(rows_o, info.get("n")).capitalize() + "."
        if noise["noise_in_means"] > 0.5:
            text += (
                f" {noise['noise_in_means']:.0%} of the point means' variance is the particular"
                " worlds' noise: these indices are not reliable; more replicates per point"
                " (-k) would make them so."
            )
        drivers.append(
            {
                "title": o,
                "text": text,
                "columns": cols,
                "rows": rows,
                "rules": [],
            }
        )
        figs.append(_fig(res.plot(outcome=o), f"What drives {o}: ranked indices."))
        figs.append(_fig(convergence_chart(res, o), f"Convergence of the indices for {o}."))
    method = (
        "Morris elementary effects (Morris 1991), ranked by mu* (Campolongo, Cariboni & "
        "Saltelli 2007)"
        if res.method == "morris"
        else "Sobol first- and total-order indices (Saltelli 2002; Saltelli et al. 2010)"
    )
    design_text = (
        f"{res.method} design: {len(res.factors.factors)} factors, N={info['n']}, "
        f"{info['points']:,} design points x {info['replicates_per_point']} replicates "
        f"each, seed {info['seed']}."
    )
    fallback = ["escalation", "sensitivity", str(info.get("source"))]
    ask = (
        f"Which of the assumptions of \u201c{scenario.title}\u201d drive "
        f"{', '.join(res.outcomes)}, and how much of their spread is chance?"
    )
    ctx = _common(scenario, m, ask)
    return {
        **ctx,
        "title": f"What drives {scenario.title}",
        "kind_label": "Sensitivity analysis",
        "design_text": design_text,
        "headline": headline,
        "figures": figs,
        "drivers": drivers,
        "methods": [
            f"{method}, estimated with SALib on the design's point means; intervals are "
            "bootstrap intervals (SALib).",
            "Each design point runs the same replicate ids with the same seed (common random "
            "numbers), so points differ only by their parameter values. Uncertain parameters "
            "are varied over their declared distributions (inverse CDF of the design "
            "coordinate)"
            + (
                f"; fixed numbers within +-{info['screen_fixed']:.0%} of their value."
                if info.get("screen_fixed")
                else "."
            ),
            "Chance alone is the within-point variance over the total variance of single "
            "replicates. Noise in the point means is the share of their variance that belongs "
            "to the particular K worlds: one minus the split-half reliability (even against odd "
            "replicate ids, Spearman-Brown); above 50% the indices are not reliable. "
            "Convergence: indices recomputed on the first N/8, N/4, N/2 trajectories or base "
            "samples.",
        ],
        "command": shlex.join(info["command"]) if info.get("command") else shlex.join(fallback),
    }


def build_sweep(folder: Path) -> dict[str, Any]:
    """Context of a sweep folder's report."""
    from sim.api_analysis import _checked_scenario, _read_info, _run_of, load_sweep

    res = load_sweep(folder)
    info = _read_info(folder, "sweep")
    m = _manifest(_run_of(folder))
    scenario = _checked_scenario(folder, info)
    headline = [
        {
            "at": [f"{r[k]:.4g}" for k in res.keys],
            "outcome": r["outcome"],
            "estimate": f"{r['estimate']:.3f}",
            "interval": f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
        }
        for _, r in res.table.iterrows()
    ]
    crossings = []
    for o, xs in res.crossing.items():
        where = ", ".join(f"{x:.4g}" for x in xs) if xs else "nowhere in the range"
        crossings.append(f"{o} crosses {res.threshold:g} at {res.keys[0]} = {where}.")
    figs = [_fig(res.plot(outcome=o), f"{o} along the sweep.") for o in res.outcomes]
    ask = (
        f"How do {', '.join(res.outcomes)} respond to {' and '.join(res.keys)} in "
        f"\u201c{scenario.title}\u201d?"
    )
    return {
        **_common(scenario, m, ask),
        "title": f"{scenario.title}: sweep of {' and '.join(res.keys)}",
        "kind_label": "Parameter sweep",
        "design_text": f"{info['points']} grid points x {info['replicates_per_point']} "
        f"replicates each (common random numbers), seed {info['seed']}.",
        "keys": res.keys,
        "headline": headline,
        "crossings": crossings,
        "figures": figs,
        "drivers": [],
        "methods": [
            "Every grid point runs the same replicate ids with the same seed (common random "
            "numbers); the swept values replace the parameters' declared values, the other "
            "uncertain parameters keep their per-replicate draws.",
            "Probabilities carry Wilson intervals, means Student t intervals; threshold "
            "crossings are interpolated linearly between grid points.",
        ],
        "command": shlex.join(info["command"]) if info.get("command") else "escalation sweep",
    }


BACKTEST_FILES = (
    "backtest.json",
    "statistics.csv",
    "episodes.csv",
    "draws.csv",
    "statistics.png",
    "episodes.png",
    "posterior.png",
)


def _pct(p: float) -> str:
    return f"{p:.1%}"


def _pct_interval(lo: float, hi: float) -> str:
    return f"[{_pct(lo)}, {_pct(hi)}]"


def _inside(rows: Any) -> str:
    return f"{int(rows['inside_90'].sum())} of {len(rows)}"


def _episode_rows(episodes: Any) -> list[dict[str, str]]:
    from sim.analysis.stats import wilson_interval
    from sim.model.history import PLAUSIBLE

    out = []
    for r in episodes.itertuples():
        n, repeats = int(r.replicates), int(r.repeats)
        # The folder keeps the uncalibrated share as P(once) ** repeats, on the same replicates
        # and seed; its count of worlds gives the same 90% Wilson interval as the calibrated one.
        k = round(n * float(r.uncalibrated) ** (1.0 / repeats))
        lo, hi = wilson_interval(k, n, 0.90)
        out.append(
            {
                "episode": str(r.episode),
                "happened": str(r.what_happened),
                "scenario": f"scenarios/{r.scenario}",
                "repeats": f"{repeats}",
                "replicates": f"{n:,}",
                "probability": _pct(float(r.probability)),
                "interval": _pct_interval(float(r.probability_5), float(r.probability_95)),
                "uncalibrated": _pct(float(r.uncalibrated)),
                "uncalibrated_interval": _pct_interval(float(lo) ** repeats, float(hi) ** repeats),
                "plausible": "yes" if float(r.probability) >= PLAUSIBLE else "NO",
            }
        )
    return out


def _statistic_rows(stats: Any) -> list[dict[str, str]]:
    out = []
    for r in stats.to_dict("records"):
        n = int(r["disputes"])
        out.append(
            {
                "cls": str(r["class"]),
                "role": "in-sample" if r["role"] == "fit" else "held out",
                "statistic": str(r["statistic"]),
                "label": str(r["label"]),
                "fitted": "yes" if bool(r["fitted"]) else "",
                "observed": f"{float(r['observed']):.3f}",
                "count": f"{round(float(r['observed']) * n)}/{n}",
                "model": f"{float(r['predicted_median']):.3f}",
                "interval": f"[{float(r['predicted_5']):.3f}, {float(r['predicted_95']):.3f}]",
                "inside": "yes" if bool(r["inside_90"]) else "NO",
            }
        )
    return out


def build_backtest(folder: Path) -> dict[str, Any]:
    """Context of a backtest folder's report (``escalation backtest``)."""
    import numpy as np
    import pandas as pd

    from sim.calibration import mid
    from sim.calibration.backtest import UNCALIBRATED, shipped_draws
    from sim.calibration.fit import LADDER_FILE, PRIORS, SCENARIO, TABLE
    from sim.calibration.folder import files_record, read_recorded
    from sim.model.history import PLAUSIBLE
    from sim.runner.folder import parse_json
    from sim.runner.store import code_version, versions
    from sim.scenario import load_scenario

    record = files_record(folder)
    missing = [f for f in BACKTEST_FILES if f not in record["files"]]  # type: ignore[operator]
    if missing:
        raise UserError(f"{folder}: damaged backtest folder (missing {', '.join(missing)})")
    # Every file is believed only when it matches the folder's record (files.json).
    data = {name: read_recorded(folder, name, record) for name in BACKTEST_FILES}
    try:
        info = parse_json(data["backtest.json"], folder / "backtest.json", "backtest record")
        if not isinstance(info, dict):
            raise TypeError("backtest.json is not a JSON object")
        stats = pd.read_csv(io.BytesIO(data["statistics.csv"]))
        episodes = pd.read_csv(io.BytesIO(data["episodes.csv"]))
        draws = pd.read_csv(io.BytesIO(data["draws.csv"]))
        fit_class = str(info["fit_class"])
        replicates, seed = int(info["replicates"]), int(info["seed"])
        for name, table in (("statistics.csv", stats), ("episodes.csv", episodes)):
            if table.empty:
                raise ValueError(f"{name} holds no rows (a backtest of data without disputes?)")
        if draws.empty or len(draws.columns) == 0:
            raise ValueError("draws.csv holds no draws")
    except (OSError, ValueError, KeyError, TypeError, pd.errors.ParserError) as e:
        text = " ".join(str(e).split())[:200]
        raise UserError(f"{folder}: damaged backtest folder ({text})") from None

    fit = stats[stats["role"] == "fit"]
    held = stats[stats["role"] != "fit"]
    counts = {
        "fitted": _inside(stats[stats["fitted"].astype(bool)]),
        "in_sample": _inside(fit),
        "held_out": _inside(held),
        "all": _inside(stats),
    }
    disputes = stats.groupby("class", sort=False)["disputes"].max()
    classes = [
        {
            "name": c,
            "role": "fitted (in-sample)" if c == fit_class else "held out (out-of-sample)",
            "disputes": f"{int(disputes[c]):,}",
            "description": mid.CLASSES[c].description if c in mid.CLASSES else "",
        }
        for c in disputes.index
    ]
    priors = {p.path: p for p in PRIORS}
    q = draws.quantile([0.05, 0.5, 0.95]).to_numpy()
    posterior = [
        {
            "path": c,
            "prior": priors[c].label if c in priors else "?",
            "q": [f"{float(x):.4g}" for x in q[:, j]],
        }
        for j, c in enumerate(draws.columns)
    ]
    # Is the table this backtest used still the one the scenarios ship?
    shipped_now = "unknown"
    try:
        now = shipped_draws(SCENARIO)
        same = (
            list(now.columns) == list(draws.columns)
            and now.shape == draws.shape
            and bool(np.allclose(now.to_numpy(), draws.to_numpy(), rtol=1e-9, atol=0.0))
        )
        shipped_now = "yes" if same else "no"
    except (UserError, ValueError, OSError):
        pass

    ladder = _rel(LADDER_FILE)
    dyad = _rel(SCENARIO)
    recorded = "versions" in info
    m = {
        "versions": info.get("versions") or versions(),
        "code_version": info.get("code_version") or code_version(),
        "command": shlex.split(str(info.get("command") or "escalation backtest")),
        "spec": {"source": dyad},
    }
    ctx = _common(load_scenario(SCENARIO), m)
    ctx["question"] = [
        "Is what happened in each regional episode a plausible outcome of the scenario that "
        "describes it, and does the calibrated model reproduce the record of militarized "
        "interstate disputes (MID) out of sample?",
        "Two checks of the shipped model. The episodes: every scenario under "
        "scenarios/history/ is run as shipped, and the model's probability of what actually "
        f"happened is compared with the {PLAUSIBLE:.0%} the project calls plausible, beside the "
        "same scenario with the shared ladder dynamics at their values before calibration. "
        "The record: the calibration scenario (a rival dyad after one side's display of force) "
        "is held against each comparison class of the MID data, statistic by statistic; the "
        "fitted class is in-sample, the other classes were never seen by the fit.",
    ]
    ctx["scenario_label"] = (
        f"the calibration scenario {dyad}, on which the MID statistics are simulated (the "
        "episodes' scenarios under scenarios/history/ list their own: report a run of each)"
    )
    ctx["reproduce_note"] = (
        f"Written {info.get('created', '(time not recorded)')} in "
        f"{float(info.get('seconds', float('nan'))):.0f} s. Rerun it with another -o (a "
        "backtest never writes into an existing folder); its numbers do not depend on "
        "--workers or a Dask cluster. "
        + (
            "The versions below are those the backtest ran on (backtest.json)."
            if recorded
            else "This backtest folder does not record the versions it ran on: those below "
            "are the installation's that wrote this report."
        )
    )
    caveats = [
        *(c for c in CAVEATS if c is not CAVEAT_INTERVALS),
        "The episodes' intervals measure Monte Carlo sampling error only; the statistics' 90% "
        "predictive intervals also carry the calibration's parameter uncertainty (the spread "
        "over the table's rows) and the record's finite size (a class of n disputes). Neither "
        "covers errors in the assumptions or in the model's structure.",
        "A plausible episode does not confirm the model: each episode happened once, and a "
        f"probability of {PLAUSIBLE:.0%} or more only says the model does not rule it out. The "
        "episodes share the calibrated dynamics, so they are not independent tests, and the "
        "probability of all of them together is not the product of the four.",
        "Choices made after seeing checks: this folder does not record them. docs/MODEL.md "
        "section 15 states two for the shipped calibration: "
        + (
            "the comparison class was changed from the generic two-state class to the "
            "USSR-NATO one after the generic fit made three of the four episodes implausible, "
            "and"
            if fit_class == mid.FIT_CLASS
            else f"the default class {mid.FIT_CLASS} (this calibration used {fit_class}) was "
            "chosen after seeing the episodes under a generic fit, and"
        )
        + " the accident rate's prior was made log-uniform after a uniform one sank the "
        "Belarus-Ukraine episode; the episodes and the held-out classes are not blind checks "
        "of those choices.",
    ]
    if replicates < 2000:
        caveats.append(
            f"This backtest ran {replicates:,} replicates per episode (the default is 2,000); "
            "the episodes' intervals are correspondingly wide."
        )
    if shipped_now == "no":
        caveats.append(
            f"The table of draws the scenarios ship now ({ladder}) differs from the one this "
            "backtest used (draws.csv in the folder): its command reproduces these numbers only "
            "with that table installed."
        )
    ctx["caveats"] = caveats
    inside = info.get("inside_90") or {}
    return {
        **ctx,
        "title": "Backtest: the calibrated model against the MID record and the regional episodes",
        "kind_label": "Backtest",
        "calibration": {
            "provenance": str(info.get("provenance", "")),
            "table": TABLE,
            "file": ladder,
            "rows": f"{int(info.get('draws', len(draws))):,}",
            "fit_class": fit_class,
            "held_out": ", ".join(c for c in disputes.index if c != fit_class),
            "shipped_now": shipped_now,
            "check_replicates": f"{int(info.get('check_replicates', 0)):,}",
        },
        "classes": classes,
        "posterior": posterior,
        "episodes": _episode_rows(episodes),
        "replicates": f"{replicates:,}",
        "seed": seed,
        "plausible": _pct(PLAUSIBLE),
        "statistics": _statistic_rows(stats),
        "counts": counts,
        "share_in_sample": _pct(float(inside.get("in_sample", float("nan")))),
        "share_held_out": _pct(float(inside.get("out_of_sample", float("nan")))),
        "figures": [
            _png(
                data["episodes.png"],
                folder / "episodes.png",
                "The probability the model gives to what happened in each episode: calibrated "
                "with its 90% interval, uncalibrated as a point (its interval is in the table).",
            ),
            _png(
                data["statistics.png"],
                folder / "statistics.png",
                "Observed MID statistics against the calibrated model's 90% predictive "
                "intervals, by comparison class.",
            ),
            _png(
                data["posterior.png"],
                folder / "posterior.png",
                "The shipped table of draws (posterior) against the calibration's priors.",
            ),
        ],
        "drivers": [],
        "methods": [
            f"Episodes: each scenario under scenarios/history/ is run on {replicates:,} "
            f"replicates, seed {seed}, as shipped (each replicate takes one row of the "
            f"calibrated table '{TABLE}'), and again with the shared dynamics at their "
            f"uncalibrated values ({'; '.join(UNCALIBRATED)}) on the same seed and replicate "
            "ids (common random numbers). A replicate matches what happened when it passes the "
            "episode's check (sim/model/history.py). The probability is the share of matching "
            "replicates with a 90% Wilson interval (Wilson 1927); an episode repeated r times "
            "in the record (the six drills) counts as r independent draws, so the share and "
            "both ends of its interval are raised to the power r.",
            f"Statistics: the rival dyad ({dyad}) on every row of the table x "
            f"{int(info.get('check_replicates', 0)):,} simulated disputes per row, seed "
            f"{seed + 1}; each statistic is the same function on the record and on the model "
            "(docs/MODEL.md section 15). A class of n disputes gets a posterior predictive "
            "interval: at each row's simulated share, n disputes drawn binomially; the 5% and "
            "95% quantiles over the rows are the 90% interval, and the observed share is inside "
            "or not. 'Fitted' marks the statistics in the calibration's distance on its class.",
            "Posterior: the shipped table's 5%, 50% and 95% quantiles per parameter beside its "
            "prior; the table is a systematic resample by weight of an ABC-SMC posterior (Toni "
            "et al. 2009; Beaumont et al. 2009; escalation calibrate).",
        ],
        "command": _command(m, ["escalation", "backtest"]),
    }


def _rel(path: Path) -> str:
    """A path relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "run": build_run,
    "comparison": build_comparison,
    "sensitivity": build_sensitivity,
    "sweep": build_sweep,
    "backtest": build_backtest,
}
"""Folder kind -> context builder. A new kind: one builder here and one ``block/<kind>``."""

KIND_FILES = (
    ("analysis.json", None),
    ("comparison.json", "comparison"),
    ("backtest.json", "backtest"),
    ("manifest.json", "run"),
)


def folder_kind(folder: Path) -> str:
    """``run``, ``comparison``, ``sensitivity``, ``sweep``, ``backtest`` (or another kind's name).

    Raises:
        UserError: not a results folder.
    """
    from sim.runner.folder import ResultsFolder

    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    rf = ResultsFolder(folder)
    if rf.kind("manifest.json") != "missing" and (folder.parent / "analysis.json").exists():
        raise UserError(
            f"{folder}: the design run of an analysis; report its folder instead: "
            f"escalation report {folder.parent}"
        )
    for name, kind in KIND_FILES:
        if rf.kind(name) != "missing":
            if kind is None:
                d = rf.read_json(name, name)
                if not isinstance(d, dict) or not isinstance(d.get("kind"), str):
                    raise UserError(f"{folder}: damaged {name}")
                kind = d["kind"]
            return kind
    raise UserError(
        f"{folder}: not a results folder (no manifest.json, comparison.json, analysis.json or "
        "backtest.json)"
    )


def render_html(context: dict[str, Any], kind: str) -> str:
    """The report's HTML for a context built by one of :data:`BUILDERS`."""
    import jinja2

    from sim.report.templates import TEMPLATES

    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("page").render(kind=f"{kind}", **context)


def write_pdf(html_path: Path) -> bytes | None:
    """An HTML file printed to PDF by headless Chromium (Playwright); None if unavailable.

    The PDF comes back as bytes, which the caller writes through the folder's own door
    (Chromium itself writes nothing into the folder).
    """
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            return page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            browser.close()


def write_report(folder: Path, out: Path | None = None, pdf: bool = True) -> dict[str, Path]:
    """Write ``report.html`` (and ``report.pdf``) for a results folder.

    Args:
        folder: A run, comparison, sensitivity, sweep or backtest folder.
        out: The HTML file (default ``folder/report.html``); the PDF goes beside it.
        pdf: Also print the PDF (needs Chromium and Playwright; skipped with a note if absent).

    Returns:
        ``{'html': path[, 'pdf': path]}``.

    Raises:
        UserError: not a results folder, a kind without a report, or a damaged folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind not in BUILDERS:
        raise UserError(f"{folder}: no report is defined for a {kind[:40]} folder yet")
    try:
        ctx = BUILDERS[kind](folder)
    except UserError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, ZeroDivisionError) as e:
        # A folder whose records check out can still hold values no report can be made of
        # (a backtest of data without disputes, a hand-made record): one line, not a trace.
        text = " ".join(str(e).split())[:200]
        raise UserError(
            f"{folder}: cannot report this {kind} folder ({type(e).__name__}: {text})"
        ) from None
    ctx.setdefault("folder", str(folder))
    ctx["written"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = render_html(ctx, kind)
    from sim.runner.store import write_bytes

    html_path = Path(out) if out is not None else folder / REPORT_HTML
    if html_path.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {html_path}: the report file must end in .html")
    # Into the results folder by default, confined to it (a report.html planted as a link is
    # replaced, never written through); with --out, into the file named.
    root = folder if out is None else None
    write_bytes(html_path, html.encode("utf-8"), root)
    paths = {"html": html_path}
    if pdf:
        pdf_path = html_path.with_suffix(".pdf")
        data = write_pdf(html_path)
        if data is not None:
            write_bytes(pdf_path, data, root)
            paths["pdf"] = pdf_path
    return paths


__all__ = ["BUILDERS", "folder_kind", "provenance", "render_html", "write_report"]


class _CallableModule(types.ModuleType):
    """``sim.report(folder)`` works although ``sim.report`` is also this package.

    Importing a submodule makes it an attribute of its parent package, so once this package is
    imported ``sim.report`` names it rather than the function :func:`sim.api_analysis.report`;
    making the package callable keeps the documented call working either way.
    """

    def __call__(
        self, folder: str | Path, out: str | Path | None = None, pdf: bool = True
    ) -> dict[str, Path]:
        return write_report(Path(folder), None if out is None else Path(out), pdf=pdf)


sys.modules[__name__].__class__ = _CallableModule
