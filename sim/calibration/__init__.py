"""Calibration against the militarized-dispute record and backtests against history.

``escalation calibrate`` (:func:`sim.calibration.fit.calibrate`) fits the ladder dynamics
shared by every scenario to the MID data by ABC-SMC; ``escalation backtest``
(:func:`sim.calibration.backtest.backtest`) holds the calibrated model against the record and
the regional episodes. docs/MODEL.md, "Calibration and validation", explains both.
"""
