"""Faults and hostile inputs, through the real ``escalation`` command (issue 13).

Every case here ends in one line on stderr naming the file or option and what to do, with the
exit status the CLI promises (2 bad input or unusable path, 1 failed replicates, 130
interrupted) - never a traceback, never a silent wrong answer. Read-only folders and a full disk
are real: a small tmpfs mounted for the test when this runs as root and may mount, else the
file-size limit (RLIMIT_FSIZE) and permissions stand in for them.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
ESCALATION = str(Path(sys.executable).parent / "escalation")
MAX = "9,223,372,036,854,775,807"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def cli(*args: object, env: dict[str, str] | None = None, preexec=None, timeout: float = 300):
    """``escalation ARGS`` to completion."""
    return subprocess.run(
        [ESCALATION, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or _env(),
        cwd=ROOT,
        preexec_fn=preexec,
        check=False,
    )


def start(*args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ESCALATION, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(),
        cwd=ROOT,
    )


def one_line(proc: subprocess.CompletedProcess[str], status: int = 2) -> str:
    """The single stderr line of a failed command (asserting status and no traceback)."""
    assert proc.returncode == status, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def write_manifest(folder: Path, m: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(m, indent=2))


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run with charts: 400 replicates in 4 chunks."""
    folder = tmp_path_factory.mktemp("faults") / "good"
    proc = cli("run", BASE, "-n", 400, "--chunk-size", 100, "--workers", 1, "-o", folder)
    assert proc.returncode == 0, proc.stderr
    return folder


def copy(good: Path, dest: Path) -> Path:
    shutil.copytree(good, dest)
    return dest


# ----------------------------------------------------------------------------- mounts


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/escalation-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True, check=False).returncode == 0  # fmt: skip
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True, check=False)
        return ok
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


