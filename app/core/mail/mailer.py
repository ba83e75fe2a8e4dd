"""Outbound mail over SMTP, through the outbox (app/core/mail/outbox.py).

`queue()` renders `templates/email/<template>.txt` (first line `Subject: ...`) and `.html`
and adds an OutboundMail row to the current transaction, so a request that rolls back sends
nothing; the outbox worker delivers it after the commit. Without TESSERA_SMTP_HOST nothing
goes over the network: the rows are the outbox (listed at /dev/outbox in development).
`tessera mail deliver` delivers due rows once (cron, tests).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlencode

from flask import render_template
from sqlalchemy import select

from app.core.mail import outbox
from app.core.mail.outbox import BATCH
from app.core.services import setting
from app.extensions import db
from app.models import OutboundMail
from app.models.mail import QUEUED, SENT
from app.models.types import utcnow

log = logging.getLogger(__name__)

LINK_PATTERN = re.compile(r"https?://[^\s<>\"]+")


# --- composing ---------------------------------------------------------------------------

def link(path: str, **query: str) -> str:
    """An absolute link for a message, based on TESSERA_ISSUER (never the request's host)."""
    url = setting("ISSUER").rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


def render(template: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) of `templates/email/<template>.txt` and `.html`."""
    context.setdefault("issuer", setting("ISSUER"))
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email/{template}.txt must start with a 'Subject:' line")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n"), html


def queue(to: str, template: str, **context) -> OutboundMail:
    """Render a message and add it to the current transaction; it is sent after commit."""
    subject, text, html = render(template, **context)
    mail = OutboundMail(to=to, subject=subject, text=text, html=html, purpose=template,
                        status=QUEUED, attempts=0, next_attempt_at=utcnow())
    outbox.queued(mail)
    return mail


def links_in(mail: OutboundMail) -> list[str]:
    return LINK_PATTERN.findall(mail.text)


def recent(limit: int = 50) -> list[OutboundMail]:
    return list(db.session.scalars(
        select(OutboundMail).order_by(OutboundMail.created_at.desc()).limit(limit)))


# --- delivering -------------------------------------------------------------------------

def active() -> bool:
    """Is a relay configured? Without one the rows stay as the outbox."""
    return bool(setting("SMTP_HOST"))


def next_due_in(now: datetime | None = None) -> float | None:
    return outbox.next_due_in(OutboundMail, now)


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Deliver every due row once over SMTP. Returns counts of sent and failed attempts.

    Without TESSERA_SMTP_HOST it does nothing: the rows are the outbox. Commits its own
    work (it runs outside any request).
    """
    counts = {"sent": 0, "failed": 0}
    if not active():
        return counts
    while True:
        rows = outbox.claim(OutboundMail, now or utcnow(), limit)
        if not rows:
            return counts
        try:
            connection = _connect()
        except Exception as exc:  # every failure is recorded the same way
            for row in rows:
                _record_failure(row, exc)
            counts["failed"] += len(rows)
            db.session.commit()
            return counts
        try:
            for row in rows:
                try:
                    connection.send_message(_message(row))
                except Exception as exc:
                    _record_failure(row, exc)
                    counts["failed"] += 1
                else:
                    row.status, row.sent_at, row.last_error = SENT, utcnow(), None
                    counts["sent"] += 1
                db.session.commit()
        finally:
            try:
                connection.quit()
            except Exception:  # noqa: S110 - the messages are already accounted for
                pass
        if len(rows) < limit:
            return counts


def _record_failure(row: OutboundMail, exc: BaseException) -> None:
    outbox.record_failure(row, _describe(exc), max_attempts=setting("MAIL_MAX_ATTEMPTS"))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    secret = setting("SMTP_PASSWORD")
    if secret:
        text = text.replace(secret, "***")
    return text


def _connect() -> smtplib.SMTP:
    host, port = setting("SMTP_HOST"), setting("SMTP_PORT")
    timeout, security = setting("SMTP_TIMEOUT"), setting("SMTP_SECURITY")
    if security == "ssl":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            connection.starttls(context=ssl.create_default_context())
    try:
        if setting("SMTP_USERNAME"):
            connection.login(setting("SMTP_USERNAME"), setting("SMTP_PASSWORD"))
    except Exception:
        connection.close()
        raise
    return connection


def _message(row: OutboundMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = setting("MAIL_FROM")
    message["To"] = row.to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=str(row.id))
    message.set_content(row.text)
    message.add_alternative(row.html, subtype="html")
    return message
