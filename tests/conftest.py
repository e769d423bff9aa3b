"""Shared test helpers: where the repository is, and how to run the real ``escalation`` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
"""The repository root (scenario paths in tests are relative to it)."""


def escalation_command() -> list[str]:
    """The installed console script beside this Python, else ``python -m sim.cli``."""
    beside = Path(sys.executable).parent / "escalation"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("escalation")
    return [found] if found else [sys.executable, "-m", "sim.cli"]


RunCli = Callable[..., subprocess.CompletedProcess[str]]


def run_escalation(
    *args: str, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``escalation ARGS...`` in a subprocess from ``cwd`` and capture its output."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [*escalation_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="session")
def escalation() -> RunCli:
    """``escalation(*args, cwd=REPO)`` -> CompletedProcess, through the real entry point."""
    return run_escalation
