"""Golden outcomes: each shipped scenario at a fixed seed equals its stored table.

A failure means the model's behaviour changed. If the change is intended, run ``make golden``
and commit the new tables with a note saying why the outcomes moved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import golden  # noqa: E402


@pytest.mark.parametrize("path", golden.shipped(), ids=golden.golden_name)
def test_outcomes_equal_the_stored_golden_table(path):
    stored = golden.GOLDEN / golden.golden_name(path)
    assert stored.exists(), f"no golden table for {path.name}: run make golden"
    want = pd.read_csv(stored, keep_default_na=False, na_values=[""])
    got = golden.table(path)
    got_csv = pd.read_csv(
        __import__("io").StringIO(got.to_csv(index=False)), keep_default_na=False, na_values=[""]
    )
    pd.testing.assert_frame_equal(got_csv, want, check_exact=True)


def test_every_golden_table_belongs_to_a_shipped_scenario():
    names = {golden.golden_name(p) for p in golden.shipped()}
    stale = [p.name for p in golden.GOLDEN.glob("*.csv") if p.name not in names]
    assert not stale, f"golden tables without a scenario: {stale}"
