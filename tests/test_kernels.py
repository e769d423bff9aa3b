"""The compiled kernels of the daily step give numpy's numbers bit for bit.

The step weighs menus, draws from the logit, reviews measures and applies the day's effects
(postures, force, accidents, incidents, beliefs, hybrid pressure, the dispute record, the
running records, occupancy) through ``sim.kernels``; each kernel has a numpy twin that states
the rule plainly. Here both run on the same worlds - every actor of several shipped scenarios
on several days, whole runs of those scenarios, and random menus with blocked entries, stuck
worlds and utilities beyond the cap - and must agree exactly.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernels
from sim.model import EscalationModel
from sim.model import observe as obs
from sim.model.agents import _U_CAP, inverse_cdf
from sim.model.mechanisms import dispute, incidents
from sim.model.state import WorldState
from sim.rng import Streams
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "name", ["staged_provocation.yaml", "transit_blockade.yaml", "suwalki.yaml", "combined.yaml"]
)
def test_every_actor_weighs_and_draws_as_numpy_does(name):
    m = EscalationModel(load_scenario(ROOT / "scenarios" / name), seed=3, replicates=3000)
    checked = 0
    for day in range(1, 41):
        if day % 8 == 0:
            views = m.views(day - 1)
            for agent, view in zip(m.actor_agents, views, strict=True):
                u, p = agent.choice_probabilities(view, day)
                u0, p0 = agent.numpy_choice_probabilities(view, day)
                assert np.array_equal(u, u0), (name, day, agent.name)
                assert np.array_equal(p, p0), (name, day, agent.name)
                draw = m.streams.uniform(day, agent.index, "choice")
                _, _, col = agent._logit(view, day, draw)
                assert np.array_equal(col, inverse_cdf(p0, draw)), (name, day, agent.name)
                if len(agent.table.measures.ids):
                    got = agent.measure_probabilities(view, day)
                    want = agent.numpy_measure_probabilities(view, day)
                    for g, w in zip(got, want, strict=True):
                        assert np.array_equal(g, w), (name, day, agent.name)
                checked += 1
        m.step()
    assert checked >= 5 * len(m.actor_agents)


def numpy_logit(u, blocked, inv_temp, fallback):
    blocked = blocked.copy()
    stuck = blocked.all(axis=0)
    blocked[fallback, stuck] = False
    z = np.clip(u, -_U_CAP, _U_CAP)
    z *= inv_temp[None, :]
    np.copyto(z, -np.inf, where=blocked)
    z -= z.max(axis=0)
    np.copyto(z, 0.0, where=blocked)
    p = np.exp(z)
    np.copyto(p, 0.0, where=blocked)
    p /= p.sum(axis=0)
    return p, blocked


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 12),
    r=st.integers(2, 2500),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e7]),
    share_blocked=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_logit_kernels_equal_the_numpy_logit(k, r, scale, share_blocked, seed):
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, scale, (k, r))
    blocked = rng.random((k, r)) < share_blocked  # some worlds have every entry blocked
    inv_temp = 1.0 / rng.uniform(0.05, 3.0, r)
    draw = rng.random(r)
    fallback = int(rng.integers(0, k))
    p0, blocked0 = numpy_logit(u, blocked, inv_temp, fallback)
    b = blocked.copy()
    z = kernels.logit_exponents(u, b, inv_temp, _U_CAP, fallback)
    assert np.array_equal(b, blocked0)
    p = np.exp(z, out=z)
    col = kernels.logit_draw(p, b, draw)
    assert np.array_equal(p, p0)
    assert np.array_equal(col, inverse_cdf(p0, draw))
    assert col.min() >= 0 and col.max() < k
    # A world's probabilities do not depend on the worlds beside it. (numpy's reduction
    # does not promise this: over a (K, 1) array it sums pairwise, over (K, R) in order.)
    b1 = blocked[:, :1].copy()
    one = kernels.logit_exponents(u[:, :1].copy(), b1, inv_temp[:1].copy(), _U_CAP, fallback)
    p1 = np.exp(one, out=one)
    assert np.array_equal(kernels.logit_draw(p1, b1, draw[:1].copy()), col[:1])
    assert np.array_equal(p1[:, 0], p0[:, 0])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**62), n=st.integers(1, 5000), day=st.integers(0, 400))
def test_uniform_numbers_equal_numpys(seed, n, day):
    s = Streams(seed, np.arange(n, dtype=np.int64) * 7 - 3)
    assert np.array_equal(s.uniform(day, 2, "choice"), s.numpy_uniform(day, 2, "choice"))
    assert np.array_equal(s.open_uniform(day, 5, "x"), s.numpy_uniform(day, 5, "x", offset=0.5))


def run_days(m: EscalationModel, days: int) -> list[tuple[WorldState, np.ndarray]]:
    """Each day's state (a copy) and ladder occupancy while stepping ``m``."""
    out = []
    for _ in range(days):
        m.step()
        out.append((m.state.take(np.arange(m.n)), m.occupancy[m.state.day].copy()))
    return out


