"""Scenario parameters as people read them: grouped by actor and mechanism, with labels.

A parameter path such as ``actors.belarus.motives.hybrid_actions.bias`` becomes the group
"Belarus", the label "Hybrid actions: standing attraction" and the description the schema gives
the field (or :data:`sim.scenario.schema.FEATURES` for a motive's feature). Labels come from the
scenario (actor, move, measure and inject labels) and descriptions from the schema's field
descriptions, so a new field or actor is described without a change here. The explorer's
sliders, the report's drivers and the assumptions table use this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")

MECHANISMS: dict[str, str] = {
    "moves": "Moves: what each costs and does",
    "measures": "Lasting measures",
    "alliances": "Alliances",
    "alignment": "Alignment track",
    "transit": "Transit and blame for a blockade",
    "economy": "The transit economy",
    "incidents": "Incidents and attribution",
    "fog": "Fog of crisis",
    "dynamics": "Shared ladder dynamics",
    "injects": "Injects (scheduled and conditional events)",
    "exercise": "The exercise",
    "context": "Context",
}
"""Top-level scenario key -> group title for parameters outside an actor."""


@dataclass(frozen=True)
class ParameterLabel:
    """What a parameter is, for a reader.

    Attributes:
        path: The dotted path (``actors.china.resolve``), as in the tables.
        group: The actor's label or the mechanism's title.
        label: Short name ("Resolve", "Hybrid actions: standing attraction").
        description: The schema's description of the field ('' when it has none).
    """

    path: str
    group: str
    label: str
    description: str


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _field_description(model: Any, name: str) -> str:
    if isinstance(model, BaseModel):
        info = type(model).model_fields.get(name)
        if info is not None and info.description:
            return str(info.description)
    return ""


def _step(obj: Any, part: str) -> Any:
    m = _INDEX.match(part)
    if m:
        seq = getattr(obj, m.group(1), None)
        i = int(m.group(2))
        return seq[i] if isinstance(seq, list) and i < len(seq) else None
    if isinstance(obj, dict):
        return obj.get(part)
    return getattr(obj, part, None)


def _name_of(obj: Any, fallback: str) -> str:
    for attr in ("label", "title", "description", "name"):
        v = getattr(obj, attr, None)
        if isinstance(v, str) and v:
            return v if len(v) <= 60 else v[:57].rstrip() + "..."
    # Short keys are acronyms (nato, sco): written as such.
    return fallback.upper() if len(fallback) <= 4 else _cap(_words(fallback))


def describe_parameter(scenario: Any, path: str) -> ParameterLabel:
    """The group, label and description of one parameter path of a scenario.

    Args:
        scenario: The validated scenario.
        path: A dotted parameter path from :func:`sim.scenario.parameters.declared_parameters`.
    """
    from sim.scenario.schema import FEATURES

    parts = path.split(".")
    head = _INDEX.sub(r"\1", parts[0])
    objects = [scenario]
    for part in parts:
        objects.append(_step(objects[-1], part) if objects[-1] is not None else None)
    leaf = parts[-1]
    parent = objects[-2]
    if head == "actors" and len(parts) >= 3:
        actor = objects[2]
        group = _name_of(actor, parts[1])
        if parts[2] == "motives" and len(parts) == 5:
            # A motive names a daily move or a lasting measure.
            move = _step(getattr(scenario, "moves", {}), parts[3]) or _step(
                getattr(scenario, "measures", {}), parts[3]
            )
            what = _name_of(move, parts[3])
            feature = leaf
            desc = FEATURES.get(feature, "")
            label = (
                f"{what}: standing attraction"
                if feature == "bias"
                else f"{what}: weight on {_words(feature)}"
            )
            return ParameterLabel(path, group, label, desc)
        if len(parts) == 4:  # actors.x.attribution.bias
            desc = _field_description(parent, leaf)
            return ParameterLabel(path, group, f"{_cap(_words(parts[2]))}: {_words(leaf)}", desc)
        return ParameterLabel(path, group, _cap(_words(leaf)), _field_description(parent, leaf))
    group = MECHANISMS.get(head, _cap(_words(head)))
    if head == "alignment":
        track = getattr(scenario, "alignment", None)
        who = getattr(scenario, "actors", {}).get(getattr(track, "actor", ""), None)
        if who is not None:
            group = f"{_name_of(who, '')}'s alignment track"
        if len(parts) == 3 and parts[1] in ("up", "down"):
            step = "climbing" if parts[1] == "up" else "stepping down"
            label = (
                f"Standing attraction of {step}"
                if leaf == "bias"
                else f"Weight on {_words(leaf)} when {step}"
            )
            return ParameterLabel(path, group, label, FEATURES.get(leaf, ""))
    if head == "injects":
        inject = objects[1]
        name = getattr(inject, "name", None) or parts[0]
        desc = _field_description(parent, leaf)
        text = getattr(inject, "description", "") or ""
        return ParameterLabel(
            path,
            group,
            f"{_cap(_words(str(name)))}: {_words(leaf)}",
            " ".join((f"{desc} ({text})" if text and desc else desc or text).split()),
        )
    if head in ("moves", "measures", "alliances") and len(parts) >= 3:
        name = _name_of(objects[2], parts[1])
        desc = _field_description(parent, leaf)
        return ParameterLabel(path, group, f"{name}: {_words(leaf)}", desc)
    label = _cap(_words(leaf)) if len(parts) <= 2 else _cap(" ".join(_words(p) for p in parts[1:]))
    return ParameterLabel(path, group, label, _field_description(parent, leaf))


__all__ = ["MECHANISMS", "ParameterLabel", "describe_parameter"]
