"""What the explorer computes, with no user interface: settings, the world, the Monte Carlo.

Kept apart from the Solara page (``app.py``) so that each piece can be tested and timed without a
browser, as in Mesa's examples (``model.py`` beside ``app.py``).

* :class:`Settings` - the scenario picked, the seed and the parameters a student has moved.
  Moved parameters become ``--set`` overrides of the scenario file (a fixed value instead of
  the distribution); the others keep their distributions.
* :class:`ExplorerModel` - one world of the scenario with those settings, traced so that each
  day can be told in ``escalation replay``'s words.
* :func:`monte_carlo` - the current settings beside the unchanged scenario on common random
  numbers, through :func:`sim.api.compare` (the runner ``escalation run`` uses).
* :func:`save_scenario` - the settings as a scenario file that ``extends`` the one picked.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.model.model import EscalationModel
from sim.runner.engine import DEFAULT_SEED
from sim.scenario.schema import Scenario

MC_REPLICATES = 2000
"""Replicates per side of the explorer's Monte Carlo."""


@dataclass(frozen=True)
class Control:
    """A slider for one uncertain parameter: its bounds, default (the centre) and step."""

    path: str
    low: float
    high: float
    default: float
    step: float

    @property
    def label(self) -> str:
        """A short label: ``poland.resolve``, ``poland.close_border.bias``, ``threaten.cost``."""
        parts = self.path.split(".")
        if parts[0] == "actors":
            # actors.poland.motives.close_border.bias -> poland.close_border.bias
            kept = [p for p in parts[1:] if p not in ("motives", "attribution")]
            return ".".join(kept)
        return ".".join(parts[-2:]) if len(parts) > 2 else self.path


def controls(scenario: Scenario) -> list[Control]:
    """One slider per uncertain parameter of the scenario (bounded ones; centre as default)."""
    from sim.scenario.distributions import nominal, support
    from sim.scenario.parameters import uncertain_parameters

    out = []
    for path, p in uncertain_parameters(scenario).items():
        low, high = support(p)
        if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
            continue
        centre = min(max(nominal(p), low), high)
        step = _nice_step((high - low) / 100)
        out.append(Control(path, low, high, round(centre / step) * step, step))
    return out


def _nice_step(x: float) -> float:
    mag = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if x <= m * mag:
            return float(m * mag)
    return float(10 * mag)  # pragma: no cover


@dataclass
class Settings:
    """The scenario picked and the parameters moved away from their distributions.

    Attributes:
        path: The scenario file.
        seed: Seed of the world and of the Monte Carlo.
        values: Parameter path -> value for the sliders that were moved.
        policies: Actor name -> persona (``sim.play.PERSONAS``) for seats not played by the
            model's own rule; the same policy interface as ``escalation play`` and
            ``escalation run --policy``.
    """

    path: Path
    seed: int = DEFAULT_SEED
    values: dict[str, float] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)

    def overrides(self) -> list[str]:
        """The moved parameters as ``--set`` overrides."""
        return [f"{k}={_number(v)}" for k, v in sorted(self.values.items())]

    def model_name(self) -> str | None:
        """The runner's replicate function for the personas (``None``: the model's own)."""
        from sim.play.runs import policy_model

        return policy_model([f"{a}={p}" for a, p in self.policies.items()])

    def described(self) -> list[str]:
        """The settings for people: overrides, then ``--policy`` items."""
        return self.overrides() + [f"--policy {a}={p}" for a, p in self.policies.items()]

    def scenario(self) -> Scenario:
        """The scenario with the current settings."""
        from sim.scenario.loader import load_scenario

        return load_scenario(self.path, self.overrides())

    def base(self) -> Scenario:
        """The scenario as picked, unchanged."""
        from sim.scenario.loader import load_scenario

        return load_scenario(self.path)


def _number(v: float) -> str:
    return f"{float(v):.6g}"


