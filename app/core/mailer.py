"""Outbound mail: queued in the request's transaction, delivered after it commits.

`queue()` renders `templates/email/<template>.txt` (first line `Subject: ...`) and `.html`
and adds an OutboundMail row to the current transaction, so a request that rolls back sends
nothing. When that transaction commits, a per-process background worker (a daemon thread,
started on first use) is woken to deliver due rows over SMTP; a request never waits on the
relay. A failed attempt is recorded and retried with exponential backoff (30 s, 2 min,
8 min, ...) until TESSERA_MAIL_MAX_ATTEMPTS, then the row is marked failed.

Rows are claimed with a conditional UPDATE that pushes next_attempt_at forward (a lease),
after a `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers (threads,
processes or instances) never send one message twice, and a worker that dies mid-send
leaves the row to be retried when the lease runs out.

Without TESSERA_SMTP_HOST nothing goes over the network: the rows are the outbox (listed at
/dev/outbox in development). `tessera mail deliver` delivers due rows once (cron, tests).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlencode

from flask import Flask, current_app, render_template
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, func, select, update

from app.core.services import setting
from app.extensions import db
from app.models import OutboundMail
from app.models.mail import FAILED, QUEUED, SENT
from app.models.types import utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; each further retry waits 4 times longer
BACKOFF_CAP = 6 * 3600
LEASE = timedelta(minutes=5)  # how long a claimed row is left alone by other workers
POLL_SECONDS = 60  # an idle worker still looks for due rows (retries, other instances')
BATCH = 50
_SESSION_FLAG = "tessera.mail_queued"
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
    db.session.add(mail)
    # The commit hook below wakes this app's worker once the row is really there.
    db.session.info[_SESSION_FLAG] = current_app._get_current_object()
    return mail


def links_in(mail: OutboundMail) -> list[str]:
    return LINK_PATTERN.findall(mail.text)


def recent(limit: int = 50) -> list[OutboundMail]:
    return list(db.session.scalars(
        select(OutboundMail).order_by(OutboundMail.created_at.desc()).limit(limit)))


# --- waking the worker after commit ---------------------------------------------------------

@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session) -> None:
    app = session.info.pop(_SESSION_FLAG, None)
    if app is not None and app.config["SMTP_HOST"]:
        worker_for(app).wake()


@event.listens_for(FlaskSession, "after_rollback")
def _after_rollback(session) -> None:
    # The rows went with the transaction; there is nothing to wake the worker for.
    session.info.pop(_SESSION_FLAG, None)


class MailWorker:
    """One daemon thread per app and process that delivers due rows, woken after commits."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def wake(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tessera-mail",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.clear()
            wait = POLL_SECONDS
            try:
                with self.app.app_context():
                    try:
                        deliver_due()
                        due = next_due_in()
                        if due is not None:
                            wait = min(wait, due)
                    finally:
                        db.session.remove()
            except Exception:  # a broken database must not kill the worker for good
                log.exception("mail worker: delivery round failed")
            if self._stopped:
                break
            self._wake.wait(max(0.2, wait))


def worker_for(app: Flask) -> MailWorker:
    with _WORKERS_LOCK:
        worker = app.extensions.get("tessera.mail_worker")
        if worker is None:
            worker = app.extensions["tessera.mail_worker"] = MailWorker(app)
        return worker


_WORKERS_LOCK = threading.Lock()


def stop_worker(app: Flask) -> None:
    """Stop this app's worker for good (tests; deliver_due() still works by hand)."""
    worker_for(app).stop()


# --- delivering -------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """Wait after the given number of failed attempts: 30 s, 2 min, 8 min, 32 min, ..."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 4 ** max(0, attempts - 1)))


def next_due_in(now: datetime | None = None) -> float | None:
    """Seconds until the next queued row is due (0 if one is due now), None if none."""
    now = now or utcnow()
    due = db.session.scalar(select(func.min(OutboundMail.next_attempt_at))
                            .where(OutboundMail.status == QUEUED))
    db.session.rollback()
    if due is None:
        return None
    return max(0.0, (due - now).total_seconds())


def _claim(now: datetime, limit: int) -> list[OutboundMail]:
    query = (select(OutboundMail.id)
             .where(OutboundMail.status == QUEUED, OutboundMail.next_attempt_at <= now)
             .order_by(OutboundMail.next_attempt_at).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for mail_id in db.session.scalars(query).all():
        result = db.session.execute(
            update(OutboundMail)
            .where(OutboundMail.id == mail_id, OutboundMail.status == QUEUED,
                   OutboundMail.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE, attempts=OutboundMail.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(mail_id)
    db.session.commit()
    return [db.session.get(OutboundMail, mail_id) for mail_id in claimed]


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Deliver every due row once over SMTP. Returns counts of sent and failed attempts.

    Without TESSERA_SMTP_HOST it does nothing: the rows are the outbox. Commits its own
    work (it runs outside any request).
    """
    counts = {"sent": 0, "failed": 0}
    if not setting("SMTP_HOST"):
        return counts
    while True:
        rows = _claim(now or utcnow(), limit)
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
    row.last_error = _describe(exc)
    if row.attempts >= setting("MAIL_MAX_ATTEMPTS"):
        row.status = FAILED
        log.warning("mail %s to %s failed for good: %s", row.id, row.to, row.last_error)
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    secret = setting("SMTP_PASSWORD")
    if secret:
        text = text.replace(secret, "***")
    return text[:500]


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
