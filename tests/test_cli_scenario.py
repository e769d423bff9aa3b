"""``escalation validate`` and ``escalation show`` through the real console entry point.

The corpus in ``tests/broken/`` holds small broken scenario files; each states in its header
the messages it must produce::

    # args: --set actors.china.resolve=1.4        (optional: extra command-line arguments)
    # expect: 6: actors.china.resolve: must be <= 1.0, got 1.4

An expectation that starts with a digit is ``LINE: key: message`` in the file itself; ``{file}``
stands for the file as passed on the command line; anything else is matched literally (a base
file's name, or ``--set ...``). Inputs that cannot be committed (a file over 1 MiB, binary
bytes, a directory, a missing file) are generated into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sim.cli import build_parser
from sim.cli_scenario import add_set_option, show_command, validate_command
from sim.scenario import load_scenario, load_tree

RunCli = Callable[..., subprocess.CompletedProcess[str]]
REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
BROKEN = REPO / "tests" / "broken"
GENERATED_DIR = "{generated}"
DIRECTORY = "<directory>"
MISSING = "<missing>"


@dataclass(frozen=True)
class Case:
    """One broken input: the file as passed to ``validate``, extra arguments, expected lines."""

    name: str
    file: str
    args: tuple[str, ...]
    expect: tuple[str, ...]

    def expected_lines(self, file: str) -> list[str]:
        """The expectations with ``{file}`` filled in."""
        return [e.replace("{file}", file) for e in self.expect]


def read_case(path: Path) -> Case:
    """A corpus file's header: ``# args:`` and ``# expect:`` comment lines before any YAML."""
    args: list[str] = []
    expect: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# args:"):
            args = shlex.split(line.removeprefix("# args:"))
        elif line.startswith("# expect:"):
            text = line.removeprefix("# expect:").strip()
            expect.append(f"{{file}}:{text}" if text[:1].isdigit() else text)
    return Case(path.stem, path.relative_to(REPO).as_posix(), tuple(args), tuple(expect))


# Inputs written at test time: (content, expected line).
GENERATED: dict[str, tuple[bytes | str, str]] = {
    "huge_file.yaml": (
        b"name: huge\n" + b"# padding to push the file over one MiB\n" * 30_000,
        "{file}: is larger than 1 MiB",
    ),
    "binary_garbage.yaml": (bytes(range(256)) * 8, "{file}: contains NUL bytes"),
    "zero_bytes.yaml": (b"", "{file}: the file is empty (no YAML document in it)"),
    "not_utf8.yaml": ("name: café\n".encode("latin-1"), "{file}:1: is not UTF-8 text (byte 0xe9)"),
    "control_character.yaml": (
        b"name: bell\x07\n",
        "{file}:1: invalid YAML: character #x0007 is not allowed",
    ),
    "a_directory.yaml": (DIRECTORY, "{file}: is a directory, not a scenario file"),
    "does_not_exist.yaml": (MISSING, "{file}: no such file"),
}

CASES = [read_case(p) for p in sorted(BROKEN.glob("*.yaml"))] + [
    Case(Path(name).stem, f"{GENERATED_DIR}/{name}", (), (line,))
    for name, (_, line) in GENERATED.items()
]


def _write_generated(folder: Path) -> None:
    for name, (content, _) in GENERATED.items():
        target = folder / name
        if content == DIRECTORY:
            target.mkdir()
        elif content != MISSING:
            assert isinstance(content, bytes)
            target.write_bytes(content)


@pytest.fixture(scope="session")
def corpus_runs(
    tmp_path_factory: pytest.TempPathFactory, escalation: RunCli
) -> Iterator[tuple[Path, dict[tuple[str, ...], subprocess.CompletedProcess[str]]]]:
    """One ``validate`` run per distinct argument list, over all files sharing it.

    Starting the command costs over a second (imports), and ``validate`` reports every file
    independently ('ok: FILE (title)' or its problems), so the corpus runs in a few batches, in
    parallel; each case then checks its own lines in its batch's output.
    """
    folder = tmp_path_factory.mktemp("generated")
    _write_generated(folder)
    groups: dict[tuple[str, ...], list[str]] = {}
    for case in CASES:
        groups.setdefault(case.args, []).append(case.file.replace(GENERATED_DIR, str(folder)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            args: pool.submit(escalation, "validate", *files, *args)
            for args, files in groups.items()
        }
        yield folder, {args: f.result() for args, f in futures.items()}


def test_corpus_covers_enough_cases() -> None:
    """The corpus is large and every committed case says what it expects."""
    assert len(CASES) >= 30
    for case in CASES:
        assert case.expect, f"{case.file} has no '# expect:' line"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_broken_input_is_reported(
    case: Case, corpus_runs: tuple[Path, dict[tuple[str, ...], subprocess.CompletedProcess[str]]]
) -> None:
    """Exit status 2, no traceback, not reported ok, and every expected line is printed."""
    folder, runs = corpus_runs
    result = runs[case.args]
    file = case.file.replace(GENERATED_DIR, str(folder))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert f"ok: {file} (" not in result.stdout
    mine = "\n".join(ln for ln in result.stderr.splitlines() if file in ln or "--set" in ln)
    for line in case.expected_lines(file):
        assert line in result.stderr, f"expected:\n  {line}\ngot:\n{mine or result.stderr}"


def test_one_broken_file_alone(escalation: RunCli) -> None:
    """The exact output for one bad file: one line on stderr, nothing on stdout, status 2."""
    result = escalation("validate", "tests/broken/out_of_range.yaml")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "tests/broken/out_of_range.yaml:6: actors.china.resolve: must be <= 1.0, got 1.4\n"
    )


