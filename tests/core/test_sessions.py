"""Server-side sessions in core: creation, timeouts, ending."""

import uuid
from datetime import timedelta

import pytest

from app.core import accounts, sessions
from app.core.context import ClientInfo
from app.core.errors import NotFound
from app.extensions import db
from app.models import AuthSession

CLIENT = ClientInfo(ip_address="192.0.2.10", user_agent="pytest")


@pytest.fixture
def user_email(make_user):
    return make_user()["email"]


def test_a_session_cookie_secret_is_random_and_only_its_hash_is_stored(app, user_email):
    with app.app_context():
        user = accounts.find_by_email(user_email)
        row, secret = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        _, other_secret = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        db.session.commit()
        assert len(secret) >= 43 and secret != other_secret  # 256 bits, urlsafe base64
        assert secret not in row.secret_hash
        found = sessions.resolve_session(secret)
        assert found.id == row.id
        assert (found.ip_address, found.user_agent, found.amr) == ("192.0.2.10", "pytest",
                                                                   ["pwd"])


@pytest.mark.parametrize("field, setting", [("last_seen_at", "SESSION_IDLE_TIMEOUT"),
                                            ("created_at", "SESSION_ABSOLUTE_TIMEOUT")])
def test_idle_and_absolute_timeouts_end_a_session(app, user_email, field, setting):
    with app.app_context():
        user = accounts.find_by_email(user_email)
        row, secret = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        age = timedelta(seconds=app.config[setting] + 1)
        if field == "created_at":
            row.expires_at = row.created_at - timedelta(seconds=1)
        else:
            row.last_seen_at = row.last_seen_at - age
        db.session.commit()
        assert sessions.resolve_session(secret) is None
        db.session.commit()
        assert db.session.get(AuthSession, row.id).end_reason == "timeout"


def test_an_ended_session_no_longer_resolves(app, user_email):
    with app.app_context():
        user = accounts.find_by_email(user_email)
        row, secret = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        sessions.end_session(row, reason="logout", client=CLIENT)
        db.session.commit()
        assert sessions.resolve_session(secret) is None


def test_a_person_cannot_end_someone_elses_session(app, make_user, user_email):
    other_email = make_user()["email"]
    with app.app_context():
        mine = accounts.find_by_email(user_email)
        theirs, _ = sessions.start_session(accounts.find_by_email(other_email), client=CLIENT,
                                           amr=["pwd"])
        db.session.commit()
        for session_id in (theirs.id, uuid.uuid4(), "not-a-uuid"):
            with pytest.raises(NotFound):
                sessions.end_user_session(mine, session_id, client=CLIENT)
        assert db.session.get(AuthSession, theirs.id).ended_at is None


def test_a_deactivated_user_loses_live_sessions(app, user_email):
    with app.app_context():
        user = accounts.find_by_email(user_email)
        _, secret = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        user.is_active = False
        db.session.commit()
        assert sessions.resolve_session(secret) is None
