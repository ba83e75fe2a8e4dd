"""The request edge every surface stands on: Flask's request turned into what core takes.

Who is calling (`client`), the browser's sign-in cookie (`session_cookie`), one transaction
per request (`transaction`), the headers every answer carries (`headers`), which surface
owns a path (`surfaces`: the pages, OIDC and each JSON dialect register their claims),
what any input must not hold (`input_rules`: control characters), where an error becomes a
response (`errors`), how an unavailable database is answered (`db_unavailable`: 503 with
Retry-After), what happens while Redis is down (`redis_outage`) and when requests waited
too long for a thread (`shedding`). Surfaces import from here; nothing here imports a
surface.
"""

from __future__ import annotations

from flask import Flask

from app.http import db_unavailable, errors, hooks, input_rules, redis_outage, shedding


def register(app: Flask) -> None:
    """Install the request hooks, the input rules and the app-wide error handlers."""
    hooks.register(app)
    input_rules.register(app)
    errors.register(app)
    db_unavailable.register(app)
    redis_outage.register(app)
    # Last, so its hook goes first of all (it inserts itself at the head of the list).
    shedding.register(app)
