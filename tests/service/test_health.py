"""GET /health reports what this instance depends on."""


def test_health_reports_database_ok(client, redis_url):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    if redis_url:
        assert body["checks"]["redis"] == "ok"
    else:
        assert "redis" not in body["checks"]


def test_health_is_503_when_redis_is_unreachable(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable", "checks": {"database": "ok", "redis": "unreachable"}}


def test_health_is_503_when_database_is_unreachable(app_factory, tmp_path):
    app = app_factory(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"
