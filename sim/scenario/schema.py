"""The scenario schema: the single source of truth for what a scenario file may contain.

Every class here is a frozen pydantic model that forbids unknown keys. Numbers that nobody knows
for sure are :data:`Param` fields: a plain number or a distribution (see
:mod:`sim.scenario.distributions`), sampled once per replicate. Names that refer to other parts of
the file (rungs, moves, actors, alignment levels) are checked by :func:`cross_check`, so that a
typo is an error with a key path rather than a silent zero.

Use :func:`validate_scenario` (or the loader in :mod:`sim.scenario.loader`) to turn a plain tree
into a :class:`Scenario`; it runs both the field checks and the cross-reference checks and raises
:class:`ScenarioError` listing every problem with its key path.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sim.errors import UserError
from sim.scenario.distributions import Dist, Param, support

ActorName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""An actor's name: any identifier declared under ``actors`` (checked by :func:`cross_check`)."""

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]

FEATURES: dict[str, str] = {
    "bias": "always 1: a choice's standing attraction (positive) or reluctance (negative)",
    "threat": "the most severe posture aimed at this actor (by the target, for a directed "
    "choice; by any adversary otherwise), as seen through fog, severity / max severity; for "
    "an alliance guarantor the threat to its members, times its solidarity, counts too",
    "ally_threat": "the most severe posture aimed at one of this actor's allies",
    "attacked": "1 if the target (any adversary, for an undirected choice) used force "
    "against this actor yesterday, accidents included",
    "ally_attacked": "1 if an adversary used force against one of this actor's allies yesterday",
    "forces_facing": "1 if this actor's forces and the target's are both deployed on their "
    "common border (the largest over adversaries for an undirected choice)",
    "exercise": "1 while the joint exercise is under way and this actor takes part in it "
    "(every actor, when the exercise names no participants), else 0",
    "incident": "1 once a border incident (staged or real) has happened, else 0",
    "pretext": "1 once a staged incident has happened, else 0",
    "armed_incident": "1 once force has really been used on a border, else 0",
    "blame_west": "this actor's belief that the West caused the incident, rescaled to [-1, 1]"
    " (0 before any incident)",
    "hybrid_pressure": "hybrid pressure the target (any adversary) puts on this actor, 0 to 1",
    "blockade": "1 while a transit blockade is in force, else 0",
    "own_cost": "this actor's cumulative economic cost of the crisis / economy.cost_scale_musd, "
    "capped at 1",
    "shipper_cost": "the shipper's (China's) cumulative transit cost / cost_scale, capped at 1",
    "blame_blockader": "the shipper's blame of the blockader (vs the transit state) for a "
    "blockade, rescaled to [-1, 1] (0 before any blockade)",
    "alignment": "the aligning actor's (China's) level on its track / top level, 0 to 1",
    "eu_exposure": "the aligning actor's exposure to EU trade (alignment.exposure), 0 to 1",
    "sanctioned": "1 while sanctions aimed at this actor are in force, else 0",
    "article4": "1 once an alliance's consultations (Article 4) have been held, else 0",
    "article5": "1 once an alliance's collective defence (Article 5) has been invoked",
    "nuclear_signal": "1 if an adversary sent a nuclear signal in the last seven days",
    "committed_elsewhere": "this actor's forces committed to another war (its own parameter "
    "committed_elsewhere), 0 to 1",
    "deterrence": "the answer this actor expects from the target (any adversary, for an "
    "undirected choice): 1 if the target's forces stand deployed facing it, else the "
    "solidarity of an alliance that defends the target (Article 5's credibility, the Union "
    "State's), the larger of the two; 0 to 1",
    "neighbour_exercise": "1 while an exercise in which one of this actor's adversaries takes "
    "part is under way and this actor does not take part, else 0",
    "incursion": "1 if a missile, drone or balloon blamed on the target (any actor, for an "
    "undirected choice) entered this actor's airspace within the attack memory, intercepted "
    "or not, else 0",
    "incursion_casualties": "1 if such an incursion killed people on the ground in this "
    "actor's territory or an ally's within the attack memory, else 0",
}
"""The quantities motive weights may refer to, with what each one measures."""

Feature = Literal[
    "bias",
    "threat",
    "ally_threat",
    "attacked",
    "ally_attacked",
    "forces_facing",
    "exercise",
    "incident",
    "pretext",
    "armed_incident",
    "blame_west",
    "hybrid_pressure",
    "blockade",
    "own_cost",
    "shipper_cost",
    "blame_blockader",
    "alignment",
    "eu_exposure",
    "sanctioned",
    "article4",
    "article5",
    "nuclear_signal",
    "committed_elsewhere",
    "deterrence",
    "neighbour_exercise",
    "incursion",
    "incursion_casualties",
]

FLAGS: dict[str, str] = {
    "exercise_active": "the joint exercise is under way",
    "incident": "a border incident (staged or real) has happened",
    "staged_incident": "a staged incident has happened",
    "armed_incident": "a real armed incident has happened",
    "blockade_active": "a transit blockade is in force",
    "border_closed": "some border is closed",
    "article4": "an alliance's Article 4 consultations have been held",
    "article5": "an alliance's Article 5 has been invoked",
    "nuclear_weapons": "the scenario's context.nuclear_weapons_deployed is true",
}
"""World flags that conditions may test."""

Flag = Literal[
    "exercise_active",
    "incident",
    "staged_incident",
    "armed_incident",
    "blockade_active",
    "border_closed",
    "article4",
    "article5",
    "nuclear_weapons",
]

SettableFlag = Literal[
    "exercise_active", "incident", "staged_incident", "armed_incident", "article4", "article5"
]
"""Flags an inject may raise; the others follow from measures and the context."""

_PARAM_MARK = "scenario-parameter"


def _bounded(ge: float | None = None, le: float | None = None, gt: float | None = None):
    def check(p: Param) -> Param:
        lo, hi = support(p)
        if ge is not None and lo < ge:
            raise ValueError(f"must be >= {ge}, got {_show(p, lo)}")
        if gt is not None and lo <= gt:
            raise ValueError(f"must be > {gt}, got {_show(p, lo)}")
        if le is not None and hi > le:
            raise ValueError(f"must be <= {le}, got {_show(p, hi)}")
        return p

    # Kept on the function so that docs and `--set` can tell the bounds without re-deriving them.
    check.bounds = {k: v for k, v in (("ge", ge), ("le", le), ("gt", gt)) if v is not None}  # type: ignore[attr-defined]
    return check


def _show(p: Param, v: float) -> str:
    return f"{v:g}" if isinstance(p, int | float) else f"a distribution reaching {v:g}"


def param(ge: float | None = None, le: float | None = None, gt: float | None = None) -> Any:
    """A :data:`Param` field type whose every possible value must lie within the bounds."""
    return Annotated[Param, AfterValidator(_bounded(ge=ge, le=le, gt=gt)), _PARAM_MARK]


if TYPE_CHECKING:  # to a type checker each is a Param; pydantic sees the bounds too
    Temperature = Param
    Probability = Param
    Unit = Param
    NonNegative = Param
    Positive = Param
    Weight = Param
    TemperatureScale = Param
else:
    # Magnitudes are capped at 10^6: far beyond any meaningful utility, and small enough that
    # no product of them overflows the choice probabilities (tests/test_numerics.py).
    Probability = param(ge=0.0, le=1.0)
    Unit = param(ge=0.0, le=1.0)
    NonNegative = param(ge=0.0, le=1e6)
    Positive = param(gt=0.0, le=1e6)
    Weight = param(ge=-1e6, le=1e6)
    Temperature = param(ge=1e-3, le=1e6)
    TemperatureScale = param(ge=0.05, le=20.0)


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Rung(_Node):
    """One rung of the escalation ladder shared by all actors."""

    name: Identifier = Field(description="identifier used by moves and conditions")
    label: str = Field(description="short human-readable name")
    severity: float = Field(ge=0, description="escalation score (Rivera et al. 2024 scale)")
    cow_level: int = Field(
        ge=1, le=5, description="Correlates of War hostility level (1 none ... 5 war)"
    )
    description: str = ""