CAN_MOUNT = _can_mount()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` for the block."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for the block: a read-only remount as root, else permissions."""
    if CAN_MOUNT:
        remount(folder, "ro")
        try:
            yield
        finally:
            remount(folder, "rw")
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder that can be made read-only or full: a tmpfs as root, else a plain folder."""
    if CAN_MOUNT:
        with tmpfs(tmp_path / "mnt", "32m") as mnt:
            yield mnt
    else:
        if os.geteuid() == 0:
            pytest.skip("running as root without mount: permissions cannot make folders read-only")
        yield tmp_path


# ----------------------------------------------------------------------------- folders are data


def test_a_results_folder_never_makes_the_tool_run_code(good: Path, tmp_path: Path):
    mods = tmp_path / "mods"
    mods.mkdir()
    marker = tmp_path / "PWNED"
    (mods / "pwned_mod.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nfrom sim.model import run_replicates\n"
    )
    env = _env(PYTHONPATH=os.pathsep.join([str(mods), str(ROOT / "tests")]))
    folder = copy(good, tmp_path / "run")
    m = manifest(folder)
    m["spec"]["model"] = "pwned_mod:run_replicates"
    m["status"] = "running"
    m["chunks"][3]["status"] = "pending"
    write_manifest(folder, m)

    line = one_line(cli("run", "--resume", folder, env=env))
    assert "never chooses code to run" in line and "--model pwned_mod:run_replicates" in line
    line = one_line(cli("run", "--resume", folder, "--model", "sim.model:run_replicates", env=env))
    assert "not 'sim.model:run_replicates'" in line
    # Reading a folder (plot, compare, load) never imports anything it names either.
    m["status"] = "complete"
    m["chunks"][3]["status"] = "done"
    write_manifest(folder, m)
    for proc in (cli("plot", folder, env=env), cli("compare", folder, good, "-o", tmp_path / "c",
                                                   env=env)):  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    # Naming the model again is the user's decision to run it.
    m["status"] = "running"
    m["chunks"][3]["status"] = "pending"
    write_manifest(folder, m)
    proc = cli("run", "--resume", folder, "--model", "pwned_mod:run_replicates", env=env)
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()


# ----------------------------------------------------------------------------- verification


def test_a_replaced_result_file_is_refused_and_rebuilt_by_resume(good: Path, tmp_path: Path):
    folder = copy(good, tmp_path / "run")
    original = (folder / "outcomes.parquet").read_bytes()
    full = pd.read_parquet(folder / "outcomes.parquet")
    full.iloc[: len(full) // 2].to_parquet(folder / "outcomes.parquet")  # shorter, valid
    line = one_line(cli("plot", folder))
    assert "outcomes.parquet: damaged or replaced" in line
    assert f"escalation run --resume {folder}" in line
    proc = cli("run", "--resume", folder)
    assert proc.returncode == 0, proc.stderr
    assert "already complete" not in proc.stdout
    assert (folder / "outcomes.parquet").read_bytes() == original
    assert cli("plot", folder).returncode == 0


def test_damaged_csv_and_chunk_files_are_one_line_errors(good: Path, tmp_path: Path):
    folder = copy(good, tmp_path / "run")
    text = (folder / "summary.csv").read_text()
    (folder / "summary.csv").write_text(text[: len(text) // 2] + '\n"unterminated,,\n')
    line = one_line(cli("plot", folder))
    assert "summary.csv: damaged or replaced" in line and "--resume" in line
    # A damaged chunk file is computed again by --resume; the result is unchanged.
    (folder / "chunks" / "chunk-000001.parquet").write_bytes(b"PAR1 not really")
    (folder / "outcomes.parquet").unlink()
    proc = cli("run", "--resume", folder)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "summary.csv").read_text() == text
    assert (folder / "outcomes.parquet").read_bytes() == (good / "outcomes.parquet").read_bytes()
    # A comparison folder with a damaged table.
    cmp = tmp_path / "cmp"
    assert cli("compare", good, folder, "-o", cmp, "--no-charts").returncode == 0
    (cmp / "comparison.csv").write_bytes(b"\xff\xfe garbage\x00,\n1,2")
    line = one_line(cli("plot", cmp))
    assert "comparison.csv" in line and "damaged" in line


# ----------------------------------------------------------------------------- I/O failures


def test_unusable_output_paths_are_one_line_errors(tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [
        (afile / "run", "a part of the path is a file, not a folder"),
        (Path("/proc/escalation-test-run"), "/proc/escalation-test-run: cannot"),
        (tmp_path / ("x" * 300), "path too long"),
        (afile, "exists and is not a folder"),
    ]
    for out, expected in cases:
        line = one_line(cli("run", BASE, "-n", 10, "-o", out))
        assert expected in line and str(out)[:40] in line, line
        assert not (Path("/proc/escalation-test-run")).exists()


def test_read_only_folders_for_run_resume_and_plot(good: Path, scratch: Path):
    ro = scratch / "ro"
    ro.mkdir()
    folder = copy(good, scratch / "done")
    unfinished = copy(good, scratch / "unfinished")
    m = manifest(unfinished)
    m["status"], m["chunks"][3]["status"] = "running", "pending"
    write_manifest(unfinished, m)
    with read_only(scratch):
        line = one_line(cli("run", BASE, "-n", 10, "-o", ro / "run"))
        assert str(ro / "run") in line and ("read-only" in line or "permission" in line)
        for args in (["run", "--resume", unfinished], ["plot", folder]):
            line = one_line(cli(*args))
            assert ".lock: cannot write" in line and "copy it somewhere writable" in line


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and mount for a small tmpfs")
def test_a_full_disk_stops_resumably_and_resume_finishes(tmp_path: Path):
    args = [BASE, "-n", 2000, "--chunk-size", 200, "--workers", 1, "--seed", 5, "--no-charts"]
    ref = tmp_path / "ref"
    assert cli("run", *args, "-o", ref).returncode == 0
    with tmpfs(tmp_path / "small", "700k") as disk:
        folder = disk / "run"
        line = one_line(cli("run", *args, "-o", folder))
        assert "no space left on the device" in line
        assert f"escalation run --resume {folder}" in line
        assert any(c["status"] == "done" for c in manifest(folder)["chunks"])
        remount(disk, "size=16m")
        proc = cli("run", "--resume", folder)
        assert proc.returncode == 0, proc.stderr
        for name in ("outcomes.parquet", "summary.csv", "ladder_occupancy.parquet"):
            assert (folder / name).read_bytes() == (ref / name).read_bytes(), name


def test_a_file_size_limit_stops_resumably(tmp_path: Path):
    # Without a small disk to fill, the file-size limit fails writes the same way (EFBIG).
    args = [BASE, "-n", 2000, "--chunk-size", 200, "--workers", 1, "--seed", 5, "--no-charts"]

    def limit() -> None:
        # Room for every chunk file (about 100-200 kB), not for the merged table (about 1 MB).
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    folder = tmp_path / "run"
    line = one_line(cli("run", *args, "-o", folder, preexec=limit))
    assert "outcomes.parquet: cannot write (file too large" in line
    assert f"escalation run --resume {folder}" in line
    proc = cli("run", "--resume", folder)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(folder / "outcomes.parquet")) == 2000


# ----------------------------------------------------------------------------- ranges and limits


def test_integer_options_are_checked_alike_in_every_command(tmp_path: Path, capsys):
    big, huge = str(2**64), str(10**30)
    cases = [
        (["run", BASE, "--seed", big], f"--seed must be <= {MAX}, got {big}"),
        (["run", BASE, "-n", str(2**70)], f"-n must be <= {MAX}"),
        (["run", BASE, "--chunk-size", big], f"--chunk-size must be <= {MAX}"),
        (["run", BASE, "--workers", huge], "--workers must be <= 4,096"),
        (["run", BASE, "--precision", "0.1", "--max-replicates", big], "--max-replicates"),
        (["run", BASE, "--seed", "-1"], "--seed must be >= 0, got -1"),
        (["run", BASE, "--seed", "1.5"], "--seed must be a whole number, got '1.5'"),
        (["compare", BASE, BASE, "--seed", big], f"--seed must be <= {MAX}, got {big}"),
        (["compare", BASE, BASE, "-n", str(2**64)], f"-n must be <= {MAX}"),
        (["replay", BASE, "--seed", big], f"--seed must be <= {MAX}, got {big}"),
        (["replay", BASE, "--seed", str(2**64 + 5)], f"--seed must be <= {MAX}"),
        (["replay", BASE, "--replicate", big], f"--replicate must be <= {MAX}"),
        (["replay", BASE, "-k", "-3"], "--replicate must be >= 0, got -3"),
        (["replay", BASE, "--top", "0"], "--top must be >= 1, got 0"),
        (["run", BASE, "--max-failed", "-2"], "--max-failed must be >= 0"),
        (["run", BASE, "--max-failed", "150%"], "--max-failed as a share"),
        (["run", BASE, "-n", "9" * 5000], "-n must be a whole number"),
    ]
    # A few through the installed command; all of them through its entry point, sim.cli.main.
    from sim.cli import main

    for i, (argv, expected) in enumerate(cases):
        args = [*map(str, argv), *(["-o", str(tmp_path / f"o{i}")] if argv[0] == "run" else [])]
        if i in (0, 7, 9):
            line = one_line(cli(*args))
        else:
            assert main(args) == 2, args
            err = capsys.readouterr().err
            assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
            line = err.strip()
        assert expected in line, (expected, line)


def test_work_limit_refuses_huge_runs_before_starting(tmp_path: Path):
    t0 = time.monotonic()
    line = one_line(cli("run", BASE, "-n", "10000000000000", "-o", tmp_path / "huge"))
    assert time.monotonic() - t0 < 60
    assert "10,000,000,000,000 replicates would take about" in line and "--yes" in line
    assert "beyond the time limit" in line and "pilot" in line
    assert not (tmp_path / "huge").exists()
    # A stated limit applies to smaller runs alike; --yes starts them anyway.
    args = [BASE, "-n", 10_000, "--workers", 1, "--no-charts"]
    line = one_line(
        cli("run", *args, "-o", tmp_path / "a", env=_env(ESCALATION_MAX_SECONDS="0.01"))
    )
    assert "beyond the time limit" in line
    line = one_line(
        cli("run", *args, "-o", tmp_path / "b", env=_env(ESCALATION_MAX_DISK_BYTES="1000"))
    )
    assert "beyond the disk limit of 1.0 kB" in line
    proc = cli("run", *args, "--yes", "-o", tmp_path / "c", env=_env(ESCALATION_MAX_SECONDS="0.01"))
    assert proc.returncode == 0, proc.stderr
    # Even with --yes a run folder holds a bounded number of chunks.
    line = one_line(cli("run", BASE, "-n", 10**9, "--chunk-size", 1, "--yes", "-o", tmp_path / "d"))
    assert "chunks; a run folder holds at most 20,000" in line


# ----------------------------------------------------------------------------- lock


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(tmp_path: Path):
    folder = tmp_path / "run"
    first = start("run", BASE, "-n", 20_000, "--chunk-size", 400, "--workers", 1,
                  "--no-charts", "--yes", "-o", folder)  # fmt: skip
    end = time.monotonic() + 120
    while not (folder / "chunks" / "chunk-000001.parquet").exists():
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < end
        time.sleep(0.01)
    line = one_line(cli("run", "--resume", folder))
    assert f"in use by process {first.pid}" in line and "wait for it to finish" in line
    assert "in use by process" in one_line(cli("plot", folder))
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert (folder / ".lock").exists()  # left behind by the killed holder: stale
    proc = cli("run", "--resume", folder)
    assert proc.returncode == 0, proc.stderr
    assert not (folder / ".lock").exists()
    assert len(pd.read_parquet(folder / "outcomes.parquet")) == 20_000


# ----------------------------------------------------------------------------- exit status


def test_exit_status_is_1_when_all_or_too_many_replicates_fail(tmp_path: Path):
    common = [BASE, "--chunk-size", 100, "--workers", 1, "--no-charts"]
    proc = cli("run", *common, "-n", 30, "--model", "test_runner:fails_always",
               "-o", tmp_path / "all")  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]  # after the per-chunk failure notes
    assert "30 of 30 replicates failed (every replicate failed)" in line
    assert "RuntimeError: broken model" in line and "outcomes.parquet" in line
    # Resuming the folder does not turn it into a success.
    again = cli("run", "--resume", tmp_path / "all", "--model", "test_runner:fails_always")
    assert again.returncode == 1 and "30 of 30 replicates failed" in again.stderr
    some = [*common, "-n", 120, "--model", "test_runner:fails_on_some"]  # 3 fail: 13, 110, 111
    limits = (("2", 1), ("3", 0), ("3%", 0), ("2%", 1))  # 3 of 120 is 2.5%
    procs = [start("run", *some, "--max-failed", k, "-o", tmp_path / f"m{i}") for i, (k, _) in
             enumerate(limits)]  # fmt: skip
    for (limit, status), p in zip(limits, procs, strict=True):
        _, err = p.communicate(timeout=120)
        assert p.returncode == status and "Traceback" not in err, (limit, err)
        if status:
            assert "3 of 120 replicates failed (more than --max-failed" in err


def test_interrupted_while_drawing_charts_exits_130_and_is_not_complete(tmp_path: Path):
    folder = tmp_path / "run"
    proc = start("run", BASE, "-n", 300, "--workers", 1, "-o", folder)
    end = time.monotonic() + 120
    while not ((folder / "charts").is_dir() and any((folder / "charts").iterdir())):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    m = manifest(folder)
    assert m["status"] == "complete" and m["charts"]["status"] == "pending"
    # The folder is not complete: a resume draws the charts it promised.
    again = cli("run", "--resume", folder)
    assert again.returncode == 0, again.stderr
    m = manifest(folder)
    assert m["charts"]["status"] == "drawn"
    assert all((folder / f["path"]).is_file() for f in m["charts"]["files"])


def test_interrupted_at_start_exits_130_without_traceback(tmp_path: Path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = start("run", BASE, "-n", 100_000, "--yes", "-o", tmp_path / f"r{sig}")
        time.sleep(0.6)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (sig, err)
        assert "Traceback" not in err
