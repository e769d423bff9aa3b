"""The militarized-dispute record as calibration targets: comparison classes and statistics.

The data are the Gibler-Miller-Little MID data, version 2.0 (disputes 1816-1991), one row per
dispute in ``gml-mida-2.0-to1991.csv`` and one per participant in ``gml-midb-2.0-to1991.csv``.
A *comparison class* is a set of disputes the rival dyad (``scenarios/calibration/
rival_dyad.yaml``) is meant to stand for; the *statistics* are computed the same way from the
data and from the model's dispute record (``hostility_level``, ``reciprocated``,
``dispute_days``, ``fatal``), so that one function defines each number on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError

DISPUTES = "gml-mida-2.0-to1991.csv"
PARTICIPANTS = "gml-midb-2.0-to1991.csv"
_NEEDED = {
    DISPUTES: (
        "dispnum3",
        "styear",
        "hostlev",
        "hiact",
        "recip",
        "fatality",
        "maxdur",
        "numa",
        "numb",
    ),
    PARTICIPANTS: ("dispnum", "ccode"),
}

# Correlates of War country codes used by the classes below.
USSR = 365
NATO_MEMBERS = (2, 20, 200, 210, 211, 212, 220, 230, 235, 255, 260, 325, 350, 385, 390, 395, 640)


@dataclass(frozen=True)
class MidData:
    """The two MID tables, read and checked."""

    disputes: pd.DataFrame
    participants: pd.DataFrame
    folder: Path


def read_mid(folder: str | Path) -> MidData:
    """Read the MID tables from ``folder``.

    Raises:
        UserError: a missing file, an unreadable table or a missing column (one line, with the
            path and what was expected).
    """
    root = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name, columns in _NEEDED.items():
        path = root / name
        if not path.is_file():
            raise UserError(f"{path}: MID table not found (expected the GML MID 2.0 file {name})")
        try:
            df = pd.read_csv(path, dtype={"fatality": str}, low_memory=False)
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise UserError(f"{path}: cannot read the MID table: {e}") from None
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise UserError(f"{path}: lacks the column(s) {', '.join(missing)}")
        tables[name] = df
    d = tables[DISPUTES]
    for c in ("styear", "hostlev", "hiact", "recip", "maxdur", "numa", "numb"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    bad = d["hostlev"].isna() | ~d["hostlev"].isin([1, 2, 3, 4, 5])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise UserError(f"{root / DISPUTES}:{row}: hostlev: expected an integer 1-5")
    return MidData(d, tables[PARTICIPANTS], root)


def _with(data: MidData, codes: tuple[int, ...]) -> np.ndarray:
    p = data.participants
    ids = set(p.loc[p["ccode"].isin(codes), "dispnum"].astype(float))
    return data.disputes["dispnum3"].astype(float).isin(ids).to_numpy()


@dataclass(frozen=True)
class ComparisonClass:
    """A set of recorded disputes, described for the reader and selected by a function."""

    name: str
    description: str
    select: Callable[[MidData], np.ndarray]


def _bilateral(d: MidData) -> np.ndarray:
    x = d.disputes
    return ((x["numa"] == 1) & (x["numb"] == 1) & (x["hostlev"] >= 3)).to_numpy()


def _years(lo: int, hi: int) -> Callable[[MidData], np.ndarray]:
    def sel(d: MidData) -> np.ndarray:
        y = d.disputes["styear"]
        return ((y >= lo) & (y <= hi)).to_numpy()

    return sel


def _ussr_nato(d: MidData) -> np.ndarray:
    return (
        _with(d, (USSR,))
        & _with(d, NATO_MEMBERS)
        & (d.disputes["hostlev"] >= 3).to_numpy()
        & _years(1949, 1991)(d)
    )


CLASSES: dict[str, ComparisonClass] = {
    c.name: c
    for c in (
        ComparisonClass(
            "ussr_nato_1949_1991",
            "disputes between the USSR and a NATO member that began 1949-1991 and reached at "
            "least a display of force: a nuclear power and its bloc against the alliance, the "
            "class of the regional scenarios' main antagonists (the fitting class)",
            _ussr_nato,
        ),
        ComparisonClass(
            "bilateral_1946_1991",
            "two-state disputes (one state on each side) that began 1946-1991 and reached at "
            "least a display of force, without the USSR-NATO ones: generic rivals of the same "
            "period (held out: another class)",
            lambda d: _bilateral(d) & _years(1946, 1991)(d) & ~_ussr_nato(d),
        ),
        ComparisonClass(
            "bilateral_1816_1945",
            "two-state disputes that began 1816-1945 and reached at least a display of force "
            "(held out: another period)",
            lambda d: _bilateral(d) & _years(1816, 1945)(d),
        ),
        ComparisonClass(
            "multilateral_1946_1991",
            "disputes with three or more states that began 1946-1991 and reached at least a "
            "display of force, without the USSR-NATO ones (held out: another class)",
            lambda d: (
                ~((d.disputes["numa"] == 1) & (d.disputes["numb"] == 1)).to_numpy()
                & (d.disputes["hostlev"] >= 3).to_numpy()
                & _years(1946, 1991)(d)
                & ~_ussr_nato(d)
            ),
        ),
    )
}
FIT_CLASS = "ussr_nato_1949_1991"
"""The default fitting class (docs/MODEL.md, section 15, says why)."""


def held_out(fit_class: str) -> tuple[str, ...]:
    """Every class but the fitting one: the out-of-sample checks."""
    return tuple(c for c in CLASSES if c != fit_class)


@dataclass(frozen=True)
class Statistic:
    """One target statistic: a share of disputes, defined on the record and on the model."""

    name: str
    label: str
    observed: Callable[[pd.DataFrame], np.ndarray]  # per dispute: 1, 0 or NaN (unknown)
    simulated: Callable[[pd.DataFrame], np.ndarray]  # per replicate: 1 or 0


def _f(x: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _fatal_observed(d: pd.DataFrame) -> np.ndarray:
    band = pd.to_numeric(d["fatality"], errors="coerce").to_numpy(dtype=float)
    return np.where(band >= 0, (band > 0).astype(float), np.nan)


def _days(d: pd.DataFrame) -> np.ndarray:
    # A record's maxdur counts days between first and last date (0: the same day); the
    # model counts the days of the dispute inclusive. -9 and blanks are unknown.
    m = d["maxdur"].to_numpy(dtype=float)
    return np.where(m >= 0, m + 1, np.nan)


def _known(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), np.nan, ok.astype(float))


def _sim_days(o: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(o["dispute_days"], errors="coerce").to_numpy(dtype=float)


def _level(name: str, label: str, level: int) -> Statistic:
    """The share of disputes whose highest hostility level is ``level``."""
    return Statistic(
        name,
        f"highest level: {label} (share)",
        lambda d: _f(d["hostlev"] == level),
        lambda o: _f(o["hostility_level"] == level),
    )


def _lasting(name: str, label: str, holds: Callable[[np.ndarray], np.ndarray]) -> Statistic:
    """The share of disputes whose length in days satisfies ``holds``."""
    return Statistic(
        name,
        f"lasted {label} (share)",
        lambda d: _known(_days(d), holds(_days(d))),
        lambda o: _f(holds(_sim_days(o))),
    )


STATISTICS: tuple[Statistic, ...] = (
    _level("display", "display of force", 3),
    _level("use_of_force", "use of force", 4),
    Statistic(
        "fire",
        "reached an attack, a clash or war (share)",
        # The model's uses of force are exchanges of fire (CoW actions 16 attack, 17 clash) and
        # war; it has no seizure, occupation, blockade or border violation (12-15), which the
        # record counts at hostility 4 too.
        lambda d: _f(d["hiact"] >= 16),
        lambda o: _f(o["hostility_level"] >= 4),
    ),
    _level("war", "war", 5),
    Statistic(
        "reciprocated",
        "reciprocated by the target (share)",
        lambda d: _f(d["recip"] == 1),
        lambda o: _f(o["reciprocated"]),
    ),
    Statistic("fatal", "at least one death (share)", _fatal_observed, lambda o: _f(o["fatal"])),
    _lasting("one_day", "one day", lambda x: x <= 1),
    _lasting("month", "30 days or less", lambda x: x <= 30),
    _lasting("half_year", "180 days or more", lambda x: x >= 180),
)
"""The target statistics, in the order of every statistics vector."""

STAT_NAMES = tuple(s.name for s in STATISTICS)


def observed_statistics(data: MidData, cls: str) -> tuple[dict[str, float], dict[str, int]]:
    """Each statistic of a comparison class and the number of disputes it is known for."""
    if cls not in CLASSES:
        raise UserError(f"unknown comparison class '{cls}'; expected one of: {', '.join(CLASSES)}")
    d = data.disputes[CLASSES[cls].select(data)]
    values: dict[str, float] = {}
    counts: dict[str, int] = {}
    for s in STATISTICS:
        x = s.observed(d)
        known = ~np.isnan(x)
        counts[s.name] = int(known.sum())
        values[s.name] = float(x[known].mean()) if known.any() else float("nan")
    return values, counts


def simulated_statistics(outcomes: pd.DataFrame) -> dict[str, float]:
    """Each statistic over the replicates of one outcomes table."""
    return {s.name: float(np.mean(s.simulated(outcomes))) for s in STATISTICS}


def grouped_statistics(outcomes: pd.DataFrame, by: str) -> np.ndarray:
    """(groups, statistics) each statistic per value of column ``by`` (sorted)."""
    cols = {s.name: s.simulated(outcomes) for s in STATISTICS}
    frame = pd.DataFrame(cols)
    frame[by] = outcomes[by].to_numpy()
    return frame.groupby(by, sort=True)[list(STAT_NAMES)].mean().to_numpy()


def as_vector(stats: Mapping[str, float]) -> np.ndarray:
    """A statistics dict as a vector in :data:`STAT_NAMES` order."""
    return np.array([stats[n] for n in STAT_NAMES], dtype=np.float64)