class ExplorerModel(EscalationModel):
    """One world (replicate 0) of the picked scenario with the current settings, traced.

    Args:
        settings: The explorer's settings; Mesa's Reset builds a new world from the same object,
            so it sees the sliders as they are then.
    """

    def __init__(self, settings: Settings):
        from sim.play.policy import resolve_policies

        self.settings = settings
        super().__init__(
            settings.scenario(), seed=settings.seed, replicate_ids=[0], trace=True, collect=False
        )
        self.seat_policies = resolve_policies(settings.policies, self.tables.names)
        # Each actor's rung per day so far, for the page's ladder picture.
        self.history: list[list[int]] = [[int(r) for r in self.state.rung[0]]]

    def step(
        self,
        chosen: Mapping[int, np.ndarray] | None = None,
        switches: Mapping[int, np.ndarray] | None = None,
    ) -> None:
        """Advance the world one day; seats with a persona are played by it (moves and measures)."""
        from sim.play.policy import decide

        moves = dict(chosen or self._chosen or {})
        flips = dict(switches or self._switches or {})
        self._chosen = self._switches = None
        seats = {a: p for a, p in self.seat_policies.items() if a not in moves and a not in flips}
        more_moves, more_flips = decide(self, seats)
        moves.update(more_moves)
        flips.update(more_flips)
        super().step(moves or None, flips or None)
        self.history.append([int(r) for r in self.state.rung[0]])


def scenario_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The scenario files of a folder, sorted by name."""
    return sorted(Path(folder).glob("*.yaml"))


def world_table(model: EscalationModel) -> pd.DataFrame:
    """Each actor's rung, last daily move and lasting measures in the world (replicate 0)."""
    from sim.play.game import entry_label

    s = model.scenario_spec
    st = model.state
    t = model.tables
    held: dict[int, list[str]] = {i: [] for i in range(t.n_actors)}
    for k in np.flatnonzero(st.on[0]):
        b = int(t.slot_target[k])
        aim = f" ({s.actors[t.names[b]].label})" if b >= 0 else ""
        held[int(t.slot_actor[k])].append(s.measures[t.slot_measure[k]].label + aim)
    return pd.DataFrame(
        {
            "actor": [at.label for at in t.actors],
            "rung": [s.ladder[int(r)].label for r in st.rung[0]],
            "last move": [entry_label(model, int(e)) for e in st.last[0]],
            "measures in force": [", ".join(held[i]) for i in range(t.n_actors)],
        }
    )


def measures(model: EscalationModel) -> dict[str, Any]:
    """Alliance steps taken and the alignment in the world (replicate 0)."""
    st = model.state
    t = model.tables
    s = model.scenario_spec
    out: dict[str, Any] = {
        "Article 4": bool(st.article4[0]),
        "Article 5": bool(st.article5[0]),
    }
    if s.alignment is not None and t.aligner >= 0:
        who = s.actors[t.names[t.aligner]].label
        out[f"{who}'s alignment"] = s.alignment_track[int(st.alignment[0])]
    return out


def day_story(model: EscalationModel, top: int = 2) -> list[str]:
    """The narrative of the last day simulated, in ``escalation replay``'s words."""
    from sim.model.replay import _narrate

    day = model.day
    lines = _narrate(model, all_days=False, top=top, out=model.outcomes().iloc[0])
    head = f"Day {day} (" if day > 0 else "Day 0 ("
    block = list(_block(lines, head))
    if not block:
        return [f"Day {day}: nothing changed."]
    return block


def _block(lines: list[str], head: str) -> Iterator[str]:
    inside = False
    for line in lines:
        if line.startswith(head):
            inside = True
        elif inside and (not line.strip() or line.startswith("Outcomes:")):
            return
        if inside:
            yield line


@dataclass
class MonteCarlo:
    """The explorer's Monte Carlo: the current settings (B) beside the unchanged scenario (A).

    Attributes:
        rows: outcome, estimate/ci_low/ci_high for A and B, the paired difference and its
            interval, for the headline probabilities and end states.
        replicates: Replicates per side.
        seconds: Wall time of the two runs.
        overrides: The settings B ran with.
    """

    rows: pd.DataFrame
    replicates: int
    seconds: float
    overrides: list[str]


