"""``--set`` overrides and the dump/load round trip, as properties over every shipped scenario.

Properties:
- setting any parameter (a number or a distribution within its bounds) by ``--set`` gives a
  scenario whose value at that path is exactly what was set, and nothing else changes;
- two overrides of different paths commute, and of the same path the last one wins;
- ``scenario_to_yaml`` then loading gives an equal scenario, also after random overrides.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    load_tree,
    parse_override,
    scenario_to_yaml,
    tree_to_yaml,
)
from sim.scenario.distributions import Uniform
from sim.scenario.loader import parse_key_path
from sim.scenario.schema import annotation_at, field_bounds, iter_params

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
FILES = [p.relative_to(REPO).as_posix() for p in SCENARIOS]

_LOADED: dict[str, Scenario] = {}


def loaded(file: str) -> Scenario:
    """A shipped scenario, loaded once per session (scenarios are frozen, so sharing is safe)."""
    if file not in _LOADED:
        _LOADED[file] = load_scenario(REPO / file)
    return _LOADED[file]


def get_at(obj: Any, path: tuple[str | int, ...]) -> Any:
    """The value at a key path of a validated scenario."""
    for seg in path:
        obj = getattr(obj, str(seg)) if isinstance(obj, BaseModel) else obj[seg]
    return obj


def set_at(tree: Any, path: tuple[str | int, ...], value: Any) -> None:
    for seg in path[:-1]:
        tree = tree[seg]
    tree[path[-1]] = value


def as_yaml(value: Any) -> str:
    """A value as a one-line YAML flow text, exactly as it would be typed after ``=``."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).split("\n...")[0].strip()


def values_within(bounds: dict[str, float]) -> st.SearchStrategy[float]:
    """Finite numbers satisfying a field's bounds, kept moderate (days, shares, weights)."""
    lo = max(bounds.get("ge", bounds.get("gt", -10.0)), -10.0)
    hi = min(bounds.get("le", bounds.get("lt", 10.0)), 10.0)
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min="gt" in bounds and lo == bounds["gt"],
        exclude_max="lt" in bounds and hi == bounds["lt"],
        allow_nan=False,
        allow_infinity=False,
    )


@st.composite
def param_override(draw: Any, file: str) -> tuple[str, tuple[str | int, ...], Any]:
    """A parameter path of the scenario and a valid new value: a number or a uniform."""
    # Settings that can never take effect are errors (a death rate or hybrid pressure on a move
    # that is not aimed, belief settings of an actor that knows the truth, an inject that can
    # never fire); those are not values a user could meaningfully set.
    s = loaded(file)
    knowing = tuple(f"actors.{a}.attribution." for a, act in s.actors.items()
                    if act.attribution.knows_truth)  # fmt: skip
    paths = [
        p
        for p, _ in iter_params(s)
        if not p.endswith((".fatality", ".effects.hybrid")) and not p.startswith(knowing)
        and not any(p == f"alliances.{a}.solidarity" for a, al in s.alliances.items()
                    if al.kind == "none")
    ]  # fmt: skip
    dotted = draw(st.sampled_from(paths))
    path = parse_key_path(dotted)
    bounds = dict(field_bounds(annotation_at(path)))
    if dotted.startswith("injects[") and dotted.endswith(".probability"):
        bounds["ge"] = 0.01
    numbers = values_within(bounds)
    fixed = numbers
    spread = st.tuples(numbers, numbers).filter(lambda t: t[0] != t[1]).map(sorted)
    uniform = spread.map(lambda t: {"dist": "uniform", "low": t[0], "high": t[1]})
    return dotted, path, draw(fixed | uniform)


