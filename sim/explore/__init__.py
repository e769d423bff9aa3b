"""The browser explorer: one world stepped day by day and a Monte Carlo beside it.

``model.py`` holds what is computed (settings, the world, the Monte Carlo, saving a scenario);
``app.py`` is the Mesa SolaraViz page, as in Mesa's examples.
"""
