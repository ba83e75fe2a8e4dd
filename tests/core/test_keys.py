"""Signing keys: encrypted at rest, one active and one next per algorithm, rotation that
breaks no relying party, and a JWKS that publishes only public halves."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.core import keys, tokens
from app.extensions import db
from app.models import SigningKey
from app.models.types import utcnow

ALGS = {"RS256", "ES256", "EdDSA"}


def fetch_jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.get_json()


def test_jwks_of_a_fresh_app_has_an_active_and_next_key_per_algorithm(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    published = response.get_json()["keys"]
    assert sorted(key["alg"] for key in published) == sorted([*ALGS, *ALGS])
    for key in published:
        assert key["use"] == "sig"
        assert key["kid"]
        assert "d" not in key and "p" not in key and "q" not in key
    assert len({key["kid"] for key in published}) == 6


def test_jwks_is_a_valid_key_set_for_an_independent_library(client):
    key_set = KeySet.import_key_set(fetch_jwks(client))
    assert all(not key.is_private for key in key_set)


def test_ensure_keys_is_idempotent(app):
    with app.app_context():
        assert len(keys.ensure_keys()) == 6
        db.session.commit()
        assert keys.ensure_keys() == []
        counts = dict(db.session.execute(
            select(SigningKey.state, func.count()).group_by(SigningKey.state)).all())
        assert counts == {"active": 3, "next": 3}


def test_private_keys_are_encrypted_at_rest(app):
    with app.app_context():
        keys.ensure_keys()
        db.session.commit()
        row = db.session.scalar(select(SigningKey).where(SigningKey.alg == "ES256",
                                                         SigningKey.state == "active"))
        _, private = keys.signing_key("ES256")
        d = private.as_dict(private=True)["d"]
        assert d.encode() not in row.private_ciphertext
        assert "d" not in row.public_jwk
        assert len(row.private_nonce) == 12


def test_a_changed_encryption_key_fails_loudly_instead_of_signing(app_factory):
    first = app_factory()
    with first.app_context():
        keys.ensure_keys()
        db.session.commit()
        kid, _ = keys.signing_key("RS256")
    keys._private_keys.clear()  # a new process: nothing decrypted yet
    second = app_factory(KEY_ENCRYPTION_KEY="another-encryption-key-" + "y" * 20)
    with second.app_context():
        with pytest.raises(keys.KeyUnavailable, match="cannot be decrypted"):
            keys.signing_key("RS256")


def test_the_database_refuses_a_second_active_key_of_one_algorithm(app):
    with app.app_context():
        keys.ensure_keys()
        db.session.commit()
        intruder = keys._new_key("ES256", "active", utcnow())
        db.session.add(intruder)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_two_instances_starting_together_make_one_active_key_per_algorithm(app_factory):
    apps = [app_factory(), app_factory()]
    barrier = threading.Barrier(2)
    errors = []

    def start(instance):
        try:
            with instance.app_context():
                barrier.wait(timeout=10)
                keys.ensure_keys()
                db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(instance,)) for instance in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with apps[0].app_context():
        rows = db.session.execute(
            select(SigningKey.alg, SigningKey.state, func.count())
            .group_by(SigningKey.alg, SigningKey.state)).all()
    assert sorted(rows) == sorted((alg, state, 1) for alg in ALGS
                                  for state in ("active", "next"))


def test_rotation_promotes_next_and_keeps_the_old_key_published(app, client):
    before = {key["alg"]: key for key in fetch_jwks(client)["keys"]}
    with app.app_context():
        old_kid, _ = keys.signing_key("ES256")
        next_kid = db.session.scalar(select(SigningKey.kid).where(
            SigningKey.alg == "ES256", SigningKey.state == "next"))
        token, _ = tokens.issue_access_token(subject="user-1", client_id="c", scope="openid",
                                             audience="api", session_id=None)
        keys.rotate("ES256")
        db.session.commit()
        new_kid, _ = keys.signing_key("ES256")
        assert new_kid == next_kid
        # a token signed before the rotation still verifies
        assert tokens.verify_access_token(token)["sub"] == "user-1"
        states = dict(db.session.execute(select(SigningKey.kid, SigningKey.state)).all())
    assert states[old_kid] == "retired"
    published = {key["kid"] for key in fetch_jwks(client)["keys"]}
    assert {old_kid, new_kid} <= published
    assert len(published) == 7
    assert before  # the fetch before rotation warmed the cache; rotate invalidated it


def test_rotating_every_algorithm_at_once(app):
    with app.app_context():
        keys.ensure_keys()
        db.session.commit()
        activated = keys.rotate()
        db.session.commit()
        assert {row.alg for row in activated} == ALGS
        retired = db.session.scalar(select(func.count()).where(SigningKey.state == "retired"))
        assert retired == 3


def test_retired_keys_leave_the_jwks_after_the_grace_period(app, client):
    with app.app_context():
        old_kid, _ = keys.signing_key("RS256")
        token, _ = tokens.issue_access_token(subject="u", client_id=None, scope="",
                                             audience="api", session_id=None, lifetime=3600)
        keys.rotate("RS256")
        db.session.commit()
        db.session.execute(update(SigningKey).where(SigningKey.kid == old_kid).values(
            retired_at=utcnow() - timedelta(days=8)))
        db.session.commit()
        keys.invalidate_cache()
        assert old_kid not in {key["kid"] for key in keys.jwks()["keys"]}
        assert keys.verification_key(old_kid) is None
        result = keys.rotate_if_due()
        db.session.commit()
        assert result == {"rotated": [], "dropped": [old_kid]}
        assert db.session.get(SigningKey, old_kid) is None
    assert old_kid not in {key["kid"] for key in fetch_jwks(client)["keys"]}


def test_rotate_if_due_rotates_only_keys_older_than_the_rotation_period(app):
    with app.app_context():
        keys.ensure_keys()
        db.session.commit()
        assert keys.rotate_if_due() == {"rotated": [], "dropped": []}
        db.session.execute(update(SigningKey).where(
            SigningKey.alg == "EdDSA", SigningKey.state == "active").values(
            activated_at=utcnow() - timedelta(days=91)))
        db.session.commit()
        assert keys.rotate_if_due()["rotated"] == ["EdDSA"]
        db.session.commit()
        later = keys.rotate_if_due(now=utcnow() + timedelta(days=91))
        db.session.commit()
        assert sorted(later["rotated"]) == sorted(ALGS)


def test_a_rotation_on_another_instance_shows_up_once_the_cache_expires(app_factory,
                                                                         monkeypatch):
    ours, theirs = app_factory(), app_factory()
    with ours.app_context():
        keys.ensure_keys()
        db.session.commit()
        before = {key["kid"] for key in keys.jwks()["keys"]}
    with theirs.app_context():
        keys.rotate("ES256")
        db.session.commit()
    with ours.app_context():
        assert {key["kid"] for key in keys.jwks()["keys"]} == before  # served from memory
        real = keys.time.monotonic
        monkeypatch.setattr(keys.time, "monotonic",
                            lambda: real() + keys.JWKS_CACHE_SECONDS + 1)
        after = {key["kid"] for key in keys.jwks()["keys"]}
    assert len(after) == 7 and before < after


def test_a_key_created_elsewhere_verifies_before_the_cache_expires(app_factory):
    ours, theirs = app_factory(), app_factory()
    with ours.app_context():
        keys.ensure_keys()
        db.session.commit()
        keys.jwks()  # warm the cache
    with theirs.app_context():
        keys.rotate("ES256")  # theirs now publishes a next key ours has not seen
        db.session.commit()
        fresh = db.session.scalar(select(SigningKey.kid).where(
            SigningKey.alg == "ES256", SigningKey.state == "next"))
    with ours.app_context():
        found = keys.verification_key(fresh)
    assert found is not None and found[0] == "ES256"


def test_verification_key_pins_the_algorithm_and_ignores_junk_kids(app):
    with app.app_context():
        keys.ensure_keys()
        db.session.commit()
        for alg in ALGS:
            kid, _ = keys.signing_key(alg)
            pinned, key = keys.verification_key(kid)
            assert pinned == alg
            assert not key.is_private
        for junk in (None, "", "x" * 200, 42, "unknown-kid"):
            assert keys.verification_key(junk) is None


def test_tokens_verify_independently_against_the_served_jwks(app_factory):
    for alg in ("ES256", "RS256", "EdDSA"):
        app = app_factory(ACCESS_TOKEN_ALG=alg)
        served = KeySet.import_key_set(fetch_jwks(app.test_client()))
        with app.app_context():
            token, claims = tokens.issue_access_token(
                subject="user-9", client_id="client-1", scope="openid", audience="api",
                session_id=None)
        decoded = jwt.decode(token, served, algorithms=[alg])
        assert decoded.header["alg"] == alg
        assert decoded.header["typ"] == "at+jwt"
        assert decoded.claims == claims


def test_signing_rejects_an_unknown_algorithm(app):
    with app.app_context(), pytest.raises(ValueError):
        keys.signing_key("HS256")


def test_an_instance_rotates_a_key_past_its_period_by_itself(app, client):
    """No cron needed: the next key-cache refresh after the period rotates."""
    with app.app_context():
        token, _ = tokens.issue_access_token(subject="s", client_id=None, scope="",
                                             audience="aud", session_id=None)
        old_kid = db.session.scalar(select(SigningKey.kid).where(
            SigningKey.alg == "ES256", SigningKey.state == "active"))
        db.session.execute(update(SigningKey).where(SigningKey.kid == old_kid).values(
            activated_at=utcnow() - timedelta(days=91)))
        db.session.commit()
        keys.invalidate_cache()
    published = {key["kid"] for key in fetch_jwks(client)["keys"]}
    with app.app_context():
        rows = {row.kid: row for row in db.session.scalars(select(SigningKey))}
        assert rows[old_kid].state == "retired" and old_kid in published
        active = [row for row in rows.values() if row.alg == "ES256" and row.state == "active"]
        assert len(active) == 1 and active[0].kid in published
        # A token signed before the rotation keeps verifying.
        assert tokens.verify_access_token(token)["sub"] == "s"