def monte_carlo(settings: Settings, replicates: int = MC_REPLICATES) -> MonteCarlo:
    """Run the current settings beside the unchanged scenario, paired on the same seed.

    This is :func:`sim.api.compare` taken apart: both sides are :func:`sim.api.run` (the
    runner of ``escalation run``, with the same seed handling, in this process) and the table
    is :func:`sim.api.paired_table`. The unchanged side does not change while a student moves
    sliders, so its run is kept (per file, modification time, seed and size) and reused.
    """
    import time

    from sim.api import paired_table

    t0 = time.perf_counter()
    a = _unchanged_run(str(Path(settings.path).resolve()), _mtime(settings.path), settings.seed,
                       replicates)  # fmt: skip
    same = not settings.values and not settings.policies
    b = a if same else _run(settings.scenario(), settings.seed, replicates, settings.model_name())
    table = paired_table(a, b)
    seconds = time.perf_counter() - t0
    a_est, a_low, a_high = (_column(a.summary, k) for k in ("estimate", "ci_low", "ci_high"))
    b_est, b_low, b_high = (_column(b.summary, k) for k in ("estimate", "ci_low", "ci_high"))
    diff, d_low, d_high = (_column(table, k) for k in ("difference", "ci_low", "ci_high"))
    names = bar_outcomes(a.summary)
    rows = pd.DataFrame(
        {
            "outcome": names,
            "a": [a_est[o] for o in names],
            "a_low": [a_low[o] for o in names],
            "a_high": [a_high[o] for o in names],
            "b": [b_est[o] for o in names],
            "b_low": [b_low[o] for o in names],
            "b_high": [b_high[o] for o in names],
            "difference": [diff[o] for o in names],
            "diff_low": [d_low[o] for o in names],
            "diff_high": [d_high[o] for o in names],
        }
    )
    return MonteCarlo(rows, replicates, seconds, settings.described())


def _run(scenario: Scenario, seed: int, replicates: int, model: str | None = None) -> Any:
    from sim.api import run

    return run(scenario, replicates=replicates, seed=seed, workers=1, charts=False, model=model)


_UNCHANGED: dict[tuple[str, float, int, int], Any] = {}
_UNCHANGED_LOCK = threading.Lock()


def _unchanged_run(path: str, mtime: float, seed: int, replicates: int) -> Any:
    """The run of the scenario as picked, made once per (file, modification time, seed, size).

    A lock makes a press that arrives while :func:`warm` is still running wait for that run
    instead of computing it a second time on the same cores.
    """
    from sim.scenario.loader import load_scenario

    key = (path, mtime, seed, replicates)
    with _UNCHANGED_LOCK:
        if key not in _UNCHANGED:
            if len(_UNCHANGED) >= 8:
                _UNCHANGED.pop(next(iter(_UNCHANGED)))
            _UNCHANGED[key] = _run(load_scenario(path), seed, replicates)
        return _UNCHANGED[key]


def warm(settings: Settings, replicates: int = MC_REPLICATES) -> threading.Thread:
    """Start the unchanged scenario's run in the background (when a scenario is picked), so
    that the first press of Monte Carlo only has the current settings left to run."""
    args = (str(Path(settings.path).resolve()), _mtime(settings.path), settings.seed, replicates)
    thread = threading.Thread(target=_unchanged_run, args=args, daemon=True)
    thread.start()
    return thread


