"""The outbox: messages (mail, SMS) are rows first, delivered after their request commits.

A channel module queues a row in the request's transaction and flags the session; when that
transaction commits, a per-process background worker (a daemon thread, started on first
use) is woken to deliver due rows, so a request never waits on a relay or a gateway. A
failed attempt is recorded and retried with exponential backoff (30 s, 2 min, 8 min, ...)
until the channel's attempt budget is spent, then the row is marked failed.

Rows are claimed with a conditional UPDATE that pushes next_attempt_at forward (a lease),
after a `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers (threads,
processes or instances) never send one message twice, and a worker that dies mid-send
leaves the row to be retried when the lease runs out.

A channel is a module with `active()` (is a real transport configured?), `deliver_due()`
and `next_due_in()`; the app's services list them (app.core.wiring connects them, as the
channels import this module). A channel that is not active keeps its rows as the outbox
(listed at /dev/outbox in development).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, func, select, update

from app.core.services import services
from app.extensions import db
from app.models.mail import FAILED, QUEUED
from app.models.types import utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; each further retry waits 4 times longer
BACKOFF_CAP = 6 * 3600
LEASE = timedelta(minutes=5)  # how long a claimed row is left alone by other workers
POLL_SECONDS = 60  # an idle worker still looks for due rows (retries, other instances')
BATCH = 50
_SESSION_FLAG = "tessera.outbox_queued"


def queued(row) -> None:
    """Add a new row to the current transaction; the worker is woken once it commits."""
    db.session.add(row)
    db.session.info[_SESSION_FLAG] = current_app._get_current_object()


def _channels() -> list:
    return services().outbox_channels


# --- bookkeeping shared by the channels -------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """Wait after the given number of failed attempts: 30 s, 2 min, 8 min, 32 min, ..."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 4 ** max(0, attempts - 1)))


def next_due_in(model, now: datetime | None = None) -> float | None:
    """Seconds until the model's next queued row is due (0 if one is due now), None if none."""
    now = now or utcnow()
    due = db.session.scalar(select(func.min(model.next_attempt_at))
                            .where(model.status == QUEUED))
    db.session.rollback()
    if due is None:
        return None
    return max(0.0, (due - now).total_seconds())


def claim(model, now: datetime, limit: int) -> list:
    """Lease up to `limit` due rows of the model to this worker (committed)."""
    query = (select(model.id).where(model.status == QUEUED, model.next_attempt_at <= now)
             .order_by(model.next_attempt_at).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for row_id in db.session.scalars(query).all():
        result = db.session.execute(
            update(model)
            .where(model.id == row_id, model.status == QUEUED, model.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(row_id)
    db.session.commit()
    return [db.session.get(model, row_id) for row_id in claimed]


def record_failure(row, error: str, *, max_attempts: int) -> None:
    """Note a failed attempt: retry later with backoff, or give up after max_attempts."""
    row.last_error = error[:500]
    if row.attempts >= max_attempts:
        row.status = FAILED
        log.warning("%s %s failed for good: %s", type(row).__name__, row.id, row.last_error)
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)


# --- waking the worker after commit ---------------------------------------------------------

# SQLAlchemy fires after_commit and after_rollback for SAVEPOINTs too. Releasing one must
# not wake the worker (the rows are not committed yet, and the real commit would then find
# the flag gone), and rolling one back must not forget rows queued before it.

@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return
    app = session.info.pop(_SESSION_FLAG, None)
    if app is not None:
        with app.app_context():
            active = any(channel.active() for channel in _channels())
        if active:
            worker_for(app).wake()


@event.listens_for(FlaskSession, "after_rollback")
def _after_rollback(session) -> None:
    if session.in_nested_transaction():
        return
    # The rows went with the transaction; there is nothing to wake the worker for.
    session.info.pop(_SESSION_FLAG, None)


class OutboxWorker:
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
                self._thread = threading.Thread(target=self._run, name="tessera-outbox",
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
                        wait = min(wait, deliver_round())
                    finally:
                        db.session.remove()
            except Exception:  # a broken database must not kill the worker for good
                log.exception("outbox worker: delivery round failed")
            if self._stopped:
                break
            self._wake.wait(max(0.2, wait))


def deliver_round() -> float:
    """Deliver what is due on every active channel; seconds until the next row is due."""
    wait = float(POLL_SECONDS)
    for channel in _channels():
        if not channel.active():
            continue
        channel.deliver_due()
        due = channel.next_due_in()
        if due is not None:
            wait = min(wait, due)
    return wait


_WORKERS_LOCK = threading.Lock()


def worker_for(app: Flask) -> OutboxWorker:
    with _WORKERS_LOCK:
        worker = app.extensions.get("tessera.outbox_worker")
        if worker is None:
            worker = app.extensions["tessera.outbox_worker"] = OutboxWorker(app)
        return worker


def stop_worker(app: Flask) -> None:
    """Stop this app's worker for good (tests; deliver_due() still works by hand)."""
    worker_for(app).stop()
