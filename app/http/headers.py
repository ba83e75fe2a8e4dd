"""Header rules written once: what an error carries (Retry-After, Allow), private answers
(no-store), and the security headers on every response."""

from __future__ import annotations

from flask import Response, current_app, g
from werkzeug.exceptions import HTTPException

from app.core.errors import RateLimited

# Retry-After belongs on a refusal only (RFC 9110 §10.2.3, RFC 6585 §4).
RETRY_AFTER_STATUSES = frozenset({429, 503})


def error_headers(error: Exception) -> dict[str, str]:
    """Headers an error carries whatever surface renders it: Retry-After on a rate limit
    (core's or flask-limiter's), Allow on a 405 (RFC 9110 §15.5.6)."""
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, RateLimited) or (isinstance(error, HTTPException)
                                          and error.code == 429 and retry_after):
        headers["Retry-After"] = str(retry_after)
    valid_methods = getattr(error, "valid_methods", None)
    if isinstance(error, HTTPException) and error.code == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return headers


def forbid_caching(response: Response) -> Response:
    """No cache may keep this answer: it carries tokens, secrets or personal data
    (RFC 6749 §5.1 asks this of token responses)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def keep_retry_after(headers: dict[str, str]) -> dict[str, str]:
    """Remember the Retry-After an error answer was given, so no later hook replaces it."""
    if "Retry-After" in headers:
        g.tessera_retry_after = headers["Retry-After"]
    return headers


def retry_after_only_on_refusals(response: Response) -> Response:
    """flask-limiter adds Retry-After to every limited response, a 200 included, and on a
    refusal of ours (a 503 for an outage, say) it would put its window's reset there: the
    header stays on 429 and 503 only, with the value the refusal itself chose."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    elif "tessera_retry_after" in g:
        response.headers["Retry-After"] = g.tessera_retry_after
    return response


def add_security_headers(response: Response) -> None:
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-XSS-Protection"] = "1; mode=block"
    if current_app.config["SECURE_COOKIES"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