class Attribution(_Node):
    """How an actor reads a border incident: who caused it, and how evidence moves that belief."""

    bias: Weight = Field(
        0.0,
        description="log-odds added to this actor's initial belief that the West caused an "
        "incident (positive: inclined to blame the western side)",
    )
    knows_truth: bool = Field(
        False,
        description="the actor knows who really caused an incident (it staged it or is the "
        "victim of staging); its belief is then fixed at the truth",
    )
    receptiveness_west: NonNegative = Field(
        1.0, description="how strongly western disclosure moves this actor's belief"
    )
    receptiveness_east: NonNegative = Field(
        1.0, description="how strongly the eastern side's narrative moves this actor's belief"
    )


class Actor(_Node):
    """One actor: its side, temperament, relations, lasting measures at day 0 and motives."""

    label: str
    side: Literal["west", "east", "neutral"] = Field(
        description="which side of the attribution question it is on: an incident is blamed "
        "on the west or the east; a neutral actor (the audience) is on neither"
    )
    resolve: Unit = Field(description="readiness to answer threats in kind, 0 to 1")
    risk_tolerance: Unit = Field(description="acceptance of war risk, 0 to 1")
    stakes: Positive = Field(
        description="how much is at stake: scales the utility of answering a perceived threat "
        "with a matching posture (utility units)"
    )
    war_aversion: NonNegative = Field(
        description="weight of the quadratic cost of severe postures (utility units)"
    )
    temperature: Temperature = Field(
        description="logit choice noise: higher means more random choices (utility units)"
    )
    inertia: NonNegative = Field(
        description="utility bonus for repeating yesterday's daily move (policy persistence)"
    )
    committed_elsewhere: Unit = Field(
        0.0, description="share of its forces tied down in another war (feature of that name)"
    )
    initial_move: str = Field(description="the daily move taken to have been made on day 0")
    adversaries: list[ActorName] = Field(default_factory=list)
    allies: list[ActorName] = Field(default_factory=list)
    borders: list[ActorName] = Field(
        default_factory=list,
        description="actors it shares a land border with (forces deploy, fire and have "
        "accidents only across a border)",
    )
    initial_measures: list[str] = Field(
        default_factory=list,
        description="lasting measures in force on day 0, as 'measure' or 'measure@target'",
    )
    attribution: Attribution = Field(default_factory=Attribution)  # type: ignore[arg-type]
    motives: dict[str, dict[Feature, Weight]] = Field(
        default_factory=dict,
        description="per daily move or lasting measure, weights on features added to its utility",
    )


class Effects(_Node):
    """What a daily move does to the world, beyond putting the actor on the move's rung."""

    stage_incident: bool = Field(False, description="fabricate a border incident (a pretext)")
    force: bool = Field(
        False,
        description="a real use of force against the target: an armed incident, a reason for "
        "the target to answer, and a chance of deaths (the move's fatality)",
    )
    disclosure: NonNegative = Field(
        0.0, description="evidence released: log-odds moved toward the truth, per day"
    )
    narrative: NonNegative = Field(
        0.0, description="claims that the West is to blame: log-odds moved toward 'West', per day"
    )
    hybrid: Unit = Field(0.0, description="hybrid pressure added to the target")
    nuclear_signal: bool = Field(False, description="a nuclear signal (feature nuclear_signal)")
    extend_exercise: int = Field(0, ge=0, le=60, description="days added to the exercise")


class RungAtLeast(_Node):
    actor: ActorName
    rung: str


class BeliefAtLeast(_Node):
    actor: ActorName
    value: float = Field(ge=0, le=1)


class MeasureIn(_Node):
    actor: ActorName
    measure: str


class Condition(_Node):
    """One test on the state of a world; write exactly one key. A list of them must all hold."""

    day_at_least: int | None = Field(None, ge=0)
    day_at_most: int | None = Field(None, ge=0)
    flag: Flag | None = None
    not_flag: Flag | None = None
    rung_at_least: RungAtLeast | None = None
    alignment_at_least: str | None = None
    belief_at_least: BeliefAtLeast | None = None
    measure_in_force: MeasureIn | None = None

    def model_post_init(self, _ctx: Any) -> None:
        n = sum(v is not None for v in self.__dict__.values())
        if n != 1:
            raise ValueError(
                "a condition needs exactly one of: " + ", ".join(type(self).model_fields)
            )


class Move(_Node):
    """A daily move: its rung, whom it may be aimed at, its cost and its effects."""

    label: str
    description: str = ""
    rung: str = Field(description="ladder rung the actor stands on while making this move")
    actors: list[ActorName] = Field(min_length=1, description="who may make it")
    aimed: bool = Field(
        False,
        description="aimed at one adversary: the menu holds one entry per adversary (bordering "
        "ones only for a force move); an aimed move at hostility level >= 2 is a militarized "
        "act in the dispute record",
    )
    targets: list[ActorName] | None = Field(
        None, description="for an aimed move: only these adversaries may be aimed at"
    )
    cost: NonNegative = Field(0.0, description="daily cost in utility units")
    fatality: Unit = Field(
        0.0, description="chance that one day of this use of force kills someone [assumption]"
    )
    once: bool = Field(False, description="at most once per replicate (by any actor)")
    jump: bool = Field(
        False,
        description="may be made from any rung (a political decision, a cease-fire), not a "
        "change limited by dynamics.max_step_up / max_step_down",
    )
    requires: list[Condition] = Field(
        default_factory=list, description="conditions under which the move is on the menu"
    )
    effects: Effects = Field(default_factory=Effects)  # type: ignore[arg-type]


class Measure(_Node):
    """A lasting measure: started by one decision, in force until another decision ends it."""

    label: str
    description: str = ""
    kind: Literal[
        "deploy_forces",
        "close_border",
        "transit_blockade",
        "consultations",
        "collective_defence",
        "sanctions",
        "domestic",
    ] = Field(description="what the measure does (docs/MODEL.md, 'Lasting measures')")
    actors: list[ActorName] = Field(min_length=1, description="who may start it")
    aimed: bool = Field(True, description="aimed at one other actor (one slot per target)")
    targets: list[ActorName] | None = Field(
        None,
        description="who it may be aimed at (default: the holder's adversaries; bordering ones "
        "for forces and border closures)",
    )
    rung: str = Field(description="ladder rung its holder stands at least on while in force")
    hostility: int = Field(
        1, ge=1, le=5, description="Correlates of War hostility level of starting it (1: none)"
    )
    cost_per_day: NonNegative = Field(0.0, description="utility cost per day in force")
    start_cost: NonNegative = Field(0.0, description="one-off utility cost of starting it")
    end_cost: NonNegative = Field(0.0, description="one-off utility cost of ending it")
    endable: bool = Field(True, description="false: once started it stays (an invoked article)")
    requires: list[Condition] = Field(default_factory=list)
    duration_days: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="announced for this many days: it ends by itself that many days after it "
        "starts (its holder may still end it earlier)",
    )
    ends_with_exercise: bool = Field(
        False,
        description="announced 'for the duration of the exercise': it ends by itself the day "
        "after the exercise ends",
    )


class ForceMove(_Node):
    actor: ActorName
    move: str
    target: ActorName | None = None


class ShiftBelief(_Node):
    actor: ActorName
    by: Weight = Field(description="log-odds added to the actor's belief that the West did it")


class StartMeasure(_Node):
    actor: ActorName
    measure: str
    target: ActorName | None = None


class Inject(_Node):
    """A scheduled or conditional event: fires on an eligible day with a probability."""

    name: Identifier
    description: str = ""
    day: param(ge=0) | None = Field(  # type: ignore[valid-type]
        None, description="the single day it may fire (a distribution draws one per replicate)"
    )
    window: tuple[int, int] | None = Field(None, description="first and last day it may fire")
    when: list[Condition] = Field(default_factory=list, description="all must hold")
    probability: Probability = Field(1.0, description="chance of firing on an eligible day")
    once: bool = True
    force_move: ForceMove | None = None
    shift_belief: ShiftBelief | None = None
    set_flag: SettableFlag | None = None
    start_measure: StartMeasure | None = None

    def model_post_init(self, _ctx: Any) -> None:
        if self.window is not None and self.window[0] > self.window[1]:
            raise ValueError(f"window must be [first, last] with first <= last, got {self.window}")
        if (
            self.force_move is None
            and self.shift_belief is None
            and self.set_flag is None
            and self.start_measure is None
        ):
            raise ValueError(
                "an inject needs at least one of force_move, shift_belief, set_flag, start_measure"
            )


