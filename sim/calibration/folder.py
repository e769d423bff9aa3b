"""Writing a calibration or backtest folder whole or not at all, with a record of its files.

The folder's record is ``files.json``: the size and SHA-256 of every other file in it, written
last, just before the folder is moved into place. A reader (``escalation report`` of a
backtest) believes a file only when it matches that record (:func:`read_recorded`), as run
folders' readers do with their manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import UserError

FILES_RECORD = "files.json"
FILES_FORMAT = "escalation-sim/files/1"


def require_new(folder: Path | None) -> None:
    """Refuse an existing, non-empty output folder (or a file there) before any work is done."""
    if folder is None:
        return
    from sim.runner.folder import require_new_folder

    if folder.is_symlink():
        raise UserError(f"{folder}: is a link; choose another -o")
    require_new_folder(folder)


def write_files_record(folder: Path) -> None:
    """Write ``folder/files.json``: every regular file's size and SHA-256 (links refused)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise UserError(f"{path}: a link in a folder being written")
        if not path.is_file() or rel == FILES_RECORD:
            continue
        data = path.read_bytes()
        files[rel] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    text = json.dumps({"format": FILES_FORMAT, "files": files}, indent=2) + "\n"
    (folder / FILES_RECORD).write_text(text, encoding="utf-8")


def read_recorded(folder: Path, name: str, record: dict[str, object] | None = None) -> bytes:
    """The bytes of ``folder/name``, believed only when they match the folder's ``files.json``.

    Args:
        folder: A calibration or backtest folder.
        name: A file in it.
        record: ``files.json`` already read (:func:`files_record`), to read it once.

    Raises:
        RunFolderError: no record, a file not recorded, missing, a link, or changed since
            written (one line naming the file).
    """
    from sim.runner.folder import ResultsFolder, RunFolderError

    files = (record if record is not None else files_record(folder))["files"]
    assert isinstance(files, dict)
    rec = files.get(name)
    if not isinstance(rec, dict):
        raise RunFolderError(f"{folder / FILES_RECORD}: {name} is not recorded; rerun the command")
    size, sha = rec.get("bytes"), rec.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha, str):
        raise RunFolderError(f"{folder / FILES_RECORD}: the record of {name} is malformed")
    data = ResultsFolder(folder).read_verified(name, size, sha)
    if data is None:
        raise RunFolderError(
            f"{folder / name}: damaged or replaced (it does not match the size and checksum "
            f"{FILES_RECORD} recorded when it was written); rerun the command"
        )
    return data


def files_record(folder: Path) -> dict[str, object]:
    """``folder/files.json``, read without following links and checked by its shape.

    Raises:
        RunFolderError: missing (a folder written before records were kept, or edited),
            malformed or too deep.
    """
    from sim.runner.folder import ResultsFolder, RunFolderError

    rf = ResultsFolder(folder)
    if rf.kind(FILES_RECORD) == "missing":
        raise RunFolderError(
            f"{folder}: no record of its files ({FILES_RECORD}); the folder was edited or made "
            "by an older version - rerun the command"
        )
    info = rf.read_json(FILES_RECORD, "record of files")
    if (
        not isinstance(info, dict)
        or info.get("format") != FILES_FORMAT
        or not isinstance(info.get("files"), dict)
    ):
        raise RunFolderError(f"{folder / FILES_RECORD}: not an {FILES_FORMAT} record")
    return info


@contextlib.contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A temporary sibling of ``folder`` to write into, moved into place when the block ends
    without error and removed when it fails, so a folder is never left half written.

    The record of its files (``files.json``) is written last, before the move."""
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as e:
        raise UserError(f"{parent}: cannot create the folder: {e.strerror or e}") from None
    try:
        yield tmp
        write_files_record(tmp)
        if folder.exists():
            folder.rmdir()  # empty: require_new checked it before the work
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
