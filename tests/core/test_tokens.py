"""Access tokens (RFC 9068) and refresh tokens: issue, verify, rotate, revoke.

The forged-token cases are regression tests for known JOSE attacks: alg none, HMAC keyed
with the public key (CVE-2024-37568), a key embedded in the token's own jwk header,
unknown crit headers (CVE-2025-59420) and oversized tokens (CVE-2025-61920).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from joserfc.jwk import generate_key, import_key
from joserfc.jws import JWSRegistry
from sqlalchemy import select, update

from app.core import clients, connected_clients, consents, keys, sessions, tokens
from app.core.context import ClientInfo
from app.core.errors import (
    InvalidGrant,
    InvalidScope,
    InvalidToken,
    RefreshTokenReused,
    TesseraError,
    TokenExpired,
)
from app.extensions import db
from app.models import AuthSession, RefreshToken, RevokedAccessToken, User
from app.models.types import utcnow


@pytest.fixture
def grant(app, make_user):
    """A user with a live session and a registered client: ids to build tokens from."""
    user = make_user()
    with app.app_context():
        row = db.session.get(User, uuid.UUID(user["id"]))
        session, _ = sessions.start_session(row, client=ClientInfo(), amr=["pwd"])
        client, _ = clients.create_client("Demo", ["https://rp.example.com/cb"])
        consents.grant(row.id, client.client_id, {"openid", "profile"})
        keys.ensure_keys()
        db.session.commit()
        return {"user_id": row.id, "session_id": session.id, "client_id": client.client_id}


def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, sign) -> str:
    signing_input = f"{b64(header)}.{b64(claims)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def sign_with_our_key(alg: str = "ES256"):
    """A signer holding Tessera's real private key: the only way to make a forged header
    carry a valid signature, so the test proves the header itself is what is refused."""
    _, key = keys.signing_key(alg)
    model = JWSRegistry.algorithms[alg]
    return lambda message: model.sign(message, key)


def claims_for(app, **extra) -> dict:
    now = int(time.time())
    return {"iss": app.config["ISSUER"], "sub": "user-1", "aud": "api", "iat": now,
            "exp": now + 300, "jti": "j", "scope": "openid", **extra}


def issue(grant, **kwargs):
    options = {"subject": str(grant["user_id"]), "client_id": grant["client_id"],
               "scope": "openid profile", "audience": "https://api.example.com",
               "session_id": grant["session_id"]} | kwargs
    return tokens.issue_access_token(**options)


# --- access tokens -------------------------------------------------------------------------

def test_access_token_is_an_rfc9068_jwt_with_sid_and_jti(app, grant):
    with app.app_context():
        token, claims = issue(grant, extra_claims={"auth_time": 1234})
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        verified = tokens.verify_access_token(token, audience="https://api.example.com")
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert verified == claims
    assert claims["iss"] == "http://localhost"
    assert claims["sub"] == str(grant["user_id"])
    assert claims["client_id"] == grant["client_id"]
    assert claims["sid"] == str(grant["session_id"])
    assert claims["scope"] == "openid profile"
    assert claims["auth_time"] == 1234
    assert claims["exp"] - claims["iat"] == 900
    assert len(claims["jti"]) >= 16


def test_every_token_has_its_own_jti(app, grant):
    with app.app_context():
        assert issue(grant)[1]["jti"] != issue(grant)[1]["jti"]


def test_extra_claims_cannot_override_the_core_claims(app, grant):
    with app.app_context(), pytest.raises(ValueError, match="sub"):
        issue(grant, extra_claims={"sub": "admin"})


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_access_tokens_can_use_another_algorithm(app_factory, alg):
    app = app_factory(ACCESS_TOKEN_ALG=alg)
    with app.app_context():
        token, _ = tokens.issue_access_token(subject="s", client_id=None, scope="",
                                             audience="api", session_id=None)
        assert tokens.verify_access_token(token)["sub"] == "s"


def test_wrong_audience_is_refused(app, grant):
    with app.app_context():
        token, _ = issue(grant)
        with pytest.raises(InvalidToken):
            tokens.verify_access_token(token, audience="https://other.example.com")


def test_a_list_audience_matches_any_member(app, grant):
    with app.app_context():
        token, _ = issue(grant, audience=["a", "b"])
        assert tokens.verify_access_token(token, audience="b")["aud"] == ["a", "b"]


def test_expired_token_raises_token_expired(app, grant):
    with app.app_context():
        token, _ = issue(grant, lifetime=-5)
        with pytest.raises(TokenExpired) as caught:
            tokens.verify_access_token(token)
        assert caught.value.code == "token_expired" and caught.value.status == 401
        assert isinstance(caught.value, TesseraError)


def test_a_bounded_grace_accepts_a_recently_expired_token_only(app, grant):
    with app.app_context():
        recent, _ = issue(grant, lifetime=-5)
        assert tokens.verify_access_token(recent, allow_expired_for=60)["sid"]
        old, _ = issue(grant, lifetime=-120)
        with pytest.raises(TokenExpired):
            tokens.verify_access_token(old, allow_expired_for=60)


def test_leeway_tolerates_clock_skew(app, grant):
    with app.app_context():
        token, _ = issue(grant, lifetime=-2)
        assert tokens.verify_access_token(token, leeway=30)


def test_token_of_an_ended_session_stops_working_at_once(app, grant):
    with app.app_context():
        token, _ = issue(grant)
        assert tokens.verify_access_token(token)
        session = db.session.get(AuthSession, grant["session_id"])
        sessions.end_session(session, reason="logout", client=ClientInfo())
        db.session.commit()
        with pytest.raises(InvalidToken, match="session"):
            tokens.verify_access_token(token)


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_locked": True}])
def test_token_of_a_deactivated_or_locked_user_fails(app, grant, change):
    with app.app_context():
        token, _ = issue(grant)
        db.session.execute(update(User).where(User.id == grant["user_id"]).values(**change))
        db.session.commit()
        with pytest.raises(InvalidToken):
            tokens.verify_access_token(token)


def test_token_of_a_deleted_session_fails(app, grant):
    with app.app_context():
        token, _ = issue(grant, session_id=uuid.uuid4())
        with pytest.raises(InvalidToken):
            tokens.verify_access_token(token)


def test_forged_alg_none_is_refused(app, grant):
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        token = forge({"alg": "none", "typ": "at+jwt", "kid": kid}, claims_for(app),
                      lambda message: b"")
        with pytest.raises(InvalidToken):
            tokens.verify_access_token(token)  # the RFC form: an empty signature
        with pytest.raises(InvalidToken, match="algorithm"):
            tokens.verify_access_token(token + "AAAA")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_forged_hs256_keyed_with_our_public_key_is_refused(app, client, grant, alg):
    published = client.get("/.well-known/jwks.json").get_json()["keys"]
    jwk = next(key for key in published if key["alg"] == alg)
    pem = import_key(jwk).as_pem(private=False)
    with app.app_context():
        token = forge({"alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"]}, claims_for(app),
                      lambda message: hmac.new(pem, message, hashlib.sha256).digest())
        with pytest.raises(InvalidToken, match="algorithm"):
            tokens.verify_access_token(token)


def test_forged_token_signed_by_a_key_in_its_own_jwk_header_is_refused(app, grant):
    attacker = generate_key("EC", "P-256")
    model = JWSRegistry.algorithms["ES256"]
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        for header_kid in (kid, attacker.thumbprint()):
            header = {"alg": "ES256", "typ": "at+jwt", "kid": header_kid,
                      "jwk": attacker.as_dict(private=False)}
            token = forge(header, claims_for(app), lambda m: model.sign(m, attacker))
            with pytest.raises(InvalidToken):
                tokens.verify_access_token(token)


def test_jku_and_x5u_headers_are_never_fetched_or_trusted(app, grant):
    attacker = generate_key("EC", "P-256")
    model = JWSRegistry.algorithms["ES256"]
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        header = {"alg": "ES256", "typ": "at+jwt", "kid": kid,
                  "jku": "https://evil.example.com/jwks", "x5u": "https://evil.example.com/c"}
        token = forge(header, claims_for(app), lambda m: model.sign(m, attacker))
        with pytest.raises(InvalidToken, match="signature"):
            tokens.verify_access_token(token)


def test_an_unknown_crit_header_is_refused_even_with_a_valid_signature(app, grant):
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        header = {"alg": "ES256", "typ": "at+jwt", "kid": kid, "crit": ["exp-policy"],
                  "exp-policy": "lenient"}
        token = forge(header, claims_for(app), sign_with_our_key())
        with pytest.raises(InvalidToken, match="critical"):
            tokens.verify_access_token(token)


def test_a_token_with_an_unknown_kid_is_refused(app, grant):
    with app.app_context():
        token = forge({"alg": "ES256", "typ": "at+jwt", "kid": "not-our-key"},
                      claims_for(app), sign_with_our_key())
        with pytest.raises(InvalidToken, match="known key"):
            tokens.verify_access_token(token)


def test_an_oversized_token_is_refused_before_any_parsing(app, grant):
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        token = forge({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                      claims_for(app, padding="x" * 9000), sign_with_our_key())
        with pytest.raises(InvalidToken, match="too large"):
            tokens.verify_access_token(token)


def test_a_jwt_that_is_not_an_access_token_is_refused(app, grant):
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        token = forge({"alg": "ES256", "typ": "JWT", "kid": kid}, claims_for(app),
                      sign_with_our_key())
        with pytest.raises(InvalidToken, match="not an access token"):
            tokens.verify_access_token(token)


def test_a_token_from_another_issuer_is_refused(app, grant):
    with app.app_context():
        kid, _ = keys.signing_key("ES256")
        token = forge({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                      claims_for(app, iss="https://evil.example.com"), sign_with_our_key())
        with pytest.raises(InvalidToken, match="issued by someone else"):
            tokens.verify_access_token(token)


def test_a_tampered_payload_is_refused(app, grant):
    with app.app_context():
        token, claims = issue(grant)
        header, _, signature = token.split(".")
        tampered = f"{header}.{b64(claims | {'scope': 'admin'})}.{signature}"
        with pytest.raises(InvalidToken, match="signature"):
            tokens.verify_access_token(tampered)


def test_a_single_revoked_access_token_is_refused_until_it_expires(app, grant):
    with app.app_context():
        token, claims = issue(grant)
        other, _ = issue(grant)
        tokens.revoke_access_token(claims)
        with pytest.raises(InvalidToken, match="revoked"):
            tokens.verify_access_token(token)
        with pytest.raises(InvalidToken, match="revoked"):
            tokens.verify_access_token(token, allow_expired_for=600)
        assert tokens.verify_access_token(other)  # only that one token
        with pytest.raises(ValueError):
            tokens.revoke_access_token({"sub": "no jti"})


def test_a_revocation_is_stored_once_and_seen_by_every_instance(app_factory, app, grant):
    with app.app_context():
        token, claims = issue(grant)
        tokens.revoke_access_token(claims)
        tokens.revoke_access_token(claims)  # idempotent
        db.session.commit()
        rows = db.session.scalars(select(RevokedAccessToken)).all()
        assert [row.jti for row in rows] == [claims["jti"]]
        assert int(rows[0].expires_at.timestamp()) == claims["exp"]
    other = app_factory()  # another instance on the same database
    with other.app_context(), pytest.raises(InvalidToken, match="revoked"):
        tokens.verify_access_token(token)


def test_purge_drops_only_revocations_past_their_margin(app, grant):
    with app.app_context():
        _, live = issue(grant)
        _, recent = issue(grant, lifetime=-60)
        _, ancient = issue(grant, lifetime=-60)
        for claims in (live, recent):
            tokens.revoke_access_token(claims)
        db.session.add(RevokedAccessToken(
            jti=ancient["jti"],
            expires_at=utcnow() - timedelta(seconds=tokens.revocation_margin() + 5)))
        db.session.commit()
        assert tokens.purge_expired() == 1
        left = set(db.session.scalars(select(RevokedAccessToken.jti)))
        assert left == {live["jti"], recent["jti"]}


def test_revoking_a_token_long_expired_stores_nothing(app, grant):
    with app.app_context():
        _, claims = issue(grant, lifetime=-(tokens.revocation_margin() + 10))
        tokens.revoke_access_token(claims)
        assert db.session.scalar(select(RevokedAccessToken)) is None


def test_a_users_token_dies_with_the_consent_it_was_issued_under(app, grant):
    with app.app_context():
        token, _ = issue(grant)
        assert tokens.verify_access_token(token)
        connected_clients.disconnect(grant["user_id"], grant["client_id"],
                                     client=ClientInfo())
        db.session.commit()
        with pytest.raises(InvalidToken, match="consent"):
            tokens.verify_access_token(token)
        # Consenting again does not bring the old token back.
        consent = consents.grant(grant["user_id"], grant["client_id"], {"openid"})
        consent.granted_at = utcnow() + timedelta(seconds=2)
        db.session.commit()
        with pytest.raises(InvalidToken, match="consent"):
            tokens.verify_access_token(token)


def test_a_users_token_without_any_consent_is_refused(app, grant):
    with app.app_context():
        client, _ = clients.create_client("Other", ["https://other.example.com/cb"])
        token, _ = issue(grant, client_id=client.client_id)
        with pytest.raises(InvalidToken, match="consent"):
            tokens.verify_access_token(token)


def test_tokens_without_a_session_do_not_need_a_consent(app, grant):
    with app.app_context():
        token, _ = issue(grant, subject=grant["client_id"], session_id=None)
        assert tokens.verify_access_token(token)["sub"] == grant["client_id"]


@pytest.mark.parametrize("junk", ["", "abc", "a.b", "a.b.c", "..", "e30.e30.", "!!.!!.!!",
                                  "W10.e30.AA", None, 42])
def test_garbage_is_invalid_never_a_crash(app, junk):
    with app.app_context(), pytest.raises(InvalidToken):
        tokens.verify_access_token(junk)


# --- refresh tokens ------------------------------------------------------------------------

def refresh(grant, **kwargs):
    options = {"user_id": grant["user_id"], "client_id": grant["client_id"],
               "scope": "openid profile offline_access",
               "session_id": grant["session_id"]} | kwargs
    return tokens.issue_refresh_token(**options)


def test_refresh_tokens_are_opaque_random_and_stored_hashed(app, grant):
    with app.app_context():
        token, row = refresh(grant)
        db.session.commit()
        assert token.startswith("rt_") and len(token) >= 3 + 43
        assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps([str(v) for v in row.__dict__.values()])
        assert tokens.find_refresh_token(token).id == row.id
        assert tokens.find_refresh_token("rt_unknown") is None
        assert row.idle_expires_at < row.expires_at


def test_rotation_issues_a_successor_in_the_same_family(app, grant):
    with app.app_context():
        token, first = refresh(grant)
        db.session.commit()
        new_token, new, old = tokens.rotate_refresh_token(token, client_id=grant["client_id"])
        db.session.commit()
        assert new_token != token and old.id == first.id
        assert old.used_at is not None
        assert new.family_id == old.family_id and new.parent_id == old.id
        assert new.expires_at == old.expires_at  # the absolute expiry never moves
        assert new.scope == old.scope
        assert (new.user_id, new.session_id) == (grant["user_id"], grant["session_id"])
        # and the successor rotates in turn
        tokens.rotate_refresh_token(new_token, client_id=grant["client_id"])


def test_reusing_a_rotated_token_revokes_the_whole_family(app, grant):
    with app.app_context():
        token, _ = refresh(grant)
        db.session.commit()
        successor, _, _ = tokens.rotate_refresh_token(token, client_id=grant["client_id"])
        db.session.commit()
        with pytest.raises(RefreshTokenReused) as caught:
            tokens.rotate_refresh_token(token, client_id=grant["client_id"])
        assert caught.value.code == "invalid_grant" and "reuse" in caught.value.message
        assert caught.value.durable  # the request edge commits the revocation
        db.session.commit()
        with pytest.raises(InvalidGrant, match="revoked"):
            tokens.rotate_refresh_token(successor, client_id=grant["client_id"])
        family = db.session.scalars(select(RefreshToken)).all()
        assert len(family) == 2 and all(row.revoked_reason == "reuse" for row in family)


def test_another_clients_refresh_token_is_refused(app, grant):
    with app.app_context():
        token, row = refresh(grant)
        db.session.commit()
        with pytest.raises(InvalidGrant):
            tokens.rotate_refresh_token(token, client_id="someone-else")
        assert row.used_at is None and row.revoked_at is None


def test_scope_may_narrow_but_never_widen(app, grant):
    with app.app_context():
        token, _ = refresh(grant)
        db.session.commit()
        with pytest.raises(InvalidScope) as caught:
            tokens.rotate_refresh_token(token, client_id=grant["client_id"],
                                        scope="openid admin")
        assert caught.value.code == "invalid_scope"
        new_token, new, _ = tokens.rotate_refresh_token(token, client_id=grant["client_id"],
                                                        scope="openid")
        assert new.scope == "openid profile offline_access"  # RFC 6749 §6


@pytest.mark.parametrize("column", ["expires_at", "idle_expires_at"])
def test_expired_refresh_tokens_are_refused(app, grant, column):
    with app.app_context():
        token, row = refresh(grant)
        db.session.execute(update(RefreshToken).where(RefreshToken.id == row.id).values(
            {column: utcnow() - timedelta(seconds=1)}))
        db.session.commit()
        with pytest.raises(InvalidGrant, match="expired"):
            tokens.rotate_refresh_token(token, client_id=grant["client_id"])


def test_refresh_fails_once_the_session_has_ended(app, grant):
    with app.app_context():
        token, _ = refresh(grant)
        session = db.session.get(AuthSession, grant["session_id"])
        sessions.end_session(session, reason="logout", client=ClientInfo())
        db.session.commit()
        with pytest.raises(InvalidGrant, match="session"):
            tokens.rotate_refresh_token(token, client_id=grant["client_id"])


def test_refresh_without_a_session_still_checks_the_user(app, grant):
    with app.app_context():
        token, _ = refresh(grant, session_id=None)
        db.session.execute(update(User).where(User.id == grant["user_id"]).values(
            is_locked=True))
        db.session.commit()
        with pytest.raises(InvalidGrant):
            tokens.rotate_refresh_token(token, client_id=grant["client_id"])


def test_revoking_a_refresh_token_revokes_its_family(app, grant):
    with app.app_context():
        token, _ = refresh(grant)
        successor, _, _ = tokens.rotate_refresh_token(token, client_id=grant["client_id"])
        db.session.commit()
        assert tokens.revoke_refresh_token(successor, client_id="someone-else") is False
        assert tokens.revoke_refresh_token("rt_nothing", client_id=grant["client_id"]) is False
        assert tokens.revoke_refresh_token(successor, client_id=grant["client_id"]) is True
        db.session.commit()
        rows = db.session.scalars(select(RefreshToken)).all()
        assert all(row.revoked_reason == "revoked" for row in rows)


def test_revoke_for_session_and_for_user(app, grant):
    with app.app_context():
        refresh(grant)
        refresh(grant, session_id=None)
        db.session.commit()
        assert tokens.revoke_for_session(grant["session_id"], "logout") == 1
        assert tokens.revoke_for_user(grant["user_id"], "admin", client_id="other") == 0
        assert tokens.revoke_for_user(grant["user_id"], "password_changed") == 1
        db.session.commit()
        reasons = sorted(db.session.scalars(select(RefreshToken.revoked_reason)))
        assert reasons == ["logout", "password_changed"]


def test_concurrent_rotation_of_one_token_has_exactly_one_winner(app_factory, app, grant):
    with app.app_context():
        token, _ = refresh(grant)
        db.session.commit()
    instances = [app_factory(), app_factory()]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def rotate(instance):
        with instance.app_context():
            try:
                barrier.wait(timeout=10)
                tokens.rotate_refresh_token(token, client_id=grant["client_id"])
                db.session.commit()
                outcomes.append("won")
            except InvalidGrant as error:
                if error.durable:
                    db.session.commit()
                else:
                    db.session.rollback()
                outcomes.append(error)

    threads = [threading.Thread(target=rotate, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("won") == 1, outcomes
    assert len(outcomes) == 2
    loser = next(outcome for outcome in outcomes if outcome != "won")
    assert isinstance(loser, InvalidGrant)
