"""Which surface owns a path, so the edge answers in that surface's shape.

The edge knows no surface by name: each one (the pages, OIDC, the OpenAPI documents, each
mounted JSON dialect) claims its paths here when the app is built. An error anywhere under
a claim, a 404 or 405 that Flask raises before any view runs included, is rendered by the
claiming surface; the pages claim whatever nobody else does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request

from app.core.errors import TesseraError

# render(status, code, message, headers): None for code or message means "this surface's
# wording for that status".
Render = Callable[[int, str | None, str | None, dict[str, str]], Response]
RenderCore = Callable[[TesseraError, dict[str, str]], Response]

EXTENSION = "tessera.surfaces"


@dataclass(frozen=True)
class Surface:
    name: str
    render: Render
    # How a core error is shown; by default its status, code and message through `render`.
    render_core: RenderCore | None = None
    prefixes: tuple[str, ...] = ()
    # For claims a prefix cannot say (a dialect mounted at /): the claim's strength for a
    # path (longer wins over shorter prefixes), or None when the path is not claimed.
    owns: Callable[[str], int | None] | None = None
    # Every answer, errors included, is Cache-Control: no-store.
    private: bool = False
    # Whether answers depend on who is signed in with the browser's cookie. Public documents
    # (discovery, JWKS) and /health do not, so they never wait for the database to find out.
    signed_in: bool = True

    def claim(self, path: str) -> int | None:
        strength = None
        for prefix in self.prefixes:
            if path.startswith(prefix) and (strength is None or len(prefix) > strength):
                strength = len(prefix)
        if self.owns is not None:
            owned = self.owns(path)
            if owned is not None and (strength is None or owned > strength):
                strength = owned
        return strength

    def render_error(self, error: TesseraError, headers: dict[str, str]) -> Response:
        if self.render_core is not None:
            return self.render_core(error, headers)
        return self.render(error.status, error.code, error.message, headers)


def claim(app: Flask, surface: Surface) -> None:
    app.extensions.setdefault(EXTENSION, {"claims": [], "fallback": None})["claims"].append(
        surface)


def claim_the_rest(app: Flask, surface: Surface) -> None:
    """The surface that owns every path no other claims (the hosted pages)."""
    app.extensions.setdefault(EXTENSION, {"claims": [], "fallback": None})["fallback"] = surface


def surface_for(path: str, app: Flask | None = None) -> Surface:
    registry = (app or current_app).extensions[EXTENSION]
    best, best_strength = registry["fallback"], -1
    for surface in registry["claims"]:
        strength = surface.claim(path)
        if strength is not None and strength > best_strength:
            best, best_strength = surface, strength
    return best


def current_surface() -> Surface:
    """The surface owning this request's path, looked up once per request."""
    if "tessera_surface" not in g:
        g.tessera_surface = surface_for(request.path)
    return g.tessera_surface
