"""Signed-out requests for account mail, carried out after the answer.

Forgot-password, "email me a sign-in link" and a signed-out "resend verification" must
answer the same, in status, body and time, whether or not the address has an account. So
the request only records what was asked: one row, the same for every address, added to the
request's transaction. The outbox worker (app/core/mail/outbox.py) picks it up after the commit
and calls the flow's handler, which finds the account, applies the per-address throttle,
issues the token, queues the message (or decides to send nothing) and writes the audit
event, all in one transaction of its own.

A handler that fails is retried with the outbox's backoff, up to MAX_ATTEMPTS; a failure
never reaches the person who asked, and their request is not lost.

This module is an outbox channel: `active()`, `deliver_due()`, `next_due_in()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from app.core.context import ClientInfo
from app.core.mail import outbox
from app.core.services import services
from app.extensions import db
from app.models import MailRequest
from app.models.mail import QUEUED, SENT
from app.models.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def defer(kind: str, address: str, *, client: ClientInfo | None = None, **options) -> None:
    """Record a request for the worker to carry out after this transaction commits.
    `options` are the handler's keyword arguments (JSON values, never a secret)."""
    if kind not in _handlers():
        raise ValueError(f"no handler for mail request {kind!r}")
    client = client or ClientInfo()
    outbox.queued(MailRequest(
        kind=kind, address=address, status=QUEUED, attempts=0, next_attempt_at=utcnow(),
        options={"ip_address": client.ip_address, "user_agent": client.user_agent,
                 **options}))


def _handlers() -> dict[str, Callable[..., None]]:
    """kind -> handler(address, client=..., **options). The flows import this module to
    defer their requests, so their handlers are registered on the app's services
    (app.core.wiring) rather than imported here."""
    return services().mail_request_handlers


def _carry_out(row: MailRequest) -> None:
    options = dict(row.options or {})
    client = ClientInfo(ip_address=options.pop("ip_address", None),
                        user_agent=options.pop("user_agent", None))
    _handlers()[row.kind](row.address, client=client, **options)


# --- the outbox channel -----------------------------------------------------------------------

def active() -> bool:
    """Always: requests are carried out whether mail goes over SMTP or stays in the outbox."""
    return True


def next_due_in(now: datetime | None = None) -> float | None:
    return outbox.next_due_in(MailRequest, now)


def deliver_due(*, now: datetime | None = None, limit: int = outbox.BATCH) -> dict[str, int]:
    """Carry out every due request once, each in its own transaction. Returns counts of
    requests done and attempts failed."""
    counts = {"done": 0, "failed": 0}
    while True:
        rows = outbox.claim(MailRequest, now or utcnow(), limit)
        if not rows:
            return counts
        for row in rows:
            row_id, kind = row.id, row.kind
            try:
                _carry_out(row)
                row.status, row.sent_at, row.last_error = SENT, utcnow(), None
                db.session.commit()
                counts["done"] += 1
            except Exception as exc:  # the request stays queued for a retry
                db.session.rollback()
                log.warning("mail request %s (%s) failed: %s", row_id, kind,
                            type(exc).__name__)
                failed = db.session.get(MailRequest, row_id)
                outbox.record_failure(failed, type(exc).__name__, max_attempts=MAX_ATTEMPTS)
                db.session.commit()
                counts["failed"] += 1
        if len(rows) < limit:
            return counts
