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
    charts/*.png, charts/*.svg    the standard charts (unless --no-charts)

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
:func:`os.replace`, which is atomic: a killed run leaves whole files or none.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError

MANIFEST = "manifest.json"
OUTCOMES = "outcomes.parquet"
LADDER_OCCUPANCY = "ladder_occupancy.parquet"
ALIGNMENT_OCCUPANCY = "alignment_occupancy.parquet"
SUMMARY = "summary.csv"
CHARTS = "charts"
CHUNKS = "chunks"
FORMAT = "escalation-sim/run/1"

RUN_SPECIFIC_FIELDS: tuple[str, ...] = (
    "created",
    "completed",
    "command",
    "execution",
    "timing",
    "resumed",
)
"""Manifest fields that describe one execution and may differ between runs with equal results."""


class RunFolderError(UserError):
    """A results folder that is missing, not a run folder, or damaged."""


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


def _atomic(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    _atomic(path, lambda f: f.write(data))


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes(path, text.encode())


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as parquet, with fixed options so equal tables give equal bytes.

    The index is dropped (tables here carry their keys as columns), there is one row group per
    128k rows and compression is zstd; pyarrow writes no timestamp into the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(
        table,
        buf,
        compression="zstd",
        row_group_size=131_072,
        use_dictionary=True,
        write_statistics=True,
    )
    return buf.getvalue()


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a table as parquet, atomically and deterministically."""
    write_bytes(path, parquet_bytes(df))


def write_npy(path: Path, arr: np.ndarray) -> None:
    """Write an array as .npy, atomically (the .npy header holds only dtype and shape)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    write_bytes(path, buf.getvalue())


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Write a table as CSV (no index, '\\n' line ends, shortest round-trip floats)."""
    write_bytes(path, df.to_csv(index=False, lineterminator="\n").encode())


def save_figure(fig: Any, stem: Path) -> list[Path]:
    """Save a Figure as ``<stem>.png`` and ``<stem>.svg``, reproducibly; returns the paths.

    PNG carries no date; SVG's date is suppressed and its element ids are salted with a fixed
    string, so redrawing the same data gives the same bytes.
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
        write_bytes(path, data)
        out.append(path)
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


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a run folder.

    Raises:
        RunFolderError: the folder or its manifest is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.exists():
        raise RunFolderError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder")
    path = folder / MANIFEST
    if not path.exists():
        raise RunFolderError(f"{folder}: not a run folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunFolderError(f"{path}: unreadable manifest ({_short(e)})") from None
    problems = _manifest_problems(manifest)
    if problems:
        raise RunFolderError(f"{path}: corrupt manifest: {'; '.join(problems)}")
    return manifest


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]


def _manifest_problems(m: Any) -> list[str]:
    if not isinstance(m, dict):
        return ["not a JSON object"]
    out = []
    if m.get("format") != FORMAT:
        out.append(f"format must be {FORMAT!r}, got {m.get('format')!r}")
    for key, kind in (
        ("seed", int),
        ("chunk_size", int),
        ("scenario", dict),
        ("chunks", list),
    ):
        if not isinstance(m.get(key), kind) or isinstance(m.get(key), bool):
            out.append(f"'{key}' missing or not {kind.__name__}")
    if out:
        return out
    if m["seed"] < 0:
        out.append("seed must be >= 0")
    if m["chunk_size"] < 1:
        out.append("chunk_size must be >= 1")
    for i, c in enumerate(m["chunks"]):
        if not (
            isinstance(c, dict)
            and c.get("index") == i
            and isinstance(c.get("start"), int)
            and isinstance(c.get("stop"), int)
            and c.get("status") in ("done", "pending")
        ):
            out.append(f"chunks[{i}] is malformed")
            break
    return out


def read_outcomes(folder: str | Path) -> pd.DataFrame:
    """``outcomes.parquet`` of a finished run."""
    return pd.read_parquet(_need(folder, OUTCOMES))


def read_summary(folder: str | Path) -> pd.DataFrame:
    """``summary.csv`` of a finished run."""
    return pd.read_csv(_need(folder, SUMMARY), keep_default_na=False, na_values=[""])


def _need(folder: str | Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.exists():
        raise RunFolderError(f"{folder}: {name} is missing (is the run finished?)")
    return path


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


def read_occupancy(folder: str | Path, actors: list[str], rungs: list[str]) -> np.ndarray:
    """The ladder occupancy array (days, actors, rungs) of a finished run."""
    df = pd.read_parquet(_need(folder, LADDER_OCCUPANCY))
    return _dense(df, [("actor", actors), ("rung", rungs)], folder, LADDER_OCCUPANCY)


def read_alignment_occupancy(folder: str | Path, levels: list[str]) -> np.ndarray:
    """The alignment occupancy array (days, levels) of a finished run."""
    df = pd.read_parquet(_need(folder, ALIGNMENT_OCCUPANCY))
    return _dense(df, [("level", levels)], folder, ALIGNMENT_OCCUPANCY)


def _dense(
    df: pd.DataFrame, axes: list[tuple[str, list[str]]], folder: str | Path, name: str
) -> np.ndarray:
    days = int(df["day"].max()) + 1 if len(df) else 0
    shape = (days, *(len(names) for _, names in axes))
    out = np.zeros(shape, dtype=np.int64)
    idx: list[np.ndarray] = [df["day"].to_numpy(dtype=np.int64)]
    for col, names in axes:
        pos = {n: i for i, n in enumerate(names)}
        try:
            idx.append(np.array([pos[v] for v in df[col]], dtype=np.int64))
        except KeyError as e:
            raise RunFolderError(f"{folder}: {name}: unknown {col} {e}") from None
    out[tuple(idx)] = df["count"].to_numpy(dtype=np.int64)
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
