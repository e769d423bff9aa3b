"""The scenario loader: YAML with line numbers, safety limits, ``extends``, and error messages.

Most cases write small files into a temporary folder; ``base`` is the shipped base scenario,
referenced by absolute path so the files can live anywhere.
"""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario import ScenarioError, load_scenario, load_tree, tree_to_yaml, validate_scenario
from sim.scenario.loader import MAX_DEPTH, ScenarioFileError
from sim.scenario.schema import allowed_keys, annotation_at, field_bounds, is_param_at

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "scenarios" / "base.yaml"


def write(folder: Path, name: str, text: str) -> Path:
    """Write a dedented YAML text; ``{base}`` stands for the shipped base scenario's path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n").replace("{base}", str(BASE)), "utf-8")
    return path


def problems(path: Path | str, overrides: tuple[str, ...] = ()) -> list[str]:
    """Every problem line reported for a file (fails the test if the file loads)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    lines = [p.format() for p in info.value.problems]
    assert str(info.value) == "\n".join(lines)  # what the CLI prints
    return lines


# --- Line numbers and the message format --------------------------------------------------------


def test_problem_line_format_uses_file_as_given(tmp_path: Path, monkeypatch: Any) -> None:
    write(
        tmp_path,
        "x.yaml",
        """
        extends: {base}
        actors:
          china:
            resolve: 1.4
        """,
    )
    monkeypatch.chdir(tmp_path)
    assert problems("x.yaml") == ["x.yaml:4: actors.china.resolve: must be <= 1.0, got 1.4"]


def test_lines_of_flow_items_list_items_and_nested_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """
        extends: {base}
        moves:
          statement:
            effects: {narrative: -1}
        injects:
          - name: ok_one
            day: 3
            set_flag: incident
          - name: bad_one
            day: 4
            probability: 2
            set_flag: incident
        """,
    )
    assert problems(path) == [
        f"{path}:4: moves.statement.effects.narrative: must be >= 0.0, got -1",
        f"{path}:11: injects[1].probability: must be <= 1.0, got 2",
    ]


def test_missing_key_is_reported_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """
        extends: {base}
        end_states:
          - label: Everything
          - name: other
            label: Other
        """,
    )
    assert problems(path) == [f"{path}:3: end_states[0].name: required key is missing"]


def test_all_problems_of_a_file_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """
        extends: {base}
        horizon_days: -3
        fog: {posture_misread: 1.5, belief_noise: -1}
        actors:
          nato: {resolv: 0.5}
        """,
    )
    assert problems(path) == [
        f"{path}:2: horizon_days: must be >= 1, got -3",
        f"{path}:3: fog.posture_misread: must be <= 1.0, got 1.5",
        f"{path}:3: fog.belief_noise: must be >= 0.0, got -1",
        f"{path}:5: actors.nato.resolv: unknown key; did you mean 'resolve'?",
    ]


# --- Human messages from the schema (validate_scenario on plain trees) --------------------------


@pytest.fixture(scope="module")
def base_tree() -> dict[str, Any]:
    return load_tree(BASE)


def messages_for(tree: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_scenario(tree)
    return [p.format() for p in info.value.problems]


def changed(tree: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(tree)
    node = out
    for seg in path[:-1]:
        node = node[seg]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"dist": "beta", "a": -1, "b": 2},
            ["actors.china.resolve.a: must be > 0.0, got -1"],
        ),
        (
            {"dist": "unifrom", "low": 0.1, "high": 0.2},
            [
                "actors.china.resolve.dist: unknown distribution 'unifrom'; expected one of: "
                "fixed, uniform, truncnormal, beta, triangular, choice, draws; "
                "did you mean 'uniform'?"
            ],
        ),
        (
            {"dist": "uniform", "low": 0.1, "hgh": 0.2},
            [
                "actors.china.resolve.high: required key is missing",
                "actors.china.resolve.hgh: unknown key; did you mean 'high'?",
            ],
        ),
        (
            [0.1, 0.2],
            [
                "actors.china.resolve: expected a number or a distribution such as "
                "{dist: uniform, low: 0.2, high: 0.6}, got a list"
            ],
        ),
        (
            None,
            [
                "actors.china.resolve: expected a number or a distribution such as "
                "{dist: uniform, low: 0.2, high: 0.6}, got null"
            ],
        ),
    ],
    ids=["beta-a", "dist-typo", "dist-key-typo", "list", "null"],
)
def test_param_messages_have_no_union_noise(
    base_tree: dict[str, Any], value: Any, expected: list[str]
) -> None:
    """A distribution with a mistake is not also told it 'should be a valid number'."""
    got = messages_for(changed(base_tree, ("actors", "china", "resolve"), value))
    assert got == expected
    assert not any("valid number" in m or "tagged-union" in m for m in got)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("horizon_days",), "sixty", "horizon_days: expected a whole number, got 'sixty'"),
        (
            ("start_date",),
            "soon",
            "start_date: expected a date (YYYY-MM-DD), got 'soon' (input is too short)",
        ),
        (("actors", "china", "label"), 5, "actors.china.label: expected text, got 5"),
        (
            ("actors", "china", "allies"),
            {"a": 1},
            "actors.china.allies: expected a list, got a mapping",
        ),
        (("fog",), [1], "fog: expected a mapping, got a list"),
        (
            ("moves", "statement", "once"),
            "often",
            "moves.statement.once: expected true or false, got 'often'",
        ),
        (("ladder",), [], "ladder: needs at least 3 items, got 0"),
        (
            ("actors", "china", "side"),
            "sideways",
            "actors.china.side: expected one of: west, east, neutral, got 'sideways'",
        ),
    ],
)
def test_wrong_type_says_expected_and_got(
    base_tree: dict[str, Any], path: tuple[str, ...], value: Any, expected: str
) -> None:
    assert messages_for(changed(base_tree, path, value)) == [expected]


