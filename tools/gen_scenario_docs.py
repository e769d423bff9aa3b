"""Generate ``docs/scenarios.md``, the scenario file reference, from the schema.

Every section, key, type, bound, default and description comes from the pydantic models in
``sim/scenario/schema.py`` and ``sim/scenario/distributions.py``; the examples are checked
against the schema while generating, and the error messages shown are produced by loading real
(temporary) files. A test regenerates the page and compares it with the committed one, so edit
the schema (``Field(description=...)``, class docstrings) and then run::

    python tools/gen_scenario_docs.py          # rewrite docs/scenarios.md
    python tools/gen_scenario_docs.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import shutil
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter

from sim.scenario import distributions, loader, schema
from sim.scenario.distributions import Dist
from sim.scenario.schema import (
    FEATURES,
    FLAGS,
    ActorName,
    Feature,
    Flag,
    Scenario,
    ScenarioError,
    field_bounds,
    is_param,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "scenarios.md"
BASE = REPO / "scenarios" / "base.yaml"

DIST_EXAMPLES: dict[str, str] = {
    "fixed": "{dist: fixed, value: 0.6}",
    "uniform": "{dist: uniform, low: 0.4, high: 0.8}",
    "truncnormal": "{dist: truncnormal, mean: 0.6, sd: 0.1, low: 0, high: 1}",
    "beta": "{dist: beta, a: 6, b: 4}",
    "triangular": "{dist: triangular, low: 0.3, mode: 0.6, high: 0.9}",
    "choice": "{dist: choice, values: [0.3, 0.6, 0.9], weights: [1, 2, 1]}",
    "draws": "{dist: draws, table: ladder, values: [-7.1, -6.4, -8.0]}",
}
"""One example per distribution; generation fails if a distribution has none or it is invalid."""

EXAMPLE = """\
# my_variant.yaml - what if China is more exposed to EU trade and Minsk stages an incident?
extends: base.yaml                 # a path relative to this file

name: my_variant
title: "China exposed, staged incident on day 5"

actors:
  china:
    resolve: {dist: beta, a: 2, b: 8}       # replaces the base's distribution whole
    motives:
      extend_drills: {blame_west: 2.0}      # merged into the base's motives for 'extend_drills'

alignment:
  exposure: {dist: uniform, low: 0.7, high: 0.9}

injects:                           # a list: replaces the base's list
  - name: staged_incident
    description: "Belarus stages a border incident during the drills"
    day: 5
    probability: 0.8
    force_move: {actor: belarus, move: stage_incident, target: ukraine}
  - name: crossing_closed
    window: [6, 30]
    when:                          # all conditions must hold
      - {flag: staged_incident}
      - {rung_at_least: {actor: poland, rung: show_of_force}}
    probability: 0.1
    start_measure: {actor: poland, measure: close_border, target: belarus}
"""
"""A small valid scenario; generation fails if it does not load against the shipped base."""

BROKEN_EXAMPLE = """\
extends: base.yaml
actors:
  china:
    resolve: 1.4
    resolv: 0.3
    risk_tolerance: {dist: uniform, low: 0.6, high: 0.2}