def test_validate_reports_ok_and_every_bad_file(escalation: RunCli) -> None:
    """Valid files print 'ok: FILE (title)'; each invalid one prints its problems; status 2."""
    good = [p.relative_to(REPO).as_posix() for p in SCENARIOS]
    bad = ["tests/broken/out_of_range.yaml", "tests/broken/unknown_key.yaml"]
    result = escalation("validate", *good, *bad)
    assert result.returncode == 2
    for path in good:
        assert f"ok: {path} ({load_scenario(REPO / path).title})" in result.stdout
    assert "tests/broken/out_of_range.yaml:6: actors.china.resolve" in result.stderr
    assert "tests/broken/unknown_key.yaml:6: actors.china.resolv: unknown key" in result.stderr
    assert f"2 of {len(good) + 2} files invalid" in result.stderr


def test_validate_all_shipped_scenarios(escalation: RunCli) -> None:
    """Every shipped scenario is valid: status 0 and one ok line each."""
    files = [p.relative_to(REPO).as_posix() for p in SCENARIOS]
    result = escalation("validate", *files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == len(files)


def test_show_yaml_loads_back_equal(escalation: RunCli, tmp_path: Path) -> None:
    """``show`` prints the resolved scenario (defaults filled in), overrides applied."""
    src = "scenarios/staged_provocation.yaml"
    sets = ("--set", "horizon_days=30", "--set", "actors.china.resolve=0.35")
    result = escalation("show", src, *sets)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "shown.yaml"
    out.write_text(result.stdout, encoding="utf-8")
    shown = load_scenario(out)
    assert shown == load_scenario(REPO / src, ["horizon_days=30", "actors.china.resolve=0.35"])
    assert shown.horizon_days == 30
    assert shown.actors["china"].resolve == 0.35


def test_show_json_and_as_written(escalation: RunCli) -> None:
    """``--format json`` is JSON of the same scenario; ``--as-written`` has no defaults added."""
    src = "scenarios/staged_provocation.yaml"
    result = escalation("show", src, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "staged_provocation"
    assert data["start_date"] == load_scenario(REPO / src).start_date.isoformat()
    written = escalation("show", src, "--as-written", "--set", "fog.belief_noise=0.3")
    assert written.returncode == 0, written.stderr
    tree = yaml.safe_load(written.stdout)
    assert tree == load_tree(REPO / src, ["fog.belief_noise=0.3"])
    assert tree["fog"]["belief_noise"] == 0.3
    assert "extends" not in tree


def test_show_invalid_input_exits_2(escalation: RunCli) -> None:
    """``show`` on a broken file: the problem, status 2, no traceback, nothing on stdout."""
    result = escalation("show", "tests/broken/unknown_dist.yaml")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown_dist.yaml:6: actors.china.resolve.dist: unknown distribution" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [["validate"], ["show", "scenarios/base.yaml", "--format", "xml"], ["show"]],
    ids=["validate-no-file", "show-bad-format", "show-no-file"],
)
def test_bad_arguments_exit_2(escalation: RunCli, argv: list[str]) -> None:
    """Bad arguments are argparse's usage error: status 2, no traceback."""
    result = escalation(*argv)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_add_set_option_collects_overrides_in_order() -> None:
    """Other sub-commands get ``--set`` from one helper; values keep their order."""
    parser = argparse.ArgumentParser()
    add_set_option(parser)
    args = parser.parse_args(["--set", "a.b=1", "--set", "c[0]={x: 1}"])
    assert args.overrides == ["a.b=1", "c[0]={x: 1}"]
    assert parser.parse_args([]).overrides == []


def test_commands_are_registered() -> None:
    """``validate`` and ``show`` are wired to their functions in the real parser."""
    parser = build_parser()
    assert parser.parse_args(["validate", "a.yaml", "b.yaml"]).func is validate_command
    show = parser.parse_args(["show", "a.yaml", "--set", "x=1", "--format", "json"])
    assert show.func is show_command
    assert show.overrides == ["x=1"]
    assert show.format == "json"
