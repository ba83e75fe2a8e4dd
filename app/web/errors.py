"""The hosted pages' error page: a themed page for people, never a trace."""

from __future__ import annotations

from flask import Response, make_response, render_template

from app.http.errors import status_text


def render_page(status: int, code: str | None, message: str | None,
                headers: dict[str, str]) -> Response:
    title, default_text = status_text(status)
    response = make_response(render_template("errors/error.html", status=status, title=title,
                                             text=message or default_text))
    response.status_code = status
    response.headers.update(headers)
    return response
