"""Outbound mail: every message is a row first, delivered after its request commits.

A row is the outbox: with no SMTP relay configured it is where messages stay (readable in
development); with one, a background worker delivers due rows and records each attempt.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"


class DeliveryState:
    """The columns app/core/mail/outbox.py works with, shared by every kind of outbound message."""

    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a worker may next try it. A worker that claims a row pushes this forward (a
    # lease), so a worker that dies mid-send leaves the row to be retried, not lost.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the relay or gateway said (never a credential).
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboundMail(DeliveryState, db.Model):
    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_mail_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    # The template it came from (verify_email, password_reset, magic_link, ...).
    purpose: Mapped[str] = mapped_column(String(40))


class MailRequest(DeliveryState, db.Model):
    """A signed-out request for account mail (a reset link, a sign-in link, a verification
    message), recorded as asked and carried out by the outbox worker (app/core/
    mail_requests.py), so the request does the same work whether or not the address has an
    account. `sent_at` is when it was carried out, whatever that decided."""

    __tablename__ = "mail_requests"
    __table_args__ = (Index("ix_mail_requests_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(254))
    # Who asked (IP, user agent, for the audit log) and the flow's options; never a secret.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
