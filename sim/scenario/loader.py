"""Reading scenario files: YAML with line numbers, ``extends``, ``--set`` overrides, validation.

The loader turns a file into a frozen :class:`~sim.scenario.schema.Scenario` in four steps:

1. **Parse** with PyYAML's *composer* only. The node tree keeps every line number; plain dicts
   and lists are built from it here, and only the standard scalar types (text, numbers,
   booleans, null, dates) are constructed. No tag ever names a Python object, so nothing in a
   file is evaluated. While building, every key path records the file and line that set it.
2. **Extend**: ``extends: base.yaml`` (relative to the extending file, may chain) merges the
   base under the file. Mappings merge key by key; lists and scalars in the file replace the
   base's.
3. **Override**: each ``--set path.to.key=value`` replaces one value of the merged tree.
4. **Validate** with :func:`~sim.scenario.schema.validate_scenario`; every problem is given the
   file and line that set the value it is about (``--set ...`` for an override).

Every mistake raises :class:`~sim.scenario.schema.ScenarioError` (a
:class:`~sim.errors.UserError`), which lists all problems found, one per line, as
``scenarios/x.yaml:14: actors.china.resolve: must be <= 1.0, got 1.4``.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.errors import UserError
from sim.scenario.schema import (
    Problem,
    Scenario,
    ScenarioError,
    allowed_keys,
    is_param_at,
    validate_scenario,
)

MAX_FILE_BYTES = 1 << 20
"""Scenario files larger than this (1 MiB) are refused before parsing."""

MAX_NODES = 100_000
"""A file may expand to at most this many values once aliases are followed (alias bombs)."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (a scenario needs fewer than ten levels)."""

MAX_EXTENDS = 16
"""Longest chain of ``extends`` accepted."""

KeyPath = tuple[str | int, ...]
Where = tuple[str, int | None]
"""Where a value was set: a file name (or ``--set ...``) and a line (None for ``--set``)."""

# The C parser is much faster and refuses absurd nesting itself; both only compose here.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_MERGE_TAG = _YAML + "merge"
_SCALAR_KINDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "timestamp": "a date",
}


