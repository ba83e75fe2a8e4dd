"""Accounts in core: creation, password login, throttling, profile and password changes."""

import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from app.core import accounts, sessions
from app.core.context import ClientInfo
from app.core.errors import (
    AccountInactive,
    AccountLocked,
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    RateLimited,
    UsernameTaken,
    WeakPassword,
    WrongPassword,
)
from app.extensions import db
from app.models import AuditEvent, AuthSession, User
from tests.conftest import DEFAULT_PASSWORD

CLIENT = ClientInfo(ip_address="203.0.113.7", user_agent="pytest")


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == kind)))


def test_emails_are_stored_lower_case_and_unique_regardless_of_case(app, make_user):
    created = make_user(email="Ada.Lovelace@Example.COM")
    assert created["email"] == "ada.lovelace@example.com"
    with app.app_context(), pytest.raises(EmailTaken) as caught:
        accounts.create_user(email="ADA.LOVELACE@example.com", password=DEFAULT_PASSWORD)
    assert caught.value.field == "email"


def test_usernames_are_unique_regardless_of_case(app, make_user):
    make_user(username="Ada")
    with app.app_context(), pytest.raises(UsernameTaken):
        accounts.create_user(email="other@example.com", password=DEFAULT_PASSWORD,
                             username="ADA")


@pytest.mark.parametrize("fields, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"email": "a" * 250 + "@example.com"}, "email"),
    ({"username": "a b"}, "username"),
    ({"username": "x"}, "username"),
    ({"first_name": "n" * 101}, "first_name"),
    ({"phone": "call me"}, "phone"),
])
def test_invalid_fields_are_refused_naming_the_field(app, fields, field):
    values = {"email": "ok@example.com", "password": DEFAULT_PASSWORD} | fields
    with app.app_context(), pytest.raises(InvalidInput) as caught:
        accounts.create_user(**values)
    assert caught.value.field == field


def test_a_password_containing_the_email_name_is_weak(app):
    with app.app_context(), pytest.raises(WeakPassword):
        accounts.create_user(email="grace.hopper@example.com",
                             password="grace.hopper-rules")


def test_a_new_user_gets_a_uuid_and_an_argon2id_hash(app, make_user, query):
    created = make_user(email="new@example.com")
    user = query(lambda s: s.scalar(select(User).where(User.email == "new@example.com")))
    assert str(user.id) == created["id"]
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert DEFAULT_PASSWORD not in user.password_hash


def test_login_with_the_right_password_returns_the_user_and_audits_nothing_yet(app, make_user):
    made = make_user()
    with app.app_context():
        user = accounts.authenticate(made["email"].upper(), DEFAULT_PASSWORD, client=CLIENT)
        assert str(user.id) == made["id"]
        # Not logged in yet: a second factor may still be due; the session start counts.
        assert user.last_login_at is None
        sessions.start_session(user, client=CLIENT, amr=["pwd"])
        assert user.last_login_at is not None


def test_unknown_email_and_wrong_password_fail_alike_and_cost_one_hash(app, make_user,
                                                                        monkeypatch):
    made = make_user()
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify",
                        lambda self, *args: calls.append(1) or original(self, *args))
    outcomes = []
    with app.app_context():
        for email, password in ((made["email"], "wrong password here"),
                                ("nobody@example.com", "wrong password here")):
            with pytest.raises(InvalidCredentials) as caught:
                accounts.authenticate(email, password, client=CLIENT)
            outcomes.append((caught.value.status, caught.value.message))
    assert outcomes[0] == outcomes[1] == (401, "Incorrect email or password.")
    assert len(calls) == 2  # one argon2 verification each, account or not


def test_failed_logins_are_audited_with_ip_and_user_agent(app, make_user):
    made = make_user()
    with app.app_context():
        with pytest.raises(InvalidCredentials):
            accounts.authenticate(made["email"], "wrong password here", client=CLIENT)
        db.session.commit()
        [event] = events("login.failed")
        assert str(event.user_id) == made["id"]
        assert (event.ip_address, event.user_agent) == ("203.0.113.7", "pytest")
        assert event.details == {"reason": "invalid_credentials"}


def test_login_rehashes_when_the_parameters_changed(app_factory, make_user, query):
    made = make_user()
    stronger = app_factory(ARGON2_TIME_COST=3)
    with stronger.app_context():
        accounts.authenticate(made["email"], DEFAULT_PASSWORD, client=CLIENT)
        db.session.commit()
    stored = query(lambda s: s.get(User, __import__("uuid").UUID(made["id"])).password_hash)
    assert "$m=19456,t=3,p=1$" in stored


@pytest.mark.parametrize("flag, error", [("is_locked", AccountLocked),
                                         ("is_active", AccountInactive)])
def test_locked_and_deactivated_accounts_cannot_log_in(app, make_user, flag, error):
    made = make_user()
    with app.app_context():
        user = accounts.find_by_email(made["email"])
        setattr(user, flag, flag == "is_locked")
        db.session.commit()
        with pytest.raises(error):
            accounts.authenticate(made["email"], DEFAULT_PASSWORD, client=CLIENT)


