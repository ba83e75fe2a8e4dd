"""One-time tokens and codes: random, hashed, single-use, short-lived, bound to a purpose."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from app.core import accounts
from app.core.context import ClientInfo
from app.core.errors import (
    CodeAttemptsExceeded,
    OneTimeTokenExpired,
    OneTimeTokenInvalid,
    WrongCode,
)
from app.core.mail import one_time_tokens as ott
from app.extensions import db
from app.models import AuditEvent, OneTimeToken
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def user(ctx):
    # Verified, so sign-up sends no verification token of its own.
    made = accounts.create_user(email="ada@example.com", password=DEFAULT_PASSWORD,
                                email_verified=True, client=ClientInfo())
    db.session.commit()
    return made


def test_a_token_is_long_random_and_only_its_digest_is_stored(user):
    token = ott.issue(user, ott.PASSWORD_RESET)
    assert len(token) >= 43  # 256 bits, urlsafe base64
    row = db.session.scalar(select(OneTimeToken))
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.digest, row.address)


def test_the_address_signed_out_code_checks_filter_on_is_indexed(ctx):
    # The migrated schema, not the models: lookups by address must not scan the table.
    indexed = [index["column_names"] for index in inspect(db.engine).get_indexes(
        "one_time_tokens")]
    assert ["address"] in indexed


def test_a_token_works_once(user):
    token = ott.issue(user, ott.PASSWORD_RESET)
    assert ott.check(token, ott.PASSWORD_RESET).id == user.id  # checking does not use it
    assert ott.consume(token, ott.PASSWORD_RESET).id == user.id
    with pytest.raises(OneTimeTokenInvalid) as caught:
        ott.consume(token, ott.PASSWORD_RESET)
    assert caught.value.code == "token_invalid"


def test_a_token_for_one_purpose_fails_for_another(user):
    token = ott.issue(user, ott.MAGIC_LINK)
    with pytest.raises(OneTimeTokenInvalid) as caught:
        ott.consume(token, ott.PASSWORD_RESET)
    assert caught.value.code == "token_invalid"
    assert ott.consume(token, ott.MAGIC_LINK).id == user.id


@pytest.mark.parametrize("purpose, minutes", [(ott.PASSWORD_RESET, 30),
                                              (ott.MAGIC_LINK, 15),
                                              (ott.VERIFY_EMAIL, 24 * 60)])
def test_tokens_expire_after_their_purposes_lifetime(user, purpose, minutes):
    token = ott.issue(user, purpose)
    row = db.session.scalar(select(OneTimeToken))
    assert abs((row.expires_at - row.created_at) - timedelta(minutes=minutes)) < timedelta(
        seconds=1)
    row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(OneTimeTokenExpired) as caught:
        ott.consume(token, purpose)
    assert caught.value.code == "token_expired"


def test_a_new_token_retires_the_previous_one(user):
    first = ott.issue(user, ott.PASSWORD_RESET)
    second = ott.issue(user, ott.PASSWORD_RESET)
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume(first, ott.PASSWORD_RESET)
    assert ott.consume(second, ott.PASSWORD_RESET).id == user.id


def test_a_new_sign_up_link_retires_the_earlier_ones_for_that_address(ctx):
    first = ott.issue_for_address("new@example.com", ott.MAGIC_LINK)
    other = ott.issue_for_address("other@example.com", ott.MAGIC_LINK)
    second = ott.issue_for_address("new@example.com", ott.MAGIC_LINK)
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume_unowned(first, ott.MAGIC_LINK)
    assert ott.consume_unowned(second, ott.MAGIC_LINK) == (None, "new@example.com")
    assert ott.consume_unowned(other, ott.MAGIC_LINK) == (None, "other@example.com")


def test_a_sign_in_link_retires_the_sign_up_links_sent_before_the_account_existed(ctx):
    early = ott.issue_for_address("ada@example.com", ott.MAGIC_LINK)
    made = accounts.create_user(email="ada@example.com", password=DEFAULT_PASSWORD,
                                email_verified=True, client=ClientInfo())
    token = ott.issue(made, ott.MAGIC_LINK)
    with pytest.raises(OneTimeTokenInvalid):
        ott.check_unowned(early, ott.MAGIC_LINK)
    assert ott.consume(token, ott.MAGIC_LINK).id == made.id


def test_a_token_stops_working_when_the_email_changes(user):
    token = ott.issue(user, ott.VERIFY_EMAIL)
    user.email = "other@example.com"
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume(token, ott.VERIFY_EMAIL)


@pytest.mark.parametrize("garbage", [None, "", "x" * 500, 12345, "not-a-token"])
def test_garbage_is_an_invalid_token(user, garbage):
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume(garbage, ott.PASSWORD_RESET)


def test_a_code_is_six_digits_stored_keyed_and_works_once(user):
    code = ott.issue_code(user)
    assert len(code) == 6 and code.isdigit()
    row = db.session.scalar(select(OneTimeToken))
    assert row.kind == "code" and row.digest != hashlib.sha256(code.encode()).hexdigest()
    ott.consume_code(user, code)
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume_code(user, code)


def test_wrong_codes_spend_the_attempt_budget_then_even_the_right_code_fails(app, user):
    code = ott.issue_code(user)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(app.config["EMAIL_CODE_ATTEMPTS"]):
        with pytest.raises(WrongCode) as caught:
            ott.consume_code(user, wrong)
        assert caught.value.durable and caught.value.code == "token_invalid"
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume_code(user, code)


def test_a_wrong_code_says_how_many_guesses_are_left_and_then_that_they_are_spent(app, user):
    code = ott.issue_code(user)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    budget = app.config["EMAIL_CODE_ATTEMPTS"]
    for left in range(budget - 1, -1, -1):
        with pytest.raises(WrongCode) as caught:
            ott.consume_code(user, wrong)
        assert caught.value.details == {"attempts_left": left}
    with pytest.raises(CodeAttemptsExceeded) as caught:
        ott.consume_code(user, code)
    assert caught.value.message == "Too many wrong codes. Ask for a new one."


def test_signed_out_only_the_right_code_learns_that_its_guesses_are_spent(app, user):
    code = ott.issue_code(user)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(app.config["EMAIL_CODE_ATTEMPTS"] + 2):
        with pytest.raises(WrongCode) as caught:
            ott.consume_code_sent_to(user.email, wrong, ott.VERIFY_EMAIL)
        assert caught.value.details == {}  # no attempts_left: unknown addresses have none
    with pytest.raises(CodeAttemptsExceeded):
        ott.consume_code_sent_to(user.email, code, ott.VERIFY_EMAIL)


@pytest.mark.parametrize("address", ["ada@example.com", "nobody@example.com"])
def test_signed_out_a_malformed_code_is_refused_alike_for_every_address(user, address):
    ott.issue_code(user)
    with pytest.raises(OneTimeTokenInvalid) as caught:
        ott.consume_code_sent_to(address, "12ab", ott.VERIFY_EMAIL)
    assert (caught.value.message, caught.value.field) == ("Enter the 6-digit code.", "code")


def test_signed_out_the_right_code_verifies_once(user):
    code = ott.issue_code(user)
    assert ott.consume_code_sent_to(user.email, code, ott.VERIFY_EMAIL).id == user.id
    with pytest.raises(OneTimeTokenInvalid) as caught:
        ott.consume_code_sent_to(user.email, code, ott.VERIFY_EMAIL)
    assert type(caught.value) is OneTimeTokenInvalid  # "already used", for its holder only


def test_an_expired_code_fails(user):
    code = ott.issue_code(user)
    db.session.scalar(select(OneTimeToken)).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(OneTimeTokenExpired):
        ott.consume_code(user, code)


@pytest.mark.parametrize("garbage", [None, "", "12345", "1234567", "abcdef", 123456])
def test_a_malformed_code_is_invalid(user, garbage):
    ott.issue_code(user)
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume_code(user, garbage)


# --- refused uses are audited -------------------------------------------------------------

def rejections() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.event == "one_time_token.rejected").order_by(AuditEvent.created_at)))


def expire() -> None:
    for row in db.session.scalars(select(OneTimeToken)):
        row.expires_at = utcnow() - timedelta(seconds=1)


@pytest.mark.parametrize("case, reason, known", [
    ("unknown", "unknown", False),
    ("used", "used", True),
    ("expired", "expired", True),
    ("other purpose", "wrong_purpose", True),
    ("sign-up link as a reset link", "wrong_purpose", False),
])
def test_a_refused_link_is_audited_with_purpose_and_reason_but_not_the_token(
        user, case, reason, known):
    token = ott.issue(user, ott.PASSWORD_RESET)
    purpose = ott.PASSWORD_RESET
    if case == "unknown":
        token = "not-a-token-we-issued"
    elif case == "used":
        ott.consume(token, purpose)
    elif case == "expired":
        expire()
    elif case == "other purpose":
        purpose = ott.MAGIC_LINK
    else:
        token = ott.issue_for_address("new@example.com", ott.MAGIC_LINK)
    with pytest.raises(OneTimeTokenInvalid) as caught:
        ott.consume(token, purpose, client=ClientInfo(ip_address="198.51.100.4"))
    assert caught.value.durable  # the edge commits the event despite the refusal
    [event] = rejections()
    assert event.user_id == (user.id if known else None)
    assert event.details == {"purpose": purpose, "kind": "link", "reason": reason}
    assert event.ip_address == "198.51.100.4"
    assert token not in str(event.details)


@pytest.mark.parametrize("case, reason", [("wrong", "wrong_code"), ("malformed", "malformed"),
                                          ("expired", "expired"), ("none sent", "no_code")])
def test_a_refused_code_is_audited_with_the_user(user, case, reason):
    code = ott.issue_code(user, ott.MFA_EMAIL) if case != "none sent" else "123456"
    guess = {"wrong": f"{(int(code) + 1) % 10 ** 6:06d}", "malformed": "12ab"}.get(case, code)
    if case == "expired":
        expire()
    with pytest.raises(OneTimeTokenInvalid):
        ott.consume_code(user, guess, ott.MFA_EMAIL)
    [event] = rejections()
    assert event.user_id == user.id
    assert event.details == {"purpose": ott.MFA_EMAIL, "kind": "code", "reason": reason}


def test_a_successful_use_records_no_rejection(user):
    ott.consume(ott.issue(user, ott.PASSWORD_RESET), ott.PASSWORD_RESET)
    ott.consume_code(user, ott.issue_code(user))
    assert rejections() == []
