"""Outbound text messages (one-time codes by SMS): a row first, delivered after commit.

The same life as outbound mail: with the `outbox` backend the rows are where messages stay
(readable in development); with `http` the outbox worker posts due rows to the gateway and
records each attempt.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.mail import DeliveryState


class OutboundSms(DeliveryState, db.Model):
    __tablename__ = "outbound_sms"
    __table_args__ = (Index("ix_outbound_sms_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    to: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(480))
    purpose: Mapped[str] = mapped_column(String(40))
