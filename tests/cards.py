"""The card the tests of charging itself score with: the default with the classifier's verdicts charged.

The default card holds the attitude classifier's verdicts for review (``review_only``); a test
of how a charge is made, capped, shared, appealed or overturned needs them charged.
"""

from __future__ import annotations

from pathlib import Path

CHARGING = Path(__file__).resolve().parent / "charging.toml"


def charging_card():  # noqa: ANN201 - a Scorecard
    """The default scorecard with ``review_only = []``."""
    from qc.scoring.card import load_scorecard

    return load_scorecard(CHARGING)
