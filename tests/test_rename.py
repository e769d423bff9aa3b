"""Nothing in the code depends on an actor's name.

Every actor of every shipped scenario is renamed by plain text substitution over a copy of
``scenarios/``; each scenario then gives the same outcome values as the original, in columns
and values renamed the same way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model import run_replicates
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("belarus", "russia", "china", "ukraine", "poland", "nato", "lithuania")
NAMES += ("ardenia", "borduria")
NEW = {name: f"actor_{chr(ord('q') + i)}{i}" for i, name in enumerate(NAMES)}
PATTERN = re.compile("|".join(sorted(NAMES, key=len, reverse=True)))
CASES = ("baseline.yaml", "combined.yaml", "suwalki.yaml", "calibration/rival_dyad.yaml")


def rename(text: str) -> str:
    """Every actor name in a text replaced by its new name."""
    return PATTERN.sub(lambda m: NEW[m.group(0)], text)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("renamed") / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    for path in folder.rglob("*.yaml"):
        path.write_text(rename(path.read_text("utf-8")), "utf-8")
    return folder


@pytest.mark.parametrize("case", CASES)
def test_renamed_actors_give_the_same_outcomes(renamed, case):
    ids = np.arange(150)
    want = run_replicates(load_scenario(ROOT / "scenarios" / case), 11, ids).outcomes
    got = run_replicates(load_scenario(renamed / case), 11, ids).outcomes
    assert set(load_scenario(renamed / case).actors) <= set(NEW.values())
    expected = want.rename(columns=rename)
    for col in expected.columns:
        if not pd.api.types.is_numeric_dtype(expected[col]):
            expected[col] = expected[col].map(lambda v: rename(v) if isinstance(v, str) else v)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
