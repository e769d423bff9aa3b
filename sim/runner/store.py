"""The results folder: manifest, chunk files written as they finish, and the final files.

Layout of a run folder::

    manifest.json                 what was run, with which code, and how far it got
    chunks/chunk-000003.parquet   outcomes of chunk 3 (written atomically when it finishes)
    chunks/occupancy-000003.npy   its ladder occupancy counts (days + 1, actors, rungs)
    chunks/alignment-000003.npy   its alignment occupancy counts (days + 1, levels)
    outcomes.parquet              every replicate, sorted by id     } written once every
    ladder_occupancy.parquet      day, actor, rung, count (long)    } chunk is done, only
    alignment_occupancy.parquet   day, level, count (long)          } from the chunk files
    summary.csv                   outcome, estimate, ci_low, ci_high, n, kind
    design.parquet                a design run's parameter values, one row per design point
    charts/*.png, charts/*.svg    the standard charts, drawn by sim.api after the tables
    .lock                         held (flock) by the one process writing the folder

Verification. Every write returns a :class:`~sim.runner.manifest.FileRecord` (size, SHA-256,
rows) that the manifest keeps; every read (:func:`verify_file`, :func:`read_table`,
:func:`read_array`) checks the file against its record first and names the file, with the
command that rebuilds it, when it does not match. Nothing read from a folder is imported,
executed or unpickled (``.npy`` files are read with ``allow_pickle=False``).

Determinism. Every file except ``manifest.json`` is a pure function of (resolved scenario, seed,
replicate ids): chunk files hold a chunk's deterministic result, and the final files are built
from the chunk files read back from disk in chunk order - never from whatever happened to be in
memory - so an interrupted-then-resumed run, a run with other worker counts and an uninterrupted
run write the same bytes. Parquet is written with fixed options (no timestamps inside), SVG
without its date and with a fixed hash salt.

The manifest records the same inputs and outcome in every case too, except for the fields in
:data:`RUN_SPECIFIC_FIELDS`, which describe a particular execution: when it was created and
completed, the command line, how it was executed (executor, workers), how long it took, and the
list of resumptions.

Every write goes to a temporary file in the same folder first and is moved into place with
:func:`os.replace`, which is atomic: a killed run leaves whole files or none. A write that
fails (permissions, read-only disk, no space, not a folder) is a :class:`StorageError`: one
line naming the path, the reason and what to do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.runner.folder import (
    ResultsFolder,
    RunFolderError,
    StorageError,
    check_relative,
    open_lock,
    parse_json,
    printable,
    unlink_lock,
)
from sim.runner.manifest import FORMAT, FileRecord, Manifest, parse_manifest

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
OUTCOMES = "outcomes.parquet"
LADDER_OCCUPANCY = "ladder_occupancy.parquet"
ALIGNMENT_OCCUPANCY = "alignment_occupancy.parquet"
SUMMARY = "summary.csv"
CHARTS = "charts"
CHUNKS = "chunks"
LOCK = ".lock"


@dataclass(frozen=True)
class ChunkFiles:
    """The three files of one chunk, relative to the run folder."""

    outcomes: str
    occupancy: str
    alignment: str

    @classmethod
    def for_index(cls, index: int) -> ChunkFiles:
        """File names of chunk ``index``."""
        return cls(
            outcomes=f"{CHUNKS}/chunk-{index:06d}.parquet",
            occupancy=f"{CHUNKS}/occupancy-{index:06d}.npy",
            alignment=f"{CHUNKS}/alignment-{index:06d}.npy",
        )

    def as_dict(self) -> dict[str, str]:
        """The file names as a mapping (for the manifest)."""
        return {"outcomes": self.outcomes, "occupancy": self.occupancy, "alignment": self.alignment}


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_run_dir(scenario_name: str, seed: int, root: str | Path = "results") -> Path:
    """``results/<scenario name>/<UTC timestamp>-seed<S>``, the folder of a run not given -o."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(root) / scenario_name / f"{stamp}-seed{seed}"


# ----------------------------------------------------------------------------- atomic writes


def file_record(rel: str, data: bytes, rows: int | None = None) -> FileRecord:
    """The :class:`~sim.runner.manifest.FileRecord` of ``data`` stored at ``rel``."""
    return FileRecord(path=rel, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), rows=rows)