class Exercise(_Node):
    """The joint exercise window."""

    name: str
    start_day: int = Field(ge=0)
    end_day: int = Field(ge=0)
    participants: list[ActorName] | None = Field(
        None,
        description="the actors whose forces take part (default: every actor). Only a "
        "participant feels 'exercise' and may extend the exercise; an adversary of a "
        "participant feels 'neighbour_exercise'",
    )

    def model_post_init(self, _ctx: Any) -> None:
        if self.end_day < self.start_day:
            raise ValueError(
                f"end_day must be >= start_day, got start_day={self.start_day}, "
                f"end_day={self.end_day}"
            )


class Fog(_Node):
    """Misperception of postures and noise in beliefs."""

    posture_misread: Probability = Field(
        description="daily chance an observer sees an adversary one rung off its true rung"
    )
    belief_noise: NonNegative = Field(description="sd of daily belief noise, in log-odds")


class Incursion(_Node):
    """Missiles, drones or balloons entering a neighbour's airspace, and its air defence.

    Each day a source is active (its ``requires`` hold and, with ``when_move``, its launcher
    makes one of those moves), one crosses into ``into`` with ``daily_rate``. It is blamed on
    the launcher; with ``defender_own`` it was really the air-defence missile of the state the
    launcher was striking (``aimed_at``), as at Przewodow in 2022. The victim's air defence
    intercepts it with ``intercept``; one not intercepted kills people on the ground with
    ``casualties``. An incursion or its interception is not an exchange of fire between forces:
    it sets no armed incident and adds no act to the dispute record; victims and their allies
    answer it through the ``incursion`` and ``incursion_casualties`` features.
    """

    label: str
    kind: Literal["missile", "drone", "balloon"]
    launcher: ActorName = Field(description="who launches (and is blamed)")
    into: ActorName = Field(description="whose airspace it enters")
    aimed_at: ActorName | None = Field(
        None,
        description="the third state the launcher was striking when it strayed (none: it was "
        "sent at the victim itself)",
    )
    when_move: list[Identifier] = Field(
        default_factory=list,
        description="the launcher's moves that carry it (hybrid actions for balloons); empty: "
        "every day the requires hold",
    )
    requires: list[Condition] = Field(default_factory=list, description="all must hold")
    daily_rate: Probability = Field(description="chance per active day that one crosses")
    defender_own: Probability = Field(
        0.0,
        description="chance it is really the aimed-at state's own air-defence missile",
    )
    intercept: Probability = Field(description="chance the victim's air defence shoots it down")
    casualties: Probability = Field(
        0.0, description="chance one that is not intercepted kills people on the ground"
    )


class IncidentModel(_Node):
    """Staged incidents, how incidents are read, and accidents where forces face each other."""

    staged_evidence_quality: Unit = Field(
        description="how convincing a staged incident's fabricated evidence is: the belief that "
        "the West did it held by an unbiased observer on the day of the incident"
    )
    staging_exchange: Probability = Field(
        0.0,
        description="chance that a staged 'armed provocation' turns into a real exchange of "
        "fire: the staging's shots on one's own side of the border are answered by the "
        "target's forces facing it (an accident both sides must then decide how to answer)",
    )
    real_incident_ambiguity: Unit = Field(
        0.5, description="the same initial belief for a real exchange of fire"
    )
    priming_weight: Unit = Field(
        0.1,
        description="weight of narrative and disclosure before any incident (priming), relative "
        "to their weight after one",
    )
    accident_rate: Probability = Field(
        0.0,
        description="daily chance of an unplanned exchange of fire on a border where both sides' "
        "forces are deployed facing each other (hybrid operations count as a partial presence)",
    )
    hybrid_presence: Unit = Field(
        0.5,
        description="how much a side's hybrid operations at a border count as forces present "
        "there, for the accident chance",
    )
    accident_fatality: Unit = Field(
        0.0, description="chance that an accidental exchange of fire kills someone"
    )


class Economy(_Node):
    """The transit corridor as a stock of blocked cargo, rerouting, and who pays."""

    corridor_value_musd_per_day: NonNegative = Field(
        0.0, description="cargo value moved along the corridor per day, million USD"
    )
    share_through_crossing: Unit = Field(
        0.0, description="share of it that passes the crossing a blockade stops"
    )
    reroute_max: Unit = Field(
        0.0,
        description="share of blocked cargo that can eventually go by sea or the Middle Corridor",
    )
    reroute_days: Positive = Field(
        30.0, description="days for rerouting to reach about two thirds of reroute_max"
    )
    holding_cost_per_day: Unit = Field(
        0.0, description="shipper's cost per day of a unit of stranded cargo value (delay, storage)"
    )
    reroute_premium: Unit = Field(
        0.0, description="shipper's extra cost of a unit of rerouted cargo value (longer, dearer)"
    )
    blockader_fee_share: Unit = Field(
        0.0, description="share of blocked cargo value the blockading state loses in fees and trade"
    )
    transit_fee_share: Unit = Field(
        0.0, description="share of blocked cargo value the transit state loses in fees"
    )
    sanctions_musd_per_day: NonNegative = Field(
        0.0, description="cost per day of sanctions to the sanctioned actor, million USD"
    )
    cost_scale_musd: float = Field(
        100.0, gt=0, description="cumulative cost at which the own_cost feature reaches 1"
    )


class Transit(_Node):
    """The transit mechanism: who ships, through whom, and who can stop it."""

    shipper: ActorName = Field(description="whose cargo crosses (it bears the blockade's cost)")
    transit_state: ActorName = Field(description="the state the cargo crosses before the crossing")
    blockaders: list[ActorName] = Field(description="who may stop the cargo at the crossing")
    blame_prior: Unit = Field(
        description="the shipper's initial belief that the blockader, not the transit state, is "
        "to blame for a blockade"
    )


class AlignmentTrack(_Node):
    """An actor that moves along a track of alignment with one side, on a slow clock."""

    actor: ActorName = Field(description="who moves on the track")
    toward: list[ActorName] = Field(description="the actors it aligns with (e.g. Minsk, Moscow)")
    track: list[Identifier] = Field(min_length=2, description="levels from neutral upwards")
    initial: str
    review_every: int = Field(
        7, ge=1, le=365, description="days between reviews of its level (a slower clock)"
    )
    hysteresis: NonNegative = Field(
        description="utility of keeping the current level at a review (a switching cost)"
    )
    step_cost: Weight = Field(
        description="utility cost of each level already climbed, when climbing one more"
    )
    exposure: Unit = Field(description="how much its trade with the other side is at stake")
    up: dict[Feature, Weight] = Field(description="weights on features for one step up")
    down: dict[Feature, Weight] = Field(description="weights on features for one step down")
    escalation_level: str = Field(
        description="the level at or above which it counts as escalating (china_escalates)"
    )


class Alliance(_Node):
    """A commitment between actors."""

    kind: Literal["collective_defence", "union", "none"] = Field(
        description="collective_defence: Article 4/5 with a guarantor; union: its members share "
        "threats; none: membership without a defence commitment (the SCO)"
    )
    members: list[ActorName] = Field(min_length=1)
    guarantor: ActorName | None = Field(
        None, description="who acts for a collective-defence alliance (NATO)"
    )
    solidarity: Unit = Field(
        0.0, description="share of a member's threat that the others (guarantor) feel as theirs"
    )
    article5_threshold_rung: str | None = Field(
        None, description="rung of an armed attack on a member that opens collective defence"
    )


class Context(_Node):
    """Facts of the wider situation."""

    nuclear_weapons_deployed: bool = Field(
        False, description="non-strategic nuclear weapons on the eastern side's forward territory"
    )
    nuclear_signal_days: int = Field(7, ge=1, le=60, description="days a signal is felt")


