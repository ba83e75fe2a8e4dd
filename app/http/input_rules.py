"""Rules every request's input obeys before any view sees it: no control characters.

One before-request hook checks every string a client sent (app.core.control_characters
says which characters are refused and why): the URL's path segments, the query string
(names and values), header values (the user agent is stored with sessions), a form body,
HTTP Basic credentials, and a JSON body (every string and object key, nested ones
included). The first offender is refused with a 400 InvalidInput
naming it, which the surface owning the path renders in its own shape: a dialect's
envelope with its `field` member, OAuth's `invalid_request`, a themed page.

A JSON body that does not parse is left alone here; the view that reads it answers its own
400. A view that must answer bad characters in its parameters its own way (the
authorization endpoint tells the client at its redirect URI once client and redirect URI
are trusted) opts out with `checks_own_parameters` and applies the same rule to its query
and form itself; the rest of its request is still checked here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

from app.core.control_characters import first_unclean, is_clean, is_clean_header, shown
from app.core.errors import InvalidInput
from app.http import json_body

OPT_OUT = "tessera_checks_own_parameters"
MESSAGE = "contains a control character, which is not allowed."


def register(app: Flask) -> None:
    app.before_request(refuse_control_characters)


def checks_own_parameters(view: Callable) -> Callable:
    """Mark a view that applies the control-character rule to its own query and form."""
    setattr(view, OPT_OUT, True)
    return view


def refuse(field: str) -> InvalidInput:
    """The error for a refused character in `field` (already shown safely)."""
    return InvalidInput(f"{field}: {MESSAGE}", field=field)


def refuse_control_characters() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return
    field = unclean_field(parameters=not getattr(view, OPT_OUT, False))
    if field is not None:
        raise refuse(field)


def unclean_field(*, parameters: bool = True) -> str | None:
    """The first input field of this request holding a refused character, or None; query
    and form fields only with `parameters`."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and not is_clean(value):
            return name
    for name, value in request.headers.items():
        if not is_clean_header(value):
            return name
    # Cached before the form is parsed, so a view that reads the raw body still sees it.
    raw = request.get_data(cache=True, parse_form_data=False)
    if parameters:
        found = _first_in_multidict(request.args)
        if found is None and request.mimetype in ("application/x-www-form-urlencoded",
                                                  "multipart/form-data"):
            found = _first_in_multidict(request.form)
        if found is not None:
            return found
    authorization = request.authorization
    if authorization is not None and authorization.type == "basic":
        for part in (authorization.username, authorization.password):
            if part is not None and not is_clean(part):
                return "authorization"
    if raw and request.is_json:
        try:
            body = json_body.parsed()
        except ValueError:
            return None  # malformed: the view that reads it says so
        path = first_unclean(body)
        if path is not None:
            return ".".join(path) or "body"
    return None


def _first_in_multidict(values) -> str | None:
    for name in values:
        if not is_clean(name):
            return shown(name)
        if not all(is_clean(value) for value in values.getlist(name)):
            return name
    return None
