"""Fuzzing the command line and scenario files: whatever comes in, no traceback comes out.

Hypothesis generates scenario trees (the resolved base scenario with one or two parts replaced
by hostile values, removed, or its YAML text cut and garbled), results folders whose manifest
was tampered with the same way, and command lines (the run, compare, plot, replay, validate and
show commands with options drawn from hostile values). Each
goes through ``sim.cli.main``, the function the installed ``escalation`` command calls; it may
succeed or refuse with an exit status (0, 1, 2 or argparse's 2), but any other exception - a
traceback for the user - fails the test with the input that caused it.

Bounded in time: each test stops generating new cases after its budget (``FUZZ_SECONDS``,
default 20 s each), so the file takes about a minute in CI. Runs are derandomized (the same
cases every time, from the test source) so a failure reproduces.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
BUDGET = float(os.environ.get("FUZZ_SECONDS", "20"))
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _base_tree() -> dict[str, Any]:
    from sim.scenario.loader import load_scenario

    tree = load_scenario(BASE).model_dump(mode="json", by_alias=True)
    tree["horizon_days"] = 8  # short runs: the fuzz is about inputs, not about the model
    return tree


BASE_TREE = _base_tree()

hostile_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**400 // 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 1e-300, 700.0, 710.0, -745.0, 0.5]),
)
hostile_scalars = st.one_of(
    hostile_numbers,
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["", "nan", "inf", "1e999", "0x10", "${HOME}", "../../etc/passwd", "é" * 3]),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


PATHS = [p for p in _paths(BASE_TREE) if p]


def _set(tree: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    node = tree
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _yaml_safe(value: Any) -> Any:
    # YAML cannot hold NaN keys etc.; floats go through as .nan/.inf, which YAML can.
    if isinstance(value, float) and math.isnan(value):
        return float("nan")
    return value


class Budget:
    """Stop doing work once a test's time budget is spent (Hypothesis then ends quickly)."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.cases = 0

    def spent(self) -> bool:
        return time.monotonic() > self.end


def _call(argv: list[str]) -> int:
    """``sim.cli.main(argv)``: an exit status, or the exception that escaped (a failure)."""
    try:
        return main(argv)
    except SystemExit as e:  # argparse's usage errors: a message and status 2, no traceback
        assert e.code in (0, 2), argv
        return int(e.code or 0)


@pytest.fixture(scope="module")
def budget_tree() -> Budget:
    return Budget(BUDGET)


@pytest.fixture(scope="module")
def budget_cli() -> Budget:
    return Budget(BUDGET)


@pytest.fixture(scope="module")
def done_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "done"
    assert main(["run", str(BASE), "-n", "50", "--workers", "1", "--no-charts", "--quiet",
                 "-o", str(folder)]) == 0  # fmt: skip
    return folder


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), hostile_values, st.booleans()), min_size=1, max_size=2
    ),
    garble=st.one_of(st.none(), st.tuples(st.floats(0, 1), st.text(max_size=5))),
)
def test_scenario_files_never_give_a_traceback(
    edits, garble, tmp_path_factory: pytest.TempPathFactory, budget_tree: Budget, capsys
):
    if budget_tree.spent():
        return
    tree = copy.deepcopy(BASE_TREE)
    for path, value, delete in edits:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(tree, path, _yaml_safe(value), delete)  # fails if an earlier edit removed it
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    if garble is not None:
        at = int(garble[0] * len(text))
        text = text[:at] + garble[1]
    folder = tmp_path_factory.mktemp("s")
    path = folder / "fuzzed.yaml"
    path.write_text(text, encoding="utf-8")
    for argv in (["validate", str(path)], ["show", str(path), "--format", "json"]):
        assert _call(argv) in (0, 2)
    if _call(["validate", str(path)]) == 0 and _runnable(path):
        status = _call(["run", str(path), "-n", "3", "--workers", "1", "--no-charts", "--quiet",
                        "-o", str(folder / "run")])  # fmt: skip
        assert status in (0, 1, 2)
    capsys.readouterr()
    budget_tree.cases += 1


def test_the_scenario_fuzz_ran_enough_cases(budget_tree: Budget):
    assert budget_tree.cases >= 20, budget_tree.cases


def _runnable(path: Path) -> bool:
    """A valid scenario small enough to run in a fuzz case (short horizon, few injects)."""
    from sim.scenario.loader import load_scenario

    s = load_scenario(path)
    return s.horizon_days <= 30


OPTION_VALUES = st.one_of(
    st.sampled_from(["0", "1", "-1", "3", "2.5", "1e3", "", " ", "nan", "inf", "10%", "-0"]),
    st.sampled_from([str(2**63), str(2**64), str(2**64 + 1), str(-(2**63)), "9" * 40]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=12),
)
RUN_OPTIONS = ["-n", "--seed", "--chunk-size", "--workers", "--precision", "--max-replicates",
               "--max-failed", "--set", "--model"]  # fmt: skip
