"""Hostile results folders through the real ``escalation`` command (issue 21).

A results folder is untrusted input: it may come from someone else, be edited by hand, be cut
short, or have links planted in it. Each case below plants one such thing in a copy of a real
folder and runs the installed console script on it, as a user would. What must hold, every
time: either the right answer or a one-line error with a non-zero exit status, no traceback;
no file outside the folder changed or created; and nothing of a secret file outside the folder
in anything the command printed or wrote.

Beside ``tests/test_fuzz.py`` (hostile scenarios and manifests in-process), this file is the
hostile-folder fuzz: links, swapped and edited records, truncated files. It makes one small run
(20 replicates) and one comparison of two copies of it, then only copies and edits them, so it
stays within about a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, escalation_command

SCENARIO = REPO / "scenarios" / "staged_provocation.yaml"
MARKER = "TOP-SECRET-c0ffee-MARKER"


def cli(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``escalation ARGS`` through the installed console script."""
    return subprocess.run(
        [*escalation_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "MPLBACKEND": "Agg"},
        check=False,
    )


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    """The single line of a refusal: non-zero exit, no traceback, one line on stderr."""
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``folder`` (links not followed): content and modification time."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(folder))] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished run folder and a comparison folder, made once by the real command."""
    base = tmp_path_factory.mktemp("made")
    run = base / "run"
    p = cli("run", SCENARIO, "-n", 20, "--chunk-size", 10, "--workers", 1, "--seed", 3,
            "--no-charts", "--quiet", "-o", run)  # fmt: skip
    assert p.returncode == 0, p.stderr
    twin = base / "twin"
    shutil.copytree(run, twin)
    cmp = base / "cmp"
    p = cli("compare", run, twin, "-o", cmp)
    assert p.returncode == 0, p.stderr
    return {"run": run, "cmp": cmp}


class Scene:
    """A sandbox: a copy of a made folder, and an outside folder holding a secret file."""

    def __init__(self, root: Path, made: dict[str, Path], kind: str = "run"):
        self.outside = root / "outside"
        self.outside.mkdir(parents=True)
        self.secret = self.outside / "secret.txt"
        self.secret.write_text(f"{MARKER}\nroot:x:0:0:root:/root:/bin/bash\n")
        self.folder = root / kind
        shutil.copytree(made[kind], self.folder, symlinks=True)
        self._before: dict[str, tuple[bytes, int]] = {}

    def freeze(self) -> None:
        """Remember the outside folder, to check later that nothing there changed."""
        self._before = snapshot(self.outside)

    def manifest(self, edit: object) -> None:
        """Edit ``manifest.json`` in place with ``edit(dict)``."""
        path = self.folder / "manifest.json"
        m = json.loads(path.read_text())
        edit(m)  # type: ignore[operator]
        path.write_text(json.dumps(m))

    def check(self, p: subprocess.CompletedProcess[str]) -> None:
        """Nothing outside changed; the secret is in no output and no file of the folder."""
        assert snapshot(self.outside) == self._before, "a file outside the folder changed"
        assert MARKER not in p.stdout + p.stderr
        encoded = __import__("base64").b64encode(self.secret.read_bytes()).decode()
        for rel, (data, _) in snapshot(self.folder).items():
            text = data.decode("utf-8", "replace")
            assert MARKER not in text and encoded[:40] not in text, rel


@pytest.fixture()
def scene(tmp_path: Path, made: dict[str, Path]) -> Iterator[Scene]:
    yield Scene(tmp_path, made)


# ----------------------------------------------------------------------------- links


def test_a_lock_linked_to_another_file_is_refused_and_the_file_untouched(scene: Scene) -> None:
    (scene.folder / ".lock").symlink_to(scene.secret)
    scene.freeze()
    for args in (("plot", scene.folder), ("run", "--resume", scene.folder, "--workers", 1)):
        p = cli(*args)
        line = one_line_error(p)
        assert ".lock" in line and "symbolic link" in line, line
        scene.check(p)
    assert (scene.folder / ".lock").is_symlink()  # refused, not removed either


