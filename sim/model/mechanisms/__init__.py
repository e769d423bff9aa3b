"""The model's mechanisms, one module each; the model's step calls them in a fixed order.

- :mod:`.injects`: scheduled and conditional events from the scenario;
- :mod:`.measures`: lasting measures started and ended by decisions;
- :mod:`.incidents`: uses of force (chosen), accidents, staged incidents and attribution;
- :mod:`.economy`: the transit corridor as a stock of blocked cargo, and who pays;
- :mod:`.commitments`: alliances, Article 4 and Article 5;
- :mod:`.alignment`: an actor's alignment track, reviewed on a slower clock;
- :mod:`.dispute`: the Correlates of War dispute record of each world;
- :mod:`.end_states`: absorbing end states and the final classification.
"""