horizon_days: sixty
"""

SET_EXAMPLES = [
    "actors.china.resolve=0.7",
    "actors.china.resolve={dist: uniform, low: 0.2, high: 0.6}",
    "injects[0].probability=0.5",
    "injects.0.day={dist: choice, values: [3, 5, 8]}",
    "actors.china.allies=[russia]",
]
BROKEN_SETS = ["actors.china.resolv=0.5", "actors.china.resolve=1.4", "actors.china.resolve"]


def render() -> str:
    """The whole page, as Markdown."""
    models = _models()
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        shutil.copy(BASE, "base.yaml")
        Path("calibration").mkdir()  # base.yaml extends the calibrated ladder dynamics
        shutil.copy(BASE.parent / "calibration" / "ladder_dynamics.yaml", "calibration")
        Path("my_variant.yaml").write_text(EXAMPLE, encoding="utf-8")
        loader.load_scenario("my_variant.yaml", SET_EXAMPLES)  # raises if the examples rot
        set_errors = [_errors("my_variant.yaml", [s])[0] for s in BROKEN_SETS]
        Path("broken.yaml").write_text(BROKEN_EXAMPLE, encoding="utf-8")
        errors = _errors("broken.yaml", [])
    parts = [
        _intro(models),
        _example(),
        "## Keys\n\nEvery mapping below is closed: a key it does not list is an error (with a "
        "suggestion of the closest valid key). *Required* keys have no default.\n",
        *(_model_section(m, where) for m, where in models.items()),
        _distributions(),
        _table_section(
            "Features",
            "The quantities `motives` weights refer to (`actors.<actor>.motives."
            "<move or measure>.<feature>: weight`; also `alignment.up` and `alignment.down`). "
            "Each weight multiplies the feature's value and is added to the choice's utility "
            "(see [MODEL.md](MODEL.md)).",
            ("feature", "what it measures"),
            FEATURES,
        ),
        _table_section(
            "Flags",
            "World flags that conditions (`flag`, `not_flag`) test and injects may raise "
            "(`set_flag`).",
            ("flag", "set when"),
            FLAGS,
        ),
        _conditions_and_injects(),
        _extends(),
        _overrides(),
        _errors_section(errors, set_errors),
        _limits(),
    ]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


# --- Walking the models -------------------------------------------------------------------------


def _field_type(info: Any) -> Any:
    # Pydantic keeps Annotated metadata (bounds, the Param mark) beside the annotation.
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _models() -> dict[type[BaseModel], list[str]]:
    """Every model reachable from Scenario, each after the one that holds it (depth first),
    with the key paths it appears at."""
    found: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], where: str) -> None:
        if model in found:
            found[model].append(where)
            return
        found[model] = [where]
        for name, info in model.model_fields.items():
            key = info.alias or name
            for sub, suffix in _nested(_field_type(info), key):
                visit(sub, f"{where}.{key}{suffix}" if where else f"{key}{suffix}")

    visit(Scenario, "")
    return found


def _nested(ann: Any, key: str) -> Iterator[tuple[type[BaseModel], str]]:
    """Models inside a field type (not distributions), with the path suffix to reach them."""
    if is_param(ann):
        return
    ann = _strip(ann)
    origin, args = get_origin(ann), get_args(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        yield ann, ""
    elif origin is list:
        yield from ((m, "[]" + s) for m, s in _nested(args[0], key))
    elif origin is dict:
        yield from ((m, f".<{key.removesuffix('s')}>" + s) for m, s in _nested(args[1], key))
    elif origin in (Union, types.UnionType):
        for a in args:
            yield from _nested(a, key)


def _strip(ann: Any) -> Any:
    """Without Annotated and without ``| None``."""
    while True:
        if get_origin(ann) is Annotated:
            ann = get_args(ann)[0]
        elif get_origin(ann) in (Union, types.UnionType) and type(None) in get_args(ann):
            rest = [a for a in get_args(ann) if a is not type(None)]
            ann = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return ann


def _metadata(ann: Any) -> Iterator[Any]:
    if get_origin(ann) is Annotated:
        for m in ann.__metadata__:
            yield m
            yield from getattr(m, "metadata", ())  # a Field(...) inside Annotated
        yield from _metadata(get_args(ann)[0])
    elif get_origin(ann) in (Union, types.UnionType):
        for a in get_args(ann):
            yield from _metadata(a)


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _type_text(ann: Any) -> str:
    """A field type in words, with links to the sections that explain it."""
    if is_param(ann):
        text = "number or [distribution](#distributions)"
        return text + (" or null" if _optional(ann) else "")
    optional = _optional(ann)
    patterns = [m.pattern for m in _metadata(ann) if getattr(m, "pattern", None)]
    ann = _strip(ann)
    origin, args = get_origin(ann), get_args(ann)
    if ann == ActorName:
        text = "actor name"
    elif ann == Feature:
        text = "[feature](#features)"
    elif ann == Flag:
        text = "[flag](#flags)"
    elif origin is Literal:
        text = "one of " + ", ".join(f"`{_yaml(a)}`" for a in args)
    elif isinstance(ann, type) and issubclass(ann, BaseModel):
        text = f"mapping ([{ann.__name__}](#{_anchor(ann)}))"
    elif origin is list:
        text = f"list of {_type_text(args[0])}"
    elif origin is tuple:
        text = "[" + ", ".join(_type_text(a) for a in args) + "]"
    elif origin is dict:
        text = f"mapping of {_type_text(args[0])} to {_type_text(args[1])}"
    elif ann is str and patterns:
        text = "name" if patterns[0] == r"^[a-z][a-z0-9_]*$" else f"text matching `{patterns[0]}`"
    else:
        simple = {str: "text", float: "number", int: "whole number", bool: "true or false"}
        text = simple.get(ann) or ("date (YYYY-MM-DD)" if ann is dt.date else str(ann))
    return text + (" or null" if optional else "")


def _optional(ann: Any) -> bool:
    while get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    return get_origin(ann) in (Union, types.UnionType) and type(None) in get_args(ann)


def _bounds_text(ann: Any) -> str:
    b = field_bounds(ann)
    lo = f"{_num(b['ge'])} <= " if "ge" in b else f"{_num(b['gt'])} < " if "gt" in b else ""
    hi = f" <= {_num(b['le'])}" if "le" in b else f" < {_num(b['lt'])}" if "lt" in b else ""
    parts = []
    if lo and hi:
        parts.append(f"{lo}x{hi}")
    elif lo:  # "0 <= x" reads better as ">= 0"
        parts.append(">= " + lo.split(" ")[0] if "<=" in lo else "> " + lo.split(" ")[0])
    elif hi:
        parts.append(hi.strip().replace("x", "", 1))
    for m in _metadata(ann):
        if getattr(m, "min_length", None):
            parts.append(f"at least {m.min_length} item{'s' * (m.min_length != 1)}")
        if getattr(m, "max_length", None) and not any(p.startswith("at most") for p in parts):
            parts.append(f"at most {m.max_length} characters")
    return "; ".join(parts)


def _num(v: float) -> str:
    return f"{v:g}"


def _default_text(info: Any) -> str:
    if info.is_required():
        return "*required*"
    value = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(value, BaseModel):
        return "all defaults"
    return f"`{_yaml(value)}`"


def _yaml(value: Any) -> str:
    if isinstance(value, str) and value == "":
        return '""'
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).split("\n...")[0].strip()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _doc(obj: Any) -> str:
    # Docstrings are reStructuredText (``code``); this page is Markdown (`code`).
    return inspect.cleandoc(obj.__doc__ or "").replace("``", "`")


# --- Sections -----------------------------------------------------------------------------------


def _intro(models: dict[type[BaseModel], list[str]]) -> str:
    contents = "\n".join(
        f"  - [{m.__name__}](#{_anchor(m)})" + (f": `{w[0]}`" if w[0] else ": the top level")
        for m, w in models.items()
    )
    return f"""\
