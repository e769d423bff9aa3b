"""A game: one world of a scenario, some actors' seats taken by people (or policies).

Each day every seat sees what its actor can see (the model's features, fog included) and the
model's own advice, and picks a move; it may also start or end any of its actor's lasting
measures (forces to a border, a border closure, a blockade, Article 4 ...), and the measures it
does not touch stay as they are (a person decides them, not the model's review). The other
actors act by the model; then all of the day's moves and switches apply at once, as in any
model step. The game is kept as the list of choices made, so

* **undo** rebuilds the world from day 0 with one day fewer (one world for 60 days costs a few
  milliseconds);
* the **game log** (scenario, seed, replicate, seats, every choice, versions) is data only and
  replays bit-exactly: every random number is a pure function of (seed, replicate, day, actor,
  purpose), and a seat's choice replaces that actor's drawn move and its measure review without
  touching the others' draws (``EscalationModel.step(chosen, switches)``);
* **what happens from here?** is a Monte Carlo of new worlds branched from the current state
  (``start=``) with this world's parameter values, every actor played by the model (or the seats
  by a persona). It runs through the runner of ``escalation run`` (:func:`sim.api.run`): the
  replicate function ``sim.play.runs:branch_<token>`` carries the game's choices as data, so
  chunks, executors, seeds and the summary (Wilson intervals) are the runner's own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.model.model import EscalationModel
from sim.play.policy import Decision, Plan, Policy
from sim.scenario.parameters import WORLD_RESTRAINT
from sim.scenario.schema import Scenario

GAME_FORMAT = "escalation-game/2"
"""The ``format`` field of a game log (``/2``: seats decide their lasting measures)."""

OLD_FORMATS = ("escalation-game/1",)
"""Logs of games in which the model's own review decided the seats' measures; they replay so."""

PUBLIC_FEATURES = (
    "threat",
    "ally_threat",
    "attacked",
    "ally_attacked",
    "forces_facing",
    "hybrid_pressure",
    "incident",
    "pretext",
    "armed_incident",
    "blame_west",
    "blockade",
    "own_cost",
    "blame_blockader",
    "alignment",
    "sanctioned",
    "article4",
    "article5",
    "nuclear_signal",
)
"""Features a seat is shown (its actor's view of yesterday, fog included)."""

_WHATIF_ROW_KEYS = ("outcome", "estimate", "ci_low", "ci_high", "n", "kind")


@dataclass(frozen=True)
class WhatIf:
    """One 'what happens from here?' asked during a game, kept for the after-action summary.

    Attributes:
        day: The last day played when it was asked (the worlds branched from its end).
        replicates: How many worlds.
        personas: Seat -> persona that played it in the branches (empty: the model).
        line: :func:`line_digest` of the game's choices up to ``day``: a what-if asked from a
            day later taken back (``undo``) has another line than the game as played.
        rows: The run's summary rows (outcome, estimate, ci_low, ci_high, n, kind).
    """

    day: int
    replicates: int
    personas: dict[str, str]
    line: str
    rows: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """As the game log keeps it."""
        return {
            "day": self.day,
            "replicates": self.replicates,
            "personas": dict(self.personas),
            "line": self.line,
            "rows": [dict(r) for r in self.rows],
        }


@dataclass
class Game:
    """One world of a scenario with human seats.

    Attributes:
        scenario: The validated scenario.
        seats: Actor names whose moves are chosen outside the model.
        seed: The run seed.
        replicate: Which replicate's random numbers and parameters this world uses.
        source: The scenario file, for the record.
        overrides: ``--set`` overrides applied to it, for the record.
        moves: One entry per day played: seat -> move name.
        switches: One entry per day played: seat -> ``{"start": [slot, ...], "end": [...]}``,
            the lasting measures the seat started and ended that day (slot names as in
            ``measure_table``).
        seat_measures: True: the seats decide their measures (untouched ones are held); False
            (logs of format ``escalation-game/1``): the model's own review decides them.
    """

    scenario: Scenario
    seats: tuple[str, ...]
    seed: int
    replicate: int = 0
    source: str | None = None
    overrides: tuple[str, ...] = ()
    moves: list[dict[str, str]] = field(default_factory=list)
    switches: list[dict[str, dict[str, list[str]]]] = field(default_factory=list)
    seat_measures: bool = True
    whatifs: list[WhatIf] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.seats:
            raise UserError("a game needs at least one seat (--as ACTOR)")
        names = self.scenario.actor_names
        for seat in self.seats:
            if seat not in names:
                raise UserError(f"unknown actor '{seat}' in --as; actors: {', '.join(names)}")
        if len(set(self.seats)) != len(self.seats):
            raise UserError(f"a seat is named twice in --as: {','.join(self.seats)}")
        if self.seed < 0 or self.replicate < 0:
            raise UserError("seed and replicate must be >= 0")
        self._rebuild()

    # ----------------------------------------------------------------- the world
    def _rebuild(self) -> None:
        self.model = EscalationModel(
            self.scenario,
            seed=self.seed,
            replicate_ids=[self.replicate],
            trace=True,
            collect=False,
        )
        for i, day_moves in enumerate(self.moves):
            self._step(day_moves, self.switches[i] if i < len(self.switches) else {})

    def _step(
        self, day_moves: Mapping[str, str], day_switches: Mapping[str, Mapping[str, Any]]
    ) -> None:
        chosen = {}
        flips = {}
        for seat in self.seats:
            d = self.decision(seat)
            col = d.column(day_moves[seat])
            if not d.available[col, 0]:
                raise UserError(
                    f"day {d.day}: '{day_moves[seat]}' is not available to {seat} today"
                )
            chosen[d.actor_index] = d.menu[[col]]
            if self.seat_measures:
                flips[d.actor_index] = _flips(d, day_switches.get(seat) or {})
            elif any((day_switches.get(seat) or {}).values()):
                raise UserError(f"day {d.day}: this game's measures are the model's own review")
        self.model.step(chosen, flips or None)

    @property
    def day(self) -> int:
        """The last day played (0 before the first)."""
        return self.model.day

    @property
    def over(self) -> bool:
        """True once the horizon is reached or an absorbing end state ends the world."""
        return not self.model.running

    def date(self, day: int | None = None) -> str:
        """The calendar date of a day (default: the day about to be decided)."""
        d = self.scenario.start_date + dt.timedelta(days=self.day + 1 if day is None else day)
        return f"{d.day} {d:%B %Y}"

    def label(self, actor: str) -> str:
        """An actor's label (``Poland``)."""
        return self.scenario.actors[actor].label  # type: ignore[index]

    def decision(self, seat: str) -> Decision:
        """What the seat's actor sees and the model advises for the next day."""
        return Decision.from_model(self.model, self.index(seat))

    def index(self, actor: str) -> int:
        """An actor's index in the scenario's actor order."""
        return self.model.tables.names.index(actor)

    def menu(self, seat: str) -> pd.DataFrame:
        """The seat's menu for the next day: move, label, rung, available, utility, p."""
        d = self.decision(seat)
        s = self.scenario
        return pd.DataFrame(
            {
                "move": d.move_names,
                "label": [entry_label(self.model, int(e)) for e in d.menu],
                "rung": [s.ladder[int(r)].label for r in d.move_rung],
                "available": d.available[:, 0],
                "utility": d.utilities[:, 0],
                "probability": d.probabilities[:, 0],
            }
        )

    def measure_table(self, seat: str) -> pd.DataFrame:
        """The seat's lasting measures for the next day.

        Columns: ``measure`` (slot name, e.g. ``rail_blockade@belarus``), ``label``,
        ``in_force``, ``can`` (``start``, ``end`` or ``""`` when no switch is possible today),
        ``utility`` (the model's, of holding it one more day) and ``probability`` (that the
        model's own review would switch it today).
        """
        d = self.decision(seat)
        t = self.model.tables
        s = self.scenario
        labels = []
        for k in d.measure_slots:
            b = int(t.slot_target[k])
            aim = f" -> {s.actors[t.names[b]].label}" if b >= 0 else ""
            labels.append(s.measures[t.slot_measure[int(k)]].label + aim)
        on = d.measure_on[:, 0] if len(d.measure_slots) else np.zeros(0, dtype=bool)
        ok = d.measure_switchable[:, 0] if len(d.measure_slots) else on
        return pd.DataFrame(
            {
                "measure": d.measure_names,
                "label": labels,
                "in_force": on.astype(bool),
                "can": [
                    ("end" if o else "start") if k else "" for o, k in zip(on, ok, strict=True)
                ],
                "utility": d.measure_utilities[:, 0] if len(on) else np.zeros(0),
                "probability": d.measure_probabilities[:, 0] if len(on) else np.zeros(0),
            }
        )

    def model_switches(self, seat: str) -> dict[str, list[str]]:
        """What the model's own review would start and end for the seat today (its own draw)."""
        d = self.decision(seat)
        flip = d.own_switches()[0] if len(d.measure_slots) else np.zeros(0, dtype=bool)
        on = d.measure_on[:, 0] if len(d.measure_slots) else flip
        names = d.measure_names
        return {
            "start": [names[j] for j in np.flatnonzero(flip & ~on)],
            "end": [names[j] for j in np.flatnonzero(flip & on)],
        }

    def check_switches(self, seat: str, switches: Mapping[str, Any]) -> None:
        """Refuse (UserError) measure switches the seat cannot make today."""
        _flips(self.decision(seat), switches)

    def view(self, seat: str) -> dict[str, float]:
        """The seat's view of yesterday (its actor's features, fog included)."""
        d = self.decision(seat)
        return {f: float(d.feature(f)[0]) for f in PUBLIC_FEATURES if f in d.feature_names}

    def knows_truth(self) -> bool:
        """Whether every seat's actor knows who really caused an incident."""
        return all(self.model.tables.actors[self.index(s)].knows_truth for s in self.seats)

    def aligner_label(self) -> str:
        """The label of the actor on the alignment track (``China``), or ``""``."""
        t = self.model.tables
        return self.label(t.names[t.aligner]) if t.aligner >= 0 else ""

    def move_label(self, seat: str, move: str) -> str:
        """A seat's menu entry (by name) for people."""
        d = self.decision(seat)
        return entry_label(self.model, int(d.menu[d.column(move)]))

    def own_rung(self, seat: str) -> str:
        """The label of the seat's own rung."""
        return self.scenario.ladder[int(self.model.state.rung[0, self.index(seat)])].label

    def measures(self) -> dict[str, Any]:
        """The public record: incidents, Articles 4/5, measures in force and the alignment."""
        st = self.model.state
        out: dict[str, Any] = {
            "incident": bool(st.incident[0]),
            "armed_incident": bool(st.armed[0]),
            "article4": bool(st.article4[0]),
            "article5": bool(st.article5[0]),
            "in_force": in_force(self.model),
        }
        t = self.model.tables
        if self.scenario.alignment is not None and t.aligner >= 0:
            out["alignment"] = self.scenario.alignment_track[int(st.alignment[0])]
        return out

    def public_events(self, day: int | None = None) -> list[str]:
        """What every seat learns of a day (default: the last one played): no hidden truths."""
        day = self.day if day is None else day
        tr = self.model.trace
        if tr is None or day < 1 or day not in tr.states or day - 1 not in tr.states:
            return []
        prev, now = tr.states[day - 1], tr.states[day]
        s = self.scenario
        t = self.model.tables
        label = {name: s.actors[name].label for name in t.names}
        # Injects are not named: their descriptions say what really happened (a staging), which
        # the seats learn only from the effects below.
        ev = []
        acc = tr.accidents.get(day)
        if acc is not None and np.asarray(acc)[0].any():
            ev.append("an exchange of fire on the border")
        for k in np.flatnonzero(now.on[0] != prev.on[0]):
            who = label[t.names[int(t.slot_actor[k])]]
            what = s.measures[t.slot_measure[k]].label
            b = int(t.slot_target[k])
            aim = f" ({label[t.names[b]]})" if b >= 0 else ""
            ev.append(f"{who} {'starts' if now.on[0, k] else 'ends'}: {what}{aim}")
        if now.incident[0] and not prev.incident[0]:
            ev.append("an incident on the border; who caused it is disputed")
        if now.armed[0] and not prev.armed[0]:
            ev.append("the first armed clash")
        if now.fatal[0] and not prev.fatal[0]:
            ev.append("the first deaths")
        if now.article4[0] and not prev.article4[0]:
            ev.append("Article 4 consultations")
        if now.article5[0] and not prev.article5[0]:
            ev.append("collective defence (Article 5) invoked")
        if s.alignment is not None and t.aligner >= 0 and now.alignment[0] != prev.alignment[0]:
            who = label[t.names[t.aligner]]
            ev.append(f"{who}'s alignment: {s.alignment_track[int(now.alignment[0])]}")
        if not now.alive[0]:
            ev.append("the crisis has reached an end state; the game is over")
        return ev

    # ----------------------------------------------------------------- playing
    def play(
        self,
        day_moves: Mapping[str, str],
        day_switches: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        """Play the next day with each seat's move (by name); the others act by the model.

        Args:
            day_moves: Seat -> move name.
            day_switches: Seat -> ``{"start": [slot, ...], "end": [slot, ...]}``: the lasting
                measures the seat starts and ends today. Measures not named stay as they are.

        Raises:
            UserError: the game is over, a seat is missing, a move is unknown/unavailable, or
                a measure switch is unknown or impossible today.
        """
        if self.over:
            raise UserError("the game is over")
        missing = [s for s in self.seats if s not in day_moves]
        if missing:
            raise UserError(f"no move given for {', '.join(missing)}")
        unknown = [s for s in (day_switches or {}) if s not in self.seats]
        if unknown:
            raise UserError(f"measure switches for {', '.join(unknown)}, which is not a seat")
        moves = {seat: str(day_moves[seat]) for seat in self.seats}
        flips = {
            seat: {
                "start": [
                    str(x) for x in ((day_switches or {}).get(seat) or {}).get("start") or []
                ],
                "end": [str(x) for x in ((day_switches or {}).get(seat) or {}).get("end") or []],
            }
            for seat in self.seats
        }
        self._step(moves, flips)
        self.moves.append(moves)
        self.switches.append(flips)

    def undo(self) -> None:
        """Take back the last day played.

        Raises:
            UserError: nothing has been played yet.
        """
        if not self.moves:
            raise UserError("nothing to undo: no day has been played yet")
        self.moves.pop()
        if len(self.switches) > len(self.moves):
            self.switches.pop()
        self._rebuild()

    def whatif(
        self,
        replicates: int = 1000,
        seat_policies: Mapping[str, str] | None = None,
        **execution: Any,
    ) -> pd.DataFrame:
        """What happens from here: a Monte Carlo branched from the current state.

        New worlds (replicate ids 0..N-1, the game's seed) start from today's state with this
        world's parameter values; every actor is played by the model unless ``seat_policies``
        names a persona for some actors. The worlds run through the runner of ``escalation
        run`` (:func:`sim.api.run`) with the replicate function
        :func:`sim.play.runs.branch_name` names, so the numbers are the runner's.

        Args:
            replicates: Number of new worlds.
            seat_policies: Actor name -> persona name for seats not played by the model.
            execution: Execution options for :func:`sim.api.run` (default: this process).

        Returns:
            The run's summary table (outcome, estimate, ci_low, ci_high, n, kind).
        """
        from sim.api import run
        from sim.play.runs import branch_name

        if replicates < 1:
            raise UserError(f"what-if needs at least 1 replicate, got {replicates}")
        policies = dict(seat_policies or {})
        model = branch_name(
            self.replicate,
            self.seats,
            self.moves,
            policies,
            self.switches if self.seat_measures else None,
        )
        execution.setdefault("workers", 1)
        result = run(
            self.scenario,
            replicates=replicates,
            seed=self.seed,
            charts=False,
            model=model,
            **execution,
        )
        self.whatifs.append(
            WhatIf(
                day=self.day,
                replicates=replicates,
                personas=policies,
                line=line_digest(self, self.day),
                rows=[
                    {
                        "outcome": str(r["outcome"]),
                        "estimate": _plain(r["estimate"]),
                        "ci_low": _plain(r["ci_low"]),
                        "ci_high": _plain(r["ci_high"]),
                        "n": int(r["n"]),
                        "kind": str(r["kind"]),
                    }
                    for r in result.summary.to_dict("records")
                ],
            )
        )
        return result.summary

    def branch(self, replicates: int) -> EscalationModel:
        """An ensemble of ``replicates`` worlds starting from this world's current state."""
        return self.branch_model(np.arange(replicates))

    def branch_model(
        self, replicate_ids: np.ndarray, parameters: Mapping[str, Any] | None = None
    ) -> EscalationModel:
        """Worlds with these replicate ids starting from this world's current state.

        They keep this world's parameter values (``parameters`` may replace some, e.g. a
        design); their own random numbers come from their ids and the game's seed.
        """
        params: dict[str, Any] = {k: float(v[0]) for k, v in self.model.params.items()}
        params.update(parameters or {})
        if {"dynamics.restraint", "dynamics.restraint_spread"} & set(parameters or {}):
            params.pop(WORLD_RESTRAINT, None)  # a new restraint: each branch world draws its own
        return EscalationModel(
            self.scenario,
            seed=self.seed,
            replicate_ids=replicate_ids,
            parameters=params,
            start=self.model.state,
            collect=False,
        )

    # ----------------------------------------------------------------- results
    def outcomes(self) -> pd.Series:
        """This world's outcomes so far (the whole game's once it is over)."""
        return self.model.outcomes().iloc[0]

    def final_state(self) -> dict[str, Any]:
        """The world's state as plain data (to check that a replay ends where the game did)."""
        st = self.model.state
        t = self.model.tables
        out = {
            "day": int(st.day),
            "rungs": {
                a: self.scenario.ladder[int(r)].name
                for a, r in zip(t.names, st.rung[0], strict=True)
            },
            "last_moves": {
                a: t.entry_name[int(e)] for a, e in zip(t.names, st.last[0], strict=True)
            },
            **self.measures(),
            "outcomes": {
                str(k): _plain(v)
                for k, v in self.outcomes().items()
                if not str(k).startswith("param.")
            },
        }
        return out

    def narrative(self, all_days: bool = False, top: int = 3) -> str:
        """The whole game told as ``escalation replay`` tells a replicate (omniscient)."""
        from sim.model.replay import _narrate

        m = self.model
        out = self.outcomes()
        lines = _narrate(m, all_days, top, out)
        seats = ", ".join(self.label(s) for s in self.seats)
        lines[0] = lines[0].replace("Replay of replicate", "Game replay of replicate", 1)
        lines.insert(1, f"Seats played by people: {seats}; their moves are the players' choices.")
        return "\n".join(lines)

    # ----------------------------------------------------------------- the log
    def log(self) -> dict[str, Any]:
        """The game log: data only (JSON), enough to replay the game exactly."""
        from sim.runner.chunks import scenario_to_json
        from sim.runner.store import code_version, utc_now, versions

        tree = self.scenario.model_dump(mode="json", by_alias=True)
        text = scenario_to_json(tree)
        return {
            "format": GAME_FORMAT if self.seat_measures else OLD_FORMATS[-1],
            "created": utc_now(),
            "scenario_name": self.scenario.name,
            "scenario_source": self.source,
            "overrides": list(self.overrides),
            "scenario_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "seed": self.seed,
            "replicate": self.replicate,
            "seats": list(self.seats),
            "days": [
                {"day": i + 1, "moves": dict(m), **self._day_switches(i)}
                for i, m in enumerate(self.moves)
            ],
            "final": self.final_state(),
            "whatifs": [w.to_json() for w in self.whatifs],
            "versions": versions(),
            "code_version": code_version(),
            "scenario": tree,
        }

    def _day_switches(self, i: int) -> dict[str, Any]:
        if not self.seat_measures:
            return {}
        day = self.switches[i] if i < len(self.switches) else {}
        return {"measures": {s: dict(day.get(s) or {"start": [], "end": []}) for s in self.seats}}

    def save(self, path: str | Path) -> Path:
        """Write the game log to ``path`` (JSON, atomically); returns the path."""
        from sim.runner.store import write_json

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_json(p, self.log())
        return p


def line_digest(game: Game, day: int) -> str:
    """A digest of the game's choices (moves and measure switches) of days 1..``day``."""
    line = {
        "moves": game.moves[:day],
        "switches": game.switches[:day] if game.seat_measures else [],
    }
    return hashlib.sha256(json.dumps(line, sort_keys=True).encode()).hexdigest()[:16]


def new_game(
    scenario_path: str | Path,
    seats: Sequence[str],
    seed: int,
    replicate: int = 0,
    overrides: Sequence[str] = (),
) -> Game:
    """A game of a scenario file (``--set`` overrides applied) with the given seats."""
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(scenario_path, tuple(overrides))
    return Game(scenario, tuple(seats), seed, replicate, str(scenario_path), tuple(overrides))


def parse_seats(text: str) -> tuple[str, ...]:
    """``poland,nato`` as a tuple of actor names (checked against the scenario by the game)."""
    seats = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    if not seats:
        raise UserError("--as needs at least one actor, e.g. --as poland")
    return seats


def load_game(path: str | Path) -> Game:
    """Replay a game log: rebuild its world from its own scenario copy and its choices.

    Raises:
        UserError: an unreadable or malformed log (the message names the file and the key),
            a scenario that does not match its recorded hash, or a choice that is not
            available any more.
    """
    from sim.runner.chunks import scenario_to_json
    from sim.scenario.schema import ScenarioError, validate_scenario

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p}: no such game log") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: unreadable game log ({' '.join(str(e).split())})") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{p}:{e.lineno}: not a JSON game log ({e.msg})") from None
    if not isinstance(data, dict) or data.get("format") not in (GAME_FORMAT, *OLD_FORMATS):
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{p}: format: expected '{GAME_FORMAT}', got {got!r}")
    seat_measures = data["format"] == GAME_FORMAT

    def need(key: str, kind: type | tuple[type, ...], where: Any = data, at: str = "") -> Any:
        if not isinstance(where, dict) or key not in where:
            raise UserError(f"{p}: {at}{key}: missing")
        v = where[key]
        if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
            raise UserError(f"{p}: {at}{key}: expected {_kind(kind)}, got {v!r:.60}")
        return v

    tree = need("scenario", dict)
    seed = need("seed", int)
    replicate = need("replicate", int)
    seats = need("seats", list)
    days = need("days", list)
    sha = need("scenario_sha256", str)
    try:
        scenario = validate_scenario(tree, source=f"{p} (scenario)")
    except ScenarioError as e:
        raise UserError(f"{p}: scenario: {' '.join(str(e).split())}") from None
    text = scenario_to_json(scenario.model_dump(mode="json", by_alias=True))
    if hashlib.sha256(text.encode()).hexdigest() != sha:
        raise UserError(f"{p}: scenario_sha256: the scenario copy does not match its hash")
    for i, s in enumerate(seats):
        if not isinstance(s, str) or s not in scenario.actor_names:
            raise UserError(f"{p}: seats[{i}]: expected an actor name, got {s!r:.40}")
    try:
        game = Game(
            scenario,
            tuple(seats),
            seed,
            replicate,
            data.get("scenario_source"),
            tuple(data.get("overrides") or ()),
            seat_measures=seat_measures,
        )
    except UserError as e:
        raise UserError(f"{p}: {e}") from None
    for i, entry in enumerate(days):
        at = f"days[{i}]."
        moves = need("moves", dict, entry, at)
        for seat in game.seats:
            move = need(seat, str, moves, f"{at}moves.")
            del move
        switches: dict[str, dict[str, list[str]]] = {}
        if seat_measures:
            given = need("measures", dict, entry, at)
            for seat in game.seats:
                if seat not in given:
                    continue
                one = need(seat, dict, given, f"{at}measures.")
                for key in ("start", "end"):
                    names = one.get(key, [])
                    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
                        raise UserError(
                            f"{p}: {at}measures.{seat}.{key}: expected a list of measure names,"
                            f" got {names!r:.60}"
                        )
                switches[seat] = {"start": one.get("start", []), "end": one.get("end", [])}
        try:
            game.play(moves, switches)
        except UserError as e:
            raise UserError(f"{p}: days[{i}]: {e}") from None
    game.whatifs = _read_whatifs(p, data.get("whatifs", []))
    return game


