"""Passkeys end to end against a software authenticator: options, registration, sign-in as a
second factor and passwordless, single-use challenges, sign counters, managing credentials."""

from __future__ import annotations

import json
from datetime import timedelta

import cbor2
import pytest
from sqlalchemy import select, update

from app.core.errors import (
    InvalidInput,
    MfaNotEnabled,
    NotFound,
    PasskeyChallengeInvalid,
    PasskeyInvalid,
    ReauthenticationRequired,
)
from app.core.mfa import login, passkeys
from app.extensions import db
from app.models import AuditEvent, WebAuthnChallenge, WebAuthnCredential
from app.models.types import utcnow
from tests.support.mfa_fixtures import CLIENT, another_user
from tests.support.webauthn_authenticator import SoftwareAuthenticator


def enrol(user, session, authenticator=None, **kwargs) -> tuple[SoftwareAuthenticator,
                                                               WebAuthnCredential]:
    authenticator = authenticator or SoftwareAuthenticator()
    options = passkeys.registration_options(user, session=session)
    row = passkeys.register(user, authenticator.create(options), session=session,
                            client=CLIENT, **kwargs)
    db.session.commit()
    return authenticator, row


def test_registration_options_are_webauthn_json_for_this_relying_party(mfa_user,
                                                                        fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    public_key = options["publicKey"]
    assert public_key["rp"] == {"id": "localhost", "name": "Tessera"}
    assert public_key["user"]["name"] == "ada@example.com"
    assert len(public_key["challenge"]) >= 43  # 32 random bytes, base64url
    assert public_key["authenticatorSelection"]["residentKey"] == "preferred"
    assert {p["alg"] for p in public_key["pubKeyCredParams"]} >= {-7, -8, -257}
    assert public_key["excludeCredentials"] == []
    assert json.loads(json.dumps(options)) == options


def test_rp_id_and_origins_can_be_configured(app, mfa_user):
    app.config.update(WEBAUTHN_RP_ID="example.com",
                      WEBAUTHN_ORIGINS="https://id.example.com, https://example.com/")
    rp = passkeys.relying_party()
    assert rp.id == "example.com"
    assert rp.origins == ["https://id.example.com", "https://example.com"]


def test_rp_defaults_come_from_the_issuer(app, mfa_ctx):
    app.config["ISSUER"] = "https://id.example.com:8443/tenant"
    rp = passkeys.relying_party()
    assert (rp.id, rp.origins) == ("id.example.com", ["https://id.example.com:8443"])


def test_registration_keeps_the_credential(mfa_user, fresh_session):
    authenticator, row = enrol(mfa_user, fresh_session, name="  Laptop   key ")
    assert row.credential_id == authenticator.credential_id
    assert row.name == "Laptop key"
    assert row.transports == ["internal"]
    assert row.device_type == "single_device" and row.backed_up is False
    assert row.aaguid == "00000000-0000-0000-0000-000000000000"
    assert [c.id for c in passkeys.list_credentials(mfa_user)] == [row.id]
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "mfa.passkey_added")) is not None


def test_registration_accepts_the_credential_wrapped_or_as_a_json_string(mfa_user,
                                                                          fresh_session):
    first = SoftwareAuthenticator()
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    passkeys.register(mfa_user, {"credential": first.create(options)}, session=fresh_session)
    second = SoftwareAuthenticator()
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    passkeys.register(mfa_user, json.dumps(second.create(options)), session=fresh_session)
    assert [row.name for row in passkeys.list_credentials(mfa_user)] == ["Passkey 1",
                                                                         "Passkey 2"]