class Dynamics(_Node):
    """How fast postures and measures change and how pressure fades."""

    max_step_up: int = Field(2, ge=1, le=10, description="rungs a daily move may climb per day")
    max_step_down: int = Field(
        2, ge=1, le=10, description="rungs a daily move may descend per day (wars take time)"
    )
    max_step_up_armed: int = Field(
        1,
        ge=1,
        le=10,
        description="rungs a daily move may climb per day above the armed-incident rung: from "
        "an exchange of fire to strikes, from strikes to an offensive, one rung a day",
    )
    hybrid_decay: Unit = Field(description="share of hybrid pressure left the next day")
    attack_memory_days: int = Field(
        3, ge=1, le=30, description="days an actor counts itself attacked after force is used"
    )
    measure_review: Probability = Field(
        description="daily chance that an actor reconsiders each of its lasting measures"
    )
    # The shared ladder dynamics: the same in every scenario, fitted to the MID record by
    # `escalation calibrate` (docs/MODEL.md, "Calibration and validation").
    # A cost, never a bonus: nothing may make force attractive in a quiet world by itself
    # (the first calibration fitted restraint = -5.6, a utility bonus for every use of force,
    # and quiet drills ended in fire). Force is chosen for reasons the motives name.
    restraint: NonNegative = Field(
        0.0,
        description="utility cost added to every use of force by every actor: the shared "
        "threshold for choosing to fire (>= 0: a cost, never a bonus)",
    )
    restraint_spread: NonNegative = Field(
        0.0,
        description="standard deviation of restraint between worlds: pairs of rivals differ in "
        "how readily they fire, so each world draws its own restraint from "
        "max(0, normal(restraint, restraint_spread))",
    )
    retaliation: NonNegative = Field(
        1.0,
        description="multiplies every actor's motive weights on having been attacked: how "
        "strongly force is answered with force",
    )
    threat_response: NonNegative = Field(
        1.0,
        description="multiplies every actor's motive weights on threat and its gain from "
        "standing up to threat: how strongly threat is answered",
    )
    temperature_scale: TemperatureScale = Field(
        1.0,
        description="multiplies every actor's temperature: how noisy all choices are",
    )


class EndState(_Node):
    """An end state; the first in the list whose conditions hold is a replicate's end state."""

    name: Identifier
    label: str
    max_rung_at_least: str | None = Field(
        None, description="the highest rung reached by any actor is at least this"
    )
    final_rung_at_least: str | None = Field(
        None, description="some actor stands at least this high on the last day"
    )
    blockade_at_end: bool | None = Field(None, description="blockade in force on the last day")
    absorbing: bool = Field(False, description="a world that reaches it stops stepping")


class DeclaredOutcome(_Node):
    """A yes/no outcome declared by the scenario; write exactly one test (with ``at_least``
    for ``max_rung_between``)."""

    description: str = ""
    track_at_least: str | None = Field(
        None, description="the aligning actor reached this level of its track at some time"
    )
    measure_used: str | list[str] | None = Field(
        None,
        description="this lasting measure (or any of a list) was in force at some time (any "
        "holder, target)",
    )
    max_rung_between: tuple[ActorName, ActorName] | None = Field(
        None, description="what either of two actors aimed at the other reached ``at_least``"
    )
    rung_reached: RungAtLeast | None = Field(
        None, description="this actor's posture reached this rung at some time"
    )
    at_least: str | None = Field(None, description="the rung for max_rung_between")

    def model_post_init(self, _ctx: Any) -> None:
        tests = ("track_at_least", "measure_used", "max_rung_between", "rung_reached")
        n = sum(getattr(self, k) is not None for k in tests)
        if n != 1:
            raise ValueError("a declared outcome needs exactly one of: " + ", ".join(tests))
        if (self.max_rung_between is None) != (self.at_least is None):
            raise ValueError("max_rung_between and at_least go together")


class Outcomes(_Node):
    """Which rungs the built-in outcomes refer to, and the outcomes the scenario declares."""

    armed_incident_rung: str = Field(description="rung at or above which force was used")
    declared: dict[Identifier, DeclaredOutcome] = Field(
        default_factory=dict,
        description="named yes/no outcomes, each a column of the outcomes table (the headline "
        "outcomes of the shipped scenarios: china_escalates, blockade, article4, article5)",
    )


class Scenario(_Node):
    """A whole scenario, after ``extends`` and ``--set`` overrides have been applied."""

    name: Identifier
    title: str
    description: str = ""
    start_date: dt.date = Field(description="calendar date of day 0")
    horizon_days: int = Field(ge=1, le=3650, description="days simulated")
    ladder: list[Rung] = Field(min_length=3)
    actors: dict[ActorName, Actor] = Field(min_length=2)
    moves: dict[Identifier, Move] = Field(min_length=1)
    measures: dict[Identifier, Measure] = Field(default_factory=dict)
    alliances: dict[Identifier, Alliance] = Field(default_factory=dict)
    alignment: AlignmentTrack | None = None
    transit: Transit | None = None
    context: Context = Field(default_factory=Context)  # type: ignore[arg-type]
    incidents: IncidentModel
    fog: Fog
    economy: Economy = Field(default_factory=Economy)  # type: ignore[arg-type]
    dynamics: Dynamics
    exercise: Exercise | None = None
    injects: list[Inject] = Field(default_factory=list)
    incursions: dict[Identifier, Incursion] = Field(
        default_factory=dict,
        description="missiles, drones and balloons entering a neighbour's airspace",
    )
    end_states: list[EndState] = Field(min_length=1)
    outcomes: Outcomes

    def rung_index(self, name: str) -> int:
        """Position of a rung on the ladder (0 is the lowest)."""
        return [r.name for r in self.ladder].index(name)

    def alignment_index(self, name: str) -> int:
        """Position of a level on the alignment track (0 is neutral)."""
        assert self.alignment is not None
        return self.alignment.track.index(name)

    @property
    def alignment_track(self) -> list[str]:
        """The levels of the alignment track (one level, ``none``, without a track)."""
        return list(self.alignment.track) if self.alignment is not None else ["none"]

    @property
    def actor_names(self) -> list[str]:
        """The declared actors, in the order of every actor axis in the model."""
        return list(self.actors)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (a key path, and once located a file and line)."""

    path: tuple[str | int, ...]
    message: str
    file: str | None = None
    line: int | None = None

    def format(self) -> str:
        """``file:line: key.path: message``, the one-line form printed by the CLI."""
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        return f"{where}{self.dotted}: {self.message}"

    @property
    def dotted(self) -> str:
        """The key path as ``actors.china.resolve`` / ``injects[0].day``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "(top level)"