def _read_whatifs(p: Path, given: Any) -> list[WhatIf]:
    """The what-ifs a log records (optional; logs before seminar mode have none)."""
    if not isinstance(given, list):
        raise UserError(f"{p}: whatifs: expected a list, got {given!r:.60}")
    out = []
    for i, w in enumerate(given):
        at = f"{p}: whatifs[{i}]"
        if not isinstance(w, dict):
            raise UserError(f"{at}: expected a mapping, got {w!r:.60}")
        day, n, line = w.get("day"), w.get("replicates"), w.get("line")
        personas, rows = w.get("personas", {}), w.get("rows")
        ok = (
            isinstance(day, int)
            and not isinstance(day, bool)
            and isinstance(n, int)
            and not isinstance(n, bool)
            and day >= 0
            and n >= 1
            and isinstance(line, str)
            and isinstance(personas, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in personas.items())
            and isinstance(rows, list)
        )
        if not ok:
            raise UserError(
                f"{at}: expected day, replicates, line, personas and rows, got {w!r:.60}"
            )
        assert isinstance(rows, list)
        for j, r in enumerate(rows):
            good = (
                isinstance(r, dict)
                and set(_WHATIF_ROW_KEYS) <= set(r)
                and isinstance(r["outcome"], str)
                and isinstance(r["kind"], str)
                and isinstance(r["n"], int)
                and all(
                    r[k] is None or (isinstance(r[k], int | float) and not isinstance(r[k], bool))
                    for k in ("estimate", "ci_low", "ci_high")
                )
            )
            if not good:
                raise UserError(f"{at}.rows[{j}]: expected {', '.join(_WHATIF_ROW_KEYS)}")
        out.append(
            WhatIf(
                int(str(day)),
                int(str(n)),
                dict(personas),
                str(line),
                [{k: r[k] for k in _WHATIF_ROW_KEYS} for r in rows],
            )
        )
    return out


