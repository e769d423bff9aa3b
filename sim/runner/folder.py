"""The one door into a results folder: every file inside one is opened here, to read or write.

A results folder is untrusted input. It may come from someone else, be edited by hand or be
damaged, and whoever made it may have planted links in it: a ``.lock`` that points at a file
of yours, a ``chunks/`` that points at another folder, a chart that points at ``/etc/passwd``.
So nothing inside a folder is reached by an ordinary ``open(folder / name)``, which follows
links. Instead:

* A path inside the folder is relative, made of plain names (no ``..``, no ``.``, nothing
  absolute, no NUL) - :func:`check_relative`.
* It is reached one component at a time from a descriptor of the folder, each component opened
  with ``O_NOFOLLOW`` (``openat``): a link anywhere below the folder is refused, not followed,
  and no component can be swapped for a link between a check and the open. The result is then
  resolved and compared with the folder's own resolved path as a second, independent check.
* Only regular files are read (a FIFO, a device or a socket is refused without blocking), and
  never more than a stated number of bytes, so a planted huge file cannot fill memory.
* A write goes to a temporary file created in the target's own folder with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` under an unpredictable name, then moved into place with
  ``renameat`` (atomic); a planted file or link of the temporary's name is never written through.
* The lock file is opened with ``O_NOFOLLOW`` and, when absent, created with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` (:func:`open_lock`).

The folder itself is the one the user named (on the command line or in a call): the path to it
is theirs and may pass through links; everything below it is the folder's content and may not.

Errors are :class:`RunFolderError` (the folder's content is unusable: a link, a path leaving the
folder, not a file, larger than allowed) and :class:`StorageError` (the operating system refused
a read or write: permissions, full disk), both one-line :class:`~sim.errors.UserError`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from sim.errors import UserError


class RunFolderError(UserError):
    """A results folder that is missing, not a run folder, damaged or unsafe to read."""


class LinkRefused(RunFolderError):
    """A symbolic link inside a results folder, refused rather than followed."""


_IO_REASONS = {
    errno.EACCES: ("permission denied", "choose a folder you may write to"),
    errno.EPERM: ("operation not permitted", "choose a folder you may write to"),
    errno.EROFS: ("read-only file system", "choose a folder on a writable disk"),
    errno.ENOSPC: ("no space left on the device", "free some space"),
    errno.EDQUOT: ("disk quota exceeded", "free some space"),
    errno.EFBIG: ("file too large (file size limit)", "raise the limit (ulimit -f)"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose another path"),
    errno.EISDIR: ("it is a folder", "choose another path"),
    errno.ENAMETOOLONG: ("path too long", "choose a shorter path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.EEXIST: ("a file of that name exists", "choose another path"),
}


class StorageError(UserError):
    """A file could not be written or read (permissions, read-only, full disk, not a folder).

    One line naming the path, the reason and what to do; ``resume_hint`` is added by callers
    that know the run folder.
    """

    def __init__(
        self, path: str | Path, error: OSError, action: str = "write", advice: str | None = None
    ):
        self.path = Path(path)
        self.errno = error.errno
        reason, default_advice = _IO_REASONS.get(
            error.errno or -1, (error.strerror or type(error).__name__, "check the path")
        )
        advice = advice if advice is not None else default_advice
        self.reason = reason
        self.advice = advice
        super().__init__(f"{self.path}: cannot {action} ({reason}); {advice}")

    @property
    def out_of_space(self) -> bool:
        """The disk (or quota, or file size limit) is full: resuming later can finish the run."""
        return self.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


MAX_RECORD_BYTES = 64 * 2**20
"""Largest JSON record (manifest, comparison, analysis, backtest, game log) read from a folder."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


def _link_error(folder: Path, rel: str) -> LinkRefused:
    return LinkRefused(
        f"{folder / rel}: refused: a symbolic link inside a results folder (a folder holds its "
        "own files only; links are never followed)"
    )


def check_relative(rel: str, folder: Path | None = None) -> tuple[str, ...]:
    """The components of ``rel``, a path inside a folder made of plain names only.

    Raises:
        RunFolderError: an empty, absolute or dotted path, or a name with control characters
            (a record naming such a path is not one this engine wrote).
    """
    where = f"{folder}: " if folder is not None else ""
    text = str(rel)
    parts = tuple(text.split("/"))
    if (
        not text
        or text.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or _BAD_NAME.search(text)
    ):
        raise RunFolderError(
            f"{where}refused the path {text[:80]!r}: a results folder names its files by plain "
            "relative names (no '..', nothing absolute)"
        )
    return parts