class ScenarioError(UserError):
    """A scenario that does not validate; carries every problem found."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.format() for p in problems))


def cross_check(s: Scenario) -> list[Problem]:
    """Check every name that refers to another part of the scenario.

    Returns:
        The problems found, each with its key path (empty when all references resolve).
    """
    out: list[Problem] = []
    rungs = [r.name for r in s.ladder]
    actors = list(s.actors)
    levels = list(s.alignment.track) if s.alignment is not None else []

    def need(kind: str, name: str, known: list[str], path: tuple[str | int, ...]) -> bool:
        if name not in known:
            options = ", ".join(known) if known else "(none declared)"
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.append(Problem(path, f"unknown {kind} '{name}'; expected one of: {options}{hint}"))
            return False
        return True

    def actor_ref(name: str, path: tuple[str | int, ...]) -> bool:
        return need("actor", name, actors, path)

    for seen, (i, r) in _dupes(r.name for r in s.ladder):
        out.append(Problem(("ladder", i, "name"), f"rung '{r}' already defined at ladder[{seen}]"))
    sev = [r.severity for r in s.ladder]
    if any(b < a for a, b in itertools.pairwise(sev)):
        out.append(Problem(("ladder",), "severities must not decrease up the ladder"))
    clash = sorted(set(s.moves) & set(s.measures))
    for name in clash:
        out.append(Problem(("measures", name), f"'{name}' is already the name of a move"))

    base: tuple[str | int, ...]
    for name, actor in s.actors.items():
        base = ("actors", name)
        for rel in ("adversaries", "allies", "borders"):
            for i, other in enumerate(getattr(actor, rel)):
                if other == name:
                    out.append(
                        Problem((*base, rel, i), f"an actor cannot list itself in its {rel}")
                    )
                else:
                    actor_ref(other, (*base, rel, i))
        menu = [m for m, mv in s.moves.items() if name in mv.actors]
        own = [m for m, me in s.measures.items() if name in me.actors]
        if not menu:
            out.append(Problem(base, f"{name} has no moves: list it in some move's actors"))
        elif actor.initial_move not in s.moves:
            need("move", actor.initial_move, list(s.moves), (*base, "initial_move"))
        elif actor.initial_move not in menu:
            out.append(
                Problem(
                    (*base, "initial_move"),
                    f"move '{actor.initial_move}' is not on {name}'s menu "
                    f"(moves.{actor.initial_move}.actors)",
                )
            )
        for i, ref in enumerate(actor.initial_measures):
            mname, _, target = ref.partition("@")
            path = (*base, "initial_measures", i)
            if need("measure", mname, list(s.measures), path):
                if mname not in own:
                    out.append(Problem(path, f"{name} cannot start '{mname}'"))
                elif s.measures[mname].aimed != bool(target):
                    out.append(
                        Problem(
                            path,
                            (
                                f"'{mname}' is aimed: write measure@target"
                                if s.measures[mname].aimed
                                else f"'{mname}' is not aimed: write it without @target"
                            ),
                        )
                    )
                elif target:
                    actor_ref(target, path)
        for key in actor.motives:
            if key not in s.moves and key not in s.measures:
                need(
                    "move or measure",
                    key,
                    list(s.moves) + list(s.measures),
                    (*base, "motives", key),
                )
            elif key not in menu and key not in own:
                out.append(
                    Problem(
                        (*base, "motives", key),
                        f"'{key}' is not on {name}'s menu (its actors list does not name {name})",
                    )
                )

    def check_actors(names: list[str], path: tuple[str | int, ...]) -> None:
        for i, who in enumerate(names):
            actor_ref(who, (*path, i))

    for mname, move in s.moves.items():
        base = ("moves", mname)
        need("rung", move.rung, rungs, (*base, "rung"))
        check_actors(move.actors, (*base, "actors"))
        for i, c in enumerate(move.requires):
            out += _check_condition(c, (*base, "requires", i), rungs, levels, s)
        if move.effects.force and not move.aimed:
            out.append(Problem((*base, "effects", "force"), "a use of force must be aimed: true"))
        if move.effects.hybrid and not move.aimed:
            out.append(Problem((*base, "effects", "hybrid"), "hybrid pressure must be aimed: true"))
        if move.fatality and not move.effects.force:
            out.append(Problem((*base, "fatality"), "only a use of force (effects.force) can kill"))
    for mname, me in s.measures.items():
        base = ("measures", mname)
        need("rung", me.rung, rungs, (*base, "rung"))
        check_actors(me.actors, (*base, "actors"))
        for i, c in enumerate(me.requires):
            out += _check_condition(c, (*base, "requires", i), rungs, levels, s)
        if me.kind == "transit_blockade" and s.transit is None:
            out.append(Problem((*base, "kind"), "a transit blockade needs a 'transit' section"))
        if me.kind == "transit_blockade" and s.transit is not None:
            for i, who in enumerate(me.actors):
                if who not in s.transit.blockaders:
                    out.append(Problem((*base, "actors", i), f"{who} is not in transit.blockaders"))
        if me.kind in ("consultations", "collective_defence"):
            for i, who in enumerate(me.actors):
                if not any(
                    a.kind == "collective_defence" and (who in a.members or who == a.guarantor)
                    for a in s.alliances.values()
                ):
                    out.append(
                        Problem(
                            (*base, "actors", i),
                            f"{who} is in no collective-defence alliance (alliances)",
                        )
                    )

    for aname, al in s.alliances.items():
        base = ("alliances", aname)
        check_actors(al.members, (*base, "members"))
        if al.guarantor is not None:
            actor_ref(al.guarantor, (*base, "guarantor"))
        if al.kind == "collective_defence":
            if al.guarantor is None:
                out.append(Problem(base, "a collective-defence alliance needs a guarantor"))
            if al.article5_threshold_rung is None:
                out.append(
                    Problem(base, "a collective-defence alliance needs article5_threshold_rung")
                )
        if al.article5_threshold_rung is not None:
            need("rung", al.article5_threshold_rung, rungs, (*base, "article5_threshold_rung"))

    # Settings that a valid value could make do nothing are errors, not silent no-ops.
    for aname, ally in s.alliances.items():
        base = ("alliances", aname)
        if ally.kind == "none" and _not_default(ally, "solidarity"):
            out.append(Problem((*base, "solidarity"), "an alliance of kind none commits nobody"))
        if ally.kind != "collective_defence" and ally.article5_threshold_rung is not None:
            out.append(
                Problem(
                    (*base, "article5_threshold_rung"),
                    "only a collective_defence alliance has an Article 5 threshold",
                )
            )
    for name, actor in s.actors.items():
        att = actor.attribution
        if att.knows_truth:
            for key in [k for k in type(att).model_fields if k != "knows_truth"]:
                if not _not_default(att, key):
                    continue
                out.append(
                    Problem(
                        ("actors", name, "attribution", key),
                        "has no effect: this actor knows the truth (knows_truth: true)",
                    )
                )
    if _not_default(s.context, "nuclear_signal_days") and not any(
        m.effects.nuclear_signal for m in s.moves.values()
    ):
        out.append(
            Problem(
                ("context", "nuclear_signal_days"), "has no effect: no move sends a nuclear signal"
            )
        )
    try:
        s.start_date + dt.timedelta(days=s.horizon_days + 1)
    except OverflowError:
        # Every day of the horizon is told as a calendar date (replay, play, charts).
        out.append(
            Problem(
                ("horizon_days",),
                f"{s.horizon_days} days from {s.start_date} leave the calendar (the last date "
                f"is {dt.date.max})",
            )
        )
    for i, inj in enumerate(s.injects):
        if isinstance(inj.probability, int | float) and inj.probability == 0:
            out.append(Problem(("injects", i, "probability"), "0: this inject can never fire"))

    if s.alignment is not None:
        al_ = s.alignment
        actor_ref(al_.actor, ("alignment", "actor"))
        check_actors(al_.toward, ("alignment", "toward"))
        for seen, (i, lv) in _dupes(levels):
            out.append(Problem(("alignment", "track", i), f"level '{lv}' already at [{seen}]"))
        need("alignment level", al_.initial, levels, ("alignment", "initial"))
        need("alignment level", al_.escalation_level, levels, ("alignment", "escalation_level"))
    if s.transit is not None:
        tr = s.transit
        actor_ref(tr.shipper, ("transit", "shipper"))
        actor_ref(tr.transit_state, ("transit", "transit_state"))
        check_actors(tr.blockaders, ("transit", "blockaders"))
        if not any(m.kind == "transit_blockade" for m in s.measures.values()):
            out.append(
                Problem(
                    ("transit",), "no measure has kind: transit_blockade, so nobody can block it"
                )
            )

    for i, inj in enumerate(s.injects):
        base = ("injects", i)
        for j, c in enumerate(inj.when):
            out += _check_condition(c, (*base, "when", j), rungs, levels, s)
        fm = inj.force_move
        if fm is not None and actor_ref(fm.actor, (*base, "force_move", "actor")):
            if fm.move not in s.moves:
                need("move", fm.move, list(s.moves), (*base, "force_move", "move"))
            elif fm.actor not in s.moves[fm.move].actors:
                out.append(
                    Problem(
                        (*base, "force_move", "actor"),
                        f"{fm.actor} cannot make move '{fm.move}' (moves.{fm.move}.actors)",
                    )
                )
            elif s.moves[fm.move].aimed and fm.target is None:
                out.append(Problem((*base, "force_move"), f"'{fm.move}' is aimed: give a target"))
            elif fm.target is not None:
                if not s.moves[fm.move].aimed:
                    out.append(
                        Problem((*base, "force_move", "target"), f"'{fm.move}' is not aimed")
                    )
                elif actor_ref(fm.target, (*base, "force_move", "target")) and (
                    fm.target not in s.actors[fm.actor].adversaries
                ):
                    out.append(
                        Problem(
                            (*base, "force_move", "target"),
                            f"{fm.target} is not one of {fm.actor}'s adversaries",
                        )
                    )
        sm = inj.start_measure
        if (
            sm is not None
            and actor_ref(sm.actor, (*base, "start_measure", "actor"))
            and need("measure", sm.measure, list(s.measures), (*base, "start_measure", "measure"))
        ):
            me = s.measures[sm.measure]
            if sm.actor not in me.actors:
                out.append(
                    Problem((*base, "start_measure", "actor"), f"{sm.actor} cannot start it")
                )
            elif me.aimed != (sm.target is not None):
                out.append(
                    Problem(
                        (*base, "start_measure"),
                        "give a target" if me.aimed else f"'{sm.measure}' is not aimed",
                    )
                )
            elif sm.target is not None:
                actor_ref(sm.target, (*base, "start_measure", "target"))
        if inj.shift_belief is not None:
            actor_ref(inj.shift_belief.actor, (*base, "shift_belief", "actor"))
        if inj.window is not None and inj.window[1] >= s.horizon_days:
            out.append(
                Problem(
                    (*base, "window"),
                    f"last day {inj.window[1]} is beyond the horizon ({s.horizon_days} days)",
                )
            )
        if inj.day is not None:
            # Day 0 is the starting state, before any move: the day loop runs days 1 ..
            # horizon, so an inject on day 0 would silently never fire.
            lo, hi = support(inj.day)
            if hi <= 0.5:
                out.append(
                    Problem((*base, "day"), "day 0 is the starting state: injects fire from day 1")
                )
            elif lo <= 0.5:
                out.append(
                    Problem(
                        (*base, "day"),
                        f"can draw day 0 (values {lo:g} to {hi:g}), which is the starting state: "
                        "injects fire from day 1",
                    )
                )
            elif lo >= s.horizon_days + 0.5:
                out.append(
                    Problem(
                        (*base, "day"),
                        f"day {lo:g} is beyond the horizon ({s.horizon_days} days)",
                    )
                )
    for seen, (i, n) in _dupes(inj.name for inj in s.injects):
        out.append(
            Problem(("injects", i, "name"), f"inject '{n}' already defined at injects[{seen}]")
        )
    if s.exercise is not None and s.exercise.start_day >= s.horizon_days:
        out.append(Problem(("exercise", "start_day"), "the exercise starts after the horizon"))
    if s.exercise is not None:
        for i, who in enumerate(s.exercise.participants or []):
            actor_ref(who, ("exercise", "participants", i))
    for name, inc in s.incursions.items():
        base = ("incursions", name)
        for key in ("launcher", "into", "aimed_at"):
            who = getattr(inc, key)
            if who is not None:
                actor_ref(who, (*base, key))
        if inc.launcher == inc.into:
            out.append(Problem((*base, "into"), "an incursion enters another actor's airspace"))
        for j, mv in enumerate(inc.when_move):
            known = need("move", mv, list(s.moves), (*base, "when_move", j))
            if known and inc.launcher in s.actors and inc.launcher not in s.moves[mv].actors:
                out.append(Problem((*base, "when_move", j), f"{inc.launcher} cannot make '{mv}'"))
        for j, c in enumerate(inc.requires):
            out += _check_condition(c, (*base, "requires", j), rungs, levels, s)
    for i, es in enumerate(s.end_states):
        for key in ("max_rung_at_least", "final_rung_at_least"):
            v = getattr(es, key)
            if v is not None:
                need("rung", v, rungs, ("end_states", i, key))
    need("rung", s.outcomes.armed_incident_rung, rungs, ("outcomes", "armed_incident_rung"))
    for name, d in s.outcomes.declared.items():
        base = ("outcomes", "declared", name)
        if d.track_at_least is not None:
            if s.alignment is None:
                out.append(Problem((*base, "track_at_least"), "no alignment track is declared"))
            else:
                need("alignment level", d.track_at_least, levels, (*base, "track_at_least"))
        if isinstance(d.measure_used, str):
            need("measure", d.measure_used, list(s.measures), (*base, "measure_used"))
        elif d.measure_used is not None:
            for i, mname in enumerate(d.measure_used):
                need("measure", mname, list(s.measures), (*base, "measure_used", i))
        if d.max_rung_between is not None:
            for i, who in enumerate(d.max_rung_between):
                actor_ref(who, (*base, "max_rung_between", i))
        if d.at_least is not None:
            need("rung", d.at_least, rungs, (*base, "at_least"))
        if d.rung_reached is not None:
            actor_ref(d.rung_reached.actor, (*base, "rung_reached", "actor"))
            need("rung", d.rung_reached.rung, rungs, (*base, "rung_reached", "rung"))
    out += _check_draws(s)
    return out


def _check_draws(s: Scenario) -> list[Problem]:
    """The columns of one table of joint draws must have the same number of rows."""
    out: list[Problem] = []
    first: dict[str, tuple[str, int]] = {}
    for path, p in iter_params(s):
        if getattr(p, "dist", None) != "draws":
            continue
        n = len(p.values)  # type: ignore[union-attr]
        table = p.table  # type: ignore[union-attr]
        if table not in first:
            first[table] = (path, n)
        elif first[table][1] != n:
            out.append(
                Problem(
                    _split_dotted(path),
                    f"table '{table}' has {first[table][1]} rows in {first[table][0]} but {n} "
                    "here; every column of a table of draws needs the same number of rows",
                )
            )
    return out


def _split_dotted(path: str) -> tuple[str | int, ...]:
    """``injects[0].day`` back to ``('injects', 0, 'day')``."""
    out: list[str | int] = []
    for part in path.split("."):
        name, *idx = part.replace("]", "").split("[")
        out.append(name)
        out += [int(i) for i in idx]
    return tuple(out)


def _not_default(node: BaseModel, key: str) -> bool:
    """Whether a field holds something other than its default (a dumped scenario writes every
    default out, so "was it written" cannot tell a real setting from a round trip)."""
    return getattr(node, key) != type(node).model_fields[key].default


def _check_condition(
    c: Condition,
    path: tuple[str | int, ...],
    rungs: list[str],
    levels: list[str],
    s: Scenario,
) -> list[Problem]:
    out = []
    actors = list(s.actors)
    for key in ("rung_at_least", "belief_at_least", "measure_in_force"):
        v = getattr(c, key)
        if v is not None and v.actor not in actors:
            out.append(
                Problem(
                    (*path, key, "actor"),
                    f"unknown actor '{v.actor}'; expected one of: {', '.join(actors)}",
                )
            )
    if c.rung_at_least is not None and c.rung_at_least.rung not in rungs:
        out.append(
            Problem(
                (*path, "rung_at_least", "rung"),
                f"unknown rung '{c.rung_at_least.rung}'; expected one of: {', '.join(rungs)}",
            )
        )
    if c.measure_in_force is not None and c.measure_in_force.measure not in s.measures:
        out.append(
            Problem(
                (*path, "measure_in_force", "measure"),
                f"unknown measure '{c.measure_in_force.measure}'; expected one of: "
                f"{', '.join(s.measures) or '(none declared)'}",
            )
        )
    if c.alignment_at_least is not None and c.alignment_at_least not in levels:
        out.append(
            Problem(
                (*path, "alignment_at_least"),
                f"unknown alignment level '{c.alignment_at_least}'; expected one of: "
                f"{', '.join(levels) or '(no alignment track declared)'}",
            )
        )
    return out


def _dupes(names: Any) -> Iterator[tuple[int, tuple[int, str]]]:
    first: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in first:
            yield first[n], (i, n)
        else:
            first[n] = i


def _misspelt_actors(data: Any) -> dict[str, Problem]:
    """Actors that look like a typo of another actor rather than a new one.

    Actors are declared by name, so ``actors: {chna: {resolve: 0.3}}`` in a file extending
    base.yaml declares a new actor with almost every key missing. When such an entry has no
    ``label`` (every declaration needs one) and its name is close to a declared actor, it is
    reported once, as the typo it almost certainly is.
    """
    actors = data.get("actors") if isinstance(data, dict) else None
    if not isinstance(actors, dict):
        return {}
    out: dict[str, Problem] = {}
    for name, body in actors.items():
        if not isinstance(name, str) or (isinstance(body, dict) and "label" in body):
            continue
        others = [str(k) for k in actors if k != name]
        close = difflib.get_close_matches(name, others, n=1)
        if close:
            out[name] = Problem(
                ("actors", name),
                f"unknown key; did you mean '{close[0]}'? (a new actor needs at least label, "
                "side, resolve, risk_tolerance, stakes, war_aversion, temperature, inertia and "
                "initial_move)",
            )
    return out


def validate_scenario(data: Any, source: str | None = None) -> Scenario:
    """Validate a plain tree (already merged and overridden) into a frozen :class:`Scenario`.

    Args:
        data: The scenario as nested dicts and lists (without ``extends``).
        source: Where it came from, for error messages.

    Raises:
        ScenarioError: listing every problem, each with its key path.
    """
    early = _misspelt_actors(data)
    if early:
        data = dict(data)
        data["actors"] = {k: v for k, v in data["actors"].items() if k not in early}
    try:
        s = Scenario.model_validate(data)
    except ValidationError as e:
        problems = _from_pydantic(e.errors(include_url=False), data)
        raise ScenarioError(list(early.values()) + problems, source) from None
    if early:
        raise ScenarioError(list(early.values()), source)
    problems = cross_check(s)
    if problems:
        raise ScenarioError(problems, source)
    return s


# --- Turning pydantic's errors into problems people can act on ---------------------------------
#
# Pydantic reports a location that mixes the user's keys with labels of its own (the members of
# a union such as ``float`` or ``tagged-union[...]``, the tag of a distribution, ``[key]`` for a
# mapping key), and for a union it reports every member that failed: a distribution written with
# a typo gets "Input should be a valid number" from the ``float`` member as well. The helpers
# below walk each location through the data the user wrote, keep only the keys that are really
# there, drop errors from union members whose kind (number vs mapping) the user clearly did not
# mean, and word each message as "what was expected, what was got".

_DIST_NAMES: tuple[str, ...] = tuple(
    get_args(cls.model_fields["dist"].annotation)[0] for cls in get_args(get_args(Dist)[0])
)
"""The ``dist`` names a distribution may have, in declaration order."""

_EXPECTED: dict[str, str] = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of reasonable size",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD) without a time of day",
    "none_required": "null",
}
"""Pydantic's type-mismatch error kinds, as the kind of value that was expected."""