class ScenarioFileError(ScenarioError):
    """A file (or ``--set`` value) that cannot be read at all: missing, binary, not YAML, ...

    Its message is ``file:line: message`` (or ``file: message``) without a key path.
    """

    def __init__(self, file: str, message: str, line: int | None = None):
        self.problems = [Problem((), message, file, line)]
        self.source = file
        # Not ScenarioError.__init__: with no key path, "(top level)" would only add noise.
        UserError.__init__(self, f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass
class _Tree:
    """A plain scenario tree and, for every key path in it, where it was set."""

    data: dict[str, Any]
    where: dict[KeyPath, Where]


@dataclass(frozen=True)
class Override:
    """One ``--set PATH=VALUE``: a key path into the scenario and the value to put there."""

    text: str
    """The argument as typed (``actors.china.resolve=0.7``), for messages."""
    path: KeyPath
    value: Any

    @property
    def origin(self) -> str:
        """``--set actors.china.resolve=0.7``: how problems with this value are located."""
        return f"--set {self.text}"


# --- Public API -------------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Scenario:
    """Load, extend, override and validate a scenario file.

    Args:
        path: The scenario file; problems name it as given (relative stays relative).
        overrides: ``PATH=VALUE`` strings as given to ``--set``, applied in order after
            ``extends`` and before validation.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: listing every problem as ``file:line: key.path: message``.
    """
    display = os.fspath(path)
    tree = _resolve(display, overrides)
    try:
        return validate_scenario(tree.data, source=display)
    except ScenarioError as e:
        raise ScenarioError(locate(e.problems, tree.where, display), display) from None


def load_tree(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The scenario file as a plain tree after ``extends`` and overrides, not validated.

    Args:
        path: The scenario file.
        overrides: ``PATH=VALUE`` strings as given to ``--set``.

    Returns:
        Nested dicts and lists (``extends`` removed), as the schema will see them.

    Raises:
        ScenarioError: when a file cannot be read or an override does not apply.
    """
    return _resolve(os.fspath(path), overrides).data


def scenario_to_yaml(scenario: Scenario) -> str:
    """A YAML text of a validated scenario, with every default filled in.

    Loading the text again gives a scenario equal to ``scenario``.
    """
    return tree_to_yaml(scenario.model_dump(mode="python", by_alias=True))


def tree_to_yaml(tree: dict[str, Any]) -> str:
    """A plain tree as YAML: block style, with short lists and mappings of numbers on one line."""
    return yaml.dump(
        _plain(tree),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def parse_override(text: str) -> Override:
    """Parse one ``--set`` argument: ``actors.china.resolve=0.7``.

    The value is read as YAML (``0.7``, ``[a, b]``, ``{dist: uniform, low: 0.2, high: 0.6}``);
    list indices are written ``injects[0]`` or ``injects.0``.

    Raises:
        ScenarioError: when there is no ``=``, the path is malformed or the value is not YAML.
    """
    origin = f"--set {text}"
    if "=" not in text:
        raise ScenarioFileError(
            origin, "expected PATH=VALUE, for example --set actors.china.resolve=0.7"
        )
    raw_path, raw_value = text.split("=", 1)
    path = parse_key_path(raw_path.strip(), origin)
    if len(raw_value.encode()) > MAX_FILE_BYTES:
        raise ScenarioFileError(origin, "value is larger than 1 MiB")
    node = _compose(raw_value, origin, with_lines=False)
    if node is None:
        return Override(text, path, None)
    builder = _Builder(origin)
    value = builder.value(node)
    if builder.problems:
        # Key paths inside the value continue the override's path; there is no line to give.
        problems = [replace(p, path=(*path, *p.path), line=None) for p in builder.problems]
        raise ScenarioError(problems, origin)
    return Override(text, path, value)


def parse_key_path(text: str, origin: str = "key path") -> KeyPath:
    """``injects[0].when.1.flag`` -> ``('injects', 0, 'when', '1', 'flag')``.

    Segments after a dot stay text (they are turned into list indices where the tree has a
    list); bracketed ones are indices.

    Raises:
        ScenarioError: for an empty or malformed path.
    """
    parts: list[str | int] = []
    for chunk in text.split("."):
        m = re.fullmatch(r"([^\[\]\s]*)((?:\[\d+\])*)", chunk)
        if not m or not (m.group(1) or m.group(2)):
            raise ScenarioFileError(
                origin,
                f"malformed key path {text!r}: write keys separated by dots and list indices "
                "as [0], for example injects[0].probability",
            )
        if m.group(1):
            parts.append(m.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tuple(parts)


def locate(problems: Sequence[Problem], where: dict[KeyPath, Where], file: str) -> list[Problem]:
    """Give each problem the file and line that set the value it is about.

    The longest prefix of a problem's key path that was set somewhere decides (a missing key
    is reported at the mapping that lacks it). Problems are sorted by file and line.
    """
    out = []
    for p in problems:
        loc: Where = (file, None)
        for n in range(len(p.path), -1, -1):
            if (hit := where.get(tuple(p.path[:n]))) is not None:
                loc = hit
                break
        out.append(replace(p, file=loc[0], line=loc[1]))
    return sorted(out, key=lambda p: (p.file or "", p.line or 0))


# --- Resolving a file: extends, then overrides -------------------------------------------------


def _resolve(display: str, overrides: Sequence[str]) -> _Tree:
    # Parse every override first: a malformed --set is reported before any file is read.
    parsed = [parse_override(o) for o in overrides]
    tree = _load_with_bases(display, display, [])
    for ov in parsed:
        _apply(tree, ov)
    return tree


def _load_with_bases(display: str, open_path: str, chain: list[tuple[str, str]]) -> _Tree:
    chain = [*chain, (os.path.realpath(open_path), display)]
    tree = _read_file(display, open_path)
    if "extends" not in tree.data:
        return tree
    ext = tree.data.pop("extends")
    where = tree.where.pop(("extends",))

    def fail(message: str) -> ScenarioError:
        return ScenarioError([Problem(("extends",), message, *where)], display)

    if not isinstance(ext, str) or not ext.strip():
        raise fail(f"expected the path of a base scenario file, got {_describe(ext)}")
    base_open = os.path.join(os.path.dirname(open_path), ext)
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), ext))
    seen = [real for real, _ in chain]
    if os.path.realpath(base_open) in seen:
        names = [name for _, name in chain[seen.index(os.path.realpath(base_open)) :]]
        raise fail(f"cycle: {' -> '.join([*names, base_display])}")
    if len(chain) > MAX_EXTENDS:
        raise fail(f"more than {MAX_EXTENDS} files deep in extends")
    if not os.path.lexists(base_open):
        raise fail(f"base file not found: {base_display}")
    if os.path.isdir(base_open):
        raise fail(f"{base_display} is a directory, not a base scenario file")
    base = _load_with_bases(base_display, base_open, chain)
    return _merge(base, tree)


def _merge(base: _Tree, child: _Tree) -> _Tree:
    """The child's tree laid over the base's.

    Mappings merge key by key; lists, scalars and distributions in the child replace the base's.
    """
    replaced: set[KeyPath] = set()

    def lay(b: dict[str, Any], c: dict[str, Any], path: KeyPath) -> None:
        for key, value in c.items():
            p = (*path, key)
            # A distribution is one value, not a section: the child's replaces the base's.
            if isinstance(b.get(key), dict) and isinstance(value, dict) and not is_param_at(p):
                lay(b[key], value, p)
            else:
                b[key] = value
                replaced.add(p)

    lay(base.data, child.data, ())
    # A replaced subtree's old lines are stale: drop every base path under a replaced one.
    where = {
        p: w
        for p, w in base.where.items()
        if not any(p[:n] in replaced for n in range(1, len(p) + 1))
    }
    where.update(child.where)
    return _Tree(base.data, where)


def _apply(tree: _Tree, ov: Override) -> None:
    """Put an override's value into the tree, refusing paths the schema does not know."""
    node: Any = tree.data
    walked: KeyPath = ()
    for i, seg in enumerate(ov.path):
        last = i == len(ov.path) - 1
        if isinstance(node, list):
            index = seg if isinstance(seg, int) else int(seg) if str(seg).isdigit() else None
            if index is None:
                raise _set_error(ov, f"{_dotted(walked)} is a list: use an index such as [0]")
            if index >= len(node):
                raise _set_error(
                    ov,
                    f"index {index} is out of range: {_dotted(walked)} has {len(node)} "
                    "item(s); to add one, set the whole list",
                )
            key: str | int = index
        elif isinstance(node, dict):
            if isinstance(seg, int):
                raise _set_error(ov, f"{_dotted(walked)} is a mapping, not a list")
            key = seg
            if key not in node:
                known = allowed_keys(walked, tree.data)
                free_entry = known is None and last  # a new entry of e.g. ``moves``
                if not free_entry and (known is None or key not in known):
                    raise _set_error(ov, "unknown key" + _suggest_path(ov.path, tree.data))
                if not last:
                    node[key] = {}
                    tree.where[(*walked, key)] = (ov.origin, None)
        else:
            raise _set_error(
                ov,
                f"{_dotted(walked)} is {_describe(node)}, not a mapping or a list"
                + _suggest_path(ov.path, tree.data),
            )
        walked = (*walked, key)
        if last:
            node[key] = ov.value
        else:
            if node[key] is None and allowed_keys(walked, tree.data):
                node[key] = {}  # an optional section written as null
            node = node[key]
    for p in [p for p in tree.where if p[: len(walked)] == walked]:
        del tree.where[p]
    tree.where[walked] = (ov.origin, None)


def _set_error(ov: Override, message: str) -> ScenarioError:
    return ScenarioError([Problem(ov.path, message, ov.origin)], ov.origin)


def _suggest_path(path: KeyPath, data: dict[str, Any]) -> str:
    """``; did you mean actors.china.resolve?`` from the tree's paths and the schema's keys."""
    candidates: set[str] = set()

    def walk(node: Any, p: KeyPath) -> None:
        if p:
            candidates.add(_dotted(p))
        if isinstance(node, dict):
            for k in allowed_keys(p, data) or ():
                candidates.add(_dotted((*p, k)))  # keys the file could have but leaves out
            for k, v in node.items():
                walk(v, (*p, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*p, i))

    walk(data, ())
    target = _dotted(path)
    depth = len(path)
    # Prefer a path as deep as the one asked for: a typo rarely drops a whole level.
    same_depth = [c for c in candidates if c.count(".") + c.count("[") + 1 == depth]
    for pool in (same_depth, sorted(candidates)):
        close = difflib.get_close_matches(target, sorted(pool), n=1, cutoff=0.6)
        if close:
            return f"; did you mean {close[0]}?"
    return ""


# --- Parsing one file --------------------------------------------------------------------------


def _read_file(display: str, open_path: str) -> _Tree:
    text = _read_text(display, open_path)
    root = _compose(text, display)
    if root is None:
        raise ScenarioFileError(display, "the file is empty (no YAML document in it)")
    if not isinstance(root, MappingNode):
        raise ScenarioFileError(
            display,
            f"the top level must be a mapping of keys (name: ..., title: ...), got "
            f"{_node_kind(root)}",
            _line(root),
        )
    builder = _Builder(display)
    data = builder.value(root)
    if builder.problems:
        raise ScenarioError(sorted(builder.problems, key=lambda p: p.line or 0), display)
    where: dict[KeyPath, Where] = {p: (display, line) for p, line in builder.lines.items()}
    return _Tree(data, where)


def _read_text(display: str, open_path: str) -> str:
    try:
        st = os.stat(open_path)
    except (FileNotFoundError, NotADirectoryError):
        raise ScenarioFileError(display, "no such file") from None
    except OSError as e:
        raise ScenarioFileError(display, f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioFileError(display, "is a directory, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioFileError(display, "is not a regular file")
    too_big = f"is larger than {MAX_FILE_BYTES // (1 << 20)} MiB; scenario files are small text"
    if st.st_size > MAX_FILE_BYTES:
        raise ScenarioFileError(display, too_big)
    try:
        with open(open_path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the size may have changed since stat
    except OSError as e:
        raise ScenarioFileError(display, f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioFileError(display, too_big)
    if b"\0" in raw:
        raise ScenarioFileError(display, "contains NUL bytes: a binary file, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ScenarioFileError(
            display, f"is not UTF-8 text (byte 0x{raw[e.start]:02x})", line
        ) from None


def _compose(text: str, display: str, with_lines: bool = True) -> Node | None:
    try:
        return _compose_or_raise(text, display)
    except ScenarioFileError as e:
        if with_lines:
            raise
        raise ScenarioFileError(display, e.problems[0].message) from None


def _compose_or_raise(text: str, display: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        message = e.problem or e.context or "invalid YAML"
        if e.context == "expected a single document in the stream":
            message = "a second document ('---') starts here; a scenario file holds one"
        elif e.problem and e.context:
            at = f" at line {e.context_mark.line + 1}" if e.context_mark else ""
            message += f" ({e.context}{at})"
        raise ScenarioFileError(
            display, f"invalid YAML: {message}", mark.line + 1 if mark else None
        ) from None
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        raise ScenarioFileError(
            display, f"invalid YAML: character #x{e.character:04x} is not allowed", line
        ) from None
    except yaml.YAMLError as e:
        raise ScenarioFileError(display, f"invalid YAML: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise ScenarioFileError(display, f"nested deeper than {MAX_DEPTH} levels") from None


class _Builder:
    """Builds plain values from a composed node tree, recording each key path's line.

    Problems that leave the rest of the file readable (a duplicate key, a forbidden tag) are
    collected so that all are reported; runaway expansion stops at once.
    """

    def __init__(self, display: str):
        self.display = display
        self.problems: list[Problem] = []
        self.lines: dict[KeyPath, int] = {}
        self._count = 0
        self._open: set[int] = set()
        self._scalars = SafeConstructor()

    def value(self, node: Node) -> Any:
        """The plain value of ``node`` (the top of a file or of a ``--set`` value)."""
        self.lines[()] = _line(node)
        return self._build(node, (), self.lines)

    def _problem(self, path: KeyPath, message: str, node: Node) -> None:
        self.problems.append(Problem(path, message, self.display, _line(node)))

    def _build(self, node: Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise ScenarioFileError(
                self.display, f"file expands beyond {MAX_NODES:,} nodes (alias bomb?)"
            )
        if len(path) > MAX_DEPTH:
            raise ScenarioFileError(
                self.display, f"nested deeper than {MAX_DEPTH} levels", _line(node)
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            raise ScenarioFileError(
                self.display, "an alias refers to a mapping or list that contains it", _line(node)
            )
        expected = _YAML + ("map" if isinstance(node, MappingNode) else "seq")
        if node.tag != expected:
            self._problem(path, _tag_message(node.tag), node)
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                out_list = []
                for i, item in enumerate(node.value):
                    lines[(*path, i)] = _line(item)
                    out_list.append(self._build(item, (*path, i), lines))
                return out_list
            assert isinstance(node, yaml.MappingNode)
            return self._mapping(node, path, lines)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: MappingNode, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(path, "a key must be a plain name, not a list or mapping", key_node)
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self._problem((*path, key_node.value), _tag_message(key_node.tag), key_node)
                continue
            # Keys are kept as written: the schema's keys are all names, and YAML 1.1 would
            # otherwise turn a key such as ``no`` into False.
            key = key_node.value
            if key in first:
                self._problem(
                    (*path, key), f"duplicate key (first set at line {first[key]})", key_node
                )
                continue
            first[key] = _line(key_node)
            lines[(*path, key)] = _line(key_node)
            out[key] = self._build(value_node, (*path, key), lines)
        # ``<<: *anchor`` merge keys: keys written here win, then earlier merged mappings.
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for src in sources:
                if not isinstance(src, MappingNode):
                    self._problem(path, "<< (merge) needs a mapping or a list of mappings", src)
                    continue
                src_lines: dict[KeyPath, int] = {}
                merged = self._build(src, path, src_lines)
                for key, value in (merged or {}).items():
                    if key not in out:
                        out[key] = value
                        under = (*path, key)
                        lines.update(
                            (p, ln) for p, ln in src_lines.items() if p[: len(under)] == under
                        )
        return out

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._problem(path, _tag_message(node.tag), node)
            return None
        kind = _SCALAR_KINDS[node.tag.removeprefix(_YAML)]
        if node.tag == _YAML + "str" and not node.style and _EXPONENT.match(node.value):
            # YAML 1.1 reads 1e-9 and 1e308 (no dot in the mantissa) as text; YAML 1.2, JSON
            # and every reader of the file read a number, so the loader does too. Quoted
            # text ('1e-9') stays text.
            return float(node.value)
        try:
            return SafeConstructor.yaml_constructors[node.tag](self._scalars, node)
        except (ValueError, TypeError, OverflowError) as e:
            # e.g. ``!!int abc``, ``2024-02-30``, or an integer of thousands of digits
            reason = str(e).split(";")[0]
            self._problem(path, f"cannot read {_describe(node.value)} as {kind}: {reason}", node)
            return None


_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
"""A plain number with an exponent, which YAML 1.1 resolves as a number only with a dot."""


def _tag_message(tag: str) -> str:
    short = "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag
    return f"tag {short} is not allowed: scenario files hold plain data (no tags)"


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _node_kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return f"the single value {_describe(node.value)}"


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:37] + "...")
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _dotted(path: KeyPath) -> str:
    return Problem(path, "").dotted


class _Dumper(yaml.SafeDumper):
    """Block style, except short collections of plain values (``{dist: beta, a: 2, b: 5}``)."""


def _short(data: dict[str, Any] | list[Any]) -> bool:
    values = data.values() if isinstance(data, dict) else data
    scalar = (int, float, bool, str, type(None))
    return all(isinstance(v, scalar) for v in values) and len(repr(data)) <= 80


def _dump_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping(_YAML + "map", data.items(), flow_style=_short(data))


def _dump_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence(_YAML + "seq", data, flow_style=_short(data))


def _dump_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar(_YAML + "str", data, style=style)


_Dumper.add_representer(dict, _dump_dict)
_Dumper.add_representer(list, _dump_list)
_Dumper.add_representer(str, _dump_str)


def _plain(v: Any) -> Any:
    """Tuples to lists (safe_dump writes only plain YAML types)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Override",
    "ScenarioFileError",
    "load_scenario",
    "load_tree",
    "locate",
    "parse_key_path",
    "parse_override",
    "scenario_to_yaml",
    "tree_to_yaml",
]