# --- Properties --------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_setting_a_parameter_changes_exactly_that_value(data: Any) -> None:
    file = data.draw(st.sampled_from(FILES))
    dotted, path, value = data.draw(param_override(file))
    before = loaded(file)
    after = load_scenario(REPO / file, [f"{dotted}={as_yaml(value)}"])

    got = get_at(after, path)
    if isinstance(value, dict):
        assert got == Uniform(dist="uniform", low=value["low"], high=value["high"])
    else:
        assert (
            isinstance(got, float)
            and got == value
            and math.copysign(1, got) == math.copysign(1, value)
        )
    expected = before.model_dump()
    set_at(expected, path, got.model_dump() if isinstance(got, BaseModel) else got)
    assert after.model_dump() == expected


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_overrides_of_different_paths_commute_and_last_wins(data: Any) -> None:
    file = data.draw(st.sampled_from(FILES))
    first, path1, v1 = data.draw(param_override(file))
    second, path2, v2 = data.draw(param_override(file))
    a = f"{first}={as_yaml(v1)}"
    b = f"{second}={as_yaml(v2)}"
    forward = load_scenario(REPO / file, [a, b])
    if path1 != path2:
        assert forward == load_scenario(REPO / file, [b, a])
    else:
        assert forward == load_scenario(REPO / file, [b])


@pytest.mark.parametrize("file", FILES)
def test_dump_then_load_is_the_same_scenario(file: str, tmp_path: Path) -> None:
    scenario = loaded(file)
    text = scenario_to_yaml(scenario)
    out = tmp_path / "dumped.yaml"
    out.write_text(text, encoding="utf-8")
    again = load_scenario(out)
    assert again == scenario
    assert scenario_to_yaml(again) == text  # the dump is a fixed point


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip_after_random_overrides(data: Any, tmp_path_factory: Any) -> None:
    file = data.draw(st.sampled_from(FILES))
    sets = [
        f"{d}={as_yaml(v)}" for d, _, v in data.draw(st.lists(param_override(file), max_size=4))
    ]
    scenario = load_scenario(REPO / file, sets)
    out = tmp_path_factory.mktemp("rt") / "dumped.yaml"
    out.write_text(scenario_to_yaml(scenario), encoding="utf-8")
    assert load_scenario(out) == scenario


# --- The --set syntax and its errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("actors.china.resolve", ("actors", "china", "resolve")),
        ("injects[0].probability", ("injects", 0, "probability")),
        ("injects.0.when[1][2]", ("injects", "0", "when", 1, 2)),
        ("horizon_days", ("horizon_days",)),
    ],
)
def test_key_paths(text: str, path: tuple[str | int, ...]) -> None:
    assert parse_key_path(text) == path


@pytest.mark.parametrize("text", ["", "a..b", "a.", ".a", "a[x]", "a[0", "a b"])
def test_malformed_key_paths(text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override(f"{text}=1")
    assert str(info.value).startswith(f"--set {text}=1: malformed key path")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a=0.7", 0.7),
        ("a=7", 7),
        ("a={dist: uniform, low: 0.2, high: 0.6}", {"dist": "uniform", "low": 0.2, "high": 0.6}),
        ("a=[china, russia]", ["china", "russia"]),
        ("a=some text", "some text"),
        ("a=x=y", "x=y"),
        ("a=", None),
        ("a=null", None),
        (" a = true", True),
    ],
)
def test_override_values_are_yaml(text: str, value: Any) -> None:
    assert parse_override(text).value == value


def test_list_items_by_bracket_or_dot(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        f"extends: {REPO / 'scenarios' / 'base.yaml'}\n"
        "injects: [{name: a, day: 3, set_flag: incident}, {name: b, day: 4, set_flag: incident}]\n",
        "utf-8",
    )
    s = load_scenario(path, ["injects[0].probability=0.25", "injects.1.probability=0.75"])
    assert [i.probability for i in s.injects] == [0.25, 0.75]


def _without(tmp_path: Path, path: tuple[str, ...]) -> Path:
    """The base scenario written out with one optional key removed."""
    tree = load_tree(REPO / "scenarios" / "base.yaml")
    node = tree
    for seg in path[:-1]:
        node = node[seg]
    del node[path[-1]]
    out = tmp_path / "without.yaml"
    out.write_text(tree_to_yaml(tree), "utf-8")
    return out