def _split_root(path: Path, root: Path | None, rel: str | None = None) -> tuple[Path, str]:
    """The folder a write is confined to and the path inside it.

    ``root`` given: ``path`` must lie below it. Else ``rel`` (a record's relative path) names
    how far below its folder ``path`` lies; else the file's own folder is the root.
    """
    if root is not None:
        try:
            inside = path.relative_to(root).as_posix()
        except ValueError:
            raise UserError(f"{path}: not inside the folder {root}") from None
        return root, inside
    if rel is not None and "/" in rel and path.as_posix().endswith("/" + rel):
        depth = len(check_relative(rel))
        return path.parents[depth - 1], rel
    return path.parent, path.name


def write_bytes(path: Path, data: bytes, root: Path | None = None) -> None:
    """Write ``data`` to ``path`` atomically, through :class:`~sim.runner.folder.ResultsFolder`.

    Args:
        path: The file.
        data: Its content.
        root: The results folder ``path`` lies in (default: the file's own folder); no link
            below it is followed, and the temporary file is made in the target's folder.

    Raises:
        StorageError: the file cannot be written (one line naming the path and the reason).
        RunFolderError: a link on the way below ``root``.
    """
    top, rel = _split_root(Path(path), root)
    ResultsFolder(top).write_bytes(rel, data)


def write_json(path: Path, obj: Any, root: Path | None = None) -> None:
    """Write ``obj`` as indented JSON, atomically (``root`` as for :func:`write_bytes`)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes(path, text.encode(), root)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``folder/manifest.json`` atomically."""
    write_bytes(folder / MANIFEST, manifest.to_json().encode())


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as parquet, with fixed options so equal tables give equal bytes.

    The index is dropped (tables here carry their keys as columns), there is one row group per
    128k rows, compression is zstd and only non-float columns are dictionary-encoded; pyarrow
    writes no timestamp into the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    buf = io.BytesIO()
    # Dictionary encoding is for repeated values (flags, names, counts); on the sampled
    # parameters - distinct doubles - it cost 60% of the writing time and made the file 19%
    # larger (measured on 200,000 outcome rows), so float columns are left to zstd alone.
    dictionary = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(
        table,
        buf,
        compression="zstd",
        row_group_size=131_072,
        use_dictionary=dictionary,
        write_statistics=True,
    )
    return buf.getvalue()


def _write_recorded(path: Path, data: bytes, rel: str | None) -> None:
    # A record's relative path (chunks/chunk-000003.parquet) says which folder the file lies
    # in: the write is confined to that folder, so a linked chunks/ is refused.
    top, inside = _split_root(Path(path), None, rel)
    ResultsFolder(top).write_bytes(inside, data)


def write_parquet(path: Path, df: pd.DataFrame, rel: str | None = None) -> FileRecord:
    """Write a table as parquet, atomically and deterministically; returns its record."""
    data = parquet_bytes(df)
    _write_recorded(path, data, rel)
    return file_record(rel or path.name, data, len(df))


