"""Rows created on first use (a role held everywhere, the MFA settings row, the remembered
consent) made by concurrent requests: one row, and no request fails on the unique key.
On PostgreSQL, where requests really run side by side."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.core import accounts, consents, rbac
from app.core.mfa import user_settings
from app.extensions import db
from app.models import Consent, MfaSettings, UserRole
from tests.support.flow import make_client

PARALLEL = 4


@pytest.fixture
def instances(database, app_factory):
    if database.kind != "postgresql":
        # CI's SQLite pass skips it; its PostgreSQL pass runs it (a named database that is
        # down fails the run in conftest).
        pytest.skip("needs PostgreSQL (TESSERA_TEST_DATABASE_URL): SQLite serializes writers")
    return [app_factory() for _ in range(PARALLEL)]


def side_by_side(instances, work) -> list[object]:
    """Run work(user_id) in each instance at once, each in its own transaction."""
    barrier = threading.Barrier(len(instances))
    failures: list[object] = []

    def run(instance):
        with instance.app_context():
            try:
                barrier.wait(timeout=10)
                work()
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test reports any failure
                db.session.rollback()
                failures.append(error)

    threads = [threading.Thread(target=run, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return failures


def count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def test_a_role_held_everywhere_is_assigned_once(app, instances, make_user):
    user_id = uuid.UUID(make_user()["id"])
    failures = side_by_side(instances, lambda: rbac.assign_role(
        accounts.get_user(user_id), "admin"))
    assert failures == []
    assert count(app, UserRole, UserRole.user_id == user_id) == 1


def test_the_mfa_settings_row_is_created_once(app, instances, make_user):
    user_id = uuid.UUID(make_user()["id"])

    def prefer_email():
        user_settings.get_or_create(accounts.get_user(user_id)).email_enabled = True

    assert side_by_side(instances, prefer_email) == []
    assert count(app, MfaSettings, MfaSettings.user_id == user_id) == 1


def test_a_first_consent_is_remembered_once_with_every_scope(app, instances, make_user):
    user_id = uuid.UUID(make_user()["id"])
    client_id = make_client(app)["client_id"]
    scopes = iter(["openid", "profile", "email", "phone"])
    asked = [{next(scopes)} for _ in instances]
    turn = iter(asked)
    lock = threading.Lock()

    def grant():
        with lock:
            scope = next(turn)
        consents.grant(user_id, client_id, scope, explicit=False)

    assert side_by_side(instances, grant) == []
    assert count(app, Consent, Consent.user_id == user_id) == 1
    with app.app_context():
        assert consents.find(user_id, client_id).scopes == {"openid", "profile", "email",
                                                             "phone"}
