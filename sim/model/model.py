"""EscalationModel: one Mesa model stepping an ensemble of R worlds side by side.

Each day (one ``step()``):

1. injects whose day, window and conditions hold fire with their probability (decided on
   yesterday's state); a ``force_move`` inject replaces that actor's choice for the day;
2. every actor observes yesterday's world (features, with fog on adversaries' postures) and
   draws a move by its logit rule - simultaneously, into a pending-move array;
3. effects apply to all worlds at once: rungs, incidents and attribution, hybrid pressure,
   blockade and its costs, NATO articles, China's alignment, exercise extensions;
4. ladder occupancy counts are added and absorbing end states stop their worlds.

Nothing in a step mixes replicates, and every random number is a pure function of (seed,
replicate id, day, actor, purpose), so a replicate's trajectory does not depend on which other
replicates ran beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import outcomes as oc
from sim.model.agents import ACTOR_CLASSES, Actor
from sim.model.state import WorldState
from sim.model.tables import EAST, FEATURE_NAMES, WEST, A, F, Tables, build_tables
from sim.rng import Streams
from sim.scenario.parameters import PARAM_PREFIX, parameter_table, uncertain_parameters
from sim.scenario.schema import ACTORS, Condition, Scenario

_INJECT_ACTOR = 254  # the actor coordinate reserved for inject draws
_FOG_MASK = np.uint64(0xFFFF)


class EscalationModel(mesa.Model):
    """Belarus, Russia, China, Ukraine, Poland and NATO acting day by day in R worlds at once.

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
        trace: Record every actor's features, utilities and choice (for ``replay``; R small).
        start: Begin from this state (e.g. day d of a game in progress, or one world taken out
            of an ensemble with ``WorldState.take``) instead of day 0. A state of one world is
            copied into every replicate, so new replicate ids give a Monte Carlo of what happens
            next; pass that world's parameter values in ``parameters`` to keep its assumptions.
        collect: Record headline series with Mesa's DataCollector every day (default: only for
            ensembles of at most 100 worlds, where it costs little; large Monte Carlo chunks
            skip it).
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
        # Mesa replaces ``step`` by its own argument-less, time-advancing wrapper; keep that and
        # let ``step(chosen)`` hand the outside moves to our step through ``_chosen``.
        self._chosen: Mapping[int, np.ndarray] | None = None
        mesa_step = self.step

        def step(chosen: Mapping[int, np.ndarray] | None = None) -> None:
            self._chosen = chosen
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
        self.pending = self.state.last_move.copy()
        self.trace: Trace | None = Trace(self) if trace else None
        self.horizon = scenario.horizon_days
        self.actor_agents: list[Actor] = [
            ACTOR_CLASSES[name](self, self.tables.actors[A[name]]) for name in ACTORS
        ]
        self.occupancy = np.zeros((self.horizon + 1, 6, self.tables.n_rungs), dtype=np.int64)
        self.alignment_occupancy = np.zeros((self.horizon + 1, self.tables.n_levels), np.int64)
        self._count(self.state.day)
        self.running = self.state.day < self.horizon and bool(self.state.alive.any())
        self._absorbing = [(i, es) for i, es in enumerate(scenario.end_states) if es.absorbing]
        self.collect = self.n <= 100 if collect is None else collect
        self.datacollector = mesa.DataCollector(
            model_reporters=_reporters() if self.collect else {}
        )
        if self.collect:
            self.datacollector.collect(self)

    # The Mesa API calls it ``scenario``; Mesa's own Model also has a ``scenario`` attribute
    # (its computational-experiment object), so ours lives in ``scenario_spec``.
    @property
    def day(self) -> int:
        """The last day simulated (0 before the first step)."""
        return self.state.day

    def step(self, chosen: Mapping[int, np.ndarray] | None = None) -> None:
        """Advance every world by one day.

        Args:
            chosen: Moves decided outside the model (a player, a policy): actor index -> (R,)
                global move indices that replace the move that actor drew today. They are
                applied after every actor has drawn (so the other actors' random numbers are
                unchanged), and injects or border friction that force a move still do.
        """
        if chosen is None:
            chosen, self._chosen = self._chosen, None
        t = self.state.day + 1
        st = self.state
        forced, fired = self._injects(t)
        friction, west_first = self._friction(t, forced)
        for agent, view in zip(self.actor_agents, self._views(t - 1), strict=True):
            agent.decide(view, t)
        for a, moves in (chosen or {}).items():
            self.pending[:, a] = moves
            if self.trace is not None:
                self.trace.choices[(t, a)]["chosen"] = self.pending[:, a].copy()
        choice = np.where(forced >= 0, forced, self.pending)
        choice = np.where(st.alive[:, None], choice, st.last_move)
        self._apply(t, choice, fired, friction, west_first)
        self._count(t)
        if self.trace is not None:
            self.trace.record_state(t, self.state)
        if self.collect:
            self.datacollector.collect(self)
        self.running = t < self.horizon and bool(self.state.alive.any())

    def run(self) -> EscalationModel:
        """Step until the horizon or until every world has ended; returns self."""
        while self.running:
            self.step()
        return self

    def advice(self, actor: int) -> dict[str, Any]:
        """What an actor sees and how the model would choose for it tomorrow (nothing drawn).

        Returns:
            A dict with ``day`` (the day to decide), ``actor``, ``features`` ((F, R) the view,
            after fog), ``feature_names``, ``menu`` ((K,) global move indices),
            ``move_names`` (their names), ``move_rung`` ((K,) rung indices), ``available``
            ((K, R) bool), ``utilities`` ((K, R)) and ``probabilities`` ((K, R)) - the
            model's own decision rule, as :meth:`Actor.weigh` computes it.
        """
        day = self.state.day
        view = next(v for i, v in enumerate(self._views(day)) if i == actor).copy()
        agent = self.actor_agents[actor]
        u, ok, p, total = agent.weigh(view, day + 1)
        at = self.tables.actors[actor]
        return {
            "day": day + 1,
            "actor": actor,
            "features": view,
            "feature_names": FEATURE_NAMES,
            "menu": at.moves.copy(),
            "move_names": [self.tables.move_names[int(g)] for g in at.moves],
            "move_rung": at.move_rung.copy(),
            "available": ok,
            "utilities": u,
            "probabilities": p / total,
        }

    # ----------------------------------------------------------------- observation
    def features(self, day: int) -> list[np.ndarray]:
        """Each actor's (F, R) view of the world at the end of ``day`` (independent copies)."""
        return [view.copy() for view in self._views(day)]

    def _views(self, day: int) -> Iterator[np.ndarray]:
        """Each actor's (F, R) view, in actor order, as one array rewritten for each actor.

        Only four rows differ between actors, so one array is filled once and those rows are
        overwritten per actor; a view is valid until the next one is produced (the step uses
        each view only while that actor decides).
        """
        t = self.tables
        st = self.state
        s = self.scenario_spec
        n = self.n
        base = np.zeros((len(FEATURE_NAMES), n))
        base[F["bias"]] = 1.0
        if s.exercise is not None:
            base[F["exercise"]] = (day + 1 >= s.exercise.start_day) & (day + 1 <= st.exercise_end)
        base[F["incident"]] = st.incident
        base[F["armed_incident"]] = st.armed
        base[F["blockade"]] = st.blockade
        base[F["blockade_cost"]] = np.minimum(st.china_cost / s.economy.cost_scale_musd, 1.0)
        china_blame = 1.0 / (1.0 + np.exp(-st.blame_poland))
        base[F["blame_poland"]] = np.where(st.blockade_ever, 2.0 * china_blame - 1.0, 0.0)
        base[F["alignment"]] = st.alignment / max(t.n_levels - 1, 1)
        base[F["eu_exposure"]] = self.params["economy.china_eu_exposure"]
        base[F["article4"]] = st.article4
        base[F["article5"]] = st.article5

        misread = self.params["fog.posture_misread"]
        threat0 = np.zeros((n, 6))
        for at in t.actors:
            if not at.adversaries:
                continue
            bits = self.streams.bits(day + 1, at.index, "fog")
            seen = np.zeros(n)
            for j, b in enumerate(at.adversaries):
                v = ((bits >> np.uint64(16 * (j % 4))) & _FOG_MASK).astype(np.float64) / 65536.0
                shift = (v > 1.0 - misread / 2).astype(np.int64) - (v < misread / 2)
                r = np.clip(st.rung[:, b] + shift, 0, t.n_rungs - 1)
                np.maximum(seen, t.severity[r], out=seen)
            threat0[:, at.index] = seen
        belief = st.belief_west(t)
        solidarity = {
            A["russia"]: self.params["commitments.union_state_solidarity"],
            A["nato"]: self.params["commitments.nato_solidarity"],
        }
        x = base
        for at in t.actors:
            ally = threat0[:, at.allies].max(axis=1) if at.allies else np.zeros(n)
            threat = threat0[:, at.index]
            if at.index in solidarity and at.allies:
                threat = np.maximum(threat, solidarity[at.index] * ally)
            x[F["threat"]] = threat
            x[F["ally_threat"]] = ally
            x[F["hybrid_pressure"]] = st.hybrid[:, at.index]
            x[F["blame_west"]] = np.where(st.incident, 2.0 * belief[:, at.index] - 1.0, 0.0)
            yield x

    def condition(self, c: Condition, day: int) -> np.ndarray:
        """(R,) whether a scenario condition holds in each world on ``day``."""
        st = self.state
        s = self.scenario_spec
        if c.day_at_least is not None:
            return np.full(self.n, day >= c.day_at_least)
        if c.day_at_most is not None:
            return np.full(self.n, day <= c.day_at_most)
        if c.flag is not None:
            return self.flag(c.flag, day)
        if c.not_flag is not None:
            return ~self.flag(c.not_flag, day)
        if c.rung_at_least is not None:
            return st.rung[:, A[c.rung_at_least.actor]] >= s.rung_index(c.rung_at_least.rung)
        if c.alignment_at_least is not None:
            return st.alignment >= s.alignment_index(c.alignment_at_least)
        assert c.belief_at_least is not None
        b = st.belief_west(self.tables)[:, A[c.belief_at_least.actor]]
        return st.incident & (b >= c.belief_at_least.value)

    def flag(self, name: str, day: int) -> np.ndarray:
        """(R,) the value of a world flag on ``day``."""
        st = self.state
        if name == "exercise_active":
            ex = self.scenario_spec.exercise
            if ex is None:
                return np.zeros(self.n, dtype=bool)
            return (day >= ex.start_day) & (day <= st.exercise_end)
        return {
            "incident": st.incident,
            "staged_incident": st.staged,
            "armed_incident": st.armed,
            "blockade_active": st.blockade,
            "border_closed": st.border_closed,
            "article4": st.article4,
            "article5": st.article5,
        }[name].copy()

    def article5_open(self) -> np.ndarray:
        """(R,) whether an armed attack on Poland has reached the Article 5 threshold."""
        st = self.state
        attackers = [A[b] for b in self.scenario_spec.actors["poland"].adversaries]
        top = st.rung[:, attackers].max(axis=1) if attackers else np.zeros(self.n, np.int64)
        return st.armed & (top >= self.tables.article5_threshold_rung)

    # ----------------------------------------------------------------- injects
    def _injects(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        st = self.state
        s = self.scenario_spec
        forced = np.full((self.n, 6), -1, dtype=np.int64)
        fired = np.zeros((self.n, len(s.injects)), dtype=bool)
        index = {m: i for i, m in enumerate(self.tables.move_names)}
        for i, inj in enumerate(s.injects):
            ok = st.alive.copy()
            if inj.once:
                ok &= ~st.fired[:, i]
            if inj.day is not None:
                ok &= np.rint(self.params[f"injects[{i}].day"]).astype(np.int64) == day
            if inj.window is not None:
                ok &= inj.window[0] <= day <= inj.window[1]
            for c in inj.when:
                ok &= self.condition(c, day)
            if not ok.any():
                continue
            u = self.streams.uniform(day, _INJECT_ACTOR, "inject:" + inj.name)
            fire = ok & (u < self.params[f"injects[{i}].probability"])
            fired[:, i] = fire
            if inj.force_move is not None:
                a = A[inj.force_move.actor]
                forced[:, a] = np.where(fire, index[inj.force_move.move], forced[:, a])
        if self.trace is not None:
            self.trace.record_injects(day, fired)
        return forced, fired

    def _friction(self, day: int, forced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unplanned exchanges of fire where forces face each other (updates ``forced``)."""
        inc = self.scenario_spec.incidents
        fired_any = np.zeros(self.n, dtype=bool)
        west_first = np.zeros(self.n, dtype=bool)
        if not inc.borders or inc.friction_move is None:
            return fired_any, west_first
        t = self.tables
        st = self.state
        move = t.move_names.index(inc.friction_move)
        hazard = self.params["incidents.friction_hazard"]
        expo = self.params["incidents.friction_exponent"]
        for i, (x, y) in enumerate(inc.borders):
            a, b = A[x], A[y]
            level = 0.5 * (t.severity[st.rung[:, a]] + t.severity[st.rung[:, b]])
            u = self.streams.uniform(day, _INJECT_ACTOR, f"friction:{i}")
            fire = st.alive & (u < hazard * level**expo)
            if not fire.any():
                continue
            # Who fired first is unknowable to the model as to the observers: a coin toss.
            coin = self.streams.uniform(day, _INJECT_ACTOR, f"friction-first:{i}") < 0.5
            west_first |= fire & ~fired_any & (coin == (a in WEST))
            fired_any |= fire
            for side in (a, b):
                # A side already above the friction rung keeps its own move.
                keep = st.rung[:, side] > t.move_rung[move]
                forced[:, side] = np.where(
                    fire & ~keep & (forced[:, side] < 0), move, forced[:, side]
                )
        if self.trace is not None:
            self.trace.friction[day] = fired_any.copy()
        return fired_any, west_first

    # ----------------------------------------------------------------- effects
    def _apply(
        self,
        day: int,
        choice: np.ndarray,
        fired: np.ndarray,
        friction: np.ndarray,
        west_first: np.ndarray,
    ) -> None:
        t = self.tables
        st = self.state
        s = self.scenario_spec
        p = self.params
        alive = st.alive
        rows = np.arange(self.n)[:, None]

        st.rung = np.where(alive[:, None], t.move_rung[choice], st.rung)
        made = np.zeros_like(st.used)
        made[rows, choice] = True
        made &= alive[:, None]
        st.used |= made & t.once[None, :]

        # Incidents: a staged one is fabricated; the first real use of force is an armed one.
        staged_now = made[:, t.stage].any(axis=1) & ~st.incident
        armed_by = t.armed[choice] & alive[:, None]
        armed_now = armed_by.any(axis=1) & ~st.armed
        west_fired = armed_by[:, list(WEST)].any(axis=1)
        east_fired = armed_by[:, list(EAST)].any(axis=1)
        real_now = armed_now & ~st.incident & ~staged_now
        new = staged_now | real_now
        if new.any():
            q = np.where(
                staged_now,
                p["incidents.staged_evidence_quality"],
                p["incidents.real_incident_ambiguity"],
            )
            q = np.clip(q, 1e-6, 1 - 1e-6)
            prior = np.log(q / (1 - q))
            for at in t.actors:
                st.lean[:, at.index] = np.where(
                    new, prior + at.bias + st.lean[:, at.index], st.lean[:, at.index]
                )
            st.evidence = np.where(new, q, st.evidence)
            by_west = np.where(friction, west_first, west_fired & ~east_fired)
            st.truth_west = np.where(real_now, by_west, st.truth_west)
            st.incident |= new
            st.staged |= staged_now
            st.staged_day = np.where(staged_now, day, st.staged_day)
        st.first_armed_day = np.where(armed_now, day, st.first_armed_day)
        st.armed |= armed_now

        # Attribution: narrative pushes toward 'the West did it', disclosure toward the truth
        # that Minsk staged it; a convincing fake helps the first and blunts the second.
        narrative = np.take_along_axis(t.narrative, choice, axis=1).sum(axis=1) * alive
        disclosure = np.take_along_axis(t.disclosure, choice, axis=1).sum(axis=1) * alive
        q = st.evidence
        weight = np.where(st.incident, 1.0, p["incidents.priming_weight"])
        narrative_w = narrative * weight
        disclosure_w = disclosure * weight
        noise_sd = p["fog.belief_noise"]
        for at in t.actors:
            if at.knows_truth:
                continue
            d = (
                at.receptiveness_minsk * narrative_w * 2 * q
                - at.receptiveness_west * disclosure_w * 2 * (1 - q)
            )
            if np.any(noise_sd > 0):
                d = d + np.where(
                    st.incident, noise_sd * self.streams.normal(day, at.index, "belief"), 0.0
                )
            st.lean[:, at.index] += d * alive

        # Hybrid pressure lands on the adversaries of whoever applies it, and fades.
        hyb = np.take_along_axis(t.hybrid, choice, axis=1) * alive[:, None]
        decay = p["dynamics.hybrid_decay"][:, None]
        st.hybrid = np.minimum(decay * st.hybrid + hyb @ t.adversary_matrix, 1.0)

        # Border closure and blockade last while their maker stays at the rung that imposed them.
        if t.closers:
            close = made[:, t.closure_close].any(axis=1)
            reopen = made[:, t.closure_open].any(axis=1) | (
                st.rung[:, t.closers].max(axis=1) < t.closure_hold_rung
            )
            st.border_closed = (st.border_closed & ~reopen) | close
        if t.blockaders:
            start = made[:, t.blockade_start].any(axis=1)
            lift = made[:, t.blockade_lift].any(axis=1) | (
                st.rung[:, t.blockaders].max(axis=1) < t.blockade_hold_rung
            )
            first = start & ~st.blockade_ever
            if first.any():
                china = A["china"]
                bias = np.where(
                    st.incident,
                    2.0 * st.belief_west(t)[:, china] - 1.0,
                    0.0,
                )
                prior = np.clip(p["incidents.blockade_blame_prior"], 1e-6, 1 - 1e-6)
                st.blame_poland = np.where(
                    first, np.log(prior / (1 - prior)) + bias, st.blame_poland
                )
            st.blockade = (st.blockade & ~lift) | start
            st.blockade_ever |= start
            china_t = t.actors[A["china"]]
            st.blame_poland += np.where(
                st.blockade_ever & ~first,
                china_t.receptiveness_minsk * narrative - china_t.receptiveness_west * disclosure,
                0.0,
            )
            on = st.blockade & alive
            st.blockade_days += on
            st.china_cost += on * t.daily_china_cost
            st.poland_cost += on * t.daily_poland_cost
            st.belarus_cost += on * t.daily_belarus_cost

        st.article4 |= made[:, t.article4].any(axis=1)
        st.article5 |= made[:, t.article5].any(axis=1)
        china_move = choice[:, A["china"]]
        st.alignment = np.clip(st.alignment + t.alignment[china_move] * alive, 0, t.n_levels - 1)
        st.max_alignment = np.maximum(st.max_alignment, st.alignment)
        st.escalation_day = np.where(
            (st.escalation_day < 0) & (st.alignment >= t.china_escalation_level),
            day,
            st.escalation_day,
        )
        st.exercise_end += (t.extend[choice] * made[rows, choice]).sum(axis=1)

        for i, inj in enumerate(s.injects):
            f = fired[:, i]
            if not f.any():
                continue
            st.fired[:, i] |= f
            if inj.shift_belief is not None:
                a = A[inj.shift_belief.actor]
                st.lean[:, a] += np.where(f, p[f"injects[{i}].shift_belief.by"], 0.0)
            if inj.set_flag is not None:
                self._set_flag(inj.set_flag, f, day)

        st.max_rung = np.maximum(st.max_rung, st.rung.max(axis=1))
        st.last_move = choice
        st.days = np.where(alive, day, st.days)
        st.day = day
        for _, es in self._absorbing:
            hit = alive.copy()
            if es.max_rung_at_least is not None:
                hit &= st.max_rung >= s.rung_index(es.max_rung_at_least)
            if es.final_rung_at_least is not None:
                hit &= st.rung.max(axis=1) >= s.rung_index(es.final_rung_at_least)
            if es.blockade_at_end is not None:
                hit &= st.blockade == es.blockade_at_end
            st.alive &= ~hit

    def _set_flag(self, name: str, rows: np.ndarray, day: int) -> None:
        st = self.state
        if name == "exercise_active":
            st.exercise_end = np.where(rows, np.maximum(st.exercise_end, day), st.exercise_end)
            return
        attr = {
            "incident": "incident",
            "staged_incident": "staged",
            "armed_incident": "armed",
            "blockade_active": "blockade",
            "border_closed": "border_closed",
            "article4": "article4",
            "article5": "article5",
        }[name]
        setattr(st, attr, getattr(st, attr) | rows)
        if attr == "armed":
            st.first_armed_day = np.where(rows & (st.first_armed_day < 0), day, st.first_armed_day)
        if attr == "blockade":
            st.blockade_ever |= rows

    def _count(self, day: int) -> None:
        st = self.state
        nr = self.tables.n_rungs
        offs = st.rung + (np.arange(6) * nr)[None, :]
        self.occupancy[day] = np.bincount(offs.ravel(), minlength=6 * nr).reshape(6, nr)
        self.alignment_occupancy[day] = np.bincount(st.alignment, minlength=self.tables.n_levels)

    # ----------------------------------------------------------------- results
    def outcomes(self) -> pd.DataFrame:
        """One row per replicate: ``replicate``, sampled parameters, then every outcome."""
        cols: dict[str, Any] = {"replicate": self.replicate_ids.copy()}
        for path in uncertain_parameters(self.scenario_spec):
            cols[PARAM_PREFIX + path] = self.params[path]
        cols.update(oc.all_outcomes(self.state, self.tables, self.occupancy_final_day()))
        return pd.DataFrame(cols)

    def occupancy_final_day(self) -> int:
        """The last day for which occupancy has been counted."""
        return self.state.day


class Trace:
    """What a replay needs: each day's features, utilities, probabilities and choices."""

    def __init__(self, model: EscalationModel):
        self.model = model
        self.choices: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.injects: dict[int, np.ndarray] = {}
        self.friction: dict[int, np.ndarray] = {}
        self.states: dict[int, WorldState] = {0: model.state.take(np.arange(model.n))}

    def record_choice(self, day, actor, features, utilities, available, probs, chosen) -> None:
        """Keep one actor's decision on one day."""
        self.choices[(day, actor)] = {
            "features": features.copy(),
            "utilities": utilities.copy(),
            "available": available.copy(),
            "probabilities": probs.copy(),
            "chosen": chosen.copy(),
        }

    def record_state(self, day: int, state: WorldState) -> None:
        """Keep a copy of the worlds' state at the end of a day."""
        self.states[day] = state.take(np.arange(self.model.n))

    def record_injects(self, day: int, fired: np.ndarray) -> None:
        """Keep which injects fired on a day."""
        self.injects[day] = fired.copy()


def _reporters() -> dict[str, Any]:
    # Headline series for single runs; with R > 1 each is the ensemble mean.
    rep: dict[str, Any] = {
        f"rung_{name}": (lambda m, i=i: float(m.state.rung[:, i].mean()))
        for i, name in enumerate(ACTORS)
    }
    rep["china_alignment"] = lambda m: float(m.state.alignment.mean())
    rep["china_belief_west"] = lambda m: float(
        np.where(m.state.incident, m.state.belief_west(m.tables)[:, A["china"]], np.nan).mean()
        if m.state.incident.any()
        else np.nan
    )
    rep["blockade"] = lambda m: float(m.state.blockade.mean())
    rep["armed_incident"] = lambda m: float(m.state.armed.mean())
    # End-of-run outcomes, so that mesa.batch_run rows carry them (replicate 0 / the mean).
    for name in oc.SCALAR_OUTCOMES:
        rep[name] = lambda m, name=name: oc.scalar_outcome(m, name)
    return rep