def write_npy(path: Path, arr: np.ndarray, rel: str | None = None) -> FileRecord:
    """Write an array as .npy, atomically (the .npy header holds only dtype and shape)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    data = buf.getvalue()
    _write_recorded(path, data, rel)
    return file_record(rel or path.name, data)


def write_csv(path: Path, df: pd.DataFrame, rel: str | None = None) -> FileRecord:
    """Write a table as CSV (no index, '\\n' line ends, shortest round-trip floats)."""
    data = df.to_csv(index=False, lineterminator="\n").encode()
    _write_recorded(path, data, rel)
    return file_record(rel or path.name, data, len(df))


def save_figure(fig: Any, stem: Path, folder: Path | None = None) -> list[FileRecord]:
    """Save a Figure as ``<stem>.png`` and ``<stem>.svg``, reproducibly; returns the paths.

    PNG carries no date; SVG's date is suppressed and its element ids are salted with a fixed
    string, so redrawing the same data gives the same bytes. Records name the files relative
    to ``folder`` (default: the stem's parent).
    """
    import matplotlib

    out = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "escalation-sim"}):
            meta = {"Date": None} if ext == "svg" else {}
            fig.savefig(buf, format=ext, metadata=meta, dpi=100 if ext == "png" else None)
        data = buf.getvalue()
        if ext == "svg":
            data = _stable_svg_ids(data.decode()).encode()
        path = stem.with_suffix(f".{ext}")
        base = folder if folder is not None else stem.parent
        write_bytes(path, data, base)
        out.append(file_record(path.relative_to(base).as_posix(), data))
    return out


_CLIP_ID = re.compile(r'<clipPath id="([^"]+)"')


def _stable_svg_ids(svg: str) -> str:
    """Renumber clip-path ids in order of definition.

    Matplotlib's SVG backend names a clip path after ``id()`` of a Python object, which
    changes from one process to the next; the order of the definitions does not.
    """
    ids = _CLIP_ID.findall(svg)
    if not ids:
        return svg
    mapping = {old: f"clip{i:04d}" for i, old in enumerate(dict.fromkeys(ids))}
    pattern = re.compile(r'(id="|#)(' + "|".join(re.escape(k) for k in mapping) + r')(?=[")])')
    return pattern.sub(lambda m: m.group(1) + mapping[m.group(2)], svg)


# ----------------------------------------------------------------------------- reading back


def read_manifest(folder: str | Path) -> Manifest:
    """The manifest of a run folder, checked by its type (nothing in it is imported or run).

    Raises:
        RunFolderError: the folder or its manifest is missing, unreadable or malformed.
    """
    folder = Path(folder)
    if not folder.exists():
        raise RunFolderError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder")
    rf = ResultsFolder(folder)
    kind = rf.kind(MANIFEST)
    if kind == "missing":
        raise RunFolderError(f"{folder}: not a run folder (no {MANIFEST})")
    path = folder / MANIFEST
    data = rf.read_bytes(MANIFEST, MAX_MANIFEST_BYTES)
    if len(data) > MAX_MANIFEST_BYTES:
        raise RunFolderError(f"{path}: corrupt manifest: larger than {MAX_MANIFEST_BYTES:,} bytes")
    head = parse_json(data, path, "manifest")
    if isinstance(head, dict) and head.get("format") not in (None, FORMAT):
        raise RunFolderError(
            f"{path}: manifest format {str(head.get('format'))[:60]!r} is not {FORMAT!r} "
            "(made by another version of escalation-sim; rerun the scenario with this one)"
        )
    try:
        return parse_manifest(data)
    except ValueError as e:
        raise RunFolderError(f"{path}: corrupt manifest: {_short(e)}") from None


MAX_MANIFEST_BYTES = 64 * 2**20
"""A manifest larger than this is refused unread (a results folder is untrusted input)."""


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:300]


def rebuild_hint(folder: Path, path: str) -> str:
    """What to do about a damaged file of a run folder."""
    if path.startswith(CHUNKS + "/"):
        return f"delete it and finish the run with: escalation run --resume {folder}"
    if path.startswith(CHARTS + "/"):
        return f"redraw the charts with: escalation plot {folder}"
    if path == DESIGN:
        return "the design cannot be rebuilt from the folder; rerun the design"
    return f"rebuild it from the chunk files with: escalation run --resume {folder}"


def verify_file(folder: Path, record: FileRecord) -> bytes:
    """The bytes of ``folder/record.path``, after checking them against the manifest's record.

    Raises:
        RunFolderError: the file is missing, of another size or checksum (one line naming the
            file and the command that rebuilds it).
    """
    path = folder / record.path
    rf = ResultsFolder(folder)
    check_relative(record.path, folder / MANIFEST)
    kind = rf.kind(record.path)
    if kind == "missing":
        raise RunFolderError(f"{path}: missing; {rebuild_hint(folder, record.path)}")
    if kind == "folder":
        hint = rebuild_hint(folder, record.path)
        raise RunFolderError(f"{path}: is a folder, not a file; {hint}")
    # Never more than one byte past the recorded size: a planted huge file is not read whole.
    data = rf.read_bytes(record.path, max_bytes=record.bytes + 1, cut=True)
    if len(data) != record.bytes or hashlib.sha256(data).hexdigest() != record.sha256:
        what = (
            f"larger than the {record.bytes:,} bytes the manifest recorded"
            if len(data) > record.bytes
            else f"{len(data):,} bytes, the manifest recorded {record.bytes:,}"
            if len(data) != record.bytes
            else "its checksum differs from the one recorded when it was written"
        )
        raise RunFolderError(
            f"{path}: damaged or replaced ({what}); {rebuild_hint(folder, record.path)}"
        )
    return data


def read_table(folder: Path, record: FileRecord) -> pd.DataFrame:
    """A verified parquet or CSV table of a run folder (rows checked against the record).

    Raises:
        RunFolderError: missing, damaged, unparsable or with the wrong number of rows.
    """
    data = verify_file(folder, record)
    path = folder / record.path
    try:
        if record.path.endswith(".csv"):
            df = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
        else:
            df = pd.read_parquet(io.BytesIO(data))
    except Exception as e:  # any parser error of a file we checked: still one line
        raise RunFolderError(
            f"{path}: unreadable ({_short(e)[:120]}); {rebuild_hint(folder, record.path)}"
        ) from None
    if record.rows is not None and len(df) != record.rows:
        raise RunFolderError(
            f"{path}: holds {len(df):,} rows, the manifest recorded {record.rows:,}; "
            f"{rebuild_hint(folder, record.path)}"
        )
    return df


def read_array(folder: Path, record: FileRecord) -> np.ndarray:
    """A verified ``.npy`` array of a run folder (never unpickled)."""
    data = verify_file(folder, record)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError) as e:
        raise RunFolderError(
            f"{folder / record.path}: unreadable ({_short(e)[:120]}); "
            f"{rebuild_hint(folder, record.path)}"
        ) from None


def _record(manifest: Manifest, folder: Path, name: str) -> FileRecord:
    rec = manifest.output(name)
    if rec is None:
        if manifest.status != "complete":
            raise RunFolderError(
                f"{folder}: the run is not finished (status {manifest.status}); "
                f"finish it with: escalation run --resume {folder}"
            )
        raise RunFolderError(f"{folder / MANIFEST}: corrupt manifest: {name} is not listed")
    return rec


def read_outcomes(folder: str | Path, manifest: Manifest | None = None) -> pd.DataFrame:
    """``outcomes.parquet`` of a finished run, verified against the manifest."""
    folder = Path(folder)
    m = manifest or read_manifest(folder)
    return read_table(folder, _record(m, folder, OUTCOMES))


def read_summary(folder: str | Path, manifest: Manifest | None = None) -> pd.DataFrame:
    """``summary.csv`` of a finished run, verified against the manifest."""
    folder = Path(folder)
    m = manifest or read_manifest(folder)
    return read_table(folder, _record(m, folder, SUMMARY))


def occupancy_long(occupancy: np.ndarray, actors: list[str], rungs: list[str]) -> pd.DataFrame:
    """Ladder occupancy (days, actors, rungs) as a long table: day, actor, rung, count."""
    days, n_actors, n_rungs = occupancy.shape
    d, a, r = np.meshgrid(np.arange(days), np.arange(n_actors), np.arange(n_rungs), indexing="ij")
    return pd.DataFrame(
        {
            "day": d.ravel().astype(np.int64),
            "actor": pd.array(np.asarray(actors, dtype=object)[a.ravel()], dtype="str"),
            "rung": pd.array(np.asarray(rungs, dtype=object)[r.ravel()], dtype="str"),
            "count": occupancy.ravel().astype(np.int64),
        }
    )


def alignment_long(alignment: np.ndarray, levels: list[str]) -> pd.DataFrame:
    """Alignment occupancy (days, levels) as a long table: day, level, count."""
    days, n_levels = alignment.shape
    d, lv = np.meshgrid(np.arange(days), np.arange(n_levels), indexing="ij")
    return pd.DataFrame(
        {
            "day": d.ravel().astype(np.int64),
            "level": pd.array(np.asarray(levels, dtype=object)[lv.ravel()], dtype="str"),
            "count": alignment.ravel().astype(np.int64),
        }
    )


def read_occupancy(
    folder: str | Path, actors: list[str], rungs: list[str], manifest: Manifest | None = None
) -> np.ndarray:
    """The ladder occupancy array (days, actors, rungs) of a finished run, verified."""
    folder = Path(folder)
    m = manifest or read_manifest(folder)
    df = read_table(folder, _record(m, folder, LADDER_OCCUPANCY))
    return _dense(df, [("actor", actors), ("rung", rungs)], folder, LADDER_OCCUPANCY)


def read_alignment_occupancy(
    folder: str | Path, levels: list[str], manifest: Manifest | None = None
) -> np.ndarray:
    """The alignment occupancy array (days, levels) of a finished run, verified."""
    folder = Path(folder)
    m = manifest or read_manifest(folder)
    df = read_table(folder, _record(m, folder, ALIGNMENT_OCCUPANCY))
    return _dense(df, [("level", levels)], folder, ALIGNMENT_OCCUPANCY)


def _dense(
    df: pd.DataFrame, axes: list[tuple[str, list[str]]], folder: str | Path, name: str
) -> np.ndarray:
    try:
        days = int(df["day"].max()) + 1 if len(df) else 0
        if not 0 <= days <= 1_000_000:
            raise ValueError(f"day {days - 1} out of range")
        shape = (days, *(len(names) for _, names in axes))
        out = np.zeros(shape, dtype=np.int64)
        idx: list[np.ndarray] = [df["day"].to_numpy(dtype=np.int64)]
        for col, names in axes:
            pos = {n: i for i, n in enumerate(names)}
            try:
                idx.append(np.array([pos[v] for v in df[col]], dtype=np.int64))
            except KeyError as e:
                raise ValueError(f"unknown {col} {e}") from None
        out[tuple(idx)] = df["count"].to_numpy(dtype=np.int64)
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise RunFolderError(f"{Path(folder) / name}: unusable table ({_short(e)[:120]})") from None
    return out


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str | None], ...]:
    from importlib import metadata

    out: list[tuple[str, str | None]] = [("python", sys.version.split()[0])]
    for pkg in ("escalation-sim", "numpy", "pandas", "scipy", "pyarrow", "mesa", "pydantic"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, None))
    return tuple(out)


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages whose behaviour the results depend on."""
    return dict(_versions())


@lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe --always --dirty --tags`` of the source tree, else the package version.

    Looked up once per process: the code a process runs does not change under it.
    """
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if res.returncode == 0 and res.stdout.strip():
            return f"git:{res.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"escalation-sim {versions().get('escalation-sim') or 'unknown'}"


def is_nonempty_dir(path: Path) -> bool:
    """True when ``path`` is a folder holding anything at all."""
    return path.is_dir() and any(path.iterdir())


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    """A name usable as a folder name."""
    return _SAFE.sub("_", name) or "run"


# ----------------------------------------------------------------------------- the lock

_HELD: dict[Path, int] = {}  # folders this process holds the lock of, with nesting depth


class FolderLocked(RunFolderError):
    """Another live process is writing the folder."""


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` for the block: one writer per results folder at a time.

    The lock is an exclusive ``flock`` on the file, which the kernel releases when its holder
    dies however it dies, so a lock left by a killed process is stale and simply taken over;
    the file also names its holder (pid, command, since when) for the refusal message. A
    second writer gets a one-line :class:`FolderLocked` naming the holder. The same process
    may take the lock again while holding it (nested calls).

    Raises:
        FolderLocked: another live process holds the lock.
        StorageError: the lock file cannot be written (read-only folder, full disk).
    """
    import fcntl

    key = folder.resolve()
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path = folder / LOCK
    for _attempt in range(10):
        try:
            # Never through a link, and made with O_EXCL when absent (sim.runner.folder): a
            # planted .lock pointing at another file is refused, not truncated.
            fd = open_lock(folder, LOCK)
        except RunFolderError:
            raise
        except OSError as e:
            advice = None
            if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                advice = (
                    "the results folder is read-only: copy it somewhere writable and use the copy"
                )
            raise StorageError(path, e, "write the folder's lock file", advice) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise FolderLocked(f"{folder}: in use by {holder}; wait for it to finish") from None
        except OSError as e:
            os.close(fd)
            raise StorageError(path, e, "lock") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder we waited on removed the file: lock the new one
    else:
        raise FolderLocked(f"{folder}: could not take the lock {path}; try again")
    try:
        info = json.dumps(
            {"pid": os.getpid(), "command": " ".join(sys.argv)[:300], "since": utc_now()}
        ).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
    except OSError as e:
        os.close(fd)
        raise StorageError(path, e) from None
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        unlink_lock(folder, LOCK, fd)
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        pid = int(info["pid"])
        command = printable(str(info.get("command", ""))[:80])
        return f"process {pid} ({command}, since {printable(str(info.get('since')))[:40]})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