FLAGS = ["--no-charts", "--quiet", "--fail-fast", "--yes"]


@st.composite
def command_lines(draw: st.DrawFn, done: str, tmp: str) -> list[str]:
    command = draw(st.sampled_from(["run", "resume", "compare", "plot", "replay", "validate"]))
    scenario = draw(st.sampled_from([str(BASE), str(ROOT / "nope.yaml"), done, tmp, ""]))
    options: list[str] = []
    for name in draw(st.lists(st.sampled_from(RUN_OPTIONS), max_size=3)):
        value = draw(OPTION_VALUES)
        if name == "--set":
            value = draw(st.sampled_from(["horizon_days", "actors.china.resolve", "x.y"])) + (
                "=" + value
            )
        if name == "--model":
            value = draw(st.sampled_from(["sim.model:run_replicates", "json:dumps", value]))
        options += [name, value]
    options += draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
    out = ["-o", f"{tmp}/{draw(st.integers(0, 10**9))}"]
    if command == "run":
        return ["run", scenario, *options, *out]
    if command == "resume":
        return ["run", "--resume", draw(st.sampled_from([done, tmp, scenario])), *options]
    if command == "compare":
        other = draw(st.sampled_from([str(BASE), done, scenario]))
        return ["compare", scenario, other, *options, *out]
    if command == "plot":
        return ["plot", draw(st.sampled_from([done, tmp, scenario, "/proc", "/dev/null"]))]
    if command == "replay":
        extra = []
        for name in draw(st.lists(st.sampled_from(["--seed", "-k", "--top"]), max_size=3)):
            extra += [name, draw(OPTION_VALUES)]
        return ["replay", scenario, *extra]
    return ["validate", scenario, *options[:2]]


def test_command_lines_never_give_a_traceback(
    tmp_path: Path, done_run: Path, budget_cli: Budget, monkeypatch: pytest.MonkeyPatch, capsys
):
    # Runs that pass the checks must stay small: a tight work limit refuses big ones after
    # the pilot, and nothing lands in the repository's results/ folder.
    monkeypatch.setenv("ESCALATION_MAX_SECONDS", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    before = json.loads((done_run / "manifest.json").read_text())["outputs"]

    @FUZZ
    @given(argv=command_lines(str(done_run), str(tmp_path)))
    def check(argv: list[str]) -> None:
        if budget_cli.spent():
            return
        if "-n" in argv or "--max-replicates" in argv:
            # A valid count that passes the work limit still costs its run: cap it here.
            for i, a in enumerate(argv[:-1]):
                if a in ("-n", "--max-replicates") and a != argv[-1]:
                    try:
                        if int(argv[i + 1].replace("_", "").replace(",", "")) > 2000:
                            argv[i + 1] = "2000"
                    except ValueError:
                        pass
        status = _call(argv)
        assert status in (0, 1, 2, 130), (argv, status)
        capsys.readouterr()
        budget_cli.cases += 1

    check()
    # The finished run the fuzz kept reading and resuming is unchanged.
    assert json.loads((done_run / "manifest.json").read_text())["outputs"] == before
    assert budget_cli.cases > 20


@pytest.fixture(scope="module")
def budget_folder() -> Budget:
    return Budget(BUDGET)


def test_tampered_results_folders_never_give_a_traceback(
    tmp_path: Path, done_run: Path, budget_folder: Budget, capsys
):
    # A results folder is untrusted input: its manifest, edited anywhere, must be refused or
    # used, never crash the reader (plot, load, compare) or a resume.
    m = json.loads((done_run / "manifest.json").read_text())
    paths = [p for p in _paths(m) if p]
    counter = iter(range(10**9))

    @FUZZ
    @given(
        edits=st.lists(
            st.tuples(st.sampled_from(paths), hostile_values, st.booleans()), min_size=1, max_size=2
        ),
        cut=st.one_of(st.none(), st.floats(0, 1)),
    )
    def check(edits, cut) -> None:
        if budget_folder.spent():
            return
        folder = tmp_path / f"f{next(counter)}"
        import shutil

        shutil.copytree(done_run, folder)
        tree = copy.deepcopy(m)
        for path, value, delete in edits:
            with contextlib.suppress(KeyError, IndexError, TypeError):
                _set(tree, path, value, delete)
        try:
            text = json.dumps(tree, allow_nan=True)
        except (TypeError, ValueError):
            return
        if cut is not None:
            text = text[: int(cut * len(text))]
        (folder / "manifest.json").write_text(text)
        # compare reads the folder as plot does (load_run), without the 10-s chart drawing.
        cmp = ["compare", str(folder), str(done_run), "--no-charts", "-o", str(folder / "cmp")]
        for argv in (cmp, ["run", "--resume", str(folder), "--quiet"]):
            assert _call(argv) in (0, 1, 2), argv
        capsys.readouterr()
        shutil.rmtree(folder, ignore_errors=True)
        budget_folder.cases += 1

    check()
    assert budget_folder.cases >= 20, budget_folder.cases
