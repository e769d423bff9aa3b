"""Alliance commitments: Article 5 opens on an armed attack on a member, and means defence.

Invoking collective defence is not a declaration of war: it deploys the guarantor's forces
facing the attacker and puts its answers (a proportionate response; a war, if it chooses one)
on its menu. Article 4 consultations are a measure a member starts when it judges the threat
warrants it. A union (the Union State) shares threats through solidarity; an alliance of kind
``none`` (the SCO) commits nobody to anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.tables import Tables

if TYPE_CHECKING:
    from sim.model.model import EscalationModel


class Commitments:
    """The collective-defence guarantees of a scenario, for one ensemble."""

    def __init__(self, model: EscalationModel, t: Tables):
        self.model = model
        self.guarantees = t.guarantees

    def open_for(self, guarantor: int) -> np.ndarray:
        """(R,) an armed attack on a member has reached the threshold of ``guarantor``."""
        st = self.model.state
        out = np.zeros(self.model.n, dtype=bool)
        for g, members, threshold in self.guarantees:
            if g == guarantor:
                out |= (st.attacked_rung[:, members] >= threshold).any(axis=1)
        return out

    def invoke(self, guarantor: int, worlds: np.ndarray) -> None:
        """The guarantor deploys facing every actor that has used force against a member."""
        m = self.model
        st = m.state
        t = m.tables
        for g, members, _ in self.guarantees:
            if g != guarantor:
                continue
            hit = (st.force[:, :, members] >= 0).any(axis=2)  # (R, N) attacked a member
            for k in t.kind_slots.get("deploy_forces", ()):
                if t.slot_actor[k] == g and t.slot_target[k] >= 0:
                    st.on[:, k] |= worlds & hit[:, t.slot_target[k]]
