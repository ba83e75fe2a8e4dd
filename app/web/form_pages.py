"""A hosted form page in one place: show it, run it on a valid POST, show core's refusal.

Every page answers a refused form with the error's status and the headers it carries
(Retry-After on a rate limit), so no handler can drop them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, request
from flask_wtf import FlaskForm

from app.core.errors import TesseraError
from app.http.headers import error_headers
from app.http.transaction import settle


def form_page(form: FlaskForm, on_valid: Callable[[], object], template: str, **context):
    """GET renders the form (200). A POST that fails the form's own checks renders it again
    with 400; a valid POST returns what `on_valid` returns, unless core refuses it, in
    which case the error is shown on the form."""
    status, headers = 200, {}
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                return on_valid()
            except TesseraError as error:
                status, headers = reject(form, error)
    return render_template(template, form=form, **context), status, headers


def reject(form: FlaskForm, error: TesseraError) -> tuple[int, dict[str, str]]:
    """A core error on a form: keep or drop its side effects, show it on the form, and
    return the (status, headers) the page is answered with."""
    settle(error)
    attach_error(form, error)
    return error.status, error_headers(error)


def attach_error(form: FlaskForm, error: TesseraError) -> None:
    """Show a core error beside the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
