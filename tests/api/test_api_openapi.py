"""OpenAPI 3.1 per dialect, generated from the validation schemas, and the /docs page."""

import pytest

from app.api import registry

MOUNTS = {"cosmicsync": "", "apiauth": "/api/auth", "apiv1": "/api/v1/auth",
          "eventchain": "/eventchain/v1/auth", "modernauth": "/v1"}


@pytest.mark.parametrize("dialect_id", sorted(MOUNTS))
def test_each_dialect_publishes_every_route_with_its_schemas(client, dialect_id):
    response = client.get(f"/openapi/{dialect_id}.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    dialect = registry.load(dialect_id)
    documented = {(method.upper(), path) for path, operations in document["paths"].items()
                  for method in operations}
    for route in dialect.routes:
        path = MOUNTS[dialect_id] + route.rule.replace("<", "{").replace(">", "}")
        for method in route.methods:
            assert (method, path) in documented
            operation = document["paths"][path][method.lower()]
            if route.request is not None:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                # The very schema the view validates with: its required fields are listed.
                required = [field.alias or name for name, field
                            in route.request.model_fields.items() if field.is_required()]
                assert sorted(schema.get("required", [])) == sorted(required)
            if route.auth:
                assert operation["security"] == [{"bearer": []}]


def test_an_unknown_or_switched_off_dialect_has_no_document(app_factory):
    client = app_factory(API_MOUNTS="apiauth=off").test_client()
    assert client.get("/openapi/apiauth.json").status_code == 404
    assert client.get("/openapi/nosuch.json").status_code == 404


def test_docs_page_lists_every_dialect_without_external_assets(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for dialect_id in MOUNTS:
        assert f'id="{dialect_id}"' in html
        assert f"/openapi/{dialect_id}.json" in html
    assert "/v1/auth/login" in html and "https://" not in html
    assert "<script" not in html
