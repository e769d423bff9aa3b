"""Charts of a calibration and of a backtest: prior against posterior, observed against simulated,
the probability of what happened. Each carries the scenario, the replicate count and the seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.abc import Posterior
from sim.charts.common import RunInfo, new_figure, stamp_run_info
from sim.model.history import PLAUSIBLE


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=110)


def posterior_chart(post: Posterior, path: Path, info: dict[str, Any]) -> None:
    """One panel per fitted parameter: the uniform prior and the weighted posterior."""
    d = len(post.priors)
    cols = 3
    rows = (d + cols - 1) // cols
    fig = new_figure(4.0 * cols, 2.8 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for j, p in enumerate(post.priors):
        ax = axes[j]
        # Drawn in the prior's own coordinates, where the prior is flat.
        lo, hi = float(p.inner(np.array(p.low))), float(p.inner(np.array(p.high)))
        ax.hist(
            p.inner(post.theta[:, j]),
            bins=np.linspace(lo, hi, 31),
            weights=post.weights,
            density=True,
            color="tab:blue",
            alpha=0.7,
            label="posterior",
        )
        ax.hlines(1.0 / (hi - lo), lo, hi, color="0.3", ls="--", label=f"prior: {p.label}")
        ax.set_title(p.path, fontsize=9)
        ax.set_xlabel("log10(value)" if p.log else "value (parameter units)")
        ax.set_ylabel("density (per unit)")
        ax.legend(fontsize=7)
    for ax in axes[d:]:
        ax.set_visible(False)
    s = info["settings"]
    fig.suptitle(
        f"Shared ladder dynamics: prior and ABC-SMC posterior ({s['particles']} particles, "
        f"{len(post.generations)} generations)"
    )
    stamp_run_info(
        fig,
        RunInfo(
            "rival_dyad",
            f"fitted to {info['fit_class'] or 'a synthetic target'}",
            s["replicates"],
            int(info["seed"]),
            label=f"{s['replicates']} disputes per particle",
        ),
    )
    _save(fig, path)


def checks_chart(checks: pd.DataFrame, path: Path, info: dict[str, Any]) -> None:
    """Per comparison class: each statistic observed (dot) against the 90% predictive interval."""
    classes = list(dict.fromkeys(checks["class"]))
    fig = new_figure(4.2 * len(classes), 4.4)
    axes = fig.subplots(1, len(classes), squeeze=False, sharey=True).ravel()
    for ax, c in zip(axes, classes, strict=True):
        df = checks[checks["class"] == c].reset_index(drop=True)
        y = np.arange(len(df))[::-1]
        ax.hlines(y, df["predicted_5"], df["predicted_95"], color="tab:blue", lw=5, alpha=0.5)
        ax.plot(df["predicted_median"], y, "|", color="tab:blue", ms=12, label="model (90%)")
        colours = np.where(df["inside_90"], "black", "tab:red")
        ax.scatter(df["observed"], y, color=colours, zorder=3, label="observed")
        ax.set_yticks(y, df["statistic"])
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of disputes")
        role = df["role"].iloc[0]
        ax.set_title(f"{c}\n({role}, {int(df['disputes'].max())} disputes)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("MID statistics: observed against the calibrated rival dyad (red: outside 90%)")
    stamp_run_info(
        fig,
        RunInfo(
            "rival_dyad",
            "posterior predictive check",
            int(info.get("check_replicates", 200)) * int(info.get("draws", 200)),
            int(info["seed"]),
            label=f"{info.get('draws', 200)} posterior rows",
        ),
    )
    _save(fig, path)


def episodes_chart(episodes: pd.DataFrame, path: Path, replicates: int, seed: int) -> None:
    """The probability the model gives to what happened in each regional episode."""
    fig = new_figure(8.0, 1.2 + 0.7 * len(episodes))
    ax = fig.subplots()
    y = np.arange(len(episodes))[::-1]
    p = episodes["probability"].to_numpy()
    err = np.vstack([p - episodes["probability_5"], episodes["probability_95"] - p])
    ax.barh(y, p, color="tab:green", alpha=0.7, label="calibrated")
    ax.errorbar(p, y, xerr=err, fmt="none", color="black", capsize=3)
    if "uncalibrated" in episodes:
        ax.scatter(episodes["uncalibrated"], y, marker="D", color="0.3", zorder=3,
                   label="uncalibrated dynamics")  # fmt: skip
    ax.axvline(PLAUSIBLE, color="tab:red", ls=":", label=f"plausible ({PLAUSIBLE:.0%})")
    ax.set_yticks(y, episodes["episode"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability of what happened (share of replicates, 90% interval)")
    # Below the axes: the bars reach 1.0, where a legend inside would cover them.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    fig.suptitle("Backtest: what actually happened, as the model sees it")
    stamp_run_info(
        fig, RunInfo("history/*", "regional episodes", replicates, seed, label="per episode")
    )
    _save(fig, path)
