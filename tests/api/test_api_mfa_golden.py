"""The MFA envelopes of every dialect, pinned by tests/api/golden/mfa/<dialect>.json (regenerate
with TESSERA_UPDATE_GOLDEN=1): the answer to a password of a user with MFA, a wrong code,
and the finished login. apiauth and eventchain have no MFA step: only their refusal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.api.test_api_scenarios import shape
from tests.support.api_mfa import enable_totp
from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.flow import make_client

GOLDEN = Path(__file__).parent / "golden" / "mfa"
EMAIL = "ada@example.com"

# dialect -> (path finishing a login, the body's token and code field names)
FINISH = {
    "cosmicsync": ("/auth/mfa/verify", "mfa_token", "code"),
    "apiv1": ("/api/v1/auth/verify-totp", "mfaToken", "code"),
    "modernauth": ("/v1/auth/login/mfa", "mfa_token", "code"),
}


@pytest.fixture
def context(app):
    return {"application_id": make_client(app, name="Golden app")["client_id"]}


@pytest.mark.parametrize("dialect_id", sorted(ADAPTERS))
def test_mfa_envelopes(app, client, context, clock, dialect_id):
    dialect = ADAPTERS[dialect_id]
    assert dialect.register(client, EMAIL, PASSWORD, context).status_code == \
        dialect.register_status
    secret = enable_totp(app, EMAIL, clock)
    first = dialect.login(client, EMAIL, PASSWORD, context)
    observed = {"login": shape(first.get_json()), "login_status": first.status_code}
    if dialect_id in FINISH:
        path, token_field, code_field = FINISH[dialect_id]
        body = first.get_json()
        token = (body.get("data") or body)[token_field]
        wrong = client.post(path, json={token_field: token, code_field: "000000"})
        right = client.post(path, json={token_field: token, code_field: clock.code(secret)})
        assert right.status_code == 200, right.get_json()
        observed |= {"wrong_code": shape(wrong.get_json()), "wrong_code_status":
                     wrong.status_code, "finished": shape(right.get_json())}
    golden = GOLDEN / f"{dialect_id}.json"
    if os.environ.get("TESSERA_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(observed, indent=2, sort_keys=True) + "\n")
    assert observed == json.loads(golden.read_text())