_COMPARISONS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_PARAM_EXAMPLE = "{dist: uniform, low: 0.2, high: 0.6}"
_IDENTIFIER_RE = r"^[a-z][a-z0-9_]*$"  # as in Identifier
_IDENTIFIER_HELP = "a name of lowercase letters, digits and _ that starts with a letter"


@dataclass
class _Located:
    """One pydantic error, placed on the user's tree."""

    path: tuple[str | int, ...]
    site: tuple[str | int, ...] | None  # where a union member's label first appeared
    about_key: bool  # the error is about a mapping key, not its value
    err: dict[str, Any]


def _from_pydantic(errors: list[Any], data: Any) -> list[Problem]:
    """Problems for pydantic's validation errors, with key paths into ``data`` (the user's tree).

    Args:
        errors: ``ValidationError.errors()``.
        data: The tree that was validated.

    Returns:
        One problem per mistake, in pydantic's order, without duplicates.
    """
    located = [_place(err, data) for err in errors]
    by_site: dict[tuple[str | int, ...], list[_Located]] = {}
    for loc in located:
        if loc.site is not None:
            by_site.setdefault(loc.site, []).append(loc)

    out: list[Problem] = []
    done_sites: set[tuple[str | int, ...]] = set()
    for loc in located:
        if loc.site is not None and _is_type_mismatch(loc):
            group = by_site[loc.site]
            if any(not _is_type_mismatch(o) for o in group):
                # The value matched another member's kind (a mapping for a distribution):
                # that member's complaint is the relevant one, not "should be a number".
                continue
            if loc.site in done_sites:
                continue
            done_sites.add(loc.site)
            out.append(_merged_mismatch(loc.site, group, data))
        else:
            out.append(_problem(loc, data))
    # Under a key that is itself unknown (``actors.chna``), every other complaint is noise.
    unknown = [p.path for p in out if p.message.startswith("unknown key")]
    unique: dict[tuple[tuple[str | int, ...], str], Problem] = {}
    for p in out:
        if not any(p.path[: len(u)] == u and p.path != u for u in unknown):
            unique.setdefault((p.path, p.message), p)
    return list(unique.values())