def test_absent_optional_key_can_be_set_and_suggested(tmp_path: Path) -> None:
    """A key the file leaves out is still a valid --set path, and a suggestion for typos."""
    src = _without(tmp_path, ("actors", "china", "initial_move"))
    s = load_scenario(src, ["actors.china.initial_move=stand_down"])
    assert s.actors["china"].initial_move == "stand_down"
    with pytest.raises(ScenarioError) as info:
        load_scenario(src, ["actors.china.initial_mov=stand_down"])
    assert str(info.value) == (
        "--set actors.china.initial_mov=stand_down: actors.china.initial_mov: unknown key; "
        "did you mean actors.china.initial_move?"
    )


def test_absent_optional_section_is_created(tmp_path: Path) -> None:
    src = _without(tmp_path, ("actors", "china", "attribution"))
    s = load_scenario(src, ["actors.china.attribution.bias=0.5"])
    assert s.actors["china"].attribution.bias == 0.5


def test_new_entry_of_a_named_collection(tmp_path: Path) -> None:
    base = REPO / "scenarios" / "base.yaml"
    move = "{label: Hold talks, rung: rhetoric, actors: [china]}"
    s = load_scenario(base, [f"moves.hold_talks={move}"])
    assert s.moves["hold_talks"].label == "Hold talks"
    with pytest.raises(ScenarioError) as info:
        load_scenario(base, ["moves.stage_incidnt.cost=2"])
    assert str(info.value).endswith("unknown key; did you mean moves.stage_incident.cost?")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("horizon_days.x=1", "horizon_days is 60, not a mapping or a list"),
        ("ladder.top=1", "ladder is a list: use an index such as [0]"),
        ("ladder[99].name=x", "index 99 is out of range: ladder has 9 item(s)"),
        ("fog[0]=1", "fog is a mapping, not a list"),
        (
            "actors.china.resolve=!!python/name:os.system",
            "tag !!python/name:os.system is not allowed",
        ),
        ("actors.china.resolve=[0.1", "invalid YAML: did not find expected ',' or ']'"),
    ],
)
def test_override_errors_name_the_override(override: str, message: str) -> None:
    base = REPO / "scenarios" / "base.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(base, [override])
    text = str(info.value)
    assert text.startswith(f"--set {override}: ")
    assert message in text
    assert "\n" not in text


def test_override_wins_over_file_and_problems_point_at_it(tmp_path: Path) -> None:
    base = REPO / "scenarios" / "base.yaml"
    child = tmp_path / "child.yaml"
    child.write_text(
        textwrap.dedent(
            f"""\
            extends: {base}
            fog:
              posture_misread: 0.3
            """
        ),
        "utf-8",
    )
    assert load_scenario(child, ["fog.posture_misread=0.2"]).fog.posture_misread == 0.2
    with pytest.raises(ScenarioError) as info:
        load_scenario(child, ["fog={posture_misread: 2, belief_noise: 0.1}"])
    assert [p.format() for p in info.value.problems] == [
        "--set fog={posture_misread: 2, belief_noise: 0.1}: fog.posture_misread: must be <= 1.0, "
        "got 2"
    ]


# ----------------------------------------------------------------------------- issue 21


@pytest.mark.parametrize("text", ["1e-9", "1E-9", "2.5e-1", "-3e2", "1e308"])
def test_numbers_with_an_exponent_are_read_as_numbers(text: str) -> None:
    """YAML 1.1 reads ``1e-9`` (no dot) as text; the loader reads a number, as YAML 1.2 does."""
    o = parse_override(f"actors.china.temperature={text}")
    assert isinstance(o.value, float) and o.value == float(text)
    assert parse_override(f"title='{text}'").value == text  # quoted text stays text
    s = load_scenario(REPO / "scenarios" / "base.yaml", ("actors.china.temperature=2.5e-1",))
    assert s.actors["china"].temperature == 0.25


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("injects[0].day=0", "day 0 is the starting state"),
        ("injects[0].day={dist: uniform, low: 0, high: 5}", "can draw day 0"),
        ("start_date=9999-12-20", "leave the calendar"),
    ],
)
def test_a_day_0_inject_and_a_horizon_past_the_calendar_are_refused(
    override: str, message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario(REPO / "scenarios" / "staged_provocation.yaml", (override,))