# Scenario files

<!-- Generated by tools/gen_scenario_docs.py from sim/scenario/schema.py and
     sim/scenario/distributions.py. Do not edit by hand: change the schema and run
     `python tools/gen_scenario_docs.py`. -->

A scenario is one YAML file in `scenarios/`. It declares the actors, the escalation ladder,
the daily moves and lasting measures, the mechanisms that apply to the actors (alliances, an
alignment track, a transit corridor), the economy, and the injects (scheduled or conditional
events). The schema in `sim/scenario/schema.py` is the single source of truth for
what a file may contain; this page is generated from it.

- Check files: `escalation validate scenarios/*.yaml` (prints `ok: FILE (title)` or every
  problem as `file:line: key.path: message`).
- See a scenario resolved (after `extends` and `--set`, with every default filled in):
  `escalation show scenarios/staged_provocation.yaml`.
- A number nobody knows for sure is written as a [distribution](#distributions) and drawn once
  per replicate; a plain number is fixed.

Contents:

- [An example](#an-example)
- [Keys](#keys)
{contents}
- [Distributions](#distributions)
- [Features](#features)
- [Flags](#flags)
- [Conditions and injects](#conditions-and-injects)
- [extends](#extends)
- [Overrides: --set](#overrides---set)
- [Errors](#errors)
- [Limits and safety](#limits-and-safety)
"""


def _example() -> str:
    return f"""\
## An example

Most scenarios extend `base.yaml` and change a few things:

```yaml
{EXAMPLE.rstrip()}
```
"""


def _model_section(model: type[BaseModel], where: list[str]) -> str:
    places = ", ".join(f"`{w}`" for w in where if w) or "the top level of the file"
    rows = [
        "| key | type | bounds | default | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, info in model.model_fields.items():
        ann = _field_type(info)
        rows.append(
            f"| `{info.alias or name}` | {_cell(_type_text(ann))} | {_cell(_bounds_text(ann))} "
            f"| {_cell(_default_text(info))} | {_cell(info.description or '')} |"
        )
    return f"""\
### {model.__name__}

{_doc(model)}

Appears at: {places}.

{chr(10).join(rows)}
"""


def _dist_classes() -> list[type[BaseModel]]:
    return list(get_args(get_args(Dist)[0]))


def _distributions() -> str:
    module_doc = _doc(distributions).split("\n\n")
    lines = [
        "## Distributions",
        "",
        "An uncertain parameter (any key typed *number or distribution* above) is either a "
        "plain number (fixed) or a mapping with a `dist` key. Each replicate draws its own "
        "value, and the bounds of the key hold for every value the distribution can produce "
        "(a `uniform` from 0.5 to 1.5 is refused where the bound is `x <= 1`).",
        "",
        module_doc[-1].replace("\n", " "),
        "",
        "| dist | keys | example |",
        "| --- | --- | --- |",
    ]
    adapter = TypeAdapter(Dist)
    sections = []
    for cls in _dist_classes():
        name = get_args(cls.model_fields["dist"].annotation)[0]
        if name not in DIST_EXAMPLES:
            raise SystemExit(f"add an example for distribution '{name}' to DIST_EXAMPLES")
        adapter.validate_python(yaml.safe_load(DIST_EXAMPLES[name]))  # the example must be valid
        keys = [info.alias or k for k, info in cls.model_fields.items() if k != "dist"]
        lines.append(
            f"| [`{name}`](#dist-{name}) | {', '.join(f'`{k}`' for k in keys)} "
            f"| `{DIST_EXAMPLES[name]}` |"
        )
        rows = ["| key | type | bounds | default |", "| --- | --- | --- | --- |"]
        for k, info in cls.model_fields.items():
            if k == "dist":
                continue
            ann = _field_type(info)
            rows.append(
                f"| `{info.alias or k}` | {_cell(_type_text(ann))} | "
                f"{_cell(_bounds_text(ann))} | {_cell(_default_text(info))} |"
            )
        sections.append(
            f'<a id="dist-{name}"></a>\n\n### {name}\n\n{_doc(cls)}\n\n'
            f"```yaml\nresolve: {DIST_EXAMPLES[name]}\n```\n\n" + "\n".join(rows) + "\n"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


def _table_section(title: str, intro: str, header: tuple[str, str], rows: dict[str, str]) -> str:
    body = "\n".join(f"| `{k}` | {_cell(v)} |" for k, v in rows.items())
    return f"""\
## {title}

{intro}

| {header[0]} | {header[1]} |
| --- | --- |
{body}
"""


def _conditions_and_injects() -> str:
    condition_keys = ", ".join(f"`{k}`" for k in schema.Condition.model_fields)
    return f"""\
## Conditions and injects

Conditions are data, never code: each item of a `requires` list (a move is on the menu only
while all hold) or of a `when` list (an inject may fire only while all hold) is a mapping with
exactly one of the keys {condition_keys} (see [Condition](#condition)). Write two tests as two
items:

```yaml
when:
  - {{flag: incident}}
  - {{day_at_least: 3}}
  - {{rung_at_least: {{actor: poland, rung: hybrid_pressure}}}}
  - {{belief_at_least: {{actor: china, value: 0.6}}}}
```

An [inject](#inject) is an event that may fire on an eligible day with its `probability`:
on its `day` (a number, or a distribution drawing one day per replicate), on any day of its
`window: [first, last]`, or on any day at all if it has neither; only while its `when`
conditions hold; and once unless `once: false`. When it fires it forces a move
(`force_move`), shifts a belief (`shift_belief`) and/or raises a flag (`set_flag`); it needs at
least one of them. See the [example](#an-example).
"""


def _extends() -> str:
    return """\
## extends

`extends: other.yaml` (a path relative to the file that says it) lays the file over a base
scenario, which may itself extend another. The rules:

- **mappings merge** key by key, at any depth: `actors: {china: {resolve: 0.3}}` changes
  China's resolve and keeps everything else from the base;
- **lists replace** the base's list whole (`injects`, `ladder`, `allies`, ...);
- **numbers, text and distributions replace** the base's value (a distribution is one value:
  its keys are never merged with the base's);
- `null` replaces too, which removes an optional section (`exercise: null`).

Each value remembers the file and line that set it last, so a problem in an inherited value is
reported in the base file. A missing base file, a base that is not a mapping and a cycle
(`a.yaml` extends `b.yaml` extends `a.yaml`) are errors naming the files.
"""


def _overrides() -> str:
    examples = "\n".join(f"escalation show my_variant.yaml --set '{s}'" for s in SET_EXAMPLES)
    return f"""\
## Overrides: --set

Every command that reads a scenario takes `--set PATH=VALUE`, any number of times. Overrides
apply after `extends` and before validation, in order (the last one wins). With the
[example](#an-example) file:

```sh
{examples}
```

- `PATH` is a key path: keys separated by dots, list items as `[0]` or `.0`.
- `VALUE` is read as YAML: a number, text, `true`/`false`, `null`, a list `[a, b]` or a mapping
  `{{dist: uniform, low: 0.2, high: 0.6}}` (quote it for the shell).
- The path must exist in the scenario or be a key the schema allows there (an optional key the
  file leaves out); otherwise it is an error that suggests the closest valid path. A new entry
  of `moves` is written whole: `--set 'moves.talks={{label: Talks, rung: rhetoric, actors:
  [china]}}'`. A list cannot grow item by item: set the whole list.
- Problems with an overridden value name the override instead of a file line.
"""


def _errors(file: str, sets: list[str]) -> list[str]:
    try:
        loader.load_scenario(file, sets)
    except ScenarioError as e:
        return str(e).splitlines()
    raise SystemExit(f"the broken example {file} {sets} unexpectedly loaded")


def _errors_section(errors: list[str], set_errors: list[str]) -> str:
    broken = "\n".join(f"{n:>2}  {line}" for n, line in enumerate(BROKEN_EXAMPLE.splitlines(), 1))
    return f"""\
## Errors

Every problem is one line, `file:line: key.path: message`: the file as you named it, the line
that set the value, the key path, what was expected and what was found. All problems of a
file are listed, not only the first, and the command exits with status 2 (0 when all files
are valid). For this `broken.yaml` (line numbers added):

```text
{broken}
```

`escalation validate broken.yaml` prints:

```text
{chr(10).join(errors)}
```

Problems with overrides name the override, and a mistyped path gets a suggestion
(`escalation validate my_variant.yaml --set ...`):

```text
{chr(10).join(set_errors)}
```

Problems that stop a file from being read at all have no key path: `x.yaml: no such file`,
`x.yaml:7: invalid YAML: ...`, `x.yaml: contains NUL bytes: a binary file, not YAML text`.
"""


def _limits() -> str:
    return f"""\
## Limits and safety

Scenario files are data. The loader only ever builds mappings, lists, text, numbers, booleans,
`null` and dates, so nothing in a file is evaluated.

- Tags are refused (`!!python/object...`, `!custom`, `!!binary`, ...): write plain values.
- Anchors and aliases (`&name`, `*name`, `<<: *name`) work, but a file may expand to at most
  {loader.MAX_NODES:,} values (a guard against "billion laughs" alias bombs) and nest at most
  {loader.MAX_DEPTH} levels deep.
- Files larger than {loader.MAX_FILE_BYTES // (1 << 20)} MiB are refused before parsing; so are
  binary files, text that is not UTF-8, empty files, directories and a top level that is not a
  mapping.
- A key may appear once per mapping (YAML would otherwise keep the last silently), and keys are
  read as written (`no:` stays the text "no").
- `extends` chains are at most {loader.MAX_EXTENDS} files deep.
"""


def main(argv: list[str] | None = None) -> int:
    """Write docs/scenarios.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(REPO)} is out of date: run python tools/gen_scenario_docs.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
