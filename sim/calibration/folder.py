"""Writing a calibration or backtest folder whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import UserError


def require_new(folder: Path | None) -> None:
    """Refuse an existing, non-empty output folder before any work is done."""
    if folder is not None and folder.exists() and any(folder.iterdir()):
        raise UserError(f"{folder}: folder exists and is not empty; choose another with -o")


@contextlib.contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A temporary sibling of ``folder`` to write into, moved into place when the block ends
    without error and removed when it fails, so a folder is never left half written."""
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as e:
        raise UserError(f"{parent}: cannot create the folder: {e.strerror or e}") from None
    try:
        yield tmp
        if folder.exists():
            folder.rmdir()  # empty: require_new checked it before the work
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