class ResultsFolder:
    """A results folder, whose every file is opened through this object.

    Args:
        root: The folder as the user named it.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResultsFolder({str(self.root)!r})"

    # ------------------------------------------------------------------ walking

    def _open_root(self) -> int:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise RunFolderError(f"{self.root}: no such folder") from None
        except NotADirectoryError:
            raise RunFolderError(f"{self.root}: not a folder") from None
        except OSError as e:
            raise StorageError(self.root, e, "open the folder") from None

    @contextlib.contextmanager
    def _dir(self, parts: tuple[str, ...], create: bool = False) -> Iterator[int]:
        """A descriptor of the folder ``parts`` below the root, each component not a link.

        With ``create``, missing components are made (``mkdirat``), never through a link.
        """
        fd = self._open_root()
        try:
            for i, name in enumerate(parts):
                rel = "/".join(parts[: i + 1])
                try:
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(name, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass  # made by someone else meanwhile: opened (and checked) below
                    except OSError as e:
                        raise StorageError(self.root / rel, e, "create the folder") from None
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    if e.errno == errno.ELOOP or (e.errno == errno.ENOTDIR and _is_link(fd, name)):
                        raise _link_error(self.root, rel) from None
                    if e.errno == errno.ENOTDIR:
                        raise RunFolderError(f"{self.root / rel}: not a folder") from None
                    raise
                os.close(fd)
                fd = nxt
            yield fd
        finally:
            os.close(fd)

    def _split(self, rel: str) -> tuple[tuple[str, ...], str]:
        parts = check_relative(rel, self.root)
        return parts[:-1], parts[-1]

    def kind(self, rel: str) -> str:
        """What is at ``rel``: ``file``, ``folder``, ``link``, ``other`` or ``missing``.

        Never follows a link, at ``rel`` or on the way to it (a link on the way: ``link``).
        """
        parents, name = self._split(rel)
        try:
            with self._dir(parents) as fd:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except LinkRefused:
            return "link"
        except (RunFolderError, FileNotFoundError, NotADirectoryError):
            return "missing"
        if stat.S_ISLNK(st.st_mode):
            return "link"
        if stat.S_ISREG(st.st_mode):
            return "file"
        if stat.S_ISDIR(st.st_mode):
            return "folder"
        return "other"

    def exists(self, rel: str) -> bool:
        """A regular file or a folder (not a link) is at ``rel``."""
        return self.kind(rel) in ("file", "folder")

    def require_folder(self, rel: str) -> Path:
        """``root/rel``, after checking it is a folder reached without links.

        Raises:
            RunFolderError: a link, a file, or nothing there.
        """
        kind = self.kind(rel)
        if kind == "link":
            raise _link_error(self.root, rel)
        if kind != "folder":
            raise RunFolderError(f"{self.root / rel}: missing or not a folder")
        return self.root / rel

    def listdir(self, rel: str = "") -> list[str]:
        """Names in the folder ``rel`` (sorted); ``[]`` when there is no such folder."""
        parts = check_relative(rel, self.root) if rel else ()
        try:
            with self._dir(parts) as fd:
                return sorted(os.listdir(fd))
        except (FileNotFoundError, NotADirectoryError):
            return []

    # ------------------------------------------------------------------ reading

    def read_bytes(self, rel: str, max_bytes: int = MAX_RECORD_BYTES, cut: bool = False) -> bytes:
        """The bytes of the regular file ``rel``, at most ``max_bytes`` of them.

        With ``cut``, a larger file gives its first ``max_bytes`` bytes (for a caller that
        compares the size with a record) instead of an error.

        Raises:
            RunFolderError: a link, not a regular file, missing, or larger than ``max_bytes``.
            StorageError: the operating system refused the read.
        """
        parents, name = self._split(rel)
        path = self.root / rel
        try:
            with self._dir(parents) as dfd:
                try:
                    fd = os.open(name, _READ_FLAGS, dir_fd=dfd)
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise _link_error(self.root, rel) from None
                    raise
                try:
                    st = os.fstat(fd)
                    if not stat.S_ISREG(st.st_mode):
                        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                        raise RunFolderError(f"{path}: is {what}, not a file")
                    if st.st_size > max_bytes and not cut:
                        raise RunFolderError(
                            f"{path}: larger than the {max_bytes:,} bytes allowed for it"
                        )
                    data = _read_all(fd, max_bytes if cut else max_bytes + 1)
                finally:
                    os.close(fd)
        except FileNotFoundError:
            raise RunFolderError(f"{path}: missing") from None
        except NotADirectoryError:
            raise RunFolderError(f"{path}: missing (a part of the path is not a folder)") from None
        except IsADirectoryError:
            raise RunFolderError(f"{path}: is a folder, not a file") from None
        except OSError as e:
            raise StorageError(path, e, "read") from None
        if len(data) > max_bytes:
            raise RunFolderError(f"{path}: larger than the {max_bytes:,} bytes allowed for it")
        self._check_inside(rel)
        return data

    def read_text(self, rel: str, max_bytes: int = MAX_RECORD_BYTES) -> str:
        """:meth:`read_bytes` decoded as UTF-8 (undecodable text: a one-line error)."""
        data = self.read_bytes(rel, max_bytes)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise RunFolderError(f"{self.root / rel}: not UTF-8 text") from None

    def read_json(self, rel: str, what: str = "record") -> object:
        """The JSON record ``rel``, bounded in size and nesting (see :func:`parse_json`)."""
        return parse_json(self.read_bytes(rel), self.root / rel, what)

    def read_verified(self, rel: str, size: int, sha256: str) -> bytes | None:
        """The bytes of ``rel`` when they have exactly ``size`` bytes and this SHA-256, else None.

        A file of another size is not read past ``size + 1`` bytes.
        """
        data = self.read_bytes(rel, max_bytes=size + 1, cut=True)
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            return None
        return data

    def _check_inside(self, rel: str) -> None:
        # Second, independent check: the resolved path lies inside the resolved folder. The
        # component walk already guarantees it; this guards against a walk that was wrong.
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(self.root / rel)
        if os.path.commonpath([real_root, real]) != real_root:
            raise RunFolderError(f"{self.root / rel}: refused: resolves outside the folder")

    # ------------------------------------------------------------------ writing

    def mkdir(self, rel: str) -> None:
        """Make the folder ``rel`` (and its parents) inside the root, never through a link."""
        with self._dir(check_relative(rel, self.root), create=True):
            pass

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel`` atomically, in a temporary file of the target's folder.

        Missing folders on the way are made; a link anywhere below the root is refused, and a
        link at ``rel`` itself is replaced, never written through.

        Raises:
            RunFolderError: a link on the way.
            StorageError: the file cannot be written (one line naming the path and the reason).
        """
        parents, name = self._split(rel)
        path = self.root / rel
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(self.root, e, "create the folder") from None
        try:
            with self._dir(parents, create=True) as dfd:
                tmp, fd = _create_temporary(dfd, name)
                try:
                    try:
                        view = memoryview(data)
                        while view:
                            view = view[os.write(fd, view) :]
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                    os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp, dir_fd=dfd)
                    raise
        except RunFolderError:
            raise
        except OSError as e:
            raise StorageError(path, e) from None

    def unlink(self, rel: str) -> bool:
        """Remove the file (or link) ``rel`` itself, never what a link points to.

        Returns:
            Whether something was removed.
        """
        parents, name = self._split(rel)
        try:
            with self._dir(parents) as dfd:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    return False
                os.unlink(name, dir_fd=dfd)
                return True
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as e:
            raise StorageError(self.root / rel, e, "remove") from None


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _read_all(fd: int, limit: int) -> bytes:
    chunks = []
    got = 0
    while got < limit:
        b = os.read(fd, min(1 << 20, limit - got))
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _create_temporary(dir_fd: int, name: str) -> tuple[str, int]:
    """A new temporary file beside ``name`` in the folder ``dir_fd``: (its name, its fd).

    ``O_EXCL | O_NOFOLLOW`` and a random suffix: a file or link planted under a temporary's
    name is never opened, let alone written through.
    """
    for _ in range(100):
        tmp = f".{name[:200]}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            fd = os.open(
                tmp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=dir_fd,
            )
        except FileExistsError:
            continue
        return tmp, fd
    raise OSError(errno.EEXIST, "no free temporary file name")


