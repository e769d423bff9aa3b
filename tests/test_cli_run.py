"""``escalation run / compare / plot`` through the real console script, in subprocesses.

These tests start the installed ``escalation`` command, kill it, resume it and compare folders
file by file, so they also check what no in-process test can: that separate processes write
the same bytes, and that a killed run leaves no stray worker processes behind.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

from sim.runner.manifest import RUN_SPECIFIC_FIELDS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
STAGED = ROOT / "scenarios" / "staged_provocation.yaml"
ESCALATION = shutil.which("escalation", path=str(Path(sys.executable).parent)) or shutil.which(
    "escalation"
)


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    # tests/ on the path, so that --model can name the failing replicate functions there.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    return env


def cli(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``escalation ARGS`` to completion."""
    assert ESCALATION, "the escalation console script is not installed in this environment"
    return subprocess.run(
        [ESCALATION, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=ROOT,
    )


def start(*args: object) -> subprocess.Popen[str]:
    """Start ``escalation ARGS`` without waiting."""
    return subprocess.Popen(
        [ESCALATION, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"run ended before {path.name} appeared: {proc.stderr.read()}"
        assert time.monotonic() < end, f"{path} did not appear"
        time.sleep(0.005)


def wait_for_done_chunk(folder: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """Wait until the manifest records a finished chunk (written after the chunk's files)."""
    end = time.monotonic() + timeout
    while True:
        try:
            m = json.loads((folder / "manifest.json").read_text())
            if any(c["status"] == "done" for c in m["chunks"]):
                return
        except (OSError, ValueError):
            pass  # not written yet (it is replaced atomically, so never half-written)
        assert proc.poll() is None, f"run ended before a chunk was done: {proc.stderr.read()}"
        assert time.monotonic() < end, "no chunk finished in time"
        time.sleep(0.005)


def files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> bytes), manifest excluded."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def stable_manifest(folder: Path) -> dict:
    m = json.loads((folder / "manifest.json").read_text())
    return {k: v for k, v in m.items() if k not in RUN_SPECIFIC_FIELDS}


def one_line_error(proc: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ----------------------------------------------------------------------------- run and plot


def test_run_prints_summary_writes_folder_and_plot_redraws(tmp_path):
    out = tmp_path / "run"
    proc = cli("run", STAGED, "-n", 600, "--chunk-size", 200, "--workers", 1, "--seed", 4,
               "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "600 replicates, seed 4" in text
    assert "95% interval" in text and "%" in text
    # Labelled for a reader: the declared outcomes lead under their descriptions, no row shows
    # an identifier.
    from sim.scenario.loader import load_scenario

    body = text.split("\n\n", 1)[1]
    assert body.startswith("Headline outcomes")
    for d in load_scenario(STAGED).outcomes.declared.values():
        assert d.description[1:20] in body, d.description
    assert "An incident was staged" in body and "staged_incident" not in body
    assert "=" not in body and "mean:" not in body and "nan" not in body
    assert "explorations of the scenario's stated assumptions, not forecasts" in text
    assert text.strip().endswith(f"results: {out}")
    assert proc.stderr == ""  # not a TTY: no progress bar
    for name in ("manifest.json", "outcomes.parquet", "ladder_occupancy.parquet",
                 "alignment_occupancy.parquet", "summary.csv", "chunks/chunk-000002.parquet",
                 "chunks/occupancy-000002.npy"):  # fmt: skip
        assert (out / name).is_file(), name
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert charts and {Path(c).suffix for c in charts} == {".png", ".svg"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"][:2] == ["escalation", "run"]
    assert [c["status"] for c in manifest["chunks"]] == ["done"] * 3
    assert manifest["replicates"] == 600 and manifest["spec"]["seed"] == 4
    assert manifest["spec"]["scenario"]["name"] == "staged_provocation"
    assert manifest["status"] == "complete" and manifest["charts"]["status"] == "drawn"
    assert manifest["versions"]["numpy"] and manifest["code_version"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["outcome", "estimate", "ci_low", "ci_high", "n", "kind"]

    # plot redraws exactly the same charts from the saved files (in another process).
    before = {n: (out / "charts" / n).read_bytes() for n in charts}
    shutil.rmtree(out / "charts")
    proc = cli("plot", out)
    assert proc.returncode == 0, proc.stderr
    assert {n: (out / "charts" / n).read_bytes() for n in charts} == before


def test_killed_run_resumes_to_exactly_the_uninterrupted_result(tmp_path):
    args = [STAGED, "-n", 9000, "--chunk-size", 300, "--seed", 11]
    killed = tmp_path / "killed"
    proc = start("run", *args, "--workers", 2, "-o", killed)
    wait_for_done_chunk(killed, proc)
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["status"] == "running", "the run finished before it could be killed"
    done = [c for c in manifest["chunks"] if c["status"] == "done"]
    assert 1 <= len(done) < 30
    # The pool's workers notice that their parent is gone and leave.
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, alive

    resumed = cli("run", "--resume", killed, "--workers", 1)
    assert resumed.returncode == 0, resumed.stderr
    assert f"results: {killed}" in resumed.stdout
    whole = tmp_path / "whole"
    proc = cli("run", *args, "--workers", 2, "-o", whole)
    assert proc.returncode == 0, proc.stderr

    a, b = files(killed), files(whole)
    assert sorted(a) == sorted(b)
    assert any(name.startswith("charts/") for name in a)
    for name in a:
        assert a[name] == b[name], name
    ma, mb = stable_manifest(killed), stable_manifest(whole)
    assert ma == mb
    full = json.loads((killed / "manifest.json").read_text())
    assert len(full["resumed"]) == 1 and full["status"] == "complete"


def test_sigterm_stops_cleanly_and_resume_finishes(tmp_path):
    out = tmp_path / "run"
    proc = start("run", STAGED, "-n", 9000, "--chunk-size", 300, "--workers", 1, "--no-charts",
                 "-o", out)  # fmt: skip
    wait_for(out / "chunks" / "chunk-000001.parquet", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"escalation run --resume {out}" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    # A second run into the same folder without --resume is refused, in one line.
    again = cli("run", STAGED, "-n", 9000, "-o", out)
    assert "not empty" in one_line_error(again) and "--resume" in again.stderr
    done = cli("run", "--resume", out)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 9000


def test_progress_bar_on_a_terminal_and_quiet(tmp_path):
    primary, secondary = pty.openpty()
    argv = ["run", BASE, "-n", 2000, "--chunk-size", 250, "--workers", 1, "--no-charts",
            "-o", tmp_path / "tty"]  # fmt: skip
    proc = subprocess.Popen(
        [ESCALATION, *map(str, argv)],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env=_env(),
        cwd=ROOT,
    )
    os.close(secondary)
    seen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    proc.wait(timeout=60)
    os.close(primary)
    assert proc.returncode == 0
    text = seen.decode(errors="replace")
    assert "rep/s" in text and "2.00k" in text, text
    quiet = cli("run", BASE, "-n", 500, "--workers", 1, "--no-charts", "--quiet",
                "-o", tmp_path / "quiet")  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""


# ----------------------------------------------------------------------------- failures


def test_fail_fast_exits_1_naming_the_replicate(tmp_path):
    args = [BASE, "-n", 300, "--chunk-size", 100, "--workers", 1, "--no-charts",
            "--model", "test_runner:fails_on_some"]  # fmt: skip
    proc = cli("run", *args, "--fail-fast", "-o", tmp_path / "ff")
    line = one_line_error(proc, status=1)
    assert "replicate 13 failed: FloatingPointError: utility overflow in replicate 13" in line
    proc = cli("run", *args, "-o", tmp_path / "rec")
    assert proc.returncode == 0, proc.stderr
    assert "3 replicates failed" in proc.stdout
    assert "chunk 1: 2 replicate(s) failed (first: replicate 110" in proc.stderr
    out = pd.read_parquet(tmp_path / "rec" / "outcomes.parquet")
    assert sorted(out.loc[out["error"] != "", "replicate"]) == [13, 110, 111]


# ----------------------------------------------------------------------------- precision


def test_precision_target_met_and_max_replicates(tmp_path):
    proc = cli("run", STAGED, "--precision", 0.03, "--chunk-size", 250, "--max-replicates",
               5000, "--no-charts", "-o", tmp_path / "p")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "precision target met" in proc.stdout
    s = pd.read_csv(tmp_path / "p" / "summary.csv")
    p = s[s["kind"] == "probability"]
    assert ((p["ci_high"] - p["ci_low"]) / 2).max() <= 0.03
    n = json.loads((tmp_path / "p" / "manifest.json").read_text())["replicates"]
    assert f"at {n:,} replicates" in proc.stdout and n < 5000

    proc = cli("run", STAGED, "--precision", 0.001, "--chunk-size", 250, "--max-replicates",
               500, "--no-charts", "-o", tmp_path / "m")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "max replicates reached (500)" in proc.stdout


# ----------------------------------------------------------------------------- compare


def test_compare_scenarios_then_folders(tmp_path):
    c = tmp_path / "cmp"
    proc = cli("compare", BASELINE, STAGED, "-n", 600, "--seed", 3, "--chunk-size", 300,
               "--workers", 1, "--no-charts", "-o", c)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "A: baseline" in text and "B: staged_provocation" in text
    assert "600 paired replicates, seed 3" in text and "B - A" in text and "pp" in text
    assert "not forecasts" in text
    table = pd.read_csv(c / "comparison.csv")
    assert {"outcome", "estimate_a", "estimate_b", "difference", "ci_low", "ci_high"} <= set(
        table.columns
    )
    staged = table.set_index("outcome").loc["staged_incident"]
    # Calibrated, the staging happens in about half the worlds (fire often comes first).
    assert staged.difference > 0.3 and staged.ci_low > 0.25
    for side in ("a", "b"):
        assert (c / side / "outcomes.parquet").is_file()

    # The same comparison from the two run folders, with its chart this time.
    d = tmp_path / "again"
    proc = cli("compare", c / "a", c / "b", "-o", d)
    assert proc.returncode == 0, proc.stderr
    assert (d / "comparison.csv").read_bytes() == (c / "comparison.csv").read_bytes()
    png = (d / "charts" / "comparison.png").read_bytes()
    assert (d / "charts" / "comparison.svg").is_file()
    (d / "charts" / "comparison.png").unlink()
    assert cli("plot", d).returncode == 0
    assert (d / "charts" / "comparison.png").read_bytes() == png

    # Runs on different seeds cannot be paired: refused in one line.
    other = tmp_path / "other"
    assert cli("run", STAGED, "-n", 600, "--seed", 4, "--workers", 1, "--no-charts",
               "-o", other).returncode == 0  # fmt: skip
    line = one_line_error(cli("compare", c / "a", other, "-o", tmp_path / "x"))
    assert "cannot pair the runs: seeds differ (A 3, B 4)" in line


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    good = tmp_path / "good"
    assert cli("run", BASE, "-n", 20, "--workers", 1, "--no-charts", "-o", good).returncode == 0
    corrupt = tmp_path / "corrupt"
    shutil.copytree(good, corrupt)
    (corrupt / "manifest.json").write_text('{"format": "escalation-sim/run/2", "spec": 3}')
    old = tmp_path / "old"
    shutil.copytree(good, old)
    (old / "manifest.json").write_text('{"format": "escalation-sim/run/1", "seed": 3}')
    notrun = tmp_path / "empty"
    notrun.mkdir()
    cases = {
        "missing scenario": (["run", tmp_path / "nope.yaml"], "no such scenario file"),
        "missing resume": (["run", "--resume", tmp_path / "nope"], "no such folder"),
        "not a run": (["run", "--resume", notrun], "not a run folder"),
        "corrupt": (["run", "--resume", corrupt], "corrupt manifest"),
        "old format": (["run", "--resume", old], "made by another version"),
        "n zero": (["run", BASE, "-n", 0], "-n must be >= 1, got 0"),
        "n text": (["run", BASE, "-n", "many"], "-n must be a whole number, got 'many'"),
        "seed": (["run", BASE, "--seed", -1], "--seed must be >= 0, got -1"),
        "workers": (["run", BASE, "--workers", 0], "--workers must be >= 1, got 0"),
        "chunk": (["run", BASE, "--chunk-size", 0], "--chunk-size must be >= 1"),
        "precision": (["run", BASE, "--precision", 2], "precision must be between 0 and 0.5"),
        "resume+n": (["run", "--resume", good, "-n", 5], "drop -n"),
        "no scenario": (["run"], "give a scenario file"),
        "bad set": (["run", BASE, "--set", "horizon_days=-4"], "horizon_days"),
        "plot missing": (["plot", tmp_path / "nope"], "no such folder"),
        "plot not run": (["plot", notrun], "not a run folder"),
        "compare missing": (["compare", BASE, tmp_path / "x.yaml"], "no such scenario file"),
        "compare mixed": (["compare", good, BASE], "two scenario files or two run folders"),
    }
    procs = {k: start(*argv) for k, (argv, _) in cases.items()}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        line = one_line_error(done)
        assert cases[key][1] in line, (key, line)
