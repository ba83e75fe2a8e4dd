"""A dialect: the routes of one document, its error envelope, and its rate limits.

Views are registered on a Dialect object (which remembers their schemas for OpenAPI) and
turned into a fresh blueprint for each app, mounted where configuration says. The route
declaration is also what the view is handed: its caller, its validated body and query.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from flask import Blueprint, Flask, jsonify, request

from app.api.common import (
    bearer_token,
    principal,
    read_json,
    read_query,
    refuse_non_json_body,
)
from app.api.raises import BEARER
from app.core.api_logins import Principal
from app.core.errors import InvalidInput, TesseraError, Unauthenticated
from app.extensions import csrf
from app.http.redis_outage import limit_failing_open

# error_body(status, code, message, field) -> JSON-able body in the document's envelope
ErrorBody = Callable[[int, str, str, str | None], dict]
# How a route learns its caller (see Dialect.route); anything but False documents the route
# as bearer-authenticated.
Auth = bool | Literal["optional", "token"]

# modernauth's documented limits; the documents that name none (cosmicsync, apiauth, apiv1)
# use these too, so no auth endpoint is left unlimited.
DEFAULT_AUTH_LIMITS = {"register": "5 per hour", "login": "10 per 15 minutes",
                       "refresh": "100 per 15 minutes"}
# Limits served without counting while Redis is down: they guard capacity, not secrets (a
# refresh needs a refresh token already). Every other limit fails closed: 503.
LIMITS_FAILING_OPEN = frozenset({"refresh"})


# How HTTP-level errors read in every dialect's envelope (a core error brings its own).
HTTP_ERROR_CODES = {400: "validation", 401: "unauthenticated", 403: "forbidden",
                    404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                    415: "unsupported_media_type", 429: "rate_limited", 500: "server_error"}
HTTP_ERROR_MESSAGES = {404: "No such endpoint.", 405: "Method not allowed.",
                       413: "The request body is too large.",
                       415: "Send the body as JSON (Content-Type: application/json).",
                       429: "Too many requests. Try again later.",
                       500: "An unexpected error occurred."}


def bare_error_body(status: int, code: str, message: str, field: str | None) -> dict:
    """`{"error", "message"}` (plus `field`): the envelope of documents that show bare objects."""
    body = {"error": code, "message": message}
    if field:
        body["field"] = field
    return body


@dataclass
class Route:
    rule: str
    methods: list[str]
    view: Callable
    name: str
    summary: str = ""
    request: type | None = None
    body_required: bool = True
    query: type | None = None
    response: type | None = None
    status: int = 200
    auth: Auth = False
    limit: str | None = None  # a key into the dialect's rate-limit table
    # What the limit counts by: the client's IP (None), or a function of the request that
    # names what to count (e.g. the email address in the body).
    limit_by: Callable[[], str] | None = None
    # core field name -> this route's, where the route spells a field its own way (core's
    # reset names the new password `password`; one document calls it `newPassword`).
    fields: dict[str, str] = field(default_factory=dict)
    # The core errors the view itself may raise (beyond what `auth`, `request`, `query`
    # and `limit` already imply); the OpenAPI document lists their statuses, as the
    # dialect's table maps them.
    raises: tuple[type[TesseraError], ...] = ()

    def may_raise(self) -> tuple[type[TesseraError], ...]:
        """Every core error an answer of this route may carry: declared and implied."""
        implied: list[type[TesseraError]] = []
        if self.auth:
            implied += BEARER
        if self.request is not None or self.query is not None:
            implied.append(InvalidInput)
        return (*implied, *self.raises)


@dataclass
class Dialect:
    id: str
    title: str
    default_mount: str
    error_body: ErrorBody
    # core error code -> (status, the document's own code); absent codes keep core's. A key
    # may also be an error class, which wins over the code: two core errors can share a
    # code with different meanings (a one-time link's `token_expired` is a 400, an access
    # token's a 401).
    errors: dict[str | type, tuple[int, str]] = field(default_factory=dict)
    rate_limits: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    # core error detail -> the body member it is shown as (e.g. how many MFA attempts are
    # left); details not named here never reach the client.
    error_details: dict[str, str] = field(default_factory=dict)
    # Who calls an `auth` route: the bearer token's principal, unless the document carries
    # the token some other way too (apiauth also reads its cookie).
    authenticate: Callable[[], Principal] = principal

    def route(self, rule: str, methods: list[str] | str = "GET", *, summary: str = "",
              request: type | None = None, body_required: bool = True,
              query: type | None = None,
              response: type | None = None, status: int = 200, auth: Auth = False,
              limit: str | None = None, limit_by: Callable[[], str] | None = None,
              fields: dict[str, str] | None = None,
              raises: tuple[type[TesseraError], ...] = ()):
        """Register the decorated view for `rule`; the view is called with keyword arguments:

        - its URL variables, as Flask names them;
        - `caller` (an api_logins.Principal) when `auth=True`: the dialect's `authenticate`,
          so a request without valid credentials is refused before its body is looked at;
          with `auth="optional"`, the caller when a bearer token is sent and None otherwise
          (for a route that also serves a signed-out step);
        - `access_token` with `auth="token"`: the bearer token itself, unchecked, for a view
          that accepts what `authenticate` refuses (an expired token to refresh); a request
          without one is refused as unauthenticated;
        - `body`, the `request` schema validated from the JSON body (an empty body stands for
          `{}` when `body_required=False`);
        - `query`, the `query` schema validated from the query string.

        They are read in that order (caller, body, query), after the route's rate limit. A
        non-empty body that is not declared JSON is refused first (415), on every route.

        `raises` names the core errors the view may raise beyond those its `auth`, `request`
        and `query` imply; the OpenAPI document lists each one's status in this dialect.
        """
        def register(view: Callable) -> Callable:
            self.routes.append(Route(rule=rule, methods=[methods] if isinstance(methods, str)
                                     else list(methods), view=view, name=view.__name__,
                                     summary=summary, request=request,
                                     body_required=body_required, query=query,
                                     response=response,
                                     status=status, auth=auth, limit=limit,
                                     limit_by=limit_by, fields=fields or {},
                                     raises=tuple(raises)))
            return view

        return register

    # --- errors: the edge hands every error under this dialect's mount to these -------

    def error_response(self, status: int, code: str, message: str,
                       field_name: str | None = None, headers: dict | None = None):
        status, code = self.errors.get(code, (status, code))
        return self._respond(status, code, message, field_name, headers)

    def render(self, status: int, code: str | None, message: str | None,
               headers: dict[str, str]):
        """An HTTP-level error (404, 405, 413, 429, 500...) in the document's envelope."""
        return self.error_response(status, code or HTTP_ERROR_CODES.get(status, "error"),
                                   message or HTTP_ERROR_MESSAGES.get(
                                       status, "The request could not be completed."),
                                   None, headers)

    def render_core(self, error: TesseraError, headers: dict[str, str]):
        """A core error in the document's envelope: its table's status and code, the field
        as the route spells it, and the details the document shows."""
        field_name = self._route_field(error.field)
        extra = {shown: error.details[name] for name, shown in self.error_details.items()
                 if name in error.details}
        status, code = self.mapped(type(error))
        return self._respond(status, code, error.message, field_name, headers, extra)

    def mapped(self, kind: type[TesseraError]) -> tuple[int, str]:
        """A core error class's (status, code) in this document: the table's entry for the
        class or a base of it, else for its code, else core's own."""
        for base in kind.__mro__:
            if base in self.errors:
                return self.errors[base]
        return self.errors.get(kind.code, (kind.status, kind.code))

    def _respond(self, status: int, code: str, message: str, field_name: str | None,
                 headers: dict | None, extra: dict | None = None):
        response = jsonify(self.error_body(status, code, message, field_name) | (extra or {}))
        response.status_code = status
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def _route_field(self, name: str | None) -> str | None:
        """The field as the current route spells it."""
        endpoint = (request.endpoint or "").rpartition(".")[2]
        for route in self.routes:
            if route.name == endpoint and name in route.fields:
                return route.fields[name]
        return name

    # --- the blueprint -----------------------------------------------------------------

    def _caller(self, route: Route) -> dict:
        """What the route's `auth` hands its view (see `route`)."""
        if route.auth is True:
            return {"caller": self.authenticate()}
        if route.auth == "optional":
            return {"caller": None if bearer_token() is None else self.authenticate()}
        if route.auth == "token":
            token = bearer_token()
            if token is None:
                raise Unauthenticated("A bearer token is required.")
            return {"access_token": token}
        return {}

    def _handler(self, route: Route) -> Callable:
        """The view as Flask calls it: handed what its route declares (see `route`)."""
        view = route.view

        @functools.wraps(view)
        def handle(**url_values):
            refuse_non_json_body()  # before the caller: a cookie must not meet a form post
            given = self._caller(route)
            if route.request is not None:
                given["body"] = read_json(route.request, optional=not route.body_required)
            if route.query is not None:
                given["query"] = read_query(route.query)
            return view(**url_values, **given)

        return handle

    def limit_for(self, app: Flask, key: str | None) -> str | None:
        if key is None:
            return None
        return app.config["API_RATE_LIMITS"].get(f"{self.id}.{key}", self.rate_limits.get(key))

    def blueprint(self, app: Flask, mount: str) -> Blueprint:
        prefix = "" if mount == "/" else mount
        bp = Blueprint(f"api_{self.id}", __name__, url_prefix=prefix or None)
        limiter = app.extensions["tessera.limiter"]
        for route in self.routes:
            # Named like the view (functools.wraps), which the limiter keys its limits by.
            view = self._handler(route)
            limit = self.limit_for(app, route.limit)
            if limit:
                decorate = (functools.partial(limit_failing_open, limiter)
                            if route.limit in LIMITS_FAILING_OPEN else limiter.limit)
                view = decorate(limit, scope=f"{self.id}.{route.limit}",
                                key_func=route.limit_by)(view)
            bp.add_url_rule(route.rule, endpoint=route.name, view_func=view,
                            methods=route.methods)
        csrf.exempt(bp)
        return bp
