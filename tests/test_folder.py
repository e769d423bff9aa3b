"""``sim.runner.folder``: the one door into a results folder (issue 21), in-process.

The command-line cases (planted links, edited records, truncated files through the real
``escalation`` command) are in ``tests/test_hostile_folders.py``; here each rule of the door is
checked on its own, quickly.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.runner.folder import (
    LinkRefused,
    ResultsFolder,
    RunFolderError,
    check_relative,
    json_depth,
    open_lock,
    parse_json,
    printable,
)
from sim.runner.store import folder_lock, write_bytes


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "results"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    return folder, outside


@pytest.mark.parametrize(
    "rel", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\x00b", "a\\b"]
)
def test_only_plain_relative_names_are_paths_inside_a_folder(rel: str) -> None:
    with pytest.raises(RunFolderError, match="plain relative names"):
        check_relative(rel)


def test_links_anywhere_below_the_folder_are_refused_for_reading(world) -> None:
    folder, outside = world
    (folder / "file.txt").symlink_to(outside / "secret.txt")
    (folder / "sub").symlink_to(outside)
    rf = ResultsFolder(folder)
    for rel in ("file.txt", "sub/secret.txt"):
        with pytest.raises(LinkRefused):
            rf.read_bytes(rel)
        assert rf.kind(rel) == "link"
    with pytest.raises(LinkRefused):
        rf.listdir("sub")  # a linked folder is never listed through
    with pytest.raises(LinkRefused):
        rf.require_folder("sub")


def test_a_fifo_is_refused_without_blocking_and_size_is_bounded(world) -> None:
    folder, _ = world
    os.mkfifo(folder / "pipe")
    (folder / "big").write_bytes(b"x" * 1000)
    rf = ResultsFolder(folder)
    done = threading.Event()

    def read() -> None:
        with pytest.raises(RunFolderError, match="not a regular file"):
            rf.read_bytes("pipe")
        done.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    assert done.is_set(), "reading a FIFO blocked"
    with pytest.raises(RunFolderError, match="larger than"):
        rf.read_bytes("big", max_bytes=999)
    assert rf.read_bytes("big", max_bytes=10, cut=True) == b"x" * 10
    assert rf.read_verified("big", 999, "0" * 64) is None


def test_writes_never_go_through_a_link_and_temporaries_stay_in_the_folder(world) -> None:
    folder, outside = world
    before = sorted(p.name for p in outside.iterdir())
    (folder / "report.html").symlink_to(outside / "secret.txt")
    write_bytes(folder / "report.html", b"<html>", folder)
    assert (outside / "secret.txt").read_text() == "secret"  # the link was replaced
    assert (folder / "report.html").read_bytes() == b"<html>"
    (folder / "chunks").symlink_to(outside)
    with pytest.raises(LinkRefused):
        write_bytes(folder / "chunks" / "chunk-000000.parquet", b"x", folder)
    assert sorted(p.name for p in outside.iterdir()) == before
    # A planted file under a temporary's old, predictable name is never written through.
    (folder / f".summary.csv.tmp-{os.getpid()}").symlink_to(outside / "secret.txt")
    write_bytes(folder / "summary.csv", b"a,b\n", folder)
    assert (outside / "secret.txt").read_text() == "secret"
    names = [p.name for p in folder.iterdir()]
    assert not any(".tmp-" in n and n != f".summary.csv.tmp-{os.getpid()}" for n in names)


def test_a_lock_that_is_a_link_is_refused_and_left_alone(world) -> None:
    folder, outside = world
    (folder / ".lock").symlink_to(outside / "secret.txt")
    with pytest.raises(LinkRefused), folder_lock(folder):
        pass
    assert (outside / "secret.txt").read_text() == "secret"
    assert (folder / ".lock").is_symlink()
    (folder / ".lock").unlink()
    fd = open_lock(folder, ".lock")  # made with O_EXCL when absent
    os.close(fd)
    with folder_lock(folder):
        assert (folder / ".lock").is_file()
    assert not (folder / ".lock").exists()


def test_json_nesting_is_measured_before_parsing() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[ in a string"}]}') == 3
    with pytest.raises(RunFolderError, match="nested 100,000 deep"):
        parse_json(b"[" * 100_000 + b"]" * 100_000, "log.json")
    with pytest.raises(RunFolderError, match=r"log\.json:1: unreadable"):
        parse_json(b"{", "log.json")
    assert parse_json(b'{"a": [[1]]}', "x") == {"a": [[1]]}


def test_control_characters_are_escaped_for_the_terminal() -> None:
    assert printable("\x1b[31mRED\x1b[0m\ttab\nline\r") == "\\x1b[31mRED\\x1b[0m\ttab\nline\\x0d"
    assert isinstance(RunFolderError("x"), UserError)
