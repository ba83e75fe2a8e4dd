"""OpenAPI 3.1 documents generated from the schemas the dialects validate with, and /docs."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, render_template

from app.api import registry

bp = Blueprint("openapi", __name__)
PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def _schema(model, components: dict) -> dict:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document(dialect_id: str) -> dict:
    mounts = current_app.extensions.get("tessera.api_mounts", {})
    if dialect_id not in mounts:
        abort(404)
    dialect = registry.load(dialect_id)
    prefix = "" if mounts[dialect_id] == "/" else mounts[dialect_id]
    components: dict = {}
    example_error = dialect.error_body(400, "validation", "email: This field is required.",
                                       "email")
    paths: dict = {}
    for route in dialect.routes:
        path = prefix + PATH_PARAM.sub(r"{\1}", route.rule)
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in PATH_PARAM.findall(route.rule)]
        if route.query is not None:
            params += [{"name": spec.alias or name, "in": "query",
                        "required": spec.is_required(), "schema": {"type": "string"}}
                       for name, spec in route.query.model_fields.items()]
        for method in route.methods:
            success = {"description": route.summary or "Success"}
            if route.response is not None:
                success["content"] = {"application/json": {
                    "schema": _schema(route.response, components)}}
            operation = {
                "operationId": f"{dialect_id}_{route.name}_{method.lower()}",
                "summary": route.summary,
                "responses": {
                    str(route.status): success,
                    "400": {"description": "Invalid input, in the document's error envelope",
                            "content": {"application/json": {"example": example_error}}},
                },
            }
            if params:
                operation["parameters"] = params
            if route.request is not None:
                operation["requestBody"] = {"required": route.body_required, "content": {
                    "application/json": {"schema": _schema(route.request, components)}}}
            if route.auth:
                operation["security"] = [{"bearer": []}]
                operation["responses"]["401"] = {"description": "Missing or invalid token"}
            if route.limit:
                operation["responses"]["429"] = {
                    "description": f"Rate limited ({dialect.limit_for(current_app, route.limit)})"}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": dialect.title, "version": "1.0.0",
                 "description": f"Tessera's {dialect_id} dialect, mounted at "
                                f"{mounts[dialect_id]}."},
        "servers": [{"url": current_app.config["ISSUER"]}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


@bp.get("/openapi/<dialect_id>.json")
def openapi_json(dialect_id: str):
    return jsonify(document(dialect_id))


@bp.get("/docs")
def docs():
    mounts = current_app.extensions.get("tessera.api_mounts", {})
    documents = [document(dialect_id) | {"id": dialect_id} for dialect_id in mounts]
    return render_template("docs.html", documents=documents)