def test_wrong_passwords_on_one_account_are_throttled_and_success_resets(app_factory,
                                                                          make_user):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="3 per 15 minutes")
    made = make_user()
    with app.app_context():
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(made["email"], "wrong password here", client=CLIENT)
        accounts.authenticate(made["email"], DEFAULT_PASSWORD, client=CLIENT)
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(made["email"], "wrong password here", client=CLIENT)
        with pytest.raises(RateLimited) as caught:
            accounts.authenticate(made["email"], DEFAULT_PASSWORD, client=CLIENT)
        assert 0 < caught.value.retry_after <= 15 * 60


def test_attempts_from_one_ip_are_throttled_across_accounts(app_factory):
    app = app_factory(LOGIN_IP_LIMIT="4 per 15 minutes")
    with app.app_context():
        for n in range(4):
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(f"u{n}@example.com", "wrong password", client=CLIENT)
        with pytest.raises(RateLimited):
            accounts.authenticate("u9@example.com", "wrong password", client=CLIENT)
        other_ip = ClientInfo(ip_address="198.51.100.1")
        with pytest.raises(InvalidCredentials):
            accounts.authenticate("u9@example.com", "wrong password", client=other_ip)


def test_concurrent_wrong_passwords_cannot_exceed_the_account_limit(app_factory, make_user):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="5 per 15 minutes")
    made = make_user()
    results: list[str] = []
    start = threading.Barrier(12)

    def attempt(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                accounts.authenticate(made["email"], "wrong password here",
                                      client=ClientInfo(ip_address=f"10.0.0.{n}"))
            except InvalidCredentials:
                results.append("checked")
            except RateLimited:
                results.append("throttled")
            finally:
                db.session.rollback()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["checked"] * 5 + ["throttled"] * 7


def test_throttling_is_off_when_rate_limits_are_disabled(app_factory, make_user):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="1 per 15 minutes", RATELIMIT_ENABLED=False)
    made = make_user()
    with app.app_context():
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(made["email"], "wrong password here", client=CLIENT)


def test_profile_updates_only_the_given_fields_and_are_audited(app, make_user):
    made = make_user(first_name="Ada", last_name="Lovelace")
    with app.app_context():
        user = accounts.find_by_email(made["email"])
        accounts.update_profile(user, client=CLIENT, phone="+44 20 7946 0000",
                                username="ada")
        db.session.commit()
        user = accounts.find_by_email(made["email"])
        assert (user.first_name, user.phone, user.username) == ("Ada", "+44 20 7946 0000", "ada")
        assert events("profile.updated")[0].details == {"fields": ["phone", "username"]}
        with pytest.raises(InvalidInput) as caught:
            accounts.update_profile(user, client=CLIENT, email="x@example.com")
        assert caught.value.field == "email"


def test_changing_password_needs_the_current_one_and_ends_other_sessions(app, make_user):
    made = make_user()
    with app.app_context():
        user = accounts.find_by_email(made["email"])
        keep, _ = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        other, _ = sessions.start_session(user, client=CLIENT, amr=["pwd"])
        db.session.commit()
        with pytest.raises(WrongPassword) as caught:
            accounts.change_password(user, current_password="not it at all",
                                     new_password="a brand new passphrase", client=CLIENT)
        assert caught.value.field == "current_password"
        with pytest.raises(WeakPassword):
            accounts.change_password(user, current_password=DEFAULT_PASSWORD,
                                     new_password="password123", client=CLIENT)
        with pytest.raises(InvalidInput, match="differ"):
            accounts.change_password(user, current_password=DEFAULT_PASSWORD,
                                     new_password=DEFAULT_PASSWORD, client=CLIENT)
        accounts.change_password(user, current_password=DEFAULT_PASSWORD,
                                 new_password="a brand new passphrase", client=CLIENT,
                                 keep_session_id=keep.id)
        db.session.commit()
        assert db.session.get(AuthSession, keep.id).ended_at is None
        assert db.session.get(AuthSession, other.id).end_reason == "password_changed"
        assert len(events("password.changed")) == 1
        accounts.authenticate(made["email"], "a brand new passphrase", client=CLIENT)
        with pytest.raises(InvalidCredentials):
            accounts.authenticate(made["email"], DEFAULT_PASSWORD, client=CLIENT)


def test_a_concurrent_duplicate_signup_is_a_conflict_not_a_crash(app):
    results = []
    start = threading.Barrier(4)

    def sign_up() -> None:
        with app.app_context():
            start.wait()
            try:
                accounts.create_user(email="race@example.com", password=DEFAULT_PASSWORD)
                db.session.commit()
                results.append("created")
            except EmailTaken:
                db.session.rollback()
                results.append("taken")
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                db.session.rollback()
                results.append(f"{type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=sign_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["created", "taken", "taken", "taken"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