def check_replay(game: Game, log: Mapping[str, Any]) -> list[str]:
    """Differences between a replayed game's final state and the one its log recorded."""
    want = log.get("final") or {}
    got = json.loads(json.dumps(game.final_state()))
    diffs = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            diffs.append(f"{key}: log {want.get(key)!r:.80}, replay {got.get(key)!r:.80}")
    return diffs


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", int: "a whole number", str: "text"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def choice_for(seat_policy: Policy, game: Game, seat: str) -> str:
    """The move name a policy picks for a seat in the game's world (e.g. an advice persona)."""
    d = game.decision(seat)
    out = seat_policy(d)
    moves = out.moves if isinstance(out, Plan) else out
    if moves is None:
        moves = d.own()
    return game.model.tables.entry_name[int(np.asarray(moves)[0])]


def plan_for(seat_policy: Policy, game: Game, seat: str) -> tuple[str, dict[str, list[str]] | None]:
    """A policy's day for a seat in the game's world: the move name and its measure switches.

    The switches are ``{"start": [...], "end": [...]}`` as :meth:`Game.play` takes them, or
    None when the policy leaves its measures to the model's own review.
    """
    d = game.decision(seat)
    out = seat_policy(d)
    moves, flips = (out.moves, out.switches) if isinstance(out, Plan) else (out, None)
    move = game.model.tables.entry_name[int(np.asarray(d.own() if moves is None else moves)[0])]
    if flips is None:
        return move, None
    row = np.asarray(flips, dtype=bool)[0]
    on = d.measure_on[:, 0] if len(d.measure_slots) else row
    names = d.measure_names
    return move, {
        "start": [names[j] for j in np.flatnonzero(row & ~on)],
        "end": [names[j] for j in np.flatnonzero(row & on)],
    }


