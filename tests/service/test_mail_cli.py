"""`tessera mail deliver`: one delivery round from the shell (cron, operators)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from app.core.mail import mailer
from app.extensions import db
from app.models import OutboundMail
from tests.conftest import TEST_SECRET_KEY


def tessera_mail_deliver(app, **env_extra: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env |= {"TESSERA_DATABASE_URL": app.config["DATABASE_URL"],
            "TESSERA_SECRET_KEY": TEST_SECRET_KEY} | env_extra
    return subprocess.run([sys.executable, "-m", "app.cli", "mail", "deliver"], env=env,
                          capture_output=True, text=True, timeout=60)


def queue_one(app) -> None:
    with app.app_context():
        mailer.queue("ada@example.com", "magic_link", email="ada@example.com",
                     url="http://localhost/login/magic?token=abc", minutes=15)
        db.session.commit()


def test_mail_deliver_sends_due_messages_over_smtp(app, smtp_server, query):
    queue_one(app)  # this app has no SMTP relay: the row waits in the outbox
    result = tessera_mail_deliver(app, TESSERA_SMTP_HOST="127.0.0.1",
                                  TESSERA_SMTP_PORT=str(smtp_server.port),
                                  TESSERA_SMTP_SECURITY="none")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sent 1, failed 0"
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Your sign-in link"
    assert query(lambda s: s.scalar(select(OutboundMail.status))) == "sent"


def test_mail_deliver_without_a_relay_leaves_the_outbox_alone(app, query):
    queue_one(app)
    result = tessera_mail_deliver(app)
    assert result.returncode == 0, result.stderr
    assert "TESSERA_SMTP_HOST is not set" in result.stdout
    assert query(lambda s: s.scalar(select(OutboundMail.status))) == "queued"
