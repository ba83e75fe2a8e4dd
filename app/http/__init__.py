"""The request edge every surface stands on: Flask's request turned into what core takes.

Who is calling (`client`), the browser's sign-in cookie (`session_cookie`), one transaction
per request (`transaction`), the headers every answer carries (`headers`), which surface
owns a path (`surfaces`: the pages, OIDC and each JSON dialect register their claims),
what any input must not hold (`input_rules`: control characters), and where an error
becomes a response (`errors`). Surfaces import from here; nothing here
imports a surface.
"""

from __future__ import annotations

from flask import Flask

from app.http import errors, hooks, input_rules


def register(app: Flask) -> None:
    """Install the request hooks, the input rules and the app-wide error handlers."""
    hooks.register(app)
    input_rules.register(app)
    errors.register(app)