EFFECTS = [
    ("staged_provocation.yaml", []),
    ("transit_blockade.yaml", []),
    ("combined.yaml", []),
    # A limited clash ends the world here: most worlds stop on the way (dead-world branches).
    ("suwalki.yaml", ["end_states[2].absorbing=true"]),
]


@pytest.mark.parametrize(("name", "overrides"), EFFECTS)
def test_the_days_effects_equal_the_numpy_rule(name, overrides, monkeypatch):
    """Whole runs with the effect kernels and with their numpy twins agree bit for bit."""
    scenario = load_scenario(ROOT / "scenarios" / name, overrides)
    days = 45
    m = EscalationModel(scenario, seed=5, replicates=4000)
    got = []
    for _ in range(days):
        # The fog and attack rows of the views, against their twins, before the step.
        d = m.views(m.state.day)[0]._day
        for a in range(m.tables.n_actors):
            seen, want = d.seen(a), d.numpy_seen(a)
            assert seen.keys() == want.keys()
            for b in seen:
                assert np.array_equal(seen[b], want[b]), (name, m.state.day, a, b)
                assert np.array_equal(d.attacked(a, b), d.numpy_attacked(a, b))
        got += run_days(m, 1)
    for mod, fn, twin in [
        (incidents, "accidents", incidents.numpy_accidents),
        (incidents, "apply", incidents.numpy_apply),
        (incidents, "attribution", incidents.numpy_attribution),
        (dispute, "step", dispute.numpy_step),
        (WorldState, "refresh_postures", WorldState.numpy_refresh_postures),
        (EscalationModel, "_add_hybrid", EscalationModel.numpy_add_hybrid),
        (EscalationModel, "_close_day", EscalationModel.numpy_close_day),
        (EscalationModel, "_count", EscalationModel.numpy_count),
        (obs._Day, "seen", obs._Day.numpy_seen),
        (obs._Day, "attacked", obs._Day.numpy_attacked),
    ]:
        monkeypatch.setattr(mod, fn, twin)
    want = run_days(EscalationModel(scenario, seed=5, replicates=4000), days)
    for day, ((s1, o1), (s2, o2)) in enumerate(zip(got, want, strict=True), start=1):
        assert np.array_equal(o1, o2), (name, day)
        for f in fields(WorldState):
            x, y = getattr(s1, f.name), getattr(s2, f.name)
            if isinstance(x, np.ndarray):
                # Bits, not values: -0.0 and 0.0 differ here.
                assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), (name, day, f.name)
            else:
                assert x == y, (name, day, f.name)
    final = got[-1][0]
    # The runs exercised what the kernels do: force used, accidents, disputes, measures.
    assert final.armed.any() and (final.onset >= 0).any() and final.ever_on.any(), name
