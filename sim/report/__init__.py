"""The analyst's report: one self-contained HTML file (and a PDF) for a results folder.

:func:`write_report` finds what kind of folder it is given (a run, a comparison, a
sensitivity or a sweep), builds the report's context with that kind's builder in
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
import json
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

CAVEATS = [
    "An exploration of stated assumptions, not a forecast: every number follows from the "
    "assumptions table and the model, and from nothing else.",
    "Actors are modelled as choosing moves by a noisy comparison of utilities; real decisions "
    "involve people, information and institutions the model does not represent.",
    "Intervals measure Monte Carlo sampling error only: they do not cover errors in the "
    "assumptions or in the model's structure.",
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
            tag) or ``default`` (not in any file: the schema's default).
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


def _describe_param(p: Any) -> str:
    from sim.scenario.distributions import is_uncertain

    if not is_uncertain(p):
        v = p.value if hasattr(p, "value") else p
        return f"{float(v):g}"
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
    from sim.scenario.distributions import is_uncertain
    from sim.scenario.parameters import declared_parameters

    prov: dict[str, Provenance] = {}
    note = ""
    if source and Path(source).exists():
        try:
            prov = provenance(source, overrides)
        except UserError as e:
            note = f"(Tags could not be read: {e}.)"
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


def _headline_rows(summary: Any) -> list[dict[str, str]]:
    rows = []
    for _, r in summary.iterrows():
        if str(r["outcome"]).endswith("=none"):
            continue
        prob = r.get("kind") == "probability"
        fmt = (lambda x: f"{x:.3f}") if prob else (lambda x: f"{x:.3g}")
        rows.append(
            {
                "outcome": str(r["outcome"]),
                "estimate": fmt(float(r["estimate"])),
                "interval": f"[{fmt(float(r['ci_low']))}, {fmt(float(r['ci_high']))}]",
                "n": f"{int(r['n']):,}",
            }
        )
    return rows


def _discovery_drivers(folder: Path) -> list[dict[str, Any]]:
    out = []
    for info_file in sorted((folder / "discovery").glob("*/discovery.json")):
        try:
            d = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append(
            {
                "title": f"Scenario discovery (PRIM): {d.get('outcome')}",
                "text": f"Base rate {float(d.get('base_rate', float('nan'))):.1%} of worlds.",
                "rules": list(d.get("rules") or []),
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
        "headline": _headline_rows(r.summary),
        "figures": [_fig(f, captions.get(k, k.replace("_", " "))) for k, f in figs.items()],
        "drivers": _discovery_drivers(folder),
        "methods": _methods_run(r.replicates, r.seed),
        "command": _command(m, fallback),
    }


def build_comparison(folder: Path) -> dict[str, Any]:
    """Context of a comparison folder's report."""
    from sim import api

    table, info = api.load_comparison(folder)
    a_path = Path(info["a"]["path"]) if info["a"].get("path") else None
    if a_path is not None and not a_path.is_absolute():
        a_path = folder / a_path
    if a_path is None or not api.is_run_folder(a_path):
        raise UserError(f"{folder}: the report needs run A's folder ({a_path}) to list assumptions")
    ra = api.load_run(a_path)
    m = _manifest(a_path)
    rows = []
    for _, r in table.iterrows():
        if str(r["outcome"]).endswith("=none"):
            continue
        rows.append(
            {
                "outcome": str(r["outcome"]),
                "a": f"{float(r['estimate_a']):.3f}",
                "b": f"{float(r['estimate_b']):.3f}",
                "diff": f"{float(r['difference']):+.3f}",
                "interval": f"[{float(r['ci_low']):+.3f}, {float(r['ci_high']):+.3f}]",
            }
        )
    figs = []
    png = folder / "charts" / "comparison.png"
    if png.exists():
        figs.append(
            {
                "data": base64.b64encode(png.read_bytes()).decode("ascii"),
                "caption": "B - A with paired 95% intervals.",
            }
        )
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
    from sim.analysis.sensitivity import INDEX_COLUMN, ranking_stability
    from sim.api_analysis import RUN_SUBFOLDER, load_sensitivity
    from sim.charts.sensitivity import convergence_chart

    res = load_sensitivity(folder)
    info = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
    m = _manifest(folder / RUN_SUBFOLDER)
    from sim.api_analysis import _scenario_of_run
    from sim.scenario.schema import validate_scenario

    scenario = validate_scenario(_scenario_of_run(folder / RUN_SUBFOLDER))
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
        drivers.append(
            {
                "title": o,
                "text": f"Top-10 ranking kept {stab:.0%} of its members between N/2 and N.",
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
    from sim.api_analysis import RUN_SUBFOLDER, _scenario_of_run, load_sweep
    from sim.scenario.schema import validate_scenario

    res = load_sweep(folder)
    info = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
    m = _manifest(folder / RUN_SUBFOLDER)
    scenario = validate_scenario(_scenario_of_run(folder / RUN_SUBFOLDER))
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


BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "run": build_run,
    "comparison": build_comparison,
    "sensitivity": build_sensitivity,
    "sweep": build_sweep,
}
"""Folder kind -> context builder. A new kind: one builder here and one ``block/<kind>``."""

KIND_FILES = (
    ("analysis.json", None),
    ("comparison.json", "comparison"),
    ("backtest.json", "backtest"),
    ("manifest.json", "run"),
)


def folder_kind(folder: Path) -> str:
    """``run``, ``comparison``, ``sensitivity``, ``sweep`` (or another kind's name).

    Raises:
        UserError: not a results folder.
    """
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    if (folder / "manifest.json").exists() and (folder.parent / "analysis.json").exists():
        raise UserError(
            f"{folder}: the design run of an analysis; report its folder instead: "
            f"escalation report {folder.parent}"
        )
    for name, kind in KIND_FILES:
        if (folder / name).exists():
            if kind is None:
                try:
                    kind = str(json.loads((folder / name).read_text(encoding="utf-8"))["kind"])
                except (OSError, ValueError, KeyError, TypeError):
                    raise UserError(f"{folder}: damaged {name}") from None
            return kind
    raise UserError(
        f"{folder}: not a results folder (no manifest.json, comparison.json or analysis.json)"
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


def write_pdf(html_path: Path, pdf_path: Path) -> bool:
    """Print an HTML file to PDF with headless Chromium (Playwright); False if unavailable."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        return False
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            page.pdf(
                path=str(pdf_path),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            browser.close()
    return True


def write_report(folder: Path, out: Path | None = None, pdf: bool = True) -> dict[str, Path]:
    """Write ``report.html`` (and ``report.pdf``) for a results folder.

    Args:
        folder: A run, comparison, sensitivity or sweep folder.
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
        raise UserError(f"{folder}: no report is defined for a {kind} folder yet")
    ctx = BUILDERS[kind](folder)
    ctx.setdefault("folder", str(folder))
    ctx["written"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = render_html(ctx, kind)
    html_path = Path(out) if out is not None else folder / REPORT_HTML
    if html_path.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {html_path}: the report file must end in .html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    paths = {"html": html_path}
    if pdf:
        pdf_path = html_path.with_suffix(".pdf")
        if write_pdf(html_path, pdf_path):
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
