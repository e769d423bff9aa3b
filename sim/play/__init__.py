"""Playing the model: policies (scripted personas, external programs, people) and the game.

* :mod:`sim.play.policy` - the policy interface (:class:`Decision` in, moves or a
  :class:`Plan` of moves and lasting-measure switches out), the
  personas ``hawk``, ``dove`` and ``tit_for_tat``, and :func:`play_out`.
* :mod:`sim.play.game` - a game of one world with human seats: advice, what-if branches, undo,
  and a JSON game log that replays bit-exactly.
"""

from sim.play.policy import PERSONAS, Decision, Plan, Policy, persona, play_day, play_out

__all__ = ["PERSONAS", "Decision", "Plan", "Policy", "persona", "play_day", "play_out"]
