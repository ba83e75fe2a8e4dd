"""Dialects whose document has no second-factor step never let an MFA user in on a password:
apiauth and eventchain refuse with 403 mfa_required in their own envelope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, AuthSession
from tests.support.api_mfa import enable_totp
from tests.support.dialects import ADAPTERS, PASSWORD

EMAIL = "ada@example.com"


@pytest.fixture
def totp_user(app, make_user, clock):
    """A user whose authenticator app is on (set up through core, as any page would)."""
    created = make_user(email=EMAIL, password=PASSWORD)
    enable_totp(app, EMAIL, clock)
    return created


@pytest.mark.parametrize("dialect", ["apiauth", "eventchain"])
def test_a_password_alone_is_refused_for_an_mfa_user(client, totp_user, query, dialect):
    adapter = ADAPTERS[dialect]
    before = query(lambda s: s.scalar(select(func.count()).select_from(AuthSession)))
    response = adapter.login(client, EMAIL, PASSWORD, {})
    body = response.get_json()
    assert response.status_code == 403, body
    assert adapter.error_code(body) == "mfa_required"
    assert "token" not in body and "accessToken" not in str(body)
    assert "jwt" not in response.headers.get("Set-Cookie", "")
    assert query(lambda s: s.scalar(select(func.count()).select_from(AuthSession))) == before
    refused = query(lambda s: s.scalars(select(AuditEvent.details).where(
        AuditEvent.event == "login.failed")).all())
    assert any(d.get("reason") == "mfa_required" for d in refused)


@pytest.mark.parametrize("dialect", ["apiauth", "eventchain"])
def test_a_wrong_password_still_says_invalid_credentials(client, totp_user, dialect):
    adapter = ADAPTERS[dialect]
    response = adapter.login(client, EMAIL, "not the password at all", {})
    assert response.status_code == 401
    assert adapter.error_code(response.get_json()) in ("invalid_credentials", "AUTH_001")


def test_the_refusal_envelopes(client, totp_user):
    apiauth = ADAPTERS["apiauth"].login(client, EMAIL, PASSWORD, {}).get_json()
    assert apiauth["status"] == "fail" and apiauth["code"] == "mfa_required"
    eventchain = ADAPTERS["eventchain"].login(client, EMAIL, PASSWORD, {}).get_json()
    assert eventchain["success"] is False
    assert eventchain["error"]["code"] == "mfa_required"
