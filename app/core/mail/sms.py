"""Outbound text messages (one-time codes), through the outbox (app/core/mail/outbox.py).

Two backends, chosen by TESSERA_SMS_BACKEND:
- `outbox` (the default): rows stay in the database; /dev/outbox lists them in development.
- `http`: the outbox worker POSTs each due row to TESSERA_SMS_HTTP_URL with the body
  TESSERA_SMS_HTTP_TEMPLATE (`{to}` and `{text}` replaced, JSON-escaped) and, if set, the
  header `Authorization: TESSERA_SMS_HTTP_AUTHORIZATION`. Any 2xx answer counts as sent;
  anything else is retried with backoff like mail.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime

from sqlalchemy import select

from app.core.mail import outbox
from app.core.mail.outbox import BATCH
from app.core.services import setting
from app.extensions import db
from app.models import OutboundSms
from app.models.mail import QUEUED, SENT
from app.models.types import utcnow

HTTP_TIMEOUT = 5  # seconds; a slow gateway delays only the worker, never a request
MAX_ATTEMPTS = 6


def queue(to: str, text: str, *, purpose: str) -> OutboundSms:
    """Add a message to the current transaction; it is sent after commit."""
    row = OutboundSms(to=to, text=text, purpose=purpose, status=QUEUED, attempts=0,
                      next_attempt_at=utcnow())
    outbox.queued(row)
    return row


def recent(limit: int = 50) -> list[OutboundSms]:
    return list(db.session.scalars(
        select(OutboundSms).order_by(OutboundSms.created_at.desc()).limit(limit)))


def active() -> bool:
    return setting("SMS_BACKEND") == "http" and bool(setting("SMS_HTTP_URL"))


def next_due_in(now: datetime | None = None) -> float | None:
    return outbox.next_due_in(OutboundSms, now)


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """POST every due row once to the gateway. Returns counts of sent and failed attempts.
    Does nothing with the `outbox` backend. Commits its own work."""
    counts = {"sent": 0, "failed": 0}
    if not active():
        return counts
    while True:
        rows = outbox.claim(OutboundSms, now or utcnow(), limit)
        for row in rows:
            error = _post(row)
            if error is None:
                row.status, row.sent_at, row.last_error = SENT, utcnow(), None
                counts["sent"] += 1
            else:
                outbox.record_failure(row, error, max_attempts=MAX_ATTEMPTS)
                counts["failed"] += 1
            db.session.commit()
        if len(rows) < limit:
            return counts


def request_body(to: str, text: str) -> bytes:
    """The gateway's body: the template with `{to}` and `{text}` JSON-escaped into it."""
    def escaped(value: str) -> str:
        return json.dumps(value)[1:-1]

    body = setting("SMS_HTTP_TEMPLATE").replace("{to}", escaped(to))
    return body.replace("{text}", escaped(text)).encode()


def _post(row: OutboundSms) -> str | None:
    """Send one row; None on success, otherwise what went wrong (never the credential)."""
    headers = {"Content-Type": "application/json"}
    if setting("SMS_HTTP_AUTHORIZATION"):
        headers["Authorization"] = setting("SMS_HTTP_AUTHORIZATION")
    request = urllib.request.Request(setting("SMS_HTTP_URL"),  # noqa: S310 - an operator's URL
                                     data=request_body(row.to, row.text), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:  # noqa: S310
            answer.read()
        return None
    except urllib.error.HTTPError as error:
        return f"gateway answered {error.code}"
    except Exception as error:  # every transport failure is retried the same way
        return f"{type(error).__name__}: {error}"