TEMPORARY = re.compile(r"^\..+\.tmp-\d+(-[0-9a-f]{8})?$")
"""Names of the temporary files :meth:`ResultsFolder.write_bytes` makes (a killed write leaves
one behind)."""


def open_lock(folder: Path, name: str) -> int:
    """A read-write descriptor of the lock file ``folder/name``, never through a link.

    An existing lock file (a stale one left by a killed holder, or a live holder's) is opened
    with ``O_NOFOLLOW``; an absent one is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``.

    Raises:
        RunFolderError: the lock is a link or not a regular file.
        OSError: the operating system refused (the caller names the action).
    """
    rf = ResultsFolder(folder)
    check_relative(name, folder)
    with rf._dir(()) as dfd:
        for _ in range(10):
            try:
                fd = os.open(
                    name, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd
                )
            except FileNotFoundError:
                try:
                    fd = os.open(
                        name,
                        os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                        0o644,
                        dir_fd=dfd,
                    )
                except FileExistsError:
                    continue  # another writer made it meanwhile: open theirs
            except OSError as e:
                if e.errno == errno.ELOOP:
                    raise _link_error(folder, name) from None
                raise
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise RunFolderError(f"{folder / name}: refused: the lock is not a regular file")
            return fd
    raise OSError(errno.EAGAIN, "the lock file kept changing")