def _place(err: dict[str, Any], data: Any) -> _Located:
    node, path = data, []
    site, about_key = None, False
    loc = tuple(err["loc"])
    for i, seg in enumerate(loc):
        if seg == "[key]":
            about_key = True
        elif (child := _child(node, seg)) is not _ABSENT:
            path.append(seg)
            node = child
        elif i == len(loc) - 1 and err["type"] == "missing":
            path.append(seg)
        elif site is None:
            # Not something the user wrote: a union member's label (``float``,
            # ``tagged-union[...]``) or a distribution's tag (``beta``).
            site = tuple(path)
    return _Located(tuple(path), site, about_key, err)


_ABSENT = object()


def _child(node: Any, seg: Any) -> Any:
    """``node[seg]`` for a mapping key or list index the user wrote, else ``_ABSENT``."""
    if isinstance(node, dict) and _has_key(node, seg):
        return node[seg]
    if isinstance(node, list | tuple) and isinstance(seg, int) and 0 <= seg < len(node):
        return node[seg]
    return _ABSENT


def _has_key(node: dict[Any, Any], key: Any) -> bool:
    try:
        return key in node
    except TypeError:  # unhashable
        return False


def _is_type_mismatch(loc: _Located) -> bool:
    return loc.path == loc.site and loc.err["type"] in _EXPECTED


def _merged_mismatch(site: tuple[str | int, ...], group: list[_Located], data: Any) -> Problem:
    value = group[0].err.get("input")
    if _is_param_annotation(annotation_at(site)):
        return Problem(
            site,
            f"expected a number or a distribution such as {_PARAM_EXAMPLE}, got {_describe(value)}",
        )
    kinds = list(dict.fromkeys(_EXPECTED[g.err["type"]] for g in group if g.path == site))
    return Problem(site, f"expected {' or '.join(kinds)}, got {_describe(value)}")


def _problem(loc: _Located, data: Any) -> Problem:
    err, path = loc.err, loc.path
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        return Problem(path, "unknown key" + _suggest(path[-1], allowed_keys(path[:-1], data)))
    if kind == "missing":
        parent = _get(data, path[:-1])
        if isinstance(parent, list):
            n = _tuple_length(annotation_at(path[:-1], data))
            want = f"{n} items" if n else "more items"
            return Problem(path[:-1], f"expected {want}, got {len(parent)}")
        return Problem(path, "required key is missing")
    if kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "'dist'")).strip("'")
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        what = "distribution" if key == "dist" else key
        return Problem(
            (*path, key),
            f"unknown {what} {_describe(ctx.get('tag'))}; expected one of: {', '.join(tags)}"
            + _suggest(ctx.get("tag"), tags, full=False),
        )
    if kind == "union_tag_not_found":
        return Problem(
            path,
            f"a distribution needs a 'dist' key, one of: {', '.join(_DIST_NAMES)} "
            f"(or write a plain number), got {_describe(value)}",
        )
    if kind == "literal_error":
        options = _literal_options(str(ctx.get("expected", "")))
        if loc.about_key:
            return Problem(path, "unknown key" + _suggest(path[-1], options))
        return Problem(
            path,
            f"expected one of: {', '.join(options)}, got {_describe(value)}"
            + _suggest(value, options, full=False),
        )
    if kind in _COMPARISONS:
        bound = next(iter(ctx.values()), "?")
        return Problem(path, f"must be {_COMPARISONS[kind]} {bound}, got {_describe(value)}")
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        least = "at least" if kind == "too_short" else "at most"
        got = ctx.get("actual_length")
        return Problem(path, f"needs {least} {n} item{'s' * (n != 1)}, got {got}")
    if kind in ("string_too_short", "string_too_long"):
        n = ctx.get("min_length" if kind == "string_too_short" else "max_length")
        least = "at least" if kind == "string_too_short" else "at most"
        return Problem(path, f"needs {least} {n} characters, got {_describe(value)}")
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        want = _IDENTIFIER_HELP if pattern == _IDENTIFIER_RE else f"text matching {pattern}"
        what = "invalid key: " if loc.about_key else ""
        return Problem(path, f"{what}expected {want}, got {_describe(value)}")
    if kind in _EXPECTED:
        detail = f" ({ctx['error']})" if isinstance(ctx.get("error"), str) else ""
        return Problem(path, f"expected {_EXPECTED[kind]}, got {_describe(value)}{detail}")
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("value_error", "assertion_error"):
        # Model-level checks name the key they are about ("window must be ..."): point there,
        # so the reported line is that key's line rather than the start of the mapping.
        m = re.match(r"([a-z_][a-z0-9_]*) ", msg)
        node = _get(data, path)
        if m and isinstance(node, dict) and m.group(1) in node:
            path = (*path, m.group(1))
        return Problem(path, msg)
    return Problem(path, f"{msg}, got {_describe(value)}")


