"""From chunk files to the final results: merged outcomes, occupancy, summary; chart helpers.

These functions read and compute; :mod:`sim.runner.engine` decides when to call them. The
summary covers successful replicates only (a failed replicate has no outcome to count); the
failures are reported separately, by count and id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.runner.chunks import ERROR_COLUMN, conform, nullable
from sim.runner.manifest import ChunkEntry, FileRecord
from sim.runner.store import (
    CHARTS,
    MANIFEST,
    RunFolderError,
    read_array,
    read_table,
    save_figure,
)


def ok_rows(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The replicates that ran without error, without the ``error`` column."""
    if ERROR_COLUMN not in outcomes.columns:
        return outcomes
    ok = outcomes[ERROR_COLUMN].fillna("") == ""
    if ok.all():
        # No failures (the usual case): with copy-on-write this shares the columns instead of
        # copying a table that may hold a million rows.
        return outcomes.drop(columns=[ERROR_COLUMN])
    return outcomes.loc[ok].drop(columns=[ERROR_COLUMN]).reset_index(drop=True)


def summarize_ok(outcomes: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Summary table (outcome, estimate, ci_low, ci_high, n, kind) of the successful replicates."""
    from sim.analysis.stats import summarize

    return summarize(ok_rows(outcomes), confidence=confidence)


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The headline probability rows of a summary table (what ``--precision`` checks)."""
    from sim.analysis.stats import headline_probabilities

    return headline_probabilities(summary)


def failed_ids(outcomes: pd.DataFrame) -> list[int]:
    """Ids of the replicates whose ``error`` is not empty."""
    if ERROR_COLUMN not in outcomes.columns:
        return []
    bad = outcomes[ERROR_COLUMN].fillna("") != ""
    return [int(r) for r in outcomes.loc[bad, "replicate"]]


def merge_chunk_outcomes(frames: list[pd.DataFrame], design: bool = False) -> pd.DataFrame:
    """Concatenate chunk tables (in chunk order) into one table with one schema.

    A chunk where replicates failed has nullable dtypes (``boolean``, ``Int64``) and possibly
    missing columns (every replicate failed); all chunks are then brought to the same columns
    and dtypes, so the merged table does not depend on how failures were spread over chunks.
    Rows stay in chunk order: by replicate id, or by (point, replicate) in a design run.
    """
    if not frames:
        raise ValueError("no chunks to merge")
    full = [f for f in frames if len(f.columns) == max(len(g.columns) for g in frames)]
    template = full[0]
    mixed = any(
        list(f.columns) != list(template.columns) or not f.dtypes.equals(template.dtypes)
        for f in frames
    )
    if mixed:
        template = nullable(template)
        frames = [conform(nullable(f), template) for f in frames]
    merged = pd.concat(frames, ignore_index=True)
    if design:
        return merged
    ids = merged["replicate"].to_numpy()
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
        # Chunks hold consecutive ranges and arrive here in chunk order, so this is a safety
        # net; skipping the sort when it is not needed saves a copy of the whole table.
        merged = merged.sort_values("replicate", kind="stable").reset_index(drop=True)
    return merged


def read_chunk(folder: Path, entry: ChunkEntry) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One chunk's outcomes, ladder occupancy and alignment occupancy, verified against the
    records the manifest holds for its files.

    Raises:
        RunFolderError: a file is missing, damaged or unreadable (naming it).
    """
    if len(entry.files) != 3:
        raise RunFolderError(f"{folder / MANIFEST}: chunk {entry.index} has no file records")
    out_rec, occ_rec, align_rec = entry.files
    return read_table(folder, out_rec), read_array(folder, occ_rec), read_array(folder, align_rec)


def chart_figures(
    outcomes: pd.DataFrame,
    summary: pd.DataFrame,
    occupancy: np.ndarray,
    alignment_occupancy: np.ndarray,
    scenario: Any,
    seed: int,
    label: str | None = None,
) -> dict[str, Any]:
    """The standard charts of a run, as ``{name: Figure}`` (nothing is written)."""
    from sim.charts import draw_all
    from sim.charts.common import RunInfo
    from sim.report.present import chart_labels

    ok = ok_rows(outcomes)
    info = RunInfo(
        scenario=scenario.name, title=scenario.title, replicates=len(ok), seed=seed, label=label
    )
    return draw_all(
        ok,
        summary,
        occupancy,
        alignment_occupancy,
        [r.name for r in scenario.ladder],
        list(scenario.alignment_track),
        info,
        start_date=scenario.start_date,
        horizon=scenario.horizon_days,
        actor_names=list(scenario.actors),
        labels=chart_labels(scenario, summary["outcome"].astype(str)),
        end_state_labels={e.name: e.label for e in scenario.end_states},
    )


def save_charts(figures: dict[str, Any], folder: Path) -> list[FileRecord]:
    """Save figures as ``folder/charts/<name>.png`` and ``.svg``; closes them afterwards.

    Every figure is closed, also when saving one fails or is interrupted.
    """
    out: list[FileRecord] = []
    try:
        for name, fig in sorted(figures.items()):
            out += save_figure(fig, folder / CHARTS / name, folder)
            close_figure(fig)
    finally:
        for fig in figures.values():
            close_figure(fig)
    return out


def close_figure(fig: Any) -> None:
    """Release a figure (pyplot keeps figures it created alive until closed)."""
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # a figure made without pyplot needs no closing
        pass
