"""EscalationModel: one Mesa model stepping an ensemble of R worlds side by side.

Each day (one ``step()``), in this order (docs/MODEL.md, "A day"):

1. injects whose day, window and conditions hold fire with their probability (decided on
   yesterday's state); a ``force_move`` inject replaces that actor's choice for the day;
2. every actor observes yesterday's world (its view, per target, with fog), draws a daily move
   by its logit rule and reviews its lasting measures - simultaneously, into pending arrays;
   the aligning actor reviews its alignment on its own clock;
3. effects apply to all worlds at once, one mechanism after another (``sim.model.mechanisms``):
   measures started and ended, uses of force and accidents, incidents and attribution, hybrid
   pressure, the transit economy, alignment, the dispute record, absorbing end states;
4. ladder occupancy counts are added.

Nothing in a step mixes replicates, and every random number is a pure function of (seed,
replicate id, day, actor, purpose), so a replicate's trajectory does not depend on which other
replicates ran beside it. Nothing here knows any actor by name: actors, mechanisms and their
roles come from the scenario.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import kernels
from sim.model import outcomes as oc
from sim.model.agents import Actor
from sim.model.mechanisms import (
    dispute,
    economy,
    end_states,
    incidents,
    incursions,
    injects,
    measures,
)
from sim.model.mechanisms.alignment import AlignmentTrack
from sim.model.mechanisms.commitments import Commitments
from sim.model.observe import View, observe, target_groups
from sim.model.state import NONE, WorldState, derived
from sim.model.tables import FEATURE_NAMES, NO_TARGET, Tables, build_tables
from sim.rng import Streams
from sim.scenario.parameters import PARAM_PREFIX, parameter_table, uncertain_parameters
from sim.scenario.schema import Condition, Scenario


class EscalationModel(mesa.Model):
    """The scenario's actors acting day by day in R worlds at once.

    Args:
        scenario: A validated :class:`Scenario` or a path to a scenario file.
        replicates: Number of worlds when ``replicate_ids`` is not given (ids 0..R-1).
        seed: Run seed; with ``rng`` unset, Mesa-style ``rng=<int>`` is accepted as the seed too.
            When both are None a seed is drawn from the operating system and kept in ``seed``.
        rng: Alias for ``seed`` (Mesa's keyword), an int.
        replicate_ids: Exactly which replicates to run (e.g. ``[k]`` to replay one).
        parameters: Values replacing sampled parameters, by dotted path: a number or one value
            per replicate (designs for sensitivity analysis, branches of a played game).
        overrides: ``--set``-style overrides applied when ``scenario`` is a path.
        trace: Record every actor's view, utilities and choices (for ``replay``; R small).
        start: Begin from this state (e.g. day d of a game in progress, or one world taken out
            of an ensemble with ``WorldState.take``) instead of day 0. A state of one world is
            copied into every replicate, so new replicate ids give a Monte Carlo of what happens
            next; pass that world's parameter values in ``parameters`` to keep its assumptions.
        collect: Record headline series with Mesa's DataCollector every day (default: only for
            ensembles of at most 100 worlds).
    """

    def __init__(
        self,
        scenario: Scenario | str | os.PathLike[str],
        replicates: int = 1,
        seed: int | None = None,
        rng: int | None = None,
        replicate_ids: Sequence[int] | np.ndarray | None = None,
        parameters: Mapping[str, Any] | None = None,
        overrides: Sequence[str] = (),
        trace: bool = False,
        collect: bool | None = None,
        start: WorldState | None = None,
    ):
        if seed is None and rng is not None:
            seed = int(rng)
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little")
        super().__init__(rng=int(seed))
        # Mesa wraps ``step`` in its own argument-less, time-advancing function; keep that and
        # hand outside moves (a player's, a policy's) to our step through ``_chosen``.
        self._chosen: Mapping[int, np.ndarray] | None = None
        self._switches: Mapping[int, np.ndarray] | None = None
        mesa_step = self.step

        def step(
            chosen: Mapping[int, np.ndarray] | None = None,
            switches: Mapping[int, np.ndarray] | None = None,
        ) -> None:
            self._chosen, self._switches = chosen, switches
            mesa_step()

        self.step = step  # type: ignore[method-assign]
        if isinstance(scenario, str | os.PathLike | Path):
            from sim.scenario.loader import load_scenario

            scenario = load_scenario(scenario, overrides)
        self.scenario_spec: Scenario = scenario
        self.seed = int(seed)
        if replicate_ids is None:
            if replicates < 1:
                raise ValueError(f"replicates must be >= 1, got {replicates}")
            replicate_ids = np.arange(replicates, dtype=np.int64)
        self.replicate_ids = np.asarray(replicate_ids, dtype=np.int64)
        self.n = len(self.replicate_ids)
        self.params = parameter_table(scenario, self.seed, self.replicate_ids, parameters)
        self.tables: Tables = build_tables(scenario, self.params, self.n)
        self.streams = Streams(self.seed, self.replicate_ids)
        if start is None:
            self.state = WorldState.initial(self.tables, self.n)
        else:
            rows = np.zeros(self.n, dtype=np.int64) if len(start.alive) == 1 else None
            if rows is None and len(start.alive) != self.n:
                raise ValueError(
                    f"start state has {len(start.alive)} worlds; expected 1 or {self.n}"
                )
            self.state = start.take(rows if rows is not None else np.arange(self.n))
        t = self.tables
        self.pending = self.state.last.copy()
        self.switch = np.zeros_like(self.state.on)
        self.forces_today = self.state.forces(t)
        self.groups = target_groups(t)
        self.commitments = Commitments(self, t)
        self.alignment = AlignmentTrack(self) if scenario.alignment is not None else None
        self.trace: Trace | None = Trace(self) if trace else None
        self.horizon = scenario.horizon_days
        self.actor_agents: list[Actor] = [Actor(self, at) for at in t.actors]
        self.occupancy = np.zeros((self.horizon + 1, t.n_actors, t.n_rungs), dtype=np.int64)
        self.alignment_occupancy = np.zeros((self.horizon + 1, t.n_levels), np.int64)
        self._count(self.state.day)
        self.running = self.state.day < self.horizon and bool(self.state.alive.any())
        self.collect = self.n <= 100 if collect is None else collect
        self.datacollector = mesa.DataCollector(
            model_reporters=_reporters(t) if self.collect else {}
        )
        if self.collect:
            self.datacollector.collect(self)

    @property
    def day(self) -> int:
        """The last day simulated (0 before the first step)."""
        return self.state.day

    def step(
        self,
        chosen: Mapping[int, np.ndarray] | None = None,
        switches: Mapping[int, np.ndarray] | None = None,
    ) -> None:
        """Advance every world by one day.

        Args:
            chosen: Daily moves decided outside the model (a player, a policy): actor index ->
                (R,) global menu-entry ids replacing the entry that actor drew today. They are
                applied after every actor has drawn (so the others' random numbers are
                unchanged); injects that force a move still do.
            switches: Lasting-measure decisions made outside the model: actor index -> (R, K)
                bool, one column per slot of that actor (``tables.actors[a].measures.ids``),
                True to switch the slot today (start it if off, end it if on and endable).
                They replace that actor's own review for the day.
        """
        if chosen is None:
            chosen, self._chosen = self._chosen, None
        if switches is None:
            switches, self._switches = self._switches, None
        t = self.state.day + 1
        st = self.state
        forced, fired = injects.fire(self, t)
        self.switch[:] = False
        views = self.views(t - 1)
        for agent, view in zip(self.actor_agents, views, strict=True):
            agent.decide(view, t)
            agent.review(view, t)
        if self.alignment is not None:
            self.alignment.review(views[self.alignment.actor], t)
        for a, flips in (switches or {}).items():
            self.switch[:, self.tables.actors[a].measures.ids] = np.asarray(flips, dtype=bool)
        for a, entries in (chosen or {}).items():
            self.pending[:, a] = entries
            if self.trace is not None:
                self.trace.choices[(t, a)]["chosen"] = self.pending[:, a].copy()
        choice = np.where(forced >= 0, forced, self.pending)
        choice = np.where(st.alive[:, None], choice, st.last)
        self._apply(t, choice, fired)
        self._count(t)
        if self.trace is not None:
            self.trace.states[t] = self.state.take(np.arange(self.n))
        if self.collect:
            self.datacollector.collect(self)
        self.running = t < self.horizon and bool(self.state.alive.any())

    def run(self) -> EscalationModel:
        """Step until the horizon or until every world has ended; returns self."""
        while self.running:
            self.step()
        return self

    # ----------------------------------------------------------------- observation
    def views(self, day: int) -> list[View]:
        """Every actor's view of the world at the end of ``day``."""
        return observe(
            self.tables, self.state, self.streams, day, self.groups, self.exercise_on(day + 1)
        )

    def exercise_on(self, day: int) -> np.ndarray:
        """(R,) whether the exercise is under way on ``day``."""
        ex = self.scenario_spec.exercise
        if ex is None:
            return np.zeros(self.n, dtype=bool)
        return (day >= ex.start_day) & (day <= self.state.exercise_end)

    def advice(self, actor: int) -> dict[str, Any]:
        """What an actor sees and how the model would choose for it tomorrow (nothing drawn).

        Returns:
            A dict with ``day`` (the day to decide), ``actor``, ``features`` ((F, R) its
            undirected view, after fog), ``feature_names``, ``menu`` ((K,) global entry ids),
            ``move_names`` (entry names, ``move`` or ``move@target``), ``move_rung`` ((K,)
            rung indices), ``available`` ((K, R) bool), ``utilities`` and ``probabilities``
            ((K, R)) - the model's own decision rule.
        """
        day = self.state.day
        view = self.views(day)[actor]
        agent = self.actor_agents[actor]
        ok = agent.available(day + 1)
        u, p = agent.choice_probabilities(view, day + 1)
        at = self.tables.actors[actor]
        return {
            "day": day + 1,
            "actor": actor,
            "features": view.x[0].copy(),
            "feature_names": FEATURE_NAMES,
            "menu": at.menu.ids.copy(),
            "move_names": [self.tables.entry_name[int(e)] for e in at.menu.ids],
            "move_rung": at.menu.rung.copy(),
            "available": ok,
            "utilities": u,
            "probabilities": p,
        }

    def condition(self, c: Condition, day: int) -> np.ndarray:
        """(R,) whether a scenario condition holds in each world on ``day``."""
        st = self.state
        s = self.scenario_spec
        names = self.tables.names
        if c.day_at_least is not None:
            return np.full(self.n, day >= c.day_at_least)
        if c.day_at_most is not None:
            return np.full(self.n, day <= c.day_at_most)
        if c.flag is not None:
            return self.flag(c.flag, day)
        if c.not_flag is not None:
            return ~self.flag(c.not_flag, day)
        if c.rung_at_least is not None:
            a = names.index(c.rung_at_least.actor)
            return st.rung[:, a] >= s.rung_index(c.rung_at_least.rung)
        if c.alignment_at_least is not None:
            return st.alignment >= s.alignment_index(c.alignment_at_least)
        if c.measure_in_force is not None:
            a = names.index(c.measure_in_force.actor)
            t = self.tables
            ks = [
                k
                for k in range(t.slot_actor.size)
                if t.slot_actor[k] == a and t.slot_measure[k] == c.measure_in_force.measure
            ]
            return st.on[:, ks].any(axis=1) if ks else np.zeros(self.n, dtype=bool)
        assert c.belief_at_least is not None
        b = st.belief_west(self.tables)[:, names.index(c.belief_at_least.actor)]
        return st.incident & (b >= c.belief_at_least.value)

    def flag(self, name: str, day: int) -> np.ndarray:
        """(R,) the value of a world flag on ``day``."""
        st = self.state
        t = self.tables
        if name == "exercise_active":
            return self.exercise_on(day)
        if name == "nuclear_weapons":
            return np.full(self.n, self.scenario_spec.context.nuclear_weapons_deployed)
        values = {
            "incident": st.incident,
            "staged_incident": st.staged,
            "armed_incident": st.armed,
            "blockade_active": st.in_force(t, "transit_blockade"),
            "border_closed": st.in_force(t, "close_border"),
            "article4": st.article4,
            "article5": st.article5,
        }
        return values[name].copy()

    def set_flag(self, name: str, rows: np.ndarray, day: int) -> None:
        """Set a world flag in the given worlds (an inject's ``set_flag``)."""
        st = self.state
        if name == "exercise_active":
            st.exercise_end = np.where(rows, np.maximum(st.exercise_end, day), st.exercise_end)
        elif name in ("incident", "staged_incident"):
            st.incident |= rows
            if name == "staged_incident":
                st.staged |= rows
        elif name == "armed_incident":
            new = rows & ~st.armed
            st.first_armed_day = np.where(new, day, st.first_armed_day)
            st.armed |= rows
        elif name in ("article4", "article5"):
            setattr(st, name, getattr(st, name) | rows)
        else:
            raise ValueError(f"flag '{name}' is set by decisions, not by injects")

    # ----------------------------------------------------------------- effects
    def _apply(self, day: int, choice: np.ndarray, fired: np.ndarray) -> None:
        t = self.tables
        st = self.state
        alive = st.alive

        injects.apply(self, fired, day)
        started, ended = measures.apply(self, day)
        self.forces_today = st.forces(t)

        lk = derived(t, _EntryEffects)
        for a, move in lk.once:
            st.used[:, move] |= (t.entry_move[choice[:, a]] == move) & alive

        accident = incidents.accidents(self, day, choice)
        answered = incidents.staging_exchanges(self, day, choice)
        accident |= answered
        incidents.apply(self, day, choice, accident, answered.any(axis=(1, 2)))
        if self.trace is not None:
            self.trace.accidents[day] = accident.copy()

        crossed = incursions.step(self, day, choice)
        if self.trace is not None and crossed:
            self.trace.incursions[day] = crossed

        narrative = t.per_entry(t.narrative, choice).sum(axis=1) * alive
        disclosure = t.per_entry(t.disclosure, choice).sum(axis=1) * alive
        incidents.attribution(self, day, narrative, disclosure)

        self._add_hybrid(choice)

        until = day + self.scenario_spec.context.nuclear_signal_days
        for a in lk.signallers:
            np.copyto(st.nuclear_until[:, a], until, where=t.nuclear[choice[:, a]] & alive)
        for a in lk.extenders:
            st.exercise_end += t.extend[choice[:, a]] * alive

        economy.step(self, started, narrative, disclosure)
        if self.alignment is not None:
            self.alignment.apply(day)

        st.last = choice
        st.move_rung = t.entry_rung[choice]
        st.refresh_postures(t)
        if accident.any():
            # Both sides of an accidental exchange of fire stand at the armed rung that day.
            # (refresh_postures has just made both arrays afresh, so in place is safe.)
            ar = t.armed_rung
            caught = accident.any(axis=2)
            np.maximum(st.rung, ar, out=st.rung, where=caught)
            np.maximum(st.aimed_rung, ar, out=st.aimed_rung, where=accident)
        dispute.step(self, day, choice, accident, started)
        self._close_day(day)
        st.day = day
        end_states.stop_absorbed(st, t)
        del ended

    def _add_hybrid(self, choice: np.ndarray) -> None:
        """Hybrid pressure fades, then lands on the target of whoever applies it today."""
        t = self.tables
        st = self.state
        kernels.add_hybrid(
            st.hybrid,
            self.params["dynamics.hybrid_decay"],
            t.per_entry(t.hybrid, choice),
            t.entry_target[choice],
            st.alive,
        )

    def numpy_add_hybrid(self, choice: np.ndarray) -> None:
        """:meth:`_add_hybrid` by numpy (the reference its kernel is tested against)."""
        t = self.tables
        st = self.state
        hyb = t.per_entry(t.hybrid, choice) * st.alive[:, None]
        target = t.entry_target[choice]
        decay = self.params["dynamics.hybrid_decay"][:, None, None]
        st.hybrid *= decay
        r, a = np.nonzero(hyb > 0)
        st.hybrid[r, a, target[r, a]] = np.minimum(st.hybrid[r, a, target[r, a]] + hyb[r, a], 1.0)

    def _close_day(self, day: int) -> None:
        """The running records of the day: highest rungs, slots ever in force, days lived."""
        st = self.state
        kernels.close_day(
            st.alive,
            st.rung,
            st.aimed_rung,
            st.on,
            day,
            st.max_rung,
            st.actor_max,
            st.pair_max,
            st.ever_on,
            st.days,
        )

    def numpy_close_day(self, day: int) -> None:
        """:meth:`_close_day` by numpy (the reference its kernel is tested against)."""
        st = self.state
        alive = st.alive
        st.max_rung = np.maximum(st.max_rung, np.where(alive, st.rung.max(axis=1), 0))
        st.ever_on |= st.on
        np.maximum(st.pair_max, st.aimed_rung, out=st.pair_max, where=alive[:, None, None])
        np.maximum(st.actor_max, st.rung * alive[:, None], out=st.actor_max)
        st.days = np.where(alive, day, st.days)

    def _count(self, day: int) -> None:
        """Add the day's ladder and alignment occupancy (worlds per actor and rung)."""
        st = self.state
        kernels.count_rungs(st.rung, self.occupancy[day])
        self.alignment_occupancy[day] = np.bincount(st.alignment, minlength=self.tables.n_levels)

    def numpy_count(self, day: int) -> None:
        """:meth:`_count` by numpy (the reference its kernel is tested against)."""
        st = self.state
        nr = self.tables.n_rungs
        na = self.tables.n_actors
        offs = st.rung + (np.arange(na) * nr)[None, :]
        self.occupancy[day] = np.bincount(offs.ravel(), minlength=na * nr).reshape(na, nr)
        self.alignment_occupancy[day] = np.bincount(st.alignment, minlength=self.tables.n_levels)

    # ----------------------------------------------------------------- results
    def outcomes(self) -> pd.DataFrame:
        """One row per replicate: ``replicate``, sampled parameters, then every outcome."""
        cols: dict[str, Any] = {"replicate": self.replicate_ids.copy()}
        for path in uncertain_parameters(self.scenario_spec):
            cols[PARAM_PREFIX + path] = self.params[path]
        cols.update(oc.all_outcomes(self.state, self.tables))
        return pd.DataFrame(cols)

    def occupancy_final_day(self) -> int:
        """The last day for which occupancy has been counted."""
        return self.state.day