def _describe(v: Any) -> str:
    """A value as the user wrote it, short: ``'abc'``, ``1.4``, ``null``, ``a mapping``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:37] + "...")
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, dt.date):
        return v.isoformat()
    return type(v).__name__


def _suggest(word: Any, options: Sequence[str] | None, full: bool = True) -> str:
    """``; did you mean 'x'?`` for the closest option (or, with ``full``, list the options)."""
    if not options:
        return ""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options)}" if full else ""


def _literal_options(expected: str) -> list[str]:
    # pydantic writes "'a', 'b' or 'c'" (or "-1, 0 or 1" for numbers)
    quoted = re.findall(r"'([^']*)'", expected)
    return quoted or [s for s in re.split(r", | or ", expected) if s]


def _get(data: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path`` of a plain tree, or None where there is none."""
    node = data
    for seg in path:
        node = _child(node, seg)
        if node is _ABSENT:
            return None
    return node


def _tuple_length(ann: Any) -> int | None:
    ann = _unwrap(ann)
    if get_origin(ann) is tuple and Ellipsis not in get_args(ann):
        return len(get_args(ann))
    return None


# --- What the schema allows where (used by the messages above, ``--set`` and the docs) ----------


def annotation_at(path: Sequence[str | int], data: Any = None) -> Any:
    """The schema's type for the value at ``path`` of a scenario tree.

    Args:
        path: Keys and list indices from the top of the scenario.
        data: The tree (optional); needed to follow a distribution's own keys, which depend on
            its ``dist``.

    Returns:
        The annotation (with its ``Annotated`` metadata, so bounds stay visible), or None when
        the schema has no such place.
    """
    ann: Any = Scenario
    node = data
    for seg in path:
        ann = _child_annotation(ann, seg, node)
        if ann is None:
            return None
        node = _get(node, (seg,))
    return ann


def allowed_keys(path: Sequence[str | int], data: Any = None) -> tuple[str, ...] | None:
    """The keys the schema accepts in the mapping at ``path``.

    Returns:
        The key names; None when any name is accepted there (names the scenario defines, such
        as the keys of ``moves``); an empty tuple when the schema has no mapping at ``path``.
    """
    ann = _unwrap(annotation_at(path, data))
    node = _get(data, path)
    if _is_model(ann):
        return tuple(info.alias or name for name, info in ann.model_fields.items())
    if get_origin(ann) is dict:
        key = _unwrap(get_args(ann)[0])
        return tuple(str(a) for a in get_args(key)) if get_origin(key) is Literal else None
    if get_origin(ann) in (Union, types.UnionType):
        member = _matching_member(ann, node)
        if member is not None:
            return tuple(info.alias or name for name, info in member.model_fields.items())
    return ()


def is_param(ann: Any) -> bool:
    """Whether a field type is a :data:`Param` (a number or a distribution; maybe optional)."""
    return _is_param_annotation(ann)


def is_param_at(path: Sequence[str | int]) -> bool:
    """Whether the schema expects a :data:`Param` (a number or a distribution) at ``path``.

    A distribution is one value: ``extends`` replaces it whole instead of merging its keys.
    """
    return is_param(annotation_at(path))


def field_bounds(ann: Any) -> dict[str, float]:
    """Numeric bounds declared on a field type: ``{'ge': 0, 'le': 1}`` and the like.

    Covers pydantic constraints (``Field(ge=...)``) and :func:`param` bounds. The latter are
    read from the check function :func:`_bounded` builds, so keep its argument names.
    """
    out: dict[str, float] = {}
    for meta in _all_metadata(ann):
        for key in ("gt", "ge", "lt", "le"):
            if getattr(meta, key, None) is not None:
                out[key] = getattr(meta, key)
        if isinstance(meta, AfterValidator):
            out.update(getattr(meta.func, "bounds", {}))
    return out


def _all_metadata(ann: Any) -> Iterator[Any]:
    if get_origin(ann) is Annotated:
        yield from ann.__metadata__
        yield from _all_metadata(get_args(ann)[0])
    elif get_origin(ann) in (Union, types.UnionType):
        for a in get_args(ann):
            yield from _all_metadata(a)


def _unwrap(ann: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` (the types that do not change what may be written)."""
    while True:
        if get_origin(ann) is Annotated:
            ann = get_args(ann)[0]
        elif get_origin(ann) in (Union, types.UnionType):
            rest = [a for a in get_args(ann) if a is not type(None)]
            if len(rest) != 1:
                return ann
            ann = rest[0]
        else:
            return ann


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _field_annotation(info: Any) -> Any:
    # Pydantic moves ``Annotated`` metadata (bounds, the Param mark) off the annotation.
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _members(ann: Any) -> Iterator[Any]:
    ann = _unwrap(ann)
    if get_origin(ann) in (Union, types.UnionType):
        for a in get_args(ann):
            yield from _members(a)
    else:
        yield ann


def _matching_member(ann: Any, node: Any) -> Any:
    """The model in a union that a mapping selects by a literal key (a distribution's ``dist``)."""
    if not isinstance(node, dict):
        return None
    for m in _members(ann):
        if _is_model(m):
            for name, info in m.model_fields.items():
                tags = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
                if name in node and _has_key(dict.fromkeys(tags), node[name]):
                    return m
    return None


def _child_annotation(ann: Any, key: str | int, node: Any) -> Any:
    ann = _unwrap(ann)
    if _is_model(ann):
        for name, info in ann.model_fields.items():
            if key in (name, info.alias):
                return _field_annotation(info)
        return None
    origin, args = get_origin(ann), get_args(ann)
    if origin is dict:
        return args[1]
    if origin is list:
        return args[0] if isinstance(key, int) else None
    if origin is tuple and isinstance(key, int):
        if Ellipsis in args:
            return args[0]
        return args[key] if 0 <= key < len(args) else None
    if origin in (Union, types.UnionType):
        member = _matching_member(ann, node)
        return _child_annotation(member, key, None) if member is not None else None
    return None


def iter_params(s: BaseModel, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Param]]:
    """Every :data:`Param` field of a scenario, as (dotted path, declared value) pairs.

    The dotted paths (``actors.china.resolve``) name the columns of the parameter table and of
    ``outcomes.parquet``.
    """
    for name, info in type(s).model_fields.items():
        value = getattr(s, name)
        path = (*prefix, name)
        if _PARAM_MARK in info.metadata or _is_param_annotation(info.annotation):
            if value is not None:
                yield Problem(path, "").dotted, value
        elif isinstance(value, BaseModel):
            yield from iter_params(value, path)
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, int | float) or hasattr(v, "dist"):
                    # a mapping of parameters: alignment.up {feature: Param}
                    yield Problem((*path, k), "").dotted, v
                elif isinstance(v, BaseModel):
                    yield from iter_params(v, (*path, k))
                elif isinstance(v, dict):
                    # motives: {move: {feature: Param}}
                    for k2, v2 in v.items():
                        yield Problem((*path, k, k2), "").dotted, v2
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, BaseModel):
                    yield from iter_params(v, (*path, i))


def _is_param_annotation(ann: Any) -> bool:
    # Optional Param fields (``day: Param | None``) carry the marker inside the union.
    if get_origin(ann) is Annotated:
        return _PARAM_MARK in ann.__metadata__
    if get_origin(ann) in (Union, types.UnionType):
        return any(_is_param_annotation(a) for a in get_args(ann))
    return False
