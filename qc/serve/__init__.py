"""The QA team's workbench in the browser (``qc serve``): a local web app over the store.

Starlette with Jinja2 templates and htmx (vendored in ``static/``, no build step). Sign-in
and roles come from the store's people table; pages read and write only through the
supervision layer and :class:`qc.store.database.Store`. See :mod:`qc.serve.app` for the
routes and :mod:`qc.serve.auth` for sessions and CSRF.
"""

from __future__ import annotations

from qc.serve.app import Workbench, create_app

__all__ = ["Workbench", "create_app"]