def test_chunks_linked_outside_are_never_written_or_cleaned(scene: Scene) -> None:
    chunks = scene.folder / "chunks"
    shutil.copytree(chunks, scene.outside, dirs_exist_ok=True)
    shutil.rmtree(chunks)
    chunks.symlink_to(scene.outside)
    (scene.outside / "chunk-000003.parquet").write_bytes(b"an unrelated file")
    (scene.outside / ".chunk-000009.parquet.tmp-1").write_bytes(b"looks temporary")

    def pending(m: dict) -> None:
        m["status"] = "interrupted"
        m["outputs"] = []
        m["chunks"][1].update(status="pending", files=[], failed=None)

    scene.manifest(pending)
    scene.freeze()
    p = cli("run", "--resume", scene.folder, "--workers", 1, "--quiet")
    assert "chunks" in one_line_error(p)
    scene.check(p)


def test_charts_and_records_pointing_at_a_secret_never_reach_a_report(
    tmp_path: Path, made: dict[str, Path]
) -> None:
    # A comparison's chart linked to the secret: the report draws the chart from the verified
    # table and never opens the link.
    s = Scene(tmp_path / "c", made, "cmp")
    png = s.folder / "charts" / "comparison.png"
    png.unlink()
    png.symlink_to(s.secret)
    s.freeze()
    p = cli("report", s.folder, "--no-pdf")
    assert p.returncode == 0, p.stderr
    assert "data:image/png;base64," in (s.folder / "report.html").read_text()
    s.check(p)

    # A manifest whose spec.source names the secret: the tags are not read from it.
    r = Scene(tmp_path / "r", made)
    r.manifest(lambda m: m["spec"].update(source=str(r.secret)))
    r.freeze()
    p = cli("report", r.folder, "--no-pdf")
    assert p.returncode == 0, p.stderr
    assert "does not hold this scenario" in (r.folder / "report.html").read_text()
    r.check(p)

    # A chunk's record naming a file outside (with that file's true size and checksum): the
    # path is refused before anything is opened, the chunk counts as damaged and is computed
    # again - the right answer, and nothing of the secret in it.
    o = Scene(tmp_path / "o", made)
    data = o.secret.read_bytes()

    def outside(m: dict) -> None:
        m["status"] = "interrupted"
        m["outputs"] = []
        m["chunks"][0]["files"][0].update(
            path="../outside/secret.txt", bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(), rows=None,
        )  # fmt: skip

    o.manifest(outside)
    o.freeze()
    p = cli("run", "--resume", o.folder, "--workers", 1, "--quiet")
    assert p.returncode == 0, p.stderr
    m = json.loads((o.folder / "manifest.json").read_text())
    assert m["chunks"][0]["files"][0]["path"] == "chunks/chunk-000000.parquet"
    o.check(p)


def test_a_backtest_chart_linked_to_a_secret_is_refused(tmp_path: Path) -> None:
    from sim.report import BACKTEST_FILES

    folder = tmp_path / "bt"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(MARKER)
    files = {}
    for name in BACKTEST_FILES:
        if name == "posterior.png":
            (folder / name).symlink_to(secret)
            data = secret.read_bytes()  # even a record that matches the secret does not help
        else:
            data = b"{}" if name.endswith(".json") else b"\x89PNG\r\n\x1a\n"
            (folder / name).write_bytes(data)
        files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "files.json").write_text(
        json.dumps({"format": "escalation-sim/files/1", "files": files})
    )
    before = snapshot(outside)
    p = cli("report", folder, "--no-pdf")
    line = one_line_error(p)
    assert "posterior.png" in line and "symbolic link" in line, line
    assert MARKER not in p.stdout + p.stderr and snapshot(outside) == before
    assert not (folder / "report.html").exists()


# ----------------------------------------------------------------------------- edited records