def test_unknown_key_without_close_match_lists_the_valid_keys(base_tree: dict[str, Any]) -> None:
    [got] = messages_for(changed(base_tree, ("dynamics", "zzzzzz"), 1))
    assert got.startswith("dynamics.zzzzzz: unknown key; expected one of: ")
    assert {"max_step_up", "hybrid_decay"} <= set(got.split(": ")[-1].split(", "))


def test_unknown_mapping_name_is_one_problem(base_tree: dict[str, Any]) -> None:
    """A misspelt actor is one problem, not one per key of its body (nor a new actor)."""
    tree = copy.deepcopy(base_tree)
    tree["actors"]["chinaa"] = {"resolve": 0.3, "motives": {"statement": {"bias": 1}}}
    got = messages_for(tree)
    assert got == [
        "actors.chinaa: unknown key; did you mean 'china'? (a new actor needs at least label, "
        "side, resolve, risk_tolerance, stakes, war_aversion, temperature, inertia and "
        "initial_move)"
    ]


# --- extends -----------------------------------------------------------------------------------


def test_extends_merges_mappings_and_replaces_lists_scalars_and_distributions(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "base.yaml",
        """
        top: {keep: 1, change: 2, nested: {a: 1, b: 2}}
        items: [1, 2, 3]
        actors:
          china: {resolve: {dist: beta, a: 2, b: 6}, label: China}
        gone: {x: 1}
        """,
    )
    child = write(
        tmp_path,
        "child.yaml",
        """
        extends: base.yaml
        top: {change: 20, nested: {b: 3}, new: 4}
        items: [9]
        actors:
          china: {resolve: {dist: uniform, low: 0.1, high: 0.3}}
        gone: null
        """,
    )
    assert load_tree(child) == {
        "top": {"keep": 1, "change": 20, "nested": {"a": 1, "b": 3}, "new": 4},
        "items": [9],
        "actors": {
            "china": {"resolve": {"dist": "uniform", "low": 0.1, "high": 0.3}, "label": "China"}
        },
        "gone": None,
    }


