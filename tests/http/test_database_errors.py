"""A database error that is not an outage is a bug: a plain 500, never a 503 that invites
the client to retry the same mistake. Outages behind a proxy the test controls are in
tests/service/test_database_outage.py."""

from sqlalchemy import text

from app.extensions import db


def test_a_statement_the_database_refuses_is_a_500_not_a_503(app):
    @app.get("/v1/broken-query")
    def broken_query():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return {}

    response = app.test_client().get("/v1/broken-query")
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error",
                                   "message": "An unexpected error occurred."}
    assert "Retry-After" not in response.headers


def test_an_unreachable_database_is_a_503_in_the_dialect_envelope(app_factory):
    # Nothing listens on port 1: the connection is refused at once.
    app = app_factory(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().post("/v1/auth/login", json={"email": "a@example.com",
                                                              "password": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == "temporarily_unavailable"
