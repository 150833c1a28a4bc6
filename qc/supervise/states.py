"""Appeal states, shared by review (a final ruling closes reviews) and appeal (the steps).

``open`` (the agent's reason) → ``answered`` (QA's reply) → ``upheld`` or ``overturned``
(final); a supervisor may reopen a final appeal (``reopened``), after which the finding can be
reviewed again and the appeal ruled again.
"""

from __future__ import annotations

__all__ = ["OPEN", "ANSWERED", "UPHELD", "OVERTURNED", "REOPENED", "FINAL", "STATES"]

OPEN = "open"
ANSWERED = "answered"
UPHELD = "upheld"
OVERTURNED = "overturned"
REOPENED = "reopened"
FINAL = (UPHELD, OVERTURNED)
STATES = (OPEN, ANSWERED, UPHELD, OVERTURNED, REOPENED)
