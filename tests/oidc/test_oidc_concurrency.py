"""Concurrent requests of one person over a live server on PostgreSQL: first-time rows
(the remembered consent) are created once, with no error for the requests that lose."""

import threading

import httpx
import pytest
from sqlalchemy import func, select

from app.models import Consent
from tests.conftest import login
from tests.support.flow import REDIRECT_URI, authorize_params, make_client
from tests.support.pkce import pkce_pair

PARALLEL = 24


@pytest.fixture
def on_postgresql(database):
    if database.kind != "postgresql":
        # CI's SQLite pass skips it; its PostgreSQL pass runs it (a named database that is
        # down fails the run in conftest).
        pytest.skip("needs PostgreSQL (TESSERA_TEST_DATABASE_URL): SQLite serializes writers")


def test_parallel_first_authorizations_of_a_skip_consent_client_all_succeed(
        on_postgresql, app, live_server, client, make_user, query):
    rp = make_client(app, skip_consent=True)
    login(client, make_user()["email"])
    cookie = client.get_cookie("tessera_session").value
    outcomes: list[tuple[int, str]] = []
    barrier = threading.Barrier(PARALLEL)

    def authorize():
        params = authorize_params(rp, pkce_pair()[1])
        with httpx.Client(base_url=live_server, cookies={"tessera_session": cookie},
                          timeout=30) as http:
            barrier.wait(timeout=30)
            response = http.get("/oauth2/authorize", params=params)
        outcomes.append((response.status_code, response.headers.get("location", "")))

    threads = [threading.Thread(target=authorize) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == PARALLEL
    assert [status for status, _ in outcomes] == [302] * PARALLEL, outcomes
    assert all(location.startswith(REDIRECT_URI) and "code=" in location
               for _, location in outcomes), outcomes
    assert query(lambda s: s.scalar(select(func.count()).select_from(Consent))) == 1