def unlink_lock(folder: Path, name: str, fd: int) -> None:
    """Remove the lock file ``folder/name`` if it is still the file ``fd`` holds."""
    with contextlib.suppress(OSError, UserError), ResultsFolder(folder)._dir(()) as dfd:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        if st.st_ino == os.fstat(fd).st_ino and stat.S_ISREG(st.st_mode):
            os.unlink(name, dir_fd=dfd)


def require_new_folder(path: Path, option: str = "-o") -> None:
    """Refuse an output path that is a file, or a folder that is not empty, before any work.

    Raises:
        UserError: one line naming the path.
    """
    try:
        if path.exists() and not path.is_dir():
            raise UserError(f"{path}: exists and is not a folder; choose another {option}")
        if path.is_dir() and any(path.iterdir()):
            raise UserError(f"{path}: folder exists and is not empty; choose another {option}")
    except OSError as e:
        raise StorageError(path, e, "use the folder") from None


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON record (ours nest about 8 deep)."""

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """How deeply the arrays and objects of JSON text nest (brackets inside strings ignored)."""
    import numpy as np

    bare = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    if bare.size == 0:
        return 0
    step = np.isin(bare, (ord("["), ord("{"))).astype(np.int64) - np.isin(
        bare, (ord("]"), ord("}"))
    ).astype(np.int64)
    return int(np.cumsum(step).max(initial=0))


def parse_json(data: bytes, path: Path | str, what: str = "record") -> object:
    """JSON text of a folder's record (or a game log), parsed with its nesting bounded.

    The depth is measured before parsing (:func:`json_depth`): Python's parser recurses once per
    level, so a file of 100,000 ``[`` would otherwise end in a RecursionError, not a message.

    Raises:
        RunFolderError: not UTF-8, not JSON, or nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    import json

    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise RunFolderError(
            f"{path}: unreadable {what} (JSON nested {depth:,} deep, more than the "
            f"{MAX_JSON_DEPTH} allowed)"
        )
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{path}:{e.lineno}: unreadable {what} (not JSON: {e.msg})") from None
    except (UnicodeDecodeError, RecursionError, ValueError) as e:
        text = " ".join(str(e).split())[:120]
        raise RunFolderError(f"{path}: unreadable {what} ({type(e).__name__}: {text})") from None


def read_json_file(path: Path, what: str = "record", max_bytes: int = MAX_RECORD_BYTES) -> object:
    """A JSON file the user named (a game log), read bounded in size and nesting.

    The path is the user's own choice, so a link at it is followed; the file must still be a
    regular file no larger than ``max_bytes``.

    Raises:
        RunFolderError: missing, not a regular file, too large, not JSON or too deep.
    """
    resolved = Path(os.path.realpath(path))
    data = ResultsFolder(resolved.parent).read_bytes(resolved.name, max_bytes)
    return parse_json(data, path, what)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters (ANSI escapes, bells, carriage returns), for a terminal.

    Names, titles and messages from a folder or a scenario reach the terminal; an escape
    sequence in them could recolour, move or hide what the terminal shows. Newlines and tabs
    stay.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


__all__ = [
    "MAX_RECORD_BYTES",
    "TEMPORARY",
    "LinkRefused",
    "ResultsFolder",
    "RunFolderError",
    "StorageError",
    "check_relative",
    "json_depth",
    "open_lock",
    "parse_json",
    "printable",
    "read_json_file",
    "require_new_folder",
    "unlink_lock",
]
