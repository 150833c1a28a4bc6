"""Scoring: timing metrics and the scorecard that turns findings and metrics into deductions."""