def test_problems_name_the_file_and_line_that_set_the_value(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Three files in a chain: each problem points into the file that last set the value."""
    write(
        tmp_path,
        "a.yaml",
        """
        extends: {base}
        fog:
          posture_misread: 3
        injects:
          - {name: from_a, day: 1, set_flag: incident, probability: 5}
        """,
    )
    write(
        tmp_path,
        "sub/b.yaml",
        """
        # the middle of the chain
        extends: ../a.yaml
        dynamics:
          hybrid_decay: 7
        """,
    )
    write(
        tmp_path,
        "sub/c.yaml",
        """
        extends: b.yaml
        injects:
          - name: from_c
            day: 2
            set_flag: incident
            probability: 6
        economy:
          cost_scale_musd: 0
        """,
    )
    monkeypatch.chdir(tmp_path)
    assert problems("sub/c.yaml") == [
        "a.yaml:3: fog.posture_misread: must be <= 1.0, got 3",
        "sub/b.yaml:4: dynamics.hybrid_decay: must be <= 1.0, got 7",
        "sub/c.yaml:6: injects[0].probability: must be <= 1.0, got 6",
        "sub/c.yaml:8: economy.cost_scale_musd: must be > 0.0, got 0",
    ]


def test_extends_is_relative_to_the_extending_file(tmp_path: Path, monkeypatch: Any) -> None:
    write(tmp_path, "deep/er/base.yaml", "name: from_base\n")
    child = write(tmp_path, "deep/child.yaml", "extends: er/base.yaml\ntitle: t\n")
    monkeypatch.chdir(REPO)  # a different working directory must not matter
    assert load_tree(child) == {"name": "from_base", "title": "t"}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.yaml": "extends: a.yaml\n"}, "a.yaml:1: extends: cycle: a.yaml -> a.yaml"),
        (
            {
                "a.yaml": "extends: b.yaml\n",
                "b.yaml": "x: 1\nextends: c.yaml\n",
                "c.yaml": "extends: b.yaml\n",
            },
            "c.yaml:1: extends: cycle: b.yaml -> c.yaml -> b.yaml",
        ),
        ({"a.yaml": "extends: nope.yaml\n"}, "a.yaml:1: extends: base file not found: nope.yaml"),
        (
            {"a.yaml": "extends: 3\n"},
            "a.yaml:1: extends: expected the path of a base scenario file, got 3",
        ),
        (
            {"a.yaml": "extends: sub\n", "sub/x.yaml": "a: 1\n"},
            "a.yaml:1: extends: sub is a directory, not a base scenario file",
        ),
    ],
    ids=["self", "three", "missing", "number", "directory"],
)
def test_extends_errors(
    tmp_path: Path, monkeypatch: Any, files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_tree("a.yaml")
    assert str(info.value) == expected


# --- Parsing: safety and YAML details -----------------------------------------------------------


def test_tags_never_construct_objects(tmp_path: Path) -> None:
    """A tag that an unsafe loader would run is refused, and nothing happens."""
    marker = tmp_path / "created"
    path = write(
        tmp_path,
        "x.yaml",
        f"""
        a: !!python/object/apply:pathlib.Path.touch [{str(marker)!r}]
        b: !!python/object/apply:os.system ["touch {marker}"]
        c: !!binary aGVsbG8=
        d: !!set {{a, b}}
        e: !!omap [a: 1]
        """,
    )
    with pytest.raises(ScenarioError) as info:
        load_tree(path)
    assert not marker.exists()
    lines = [p.format() for p in info.value.problems]
    assert [ln.split(": tag ")[1].split(" is not")[0] for ln in lines] == [
        "!!python/object/apply:pathlib.Path.touch",
        "!!python/object/apply:os.system",
        "!!binary",
        "!!set",
        "!!omap",
    ]
    assert [p.line for p in info.value.problems] == [1, 2, 3, 4, 5]


def test_standard_tags_and_scalars(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """
        text: !!str 5
        number: !!float 1
        whole: !!int "3"
        date: 2024-07-06
        none: ~
        yes_no: [yes, no, true]
        no: key named no
        1: key named 1
        """,
    )
    tree = load_tree(path)
    assert tree["text"] == "5"
    assert tree["number"] == 1.0 and isinstance(tree["number"], float)
    assert tree["whole"] == 3
    assert str(tree["date"]) == "2024-07-06"
    assert tree["none"] is None
    assert tree["yes_no"] == [True, False, True]
    # Keys stay as written: YAML 1.1 would turn the key 'no' into False.
    assert tree["no"] == "key named no"
    assert tree["1"] == "key named 1"


def test_bad_explicit_scalar_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "a: 1\nb: !!int abc\n")
    with pytest.raises(ScenarioError) as info:
        load_tree(path)
    assert str(info.value).startswith(f"{path}:2: b: cannot read 'abc' as a whole number")


def test_duplicate_keys_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    with pytest.raises(ScenarioError) as info:
        load_tree(path)
    assert [p.format() for p in info.value.problems] == [
        f"{path}:4: b.c: duplicate key (first set at line 3)",
        f"{path}:5: a: duplicate key (first set at line 1)",
    ]


def test_anchors_aliases_and_merge_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """
        defaults: &d {resolve: 0.5, inertia: 1.0}
        one:
          <<: *d
          inertia: 2.0
        two: *d
        many: [*d, *d, *d]
        """,
    )
    tree = load_tree(path)
    assert tree["one"] == {"inertia": 2.0, "resolve": 0.5}
    assert tree["two"] == tree["defaults"]
    assert tree["many"] == [tree["defaults"]] * 3
    tree["many"][0]["resolve"] = 9  # aliases become independent copies
    assert tree["many"][1]["resolve"] == 0.5


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 5_000])
def test_deep_nesting_is_refused_cleanly(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, "x.yaml", "a: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ScenarioFileError) as info:
        load_tree(path)
    assert "nest" in str(info.value)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    """Over 1 MiB: refused by size even when the content is not YAML at all."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"[" * (1 << 20) + b"x")
    with pytest.raises(ScenarioFileError) as info:
        load_tree(path)
    assert str(info.value) == f"{path}: is larger than 1 MiB; scenario files are small text"


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: bom\n".encode())
    assert load_tree(path) == {"name": "bom"}


def _line_of(path: Path, keys: tuple[str, ...]) -> int:
    """The line of a key path in a file, found with PyYAML's composer (not the loader)."""
    node = yaml.compose(path.read_text("utf-8"), Loader=yaml.SafeLoader)
    line = 0
    for key in keys:
        key_node, node = next((k, v) for k, v in node.value if k.value == key)
        line = key_node.start_mark.line + 1
    return line


def test_inherited_value_is_reported_in_the_base_file(tmp_path: Path) -> None:
    """The child removes the rung China's statement stands on: the problem is the move's rung,
    which only the base file sets, so it is reported with the base file's name and line."""
    tree = load_tree(BASE)
    rung = tree["moves"]["statement"]["rung"]
    ladder = [r for r in tree["ladder"] if r["name"] != rung]
    child = tmp_path / "x.yaml"
    child.write_text(f"extends: {BASE}\nladder: {json.dumps(ladder)}\n", "utf-8")
    line = _line_of(BASE, ("moves", "statement", "rung"))
    assert any(
        p.startswith(f"{BASE}:{line}: moves.statement.rung: unknown rung '{rung}'")
        for p in problems(child)
    )


# --- Schema helpers used by --set and the docs ------------------------------------------------


def test_schema_helpers(base_tree: dict[str, Any]) -> None:
    assert field_bounds(annotation_at(("actors", "china", "resolve"))) == {"ge": 0.0, "le": 1.0}
    assert field_bounds(annotation_at(("horizon_days",))) == {"ge": 1, "le": 3650}
    assert is_param_at(("actors", "china", "motives", "statement", "bias"))
    assert not is_param_at(("actors", "china", "label"))
    assert allowed_keys(("moves",), base_tree) is None  # names the scenario chooses
    assert allowed_keys(("actors",), base_tree) is None  # actors are declared by name
    assert allowed_keys(("actors", "china", "resolve"), base_tree) == (
        "dist",
        "a",
        "b",
        "low",
        "high",
    )
    assert allowed_keys(("horizon_days",), base_tree) == ()
    assert annotation_at(("no_such_key",)) is None


# --- Nothing but ScenarioError, whatever the input ---------------------------------------------


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["uniform", "beta", "china", "rhetoric", "statement", "dist", "incident"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["dist", "low", "high", "a", "b", "name", "x"]), inner, max_size=4
        )
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_mutation_gives_located_one_line_problems(base_tree: dict[str, Any], data: Any) -> None:
    """Replace any node of the base tree by junk: validation either passes or raises a
    ScenarioError whose problems are single lines about paths that a line can be found for."""
    path = data.draw(st.sampled_from(_paths(base_tree)[1:]))
    tree = changed(base_tree, path, data.draw(_JUNK))
    try:
        validate_scenario(tree)
    except ScenarioError as e:
        assert e.problems
        paths = set(_paths(tree))
        for p in e.problems:
            assert "\n" not in p.message and p.message
            assert "tagged-union" not in p.message and "function-after" not in p.message
            # A path the user wrote, or a missing key of a mapping they wrote.
            assert p.path in paths or p.path[:-1] in paths, p


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_give_scenario_errors_only(tmp_path_factory: Any, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x.yaml"
    path.write_bytes(raw)
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_tree_to_yaml_loads_back(tmp_path: Path, base_tree: dict[str, Any]) -> None:
    path = tmp_path / "dumped.yaml"
    path.write_text(tree_to_yaml(base_tree), "utf-8")
    assert load_tree(path) == base_tree


@pytest.mark.parametrize("value", [float("nan"), True], ids=["nan", "bool"])
def test_nan_and_booleans_are_not_numbers(base_tree: dict[str, Any], value: Any) -> None:
    with pytest.raises(ScenarioError):
        validate_scenario(changed(base_tree, ("actors", "china", "resolve"), value))