def _mtime(path: Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def bar_outcomes(summary: pd.DataFrame) -> list[str]:
    """The outcomes drawn as bars: the scenario's yes/no outcomes, then the end-state shares.

    Read from the summary (whatever the scenario declares), in its order; other categorical
    shares (who initiated, whom China blames) stay in the runner's tables.
    """
    rows = summary[summary["kind"] == "probability"]["outcome"].astype(str).tolist()
    return [o for o in rows if "=" not in o] + [o for o in rows if o.startswith("end_state=")]


def _column(table: pd.DataFrame, column: str) -> dict[str, float]:
    """One column of a summary or comparison table by outcome name."""
    return {
        str(k): float(v)
        for k, v in zip(table["outcome"].tolist(), table[column].tolist(), strict=True)
    }


def bars_svg(mc: MonteCarlo, width: int = 620, labels: Mapping[str, str] | None = None) -> str:
    """The Monte Carlo as SVG bars: A grey, B blue, each with its 95% interval as a whisker.

    Every bar carries ``data-outcome``, ``data-run`` and ``data-estimate`` attributes (for
    tests and for people who read the page's source).

    Args:
        mc: The Monte Carlo.
        width: Pixels.
        labels: Outcome name -> what the page writes beside its bars
            (:func:`sim.report.present.chart_labels`); others show their name.
    """
    from html import escape

    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in mc.rows.to_dict("records")
    ]
    left, right, bar_h, gap = 300, 60, 11, 10
    plot_w = width - left - right
    height = 30 + len(rows) * (2 * bar_h + gap)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" font-family="sans-serif" font-size="12" '
        'class="mc-bars">',
        f'<text x="{left}" y="14" fill="#666">share of worlds (95% intervals); '
        f"{mc.replicates:,} worlds each; grey unchanged, blue current</text>",
    ]
    y = 24
    for r in rows:
        name = escape(str(r["outcome"]))
        full = str((labels or {}).get(str(r["outcome"]), r["outcome"]))
        shown = full if len(full) <= 48 else full[:46].rstrip() + "\u2026"
        out.append(
            f'<text x="{left - 8}" y="{y + bar_h + 4}" text-anchor="end">'
            f"<title>{escape(full)}</title>{escape(shown)}</text>"
        )
        for run, colour in (("a", "#9e9e9e"), ("b", "#1565c0")):
            est, lo, hi = (float(r[run + k]) for k in ("", "_low", "_high"))
            w = max(est * plot_w, 0.5)
            out.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}" '
                f'data-outcome="{name}" data-run="{run}" '
                f'data-estimate="{est:.4f}"/>'
            )
            x0, x1 = left + lo * plot_w, left + hi * plot_w
            mid = y + bar_h / 2
            out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{mid}" y2="{mid}" stroke="#000"/>')
            out.append(f'<text x="{left + plot_w + 6}" y="{y + bar_h - 1}">{100 * est:.1f}%</text>')
            y += bar_h
        y += gap
    out.append("</svg>")
    return "".join(out)


def save_scenario(settings: Settings, path: str | os.PathLike[str]) -> Path:
    """Write the current settings as a scenario file that ``extends`` the one picked.

    The new file sits beside the picked one (so ``extends`` names it without a folder), holds
    a new ``name`` and only the moved parameters, and is checked by loading it back: it must
    give exactly the scenario the explorer ran.

    Raises:
        UserError: a path outside the picked scenario's folder, an existing file, or a file
            that does not reproduce the settings.
    """
    import yaml

    from sim.scenario.loader import load_scenario, load_tree, parse_key_path

    target = Path(path)
    base = Path(settings.path)
    if target.suffix not in (".yaml", ".yml"):
        raise UserError(f"{target}: a scenario file name must end in .yaml")
    if target.resolve().parent != base.resolve().parent:
        raise UserError(f"{target}: save it beside {base.name}, in {base.resolve().parent}")
    if target.exists():
        raise UserError(f"{target}: file exists; choose another name")
    tree = load_tree(base, settings.overrides())
    child: dict[str, Any] = {"extends": base.name, "name": _safe_name(target.stem)}
    for text in sorted(settings.values):
        keys = parse_key_path(text)
        node: Any = tree
        dest = child
        for i, k in enumerate(keys):
            if isinstance(node[k], list) or i == len(keys) - 1:
                # extends replaces a list whole: write the whole (overridden) list.
                dest[str(k)] = node[k]
                break
            dest = dest.setdefault(str(k), {})
            node = node[k]
    policy = "".join(f" --policy {a}={p}" for a, p in settings.policies.items())
    header = (
        f"# Saved by 'escalation explore' from {base.name}: the settings moved in the explorer.\n"
        f"# Run it with: escalation run {target}{policy}\n"
    )
    text = header + yaml.safe_dump(child, sort_keys=False, allow_unicode=True)
    try:
        with open(target, "x", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UserError(f"{target}: cannot write ({e.strerror or e})") from None
    want = settings.scenario().model_dump(mode="json", exclude={"name"})
    got = load_scenario(target).model_dump(mode="json", exclude={"name"})
    if got != want:
        target.unlink()
        raise UserError(f"{target}: the saved file does not reproduce the settings; not saved")
    return target


def _safe_name(stem: str) -> str:
    import re

    name = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_")
    return name or "explored"
