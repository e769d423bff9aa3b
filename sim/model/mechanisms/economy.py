"""The transit corridor as a stock: blocked cargo accumulates, rerouting grows, costs follow.

While a transit blockade is in force, cargo bound for the crossing either piles up (its value
is ``cargo``) or is rerouted by sea or the Middle Corridor; the rerouted share grows toward
``reroute_max`` as ``1 - exp(-age / reroute_days)``. Per day the shipper pays the holding cost
of the stranded stock and the premium on the rerouted flow; the blockader and the transit state
lose fees on the blocked flow. Costs accumulate per actor (``own_cost`` feature), and sanctions
cost their target a fixed sum per day. The shipper's blame of the blockader (vs the transit
state) starts from a prior and is moved by narrative and disclosure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.tables import NO_TARGET

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


def step(
    m: EscalationModel, started: np.ndarray, narrative: np.ndarray, disclosure: np.ndarray
) -> None:
    """One day of the corridor: stock, rerouting, costs, and the shipper's blame."""
    st = m.state
    t = m.tables
    p = m.params
    alive = st.alive
    for k in t.kind_slots.get("sanctions", ()):
        b = t.slot_target[k]
        if b != NO_TARGET:
            st.cost[:, b] += (st.on[:, k] & alive) * p["economy.sanctions_musd_per_day"]
    ks = t.kind_slots.get("transit_blockade")
    if ks is None or t.shipper < 0:
        return
    on = st.on[:, ks].any(axis=1) & alive
    first = started[:, ks].any(axis=1) & ~st.blockade_ever
    if first.any():
        bias = np.where(st.incident, 2.0 * st.belief_west_of(t, t.shipper) - 1.0, 0.0)
        prior = np.clip(p["transit.blame_prior"], 1e-6, 1 - 1e-6)
        st.blame = np.where(first, np.log(prior / (1 - prior)) + bias, st.blame)
    shipper = t.actors[t.shipper]
    st.blame += np.where(
        st.blockade_ever & ~first,
        shipper.receptiveness_east * narrative - shipper.receptiveness_west * disclosure,
        0.0,
    )
    st.blockade_ever |= on
    st.blockade_age = np.where(on, st.blockade_age + 1, 0)
    st.blockade_days += on
    flow = p["economy.corridor_value_musd_per_day"] * p["economy.share_through_crossing"]
    rerouted = p["economy.reroute_max"] * (
        1.0 - np.exp(-st.blockade_age / p["economy.reroute_days"])
    )
    st.cargo = np.where(on, st.cargo + flow * (1.0 - rerouted), 0.0)
    shipper_cost = (
        st.cargo * p["economy.holding_cost_per_day"]
        + flow * rerouted * p["economy.reroute_premium"]
    )
    daily = np.zeros_like(st.cost)
    daily[:, t.shipper] += on * shipper_cost
    daily[:, t.transit_state] += on * flow * p["economy.transit_fee_share"]
    for k in ks:
        holder = t.slot_actor[k]
        daily[:, holder] += (st.on[:, k] & alive) * flow * p["economy.blockader_fee_share"]
    st.cost += daily
    st.transit_cost += daily