def test_a_registered_credential_is_excluded_from_new_registrations(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    excluded = [item["id"] for item in options["publicKey"]["excludeCredentials"]]
    assert excluded == [json.loads(json.dumps(authenticator.create(options)))["id"]]


def test_registering_the_same_credential_twice_is_refused(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    with pytest.raises(PasskeyInvalid) as caught:
        passkeys.register(mfa_user, authenticator.create(options), session=fresh_session)
    assert "already registered" in caught.value.message
    assert len(passkeys.list_credentials(mfa_user)) == 1


def test_a_registration_challenge_works_once(mfa_user, fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    passkeys.register(mfa_user, SoftwareAuthenticator().create(options), session=fresh_session)
    with pytest.raises(PasskeyChallengeInvalid) as caught:
        passkeys.register(mfa_user, SoftwareAuthenticator().create(options),
                          session=fresh_session)
    assert caught.value.code == "passkey_challenge_invalid"


def test_an_expired_challenge_is_refused(mfa_user, fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    db.session.execute(update(WebAuthnChallenge).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(PasskeyChallengeInvalid):
        passkeys.register(mfa_user, SoftwareAuthenticator().create(options),
                          session=fresh_session)


def test_a_challenge_issued_to_another_user_is_refused(app, mfa_user, fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    other = another_user()
    from app.core import sessions
    other_session, _ = sessions.start_session(other, client=CLIENT, amr=["pwd"])
    with pytest.raises(PasskeyChallengeInvalid):
        passkeys.register(other, SoftwareAuthenticator().create(options),
                          session=other_session)


def test_a_response_from_another_origin_is_refused(mfa_user, fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    with pytest.raises(PasskeyInvalid) as caught:
        passkeys.register(mfa_user, SoftwareAuthenticator().create(
            options, origin="https://evil.example"), session=fresh_session)
    assert caught.value.code == "passkey_invalid"
    assert passkeys.list_credentials(mfa_user) == []


def test_registration_needs_a_recent_authentication(mfa_user, fresh_session):
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(ReauthenticationRequired):
        passkeys.registration_options(mfa_user, session=fresh_session)


def test_a_malformed_body_is_a_validation_error(mfa_user, fresh_session):
    for body in (None, "not json", {"credential": 5}, {"id": 5}):
        with pytest.raises(InvalidInput):
            passkeys.register(mfa_user, body, session=fresh_session)



@pytest.mark.parametrize("transports", [5, True, 1.5, "usb", {"usb": True}])
def test_transports_that_are_not_a_list_are_kept_as_none(mfa_user, fresh_session,
                                                         transports):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    credential = SoftwareAuthenticator().create(options)
    credential["response"]["transports"] = transports
    row = passkeys.register(mfa_user, credential, session=fresh_session)
    assert row.transports == []


def test_a_credential_is_unwrapped_once_however_deeply_it_is_wrapped(mfa_user,
                                                                     fresh_session):
    credential = {"id": "abc"}
    for _ in range(5000):  # deeper than Python recurses
        credential = {"credential": credential}
    with pytest.raises(InvalidInput):
        passkeys.register(mfa_user, credential, session=fresh_session)


class KeylessAuthenticator(SoftwareAuthenticator):
    """Attests a COSE_Key without its kty member (py_webauthn meets it with a KeyError)."""

    def _cose_key(self) -> bytes:
        return cbor2.dumps({3: -7})


def test_an_attested_key_that_is_not_a_cose_key_is_refused(mfa_user, fresh_session):
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    with pytest.raises(PasskeyInvalid):
        passkeys.register(mfa_user, KeylessAuthenticator().create(options),
                          session=fresh_session)
    assert passkeys.list_credentials(mfa_user) == []


@pytest.mark.parametrize("handle", ["a", 5, ["x"]])
def test_a_user_handle_that_is_not_base64url_is_refused(mfa_user, fresh_session, handle):
    authenticator, _row = enrol(mfa_user, fresh_session)
    credential = authenticator.get(passkeys.authentication_options(mfa_user))
    credential["response"]["userHandle"] = handle
    with pytest.raises(PasskeyInvalid):
        passkeys.verify_authentication(credential, user=mfa_user)

def test_a_passkey_verifies_as_the_users_second_factor(mfa_user, fresh_session):
    authenticator, row = enrol(mfa_user, fresh_session)
    options = passkeys.authentication_options(mfa_user)
    allowed = options["publicKey"]["allowCredentials"]
    assert [item["transports"] for item in allowed] == [["internal"]]
    verified = passkeys.verify_authentication(authenticator.get(options), user=mfa_user)
    assert verified.user.id == mfa_user.id and verified.credential.id == row.id
    assert verified.amr == ["hwk"]
    assert row.sign_count == 1 and row.last_used_at is not None


def test_a_synced_passkey_earns_swk(mfa_user, fresh_session):
    authenticator, row = enrol(mfa_user, fresh_session, SoftwareAuthenticator(synced=True))
    assert (row.device_type, row.backed_up) == ("multi_device", True)
    verified = passkeys.verify_authentication(
        authenticator.get(passkeys.authentication_options(mfa_user)), user=mfa_user)
    assert verified.amr == ["swk"]


def test_an_authentication_challenge_works_once(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    options = passkeys.authentication_options(mfa_user)
    passkeys.verify_authentication(authenticator.get(options), user=mfa_user)
    with pytest.raises(PasskeyChallengeInvalid):
        passkeys.verify_authentication(authenticator.get(options), user=mfa_user)


def test_a_sign_count_that_does_not_move_forward_is_refused(mfa_user, fresh_session):
    authenticator, row = enrol(mfa_user, fresh_session)
    passkeys.verify_authentication(
        authenticator.get(passkeys.authentication_options(mfa_user), sign_count=5),
        user=mfa_user)
    for stale in (5, 3):
        with pytest.raises(PasskeyInvalid):
            passkeys.verify_authentication(
                authenticator.get(passkeys.authentication_options(mfa_user),
                                  sign_count=stale), user=mfa_user)
    db.session.refresh(row)
    assert row.sign_count == 5
    reasons = [e.details["reason"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "mfa.failed"))]
    assert reasons == ["assertion_invalid", "assertion_invalid"]


def test_an_authenticator_without_a_counter_keeps_working(mfa_user, fresh_session):
    authenticator, row = enrol(mfa_user, fresh_session, SoftwareAuthenticator(counter=False))
    for _ in range(2):
        passkeys.verify_authentication(
            authenticator.get(passkeys.authentication_options(mfa_user)), user=mfa_user)
    assert row.sign_count == 0


def test_another_users_passkey_is_not_a_second_factor(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    other = another_user()
    from app.core import sessions
    other_session, _ = sessions.start_session(other, client=CLIENT, amr=["pwd"])
    with pytest.raises(MfaNotEnabled):
        passkeys.authentication_options(other)  # bob has no passkey yet
    enrol(other, other_session)
    options_for_bob = passkeys.authentication_options(other)
    with pytest.raises(PasskeyInvalid):
        passkeys.verify_authentication(
            authenticator.get(options_for_bob, ignore_allow_list=True), user=other)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "mfa.failed")).details["reason"] == "unknown_credential"


def test_a_forged_signature_is_refused(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    impostor = SoftwareAuthenticator()
    impostor.credential_id, impostor.user_handle = (authenticator.credential_id,
                                                    authenticator.user_handle)
    with pytest.raises(PasskeyInvalid):
        passkeys.verify_authentication(
            impostor.get(passkeys.authentication_options(mfa_user)), user=mfa_user)


def test_passwordless_login_with_a_discoverable_passkey(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    options = login.passwordless_options()
    assert options["publicKey"]["allowCredentials"] == []
    assert options["publicKey"]["userVerification"] == "required"
    user, amr = login.passwordless(authenticator.get(options), client=CLIENT)
    assert user.id == mfa_user.id
    assert amr == ["hwk", "mfa"]


def test_passwordless_login_needs_user_verification(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session,
                                SoftwareAuthenticator(user_verified=False))
    with pytest.raises(PasskeyInvalid):
        login.passwordless(authenticator.get(login.passwordless_options()))


def test_passwordless_login_with_an_unknown_passkey_is_refused(mfa_user):
    stranger = SoftwareAuthenticator()
    stranger.user_handle = mfa_user.id.bytes
    with pytest.raises(PasskeyInvalid):
        login.passwordless(stranger.get(login.passwordless_options()))
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "passkey.login_failed")).details["reason"] == "unknown_credential"


def test_passwordless_login_refuses_a_deactivated_account(mfa_user, fresh_session):
    authenticator, _row = enrol(mfa_user, fresh_session)
    mfa_user.is_active = False
    with pytest.raises(PasskeyInvalid):
        login.passwordless(authenticator.get(login.passwordless_options()))


def test_passkeys_are_listed_renamed_and_deleted(mfa_user, fresh_session):
    _authenticator, row = enrol(mfa_user, fresh_session)
    renamed = passkeys.rename(mfa_user, row.id, "Phone", client=CLIENT)
    assert renamed.name == "Phone"
    with pytest.raises(InvalidInput):
        passkeys.rename(mfa_user, row.id, "   ")
    with pytest.raises(InvalidInput):
        passkeys.rename(mfa_user, row.id, "x" * 101)
    listed = passkeys.list_credentials(mfa_user)
    assert [(c.name, c.created_at is not None, c.last_used_at) for c in listed] == [
        ("Phone", True, None)]
    passkeys.delete(mfa_user, str(row.id), session=fresh_session, client=CLIENT)
    assert passkeys.list_credentials(mfa_user) == []
    assert db.session.scalar(select(WebAuthnCredential)) is None


def test_someone_elses_passkey_cannot_be_renamed_or_deleted(mfa_user, fresh_session):
    _authenticator, row = enrol(mfa_user, fresh_session)
    other = another_user()
    from app.core import sessions
    other_session, _ = sessions.start_session(other, client=CLIENT, amr=["pwd"])
    with pytest.raises(NotFound):
        passkeys.rename(other, row.id, "Mine now")
    with pytest.raises(NotFound):
        passkeys.delete(other, row.id, session=other_session)
    assert passkeys.list_credentials(mfa_user)[0].name == "Passkey 1"


def test_deleting_a_passkey_needs_a_recent_authentication(mfa_user, fresh_session):
    _authenticator, row = enrol(mfa_user, fresh_session)
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(ReauthenticationRequired):
        passkeys.delete(mfa_user, row.id, session=fresh_session)