class _EntryEffects:
    """Which actors have entries with a given effect (so the step reads only their columns)."""

    def __init__(self, t: Tables):
        self.once = [
            (at.index, int(move))
            for at in t.actors
            for move in np.unique(t.entry_move[at.menu.ids])
            if t.scenario.moves[t.move_names[move]].once
        ]
        self.signallers = [at.index for at in t.actors if t.nuclear[at.menu.ids].any()]
        self.extenders = [at.index for at in t.actors if t.extend[at.menu.ids].any()]


class Trace:
    """What a replay needs: each day's views, utilities, probabilities, choices and events."""

    def __init__(self, model: EscalationModel):
        self.model = model
        self.choices: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.reviews: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.injects: dict[int, np.ndarray] = {}
        self.accidents: dict[int, np.ndarray] = {}
        self.incursions: dict[int, list[tuple[str, np.ndarray]]] = {}
        self.measures: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.alignment: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.states: dict[int, WorldState] = {model.state.day: model.state.take(np.arange(model.n))}

    def record_choice(
        self, day: int, actor: int, view: View, u: np.ndarray, p: np.ndarray, chosen: np.ndarray
    ) -> None:
        """Keep one actor's daily decision."""
        self.choices[(day, actor)] = {
            "features": view.x.transpose(2, 0, 1).copy(),  # (R, G, F)
            "groups": np.array(view.groups),
            "utilities": u.T.copy(),
            "probabilities": p.T.copy(),
            "chosen": chosen.copy(),
        }

    def record_review(
        self, day: int, actor: int, u: np.ndarray, p: np.ndarray, flip: np.ndarray
    ) -> None:
        """Keep one actor's review of its measures."""
        self.reviews[(day, actor)] = {"utilities": u.T.copy(), "p": p.T.copy(), "flip": flip.T}


def _reporters(t: Tables) -> dict[str, Any]:
    # Headline series for single runs; with R > 1 each is the ensemble mean.
    rep: dict[str, Any] = {
        f"rung_{name}": (lambda m, i=i: float(m.state.rung[:, i].mean()))
        for i, name in enumerate(t.names)
    }
    if t.aligner >= 0:
        rep[f"{t.names[t.aligner]}_alignment"] = lambda m: float(m.state.alignment.mean())
    rep["blockade"] = lambda m: float(m.state.in_force(m.tables, "transit_blockade").mean())
    rep["armed_incident"] = lambda m: float(m.state.armed.mean())
    # End-of-run outcomes, so that mesa.batch_run rows carry them (replicate 0 / the mean).
    for name in oc.outcome_names(t):
        rep[name] = lambda m, name=name: oc.scalar_outcome(m, name)
    return rep


__all__ = ["NONE", "NO_TARGET", "EscalationModel", "Trace"]
