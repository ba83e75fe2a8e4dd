"""Schemathesis over the five published OpenAPI documents: whatever a document allows, the
server answers without a 500, with a status, content type and body the document lists.

Runs through the WSGI app (no network), derandomized and bounded in examples, with rate
limits off so a limit never stands in for an answer. Operations that need a caller are
run twice: with a live bearer token of a fresh user, and without one.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.core import accounts, api_logins
from app.core.context import ClientInfo
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance)
# Small and reproducible: the point is that every operation's documented shapes are
# exercised on every run, not a long hunt (that is a separate, manual fuzz run).
EXAMPLES = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzzed_app(app_factory):
    # Rate limits off, so a limit never stands in for an answer; the cheapest argon2 cost,
    # since nearly every example that passes the schema hashes or checks a password.
    return app_factory(RATELIMIT_ENABLED=False, ARGON2_MEMORY_KIB=8, ARGON2_TIME_COST=1)


@pytest.fixture
def bearer(fuzzed_app):
    """Headers with a live token of a fresh, verified user, signed in through the dialect
    under test: one user per operation, so an example that signs out or deletes the account
    leaves only the rest of that operation's examples answering 401."""
    made: dict[str, dict] = {}

    def headers_for(dialect_id: str, operation) -> dict:
        if operation.label not in made:
            email = f"fuzz-{len(made)}@example.com"
            with fuzzed_app.app_context():
                accounts.create_user(email=email, password=DEFAULT_PASSWORD,
                                     email_verified=True, client=ClientInfo())
                issued = api_logins.password_login(email, DEFAULT_PASSWORD,
                                                   dialect=dialect_id, client=ClientInfo())
                db.session.commit()
                made[operation.label] = {"Authorization": f"Bearer {issued.access_token}"}
        return made[operation.label]

    return headers_for


def _schema_fixture(dialect_id: str):
    @pytest.fixture
    def loaded(fuzzed_app):
        return schemathesis.openapi.from_wsgi(f"/openapi/{dialect_id}.json", fuzzed_app)
    return loaded


apiauth_schema = _schema_fixture("apiauth")
apiv1_schema = _schema_fixture("apiv1")
cosmicsync_schema = _schema_fixture("cosmicsync")
eventchain_schema = _schema_fixture("eventchain")
modernauth_schema = _schema_fixture("modernauth")


def _run(case, bearer, dialect_id: str) -> None:
    """The case as generated (no token), and, where the operation takes a bearer token,
    with a live one."""
    case.call_and_validate(checks=CHECKS)
    if case.operation.definition.raw.get("security"):
        case.call_and_validate(headers=bearer(dialect_id, case.operation), checks=CHECKS)


def _make_test(dialect_id: str):
    schema = schemathesis.pytest.from_fixture(f"{dialect_id}_schema")

    @schema.parametrize()
    @EXAMPLES
    def test(case, bearer):
        _run(case, bearer, dialect_id)

    return test


test_apiauth_conforms = _make_test("apiauth")
test_apiv1_conforms = _make_test("apiv1")
test_cosmicsync_conforms = _make_test("cosmicsync")
test_eventchain_conforms = _make_test("eventchain")
test_modernauth_conforms = _make_test("modernauth")