def _flips(d: Decision, switches: Mapping[str, Any]) -> np.ndarray:
    """(1, M) the switches of one seat's day from ``{"start": [...], "end": [...]}``."""
    arr = d.hold()
    seen: set[str] = set()
    for key in switches:
        if key not in ("start", "end"):
            raise UserError(f"measure switches: expected 'start' or 'end', got {key!r:.40}")
    for verb in ("start", "end"):
        for name in switches.get(verb) or ():
            j = d.measure_column(str(name))
            if name in seen:
                raise UserError(f"day {d.day}: {d.actor} switches '{name}' twice")
            seen.add(str(name))
            on = bool(d.measure_on[j, 0])
            if verb == "start" and on:
                raise UserError(f"day {d.day}: '{name}' is already in force for {d.actor}")
            if verb == "end" and not on:
                raise UserError(f"day {d.day}: '{name}' is not in force for {d.actor}")
            if not d.measure_switchable[j, 0]:
                why = (
                    "its conditions do not hold today"
                    if verb == "start"
                    else "it cannot be ended once started"
                )
                raise UserError(f"day {d.day}: {d.actor} cannot {verb} '{name}': {why}")
            arr[0, j] = True
    return arr


def entry_label(model: EscalationModel, entry: int) -> str:
    """A menu entry for people: the move's label, with its target (``Threaten -> Belarus``)."""
    t = model.tables
    move = t.scenario.moves[t.move_names[int(t.entry_move[entry])]]
    b = int(t.entry_target[entry])
    return move.label if b < 0 else f"{move.label} -> {t.scenario.actors[t.names[b]].label}"


def in_force(model: EscalationModel) -> list[str]:
    """The lasting measures in force in the world (replicate 0), as ``Actor: measure``."""
    t = model.tables
    s = t.scenario
    out = []
    for k in np.flatnonzero(model.state.on[0]):
        who = s.actors[t.names[int(t.slot_actor[k])]].label
        b = int(t.slot_target[k])
        aim = f" ({s.actors[t.names[b]].label})" if b >= 0 else ""
        out.append(f"{who}: {s.measures[t.slot_measure[k]].label}{aim}")
    return out
