"""The request's JSON body, parsed once however many readers ask for it: the input rules,
a dialect's schema, a rate limit counted per address, the pages' WebAuthn calls."""

from __future__ import annotations

from flask import g, request

from app.core import json_input


def parsed() -> object:
    """The body as JSON (json_input's rules: depth-bounded); raises ValueError when it is
    not JSON, every time it is asked."""
    if "tessera_json_body" not in g:
        try:
            g.tessera_json_body = (json_input.loads(request.get_data(cache=True)), None)
        except ValueError as error:
            g.tessera_json_body = (None, error)
    body, error = g.tessera_json_body
    if error is not None:
        raise error
    return body
