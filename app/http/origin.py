"""Whether a request comes from a page of Tessera's own origin (`TESSERA_ISSUER`'s).

A browser sends `Origin` with every cross-origin request and every POST, PUT, PATCH and
DELETE, and `Sec-Fetch-Site` with every request; a credential the browser attaches by
itself (a cookie) must only be honoured for a state change that came from our own pages,
or any site could make the browser act for the person (cross-site request forgery).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = parts.hostname.lower()
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


def is_cross_origin() -> bool:
    """True when the browser says this request came from another origin than the issuer's
    (`Origin`, or `Sec-Fetch-Site` when a browser sent no `Origin`); a request from no
    browser, which sends neither, is not cross-origin."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return _origin_of(origin) != _origin_of(current_app.config["ISSUER"])
    return request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site")


def is_state_change() -> bool:
    return request.method not in SAFE_METHODS
