"""The manifest of a results folder: one typed, frozen record of what was run and how far it got.

A :class:`Manifest` embeds the :class:`RunSpec` (the resolved scenario, seed, replicates, chunk
size, precision target, the replicate function's name and, for a design run, the design's
shape and checksum), the state of every chunk, and a :class:`FileRecord` (size, SHA-256, rows)
for every file the run wrote. It is written as ``manifest.json`` and read back with pydantic in
strict mode, so a resume checks a folder by the type - a missing field, a wrong type or an
unknown key is a one-line :class:`~sim.runner.store.RunFolderError` - instead of by hand.

Being frozen, a manifest is never changed in place: the engine makes an updated copy
(:meth:`Manifest.with_chunk`, ``model_copy(update=...)``) and writes it.

Nothing in a manifest is ever imported, executed or unpickled: the replicate function is kept
as a ``module:function`` name, which a resume compares with the name given on its command line
(see :func:`sim.runner.engine.resume_run`), and the scenario is plain data validated by the
scenario schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "escalation-sim/run/2"
"""Version of the manifest layout; folders with another format are refused, not guessed at."""

Status = Literal["running", "interrupted", "failed", "complete"]
"""``running`` (or killed while running), ``interrupted`` (Ctrl-C, SIGTERM, lost workers, full
disk), ``failed`` (a replicate failed under ``--fail-fast``, or too many failed), ``complete``
(every table written; see :attr:`Manifest.is_complete` for charts)."""

Seed = Annotated[int, Field(ge=0, lt=2**63)]
Count = Annotated[int, Field(ge=1, lt=2**63)]
Index = Annotated[int, Field(ge=0, lt=2**63)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class FileRecord(_Frozen):
    """A file the run wrote, as it was when written.

    Attributes:
        path: Relative to the run folder (``outcomes.parquet``, ``chunks/chunk-000003.parquet``).
        bytes: Size in bytes.
        sha256: SHA-256 of the content, hex.
        rows: Rows of a table (``None`` for arrays and pictures).
    """

    path: str
    bytes: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    rows: Annotated[int, Field(ge=0)] | None = None


class DesignInfo(_Frozen):
    """The parameter design of a design run (its values live in ``design.parquet``).

    Every design point runs the same replicate ids ``0 .. replicates_per_point - 1`` with the
    same seed (common random numbers), so two points differ only by their parameter values.

    Attributes:
        columns: Dotted parameter paths, one per design column (``actors.china.resolve``).
        points: Number of design points (rows).
        replicates_per_point: K, the replicates run at every point.
        file: The design table's record (``design.parquet``: one float64 column per path).
    """

    columns: tuple[str, ...]
    points: Count
    replicates_per_point: Count
    file: FileRecord


class RunSpec(_Frozen):
    """What to run: everything the results depend on, and nothing about how it is executed.

    Attributes:
        scenario: The resolved scenario tree (``Scenario.model_dump(mode="json",
            by_alias=True)``), the only scenario form that goes to workers or into the manifest.
        seed: Run seed (0 <= seed < 2**63).
        replicates: Replicates (ids 0 .. replicates-1); ``None`` with ``precision``. For a
            design run: design points x replicates per point.
        chunk_size: Replicates per chunk (design points per chunk in a design run); ``None``
            until the engine fills in the default (:func:`sim.runner.engine.default_chunk_size`).
        precision: Target half-width of every headline probability's interval, or ``None``.
        max_replicates: With ``precision``: stop adding chunks at this many replicates.
        charts: Whether the standard charts were promised (drawn by :mod:`sim.api` afterwards;
            the runner itself writes tables only).
        source: Where the scenario came from (file path), for the record.
        overrides: The ``--set`` overrides applied, for the record.
        model: The replicate function as ``module:function`` (default: the project's model).
        design: The parameter design of a design run, else ``None``.
    """

    scenario: dict[str, Any]
    seed: Seed
    replicates: Count | None
    chunk_size: Count | None = None
    precision: float | None = None
    max_replicates: Count | None = None
    charts: bool = False
    source: str | None = None
    overrides: tuple[str, ...] = ()
    model: str = "sim.model:run_replicates"
    design: DesignInfo | None = None


class ChunkEntry(_Frozen):
    """One chunk of the plan: its range, whether it is done, and its files once written.

    ``start`` and ``stop`` count replicates in a plain run and design points in a design run.
    """

    index: Index
    start: Index
    stop: Index
    status: Literal["pending", "done"] = "pending"
    failed: Annotated[int, Field(ge=0)] | None = None
    files: tuple[FileRecord, ...] = ()


class PrecisionState(_Frozen):
    """The ``--precision`` target and how the run ended against it."""

    target: float
    max_replicates: Count
    status: Literal["met", "max_replicates"] | None = None
    max_half_width: float | None = None


class FailureRecord(_Frozen):
    """The replicate that stopped a ``--fail-fast`` run."""

    replicate: int
    error: str
    traceback: str
    point: int | None = None


class Execution(_Frozen):
    """How the last execution ran (informational; results never depend on it)."""

    executor: str
    workers: int | None = None


class Timing(_Frozen):
    """Wall time of the last execution (informational)."""

    seconds: float
    replicates_computed: int
    replicates_per_second: float | None = None


class Resumption(_Frozen):
    """One ``--resume`` of the folder."""

    at: str
    command: tuple[str, ...] | None = None
    code_version: str
    versions: dict[str, str | None]


class Charts(_Frozen):
    """The charts promised for the folder and whether they are all on disk.

    Attributes:
        status: ``none`` (not asked for), ``pending`` (asked for, not yet all written: an
            interrupted drawing, or the tables are not finished), ``drawn`` (every file in
            ``files`` is written) or ``failed`` (drawing raised; ``error`` says why).
    """

    status: Literal["none", "pending", "drawn", "failed"] = "none"
    error: str | None = None
    files: tuple[FileRecord, ...] = ()


class Manifest(_Frozen):
    """The record of a run folder (``manifest.json``).

    Attributes:
        format: :data:`FORMAT`.
        status: See :data:`Status`.
        spec: What was run.
        scenario_name: The scenario's name.
        scenario_title: Its title.
        scenario_sha256: SHA-256 of the canonical scenario JSON (checked on resume).
        replicates: Rows in the results (known at the end of a ``--precision`` run).
        precision: The precision state, with ``--precision``.
        chunks: The chunk plan (with ``--precision``: chunks scheduled so far).
        failed_replicates: Replicates that raised (after completion).
        failed_ids: Their ids (at most 1,000 listed; the outcomes table has all).
        failure: What stopped a failed run.
        outputs: The final tables as written (verified before use).
        charts: The promised charts.
        versions: Python and package versions.
        code_version: ``git describe`` of the source tree, or the package version.
        created: UTC time the folder was made.
        completed: UTC time the tables were complete.
        command: The command line that made the folder.
        execution: How the last execution ran.
        timing: How long it took.
        resumed: Every resumption.
    """

    format: Literal["escalation-sim/run/2"] = "escalation-sim/run/2"
    status: Status = "running"
    spec: RunSpec
    scenario_name: str
    scenario_title: str
    scenario_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    replicates: int | None = None
    precision: PrecisionState | None = None
    chunks: tuple[ChunkEntry, ...] = ()
    failed_replicates: int | None = None
    failed_ids: tuple[int, ...] = ()
    failure: FailureRecord | None = None
    outputs: tuple[FileRecord, ...] = ()
    charts: Charts = Charts()
    versions: dict[str, str | None] = {}
    code_version: str = ""
    created: str = ""
    completed: str | None = None
    command: tuple[str, ...] | None = None
    execution: Execution | None = None
    timing: Timing | None = None
    resumed: tuple[Resumption, ...] = ()

    @property
    def seed(self) -> int:
        """The run seed."""
        return self.spec.seed

    @property
    def tables_complete(self) -> bool:
        """Every table of the run has been written."""
        return self.status == "complete"

    @property
    def is_complete(self) -> bool:
        """The tables and every promised chart are written."""
        return self.status == "complete" and self.charts.status in ("none", "drawn")

    def output(self, path: str) -> FileRecord | None:
        """The record of a final table or chart by its relative path."""
        for rec in (*self.outputs, *self.charts.files):
            if rec.path == path:
                return rec
        return None

    def with_chunk(self, entry: ChunkEntry) -> Manifest:
        """A copy with chunk ``entry.index`` replaced (or appended when it is the next one)."""
        chunks = list(self.chunks)
        if entry.index == len(chunks):
            chunks.append(entry)
        else:
            chunks[entry.index] = entry
        return self.model_copy(update={"chunks": tuple(chunks)})

    def to_json(self) -> str:
        """The manifest as indented JSON text (what ``manifest.json`` holds)."""
        return self.model_dump_json(indent=2) + "\n"


RUN_SPECIFIC_FIELDS: tuple[str, ...] = (
    "created",
    "completed",
    "command",
    "execution",
    "timing",
    "resumed",
)
"""Manifest fields that describe one execution and may differ between runs with equal results."""


def parse_manifest(text: str | bytes) -> Manifest:
    """Read manifest JSON text, strictly.

    Raises:
        ValueError: with a one-line description of the first problems (not JSON, wrong format,
            a missing or mistyped field).
    """
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as e:
        problems = []
        for err in e.errors()[:3]:
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{where}: {err['msg']}")
        more = f" (and {e.error_count() - 3} more)" if e.error_count() > 3 else ""
        raise ValueError("; ".join(problems) + more) from None