def test_a_scenario_edited_under_its_kept_hash_is_refused_by_every_reader(scene: Scene) -> None:
    def edit(m: dict) -> None:
        m["spec"]["scenario"]["title"] = "Edited title"
        m["spec"]["scenario"]["horizon_days"] = 30

    scene.manifest(edit)
    scene.freeze()
    twin = scene.folder.parent / "twin"
    shutil.copytree(scene.folder, twin)
    for args in (
        ("report", scene.folder, "--no-pdf"),
        ("plot", scene.folder),
        ("discover", scene.folder, "--outcome", "armed_incident", "--no-charts"),
        ("compare", scene.folder, twin, "-o", scene.folder.parent / "cmp"),
        ("run", "--resume", scene.folder, "--workers", 1),
    ):
        p = cli(*args)
        line = one_line_error(p)
        assert "manifest.json" in line and "scenario_sha256" in line, (args, line)
        scene.check(p)
    assert not (scene.folder.parent / "cmp").exists()


def test_a_comparison_without_its_records_and_with_edited_numbers_is_refused(
    tmp_path: Path, made: dict[str, Path]
) -> None:
    s = Scene(tmp_path, made, "cmp")
    info_path = s.folder / "comparison.json"
    info = json.loads(info_path.read_text())
    del info["files"]
    info_path.write_text(json.dumps(info))
    table = pd.read_csv(s.folder / "comparison.csv")
    table["estimate_b"] = 0.999
    table.to_csv(s.folder / "comparison.csv", index=False)
    s.freeze()
    for args in (("report", s.folder, "--no-pdf"), ("plot", s.folder)):
        p = cli(*args)
        assert "no record of comparison.csv" in one_line_error(p)
        s.check(p)
    # With its record kept, the edited table no longer matches it.
    s2 = Scene(tmp_path / "kept", made, "cmp")
    table.to_csv(s2.folder / "comparison.csv", index=False)
    p = cli("report", s2.folder, "--no-pdf")
    assert "comparison.csv: damaged or replaced" in one_line_error(p)


# ----------------------------------------------------------------------------- damaged files


def test_truncated_and_deeply_nested_records_are_one_line_errors(scene: Scene) -> None:
    out = scene.folder / "outcomes.parquet"
    out.write_bytes(out.read_bytes()[:1000])
    p = cli("discover", scene.folder, "--outcome", "armed_incident", "--no-charts")
    assert "outcomes.parquet: damaged or replaced" in one_line_error(p)

    manifest = scene.folder / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:5000])
    p = cli("report", scene.folder, "--no-pdf")
    assert "manifest.json" in one_line_error(p)

    manifest.write_text("[" * 100_000 + "]" * 100_000)
    p = cli("plot", scene.folder)
    assert "nested" in one_line_error(p)

    log = scene.outside / "game.json"
    log.write_text('{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for args in (("replay", "--log", log), ("play", "--replay", log)):
        assert "nested" in one_line_error(cli(*args))


def test_a_game_log_with_a_seed_past_64_bits_is_refused(tmp_path: Path) -> None:
    from sim.play.game import new_game

    log = tmp_path / "game.json"
    new_game(SCENARIO, ("poland",), 5).save(log)
    for seed in (2**64, 2**70):
        d = json.loads(log.read_text())
        d["seed"] = seed
        bad = tmp_path / f"seed{seed}.json"
        bad.write_text(json.dumps(d))
        line = one_line_error(cli("replay", "--log", bad))
        assert "seed" in line and str(seed) in line, line


def test_compare_into_a_file_is_one_line(made: dict[str, Path]) -> None:
    line = one_line_error(cli("compare", made["run"], made["run"], "-o", "/dev/null"))
    assert "/dev/null: exists and is not a folder" in line


def test_escape_codes_in_a_title_reach_the_terminal_escaped(tmp_path: Path) -> None:
    scenario = tmp_path / "ansi.yaml"
    scenario.write_text(f'extends: {SCENARIO}\ntitle: "\\e[31mRED\\e[0m title"\n')
    p = cli("validate", scenario)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout + p.stderr and "\\x1b[31mRED" in p.stdout
