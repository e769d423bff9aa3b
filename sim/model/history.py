"""The historical episodes as checks: what happened, as a test on each replicate's outcomes.

Each episode is a scenario under ``scenarios/history/`` and a predicate saying, for one
replicate, whether the simulated world is consistent with the record (docs/MODEL.md,
"History"). The probability the model gives to what happened is the share of replicates for
which the predicate holds (for the five drills of 2011-2018: that share to the fifth power).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Episode:
    """A historical episode: its scenario file, what happened, and how to check a replicate."""

    name: str
    scenario: str  # path relative to the project's scenarios/ folder
    happened: str
    check: Callable[[pd.DataFrame], np.ndarray]
    repeats: int = 1  # independent repetitions of the episode in the record


def _none(*cols: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def check(out: pd.DataFrame) -> np.ndarray:
        ok = np.ones(len(out), dtype=bool)
        for c in cols:
            ok &= ~out[c].to_numpy(dtype=bool)
        return ok

    return check


def _july_2024(out: pd.DataFrame) -> np.ndarray:
    # China stayed at rhetorical support (level 1), where the scenario starts it.
    stayed = out["china_alignment_max"].to_numpy() <= 1
    return _none("armed_incident", "staged_incident")(out) & stayed


def _incursions(out: pd.DataFrame) -> np.ndarray:
    crossed = out["incursions"].to_numpy() >= 1
    return _none("armed_incident", "article4", "article5")(out) & crossed


EPISODES: tuple[Episode, ...] = (
    Episode(
        "drills_2011_2018",
        "history/drills_2011_2018.yaml",
        "five joint drills, none with an armed or staged incident",
        _none("armed_incident", "staged_incident"),
        repeats=5,
    ),
    Episode(
        "border_crisis_2021",
        "history/border_crisis_2021.yaml",
        "four months of hybrid pressure: no exchange of fire between state forces, Article 4 "
        "not requested, rail transit not blocked",
        _none("armed_incident", "article4", "blockade"),
    ),
    Episode(
        "belarus_ukraine_2022_2024",
        "history/belarus_ukraine_2022_2024.yaml",
        "about 1,000 days of forces facing each other without an exchange of fire",
        _none("armed_incident"),
    ),
    Episode(
        "incursions_2022_2024",
        "history/incursions_2022_2024.yaml",
        "missiles crossed into Poland (one killed two people at Przewodow): protests and "
        "summoned diplomats, Article 4 not requested, no exchange of fire",
        _incursions,
    ),
    Episode(
        "july_2024_drills",
        "history/july_2024_drills.yaml",
        "drills ended on schedule, no staged provocation, no shots, China's line unmoved",
        _july_2024,
    ),
)
"""The episodes of DOMAIN.md that the model must make plausible."""

PLAUSIBLE = 0.50
"""What happened is a plausible outcome when the model gives it at least this probability."""


def probability_of_record(episode: Episode, outcomes: pd.DataFrame) -> float:
    """The probability the model gives to what happened (per-episode share ** repeats)."""
    share = float(episode.check(outcomes).mean())
    return share**episode.repeats
