"""One transaction per request: the edge commits after a good answer; an error settles it.

Core marks an error `durable` when its side effects must outlive the refusal (a spent
attempt, an audit event); every other error leaves nothing half-written behind.
"""

from __future__ import annotations

from app.core.errors import TesseraError
from app.extensions import db


def settle(error: TesseraError) -> None:
    """Keep a durable error's side effects (attempt counts, audit); drop anything else."""
    if error.durable:
        db.session.commit()
    else:
        db.session.rollback()


def abandon() -> None:
    """Drop whatever the request wrote: it is being answered with an error."""
    db.session.rollback()


def commit() -> None:
    db.session.commit()
