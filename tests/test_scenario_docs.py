"""docs/scenarios.md is generated from the schema; it must match what the generator makes now."""

from __future__ import annotations

import difflib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

from sim.scenario.schema import FEATURES, FLAGS, Scenario

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "scenarios.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_scenario_docs", REPO / "tools" / "gen_scenario_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scenario_docs_are_up_to_date() -> None:
    expected = _generator().render()
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if committed != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    "docs/scenarios.md (committed)",
                    "docs/scenarios.md (from the schema)",
                )
            )[:60]
        )
        raise AssertionError(
            "docs/scenarios.md is out of date with the schema: run "
            "`python tools/gen_scenario_docs.py` (with the project's virtualenv, e.g. "
            f".venv/bin/python) and commit the result.\n{diff}"
        )


def test_docs_name_every_key_feature_and_flag() -> None:
    """The generated page covers the schema: every top-level key, feature and flag appears."""
    text = DOC.read_text(encoding="utf-8")
    for key in Scenario.model_fields:
        assert f"| `{key}` |" in text
    for name in (*FEATURES, *FLAGS):
        assert f"| `{name}` |" in text
    # Anchors other pages link to (docs/MODEL.md links to scenarios.md#features).
    for heading in ("## Features", "## Flags", "## Distributions", "## Errors"):
        assert re.search(rf"^{re.escape(heading)}$", text, re.M)
