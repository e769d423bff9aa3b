"""Escalation-scenario simulation engine."""
