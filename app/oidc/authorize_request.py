"""Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), step by step.

Until the client and its redirect URI are known to be genuine, nothing is ever sent to the
redirect URI: those errors are shown to the person on a page (RFC 6749 §4.1.2.1). After
that, errors go back to the client through the requested response mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core import clients, json_input
from app.core.control_characters import first_unclean, is_clean, shown
from app.core.errors import InvalidToken
from app.core.services import setting
from app.models import OAuthClient
from app.oidc.id_token import read_id_token_hint

RESPONSE_MODES = ("query", "fragment", "form_post")
PROMPTS = {"none", "login", "consent", "select_account"}
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
MAX_PARAM_LENGTH = 4096


class PageError(Exception):
    """A request too broken to answer the client: the person sees an error page."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class RedirectError(Exception):
    """An error for the client, delivered to its verified redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    response_mode: str
    state: str | None
    params: dict[str, str]
    scopes: list[str] = field(default_factory=list)
    nonce: str | None = None
    prompt: set[str] = field(default_factory=set)
    max_age: int | None = None
    login_hint: str | None = None
    hint_claims: dict | None = None
    acr_values: list[str] = field(default_factory=list)
    claims: dict | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


def parse(multi: dict[str, list[str]]) -> AuthorizationRequest:
    """Run every check in order; raises PageError or RedirectError."""
    params = _single_values(multi)
    client = _check_client(params)
    redirect_uri = _check_redirect_uri(params, client)
    request = AuthorizationRequest(client=client, redirect_uri=redirect_uri,
                                   response_mode="query", state=params.get("state"),
                                   params=params)
    for step in (_check_characters, _check_response_mode, _check_duplicates,
                 _check_request_objects, _check_response_type, _check_scope, _check_pkce,
                 _check_prompt, _check_max_age, _check_claims, _check_id_token_hint,
                 _copy_plain_values):
        step(request, multi)
    return request


def _single_values(multi: dict[str, list[str]]) -> dict[str, str]:
    """One bounded value each; a repeated client_id or redirect_uri shows a page (RFC 6749 §3.1)."""
    for name in ("client_id", "redirect_uri"):
        if len(multi.get(name, [])) > 1:
            raise PageError(f"The request repeats the {name} parameter.")
    params = {}
    for name, values in multi.items():
        if any(len(value) > MAX_PARAM_LENGTH for value in values):
            raise PageError(f"The {name} parameter is too long.")
        params[name] = values[0] if values else ""
    for name in ("client_id", "redirect_uri"):
        # Before the client lookup: a NUL would otherwise reach the database.
        if not all(is_clean(value) for value in multi.get(name, [])):
            raise PageError(f"The {name} parameter contains a control character.")
    return params


def _check_client(params: dict[str, str]) -> OAuthClient:
    """client_id is required and must name a registered client (RFC 6749 §4.1.1, §4.1.2.1)."""
    client_id = params.get("client_id")
    if not client_id:
        raise PageError("The request does not say which application is asking (client_id).")
    client = clients.get_client(client_id)
    if client is None:
        raise PageError("The application that sent you here is not registered (client_id).")
    return client


def _check_redirect_uri(params: dict[str, str], client: OAuthClient) -> str:
    """Required, and an exact match of a registered URI (OIDC Core §3.1.2.1, RFC 6749 §4.1.2.1)."""
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise PageError("The request has no redirect_uri.")
    if not client.check_redirect_uri(redirect_uri):
        raise PageError("The redirect_uri does not match any registered for this application.")
    return redirect_uri


def _check_characters(request: AuthorizationRequest, multi) -> None:
    """No control characters in any parameter (app.core.control_characters): invalid_request
    at the redirect URI, now that client and redirect URI are known (RFC 6749 §4.1.2.1)."""
    for name, values in multi.items():
        if not is_clean(name) or not all(is_clean(value) for value in values):
            raise RedirectError("invalid_request",
                                f"The {shown(name)} parameter contains a control character.")


def _check_response_mode(request: AuthorizationRequest, multi) -> None:
    """query, fragment or form_post (OAuth Multiple Response Types §2.1, Form Post Response §2)."""
    mode = request.params.get("response_mode")
    if mode is None:
        return
    if mode not in RESPONSE_MODES:
        raise RedirectError("invalid_request", "Unsupported response_mode.")
    request.response_mode = mode


def _check_duplicates(request: AuthorizationRequest, multi) -> None:
    """No parameter may be sent twice (RFC 6749 §3.1; invalid_request per §4.1.2.1)."""
    repeated = sorted(name for name, values in multi.items() if len(values) > 1)
    if repeated:
        raise RedirectError("invalid_request", f"The request repeats the {repeated[0]} parameter.")


def _check_request_objects(request: AuthorizationRequest, multi) -> None:
    """Request objects are not supported and say so (OIDC Core §6, errors of §3.1.2.6)."""
    if "request" in request.params:
        raise RedirectError("request_not_supported", "Request objects are not supported.")
    if "request_uri" in request.params:
        raise RedirectError("request_uri_not_supported", "request_uri is not supported.")


def _check_response_type(request: AuthorizationRequest, multi) -> None:
    """response_type=code, for a client allowed the code flow (RFC 6749 §4.1.1, §4.1.2.1)."""
    response_type = request.params.get("response_type")
    if not response_type:
        raise RedirectError("invalid_request", "Missing response_type.")
    if response_type != "code":
        raise RedirectError("unsupported_response_type", "Only response_type=code is supported.")
    if not request.client.check_response_type(response_type):
        raise RedirectError("unauthorized_client", "The client may not use response_type=code.")
    if not request.client.check_grant_type("authorization_code"):
        raise RedirectError("unauthorized_client", "The client may not use the code flow.")


def _check_scope(request: AuthorizationRequest, multi) -> None:
    """A scope, within what the client may ask for (RFC 6749 §3.3; invalid_scope per §4.1.2.1)."""
    requested = []
    for scope in request.params.get("scope", "").split():
        if scope not in requested:
            requested.append(scope)
    if not requested:
        raise RedirectError("invalid_scope", "The request asks for no scope.")
    allowed = set(request.client.scope.split())
    refused = [scope for scope in requested if scope not in allowed]
    if refused:
        raise RedirectError("invalid_scope", f"The client may not ask for scope {refused[0]}.")
    request.scopes = requested


def _check_pkce(request: AuthorizationRequest, multi) -> None:
    """An S256 code_challenge, which public clients must send (RFC 7636 §4.4.1, RFC 9700 §2.1.1)."""
    challenge = request.params.get("code_challenge")
    method = request.params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise RedirectError("invalid_request", "code_challenge_method without code_challenge.")
        if request.client.is_public or setting("PKCE_REQUIRED"):
            raise RedirectError("invalid_request", "PKCE is required: send a code_challenge.")
        return
    if method != "S256":
        raise RedirectError("invalid_request",
                            "code_challenge_method must be S256 (plain is not allowed).")
    if not CODE_CHALLENGE.match(challenge):
        raise RedirectError("invalid_request", "The code_challenge is malformed.")
    request.code_challenge, request.code_challenge_method = challenge, method


def _check_prompt(request: AuthorizationRequest, multi) -> None:
    """Known prompt values, and none only on its own (OIDC Core §3.1.2.1)."""
    prompt = set(request.params.get("prompt", "").split())
    unknown = prompt - PROMPTS
    if unknown:
        raise RedirectError("invalid_request", f"Unsupported prompt value {sorted(unknown)[0]}.")
    if "none" in prompt and len(prompt) > 1:
        raise RedirectError("invalid_request", "prompt=none cannot be combined with others.")
    request.prompt = prompt


def _check_max_age(request: AuthorizationRequest, multi) -> None:
    """max_age is a number of seconds (OIDC Core §3.1.2.1)."""
    raw = request.params.get("max_age")
    if raw is None:
        return
    if not raw.isdigit() or len(raw) > 10:
        raise RedirectError("invalid_request", "max_age must be a non-negative integer.")
    request.max_age = int(raw)


def _check_claims(request: AuthorizationRequest, multi) -> None:
    """The claims parameter is a JSON object of userinfo and id_token members (OIDC Core §5.5)."""
    raw = request.params.get("claims")
    if raw is None:
        return
    try:
        claims = json_input.loads(raw)
    except ValueError:
        claims = None
    if not isinstance(claims, dict) or not all(
            isinstance(claims.get(member, {}), dict | None) for member in ("userinfo", "id_token")):
        raise RedirectError("invalid_request", "The claims parameter is not valid JSON.")
    if first_unclean(claims) is not None:
        # A JSON escape (\\u0000) spells what the parameter's own characters could not.
        raise RedirectError("invalid_request", "The claims parameter contains a control "
                                               "character.")
    request.claims = {member: claims[member] or {} for member in ("userinfo", "id_token")
                      if member in claims}


def _check_id_token_hint(request: AuthorizationRequest, multi) -> None:
    """An ID token this server issued; an expired one is still a hint (OIDC Core §3.1.2.1)."""
    hint = request.params.get("id_token_hint")
    if hint is None:
        return
    try:
        request.hint_claims = read_id_token_hint(hint)
    except InvalidToken:
        raise RedirectError("invalid_request", "The id_token_hint is not valid.") from None


def _copy_plain_values(request: AuthorizationRequest, multi) -> None:
    """nonce, login_hint and acr_values are taken as given (OIDC Core §3.1.2.1)."""
    request.nonce = request.params.get("nonce")
    request.login_hint = request.params.get("login_hint")
    request.acr_values = request.params.get("acr_values", "").split()
