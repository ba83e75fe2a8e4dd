"""OpenAPI 3.1 documents generated from the schemas the dialects validate with, and /docs.

Each operation's error responses come from what its route declares (see Route.may_raise)
mapped through the dialect's error table, plus what the request edge answers on its own:
413 and 415 for a body, 429 for a rate limit, 503 when a backing service is down. So a
status the server can answer is a status the document lists.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from flask import Blueprint, abort, current_app, jsonify, render_template

from app.api import fields, registry
from app.api.dialect import HTTP_ERROR_CODES, Dialect, Route

bp = Blueprint("openapi", __name__)
PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def _schema(model, components: dict, *, request: bool = False) -> dict:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    if request:
        fields.apply_settings(schema, current_app.config)
        _bound_strings(schema)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _bound_strings(schema: object) -> None:
    """Every request string is at most Body's str_max_length long, which pydantic enforces
    but leaves out of the schema."""
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            schema["maxLength"] = min(schema.get("maxLength", fields.TEXT_MAX_LENGTH),
                                      fields.TEXT_MAX_LENGTH)
        for value in schema.values():
            _bound_strings(value)
    elif isinstance(schema, list):
        for value in schema:
            _bound_strings(value)


def _query_parameters(model) -> list[dict]:
    """The query string's parameters, each with its field's own schema (lengths, enums)."""
    properties = model.model_json_schema(by_alias=True).get("properties", {})
    parameters = []
    for name, spec in model.model_fields.items():
        schema = dict(properties.get(spec.alias or name, {"type": "string"}))
        schema.pop("title", None)
        schema.pop("default", None)
        _bound_strings(schema)
        parameters.append({"name": spec.alias or name, "in": "query",
                           "required": spec.is_required(), "schema": schema})
    return parameters


# What the edge answers by itself, whatever the view: the status and why.
EDGE_ERRORS = {413: "The request body is too large",
               415: "The body is not sent as application/json",
               503: "A service Tessera depends on is unavailable; retry after Retry-After"}


def _shape_of(value: object, always: object) -> dict:
    """A JSON schema of the error envelope, read off two bodies the dialect renders, with
    and without a field at fault: a member of both is required, with its type; one only
    sent sometimes (the field) is described but optional; others (how many tries are left)
    are allowed besides."""
    if isinstance(value, dict):
        always = always if isinstance(always, dict) else {}
        return {"type": "object", "required": sorted(always),
                "properties": {key: _shape_of(item, always.get(key))
                               for key, item in value.items()}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    return {"type": "string"}


def error_schema(dialect: Dialect) -> dict:
    return _shape_of(dialect.error_body(400, "validation", "", "field"),
                     dialect.error_body(400, "validation", "", None))


ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def error_responses(dialect: Dialect, route: Route) -> dict[str, dict]:
    """The documented error answers of a route, each with the codes it may carry and an
    example in the dialect's envelope."""
    codes: dict[int, dict[str, str]] = {}  # status -> code -> an example message

    def add(status: int, code: str, message: str) -> None:
        codes.setdefault(status, {}).setdefault(code, message)

    for kind in route.may_raise():
        add(*dialect.mapped(kind), kind.message)
    if route.request is not None:
        add(413, HTTP_ERROR_CODES[413], EDGE_ERRORS[413] + ".")
        add(415, "unsupported_media_type", EDGE_ERRORS[415] + ".")
    if route.limit:
        add(429, HTTP_ERROR_CODES[429], "Too many requests. Try again later.")
    add(503, "service_unavailable", EDGE_ERRORS[503] + ".")
    responses = {}
    for status in sorted(codes):
        reason = EDGE_ERRORS.get(status) or HTTPStatus(status).phrase
        code, message = next(iter(codes[status].items()))
        responses[str(status)] = {
            "description": f"{reason} ({', '.join(codes[status])})",
            "content": {"application/json": {
                "schema": ERROR_SCHEMA,
                "example": dialect.error_body(status, code, message, None)}}}
    return responses


def document(dialect_id: str) -> dict:
    mounts = current_app.extensions.get("tessera.api_mounts", {})
    if dialect_id not in mounts:
        abort(404)
    dialect = registry.load(dialect_id)
    prefix = "" if mounts[dialect_id] == "/" else mounts[dialect_id]
    components: dict = {"Error": error_schema(dialect)}
    paths: dict = {}
    for route in dialect.routes:
        path = prefix + PATH_PARAM.sub(r"{\1}", route.rule)
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in PATH_PARAM.findall(route.rule)]
        if route.query is not None:
            params += _query_parameters(route.query)
        for method in route.methods:
            success = {"description": route.summary or "Success"}
            if route.response is not None:
                success["content"] = {"application/json": {
                    "schema": _schema(route.response, components)}}
            operation = {
                "operationId": f"{dialect_id}_{route.name}_{method.lower()}",
                "summary": route.summary,
                "responses": {str(route.status): success,
                              **error_responses(dialect, route)},
            }
            if params:
                operation["parameters"] = params
            if route.request is not None:
                body = _schema(route.request, components, request=True)
                operation["requestBody"] = {"required": route.body_required, "content": {
                    "application/json": {"schema": body}}}
            if route.auth:
                operation["security"] = [{"bearer": []}]
            if route.limit:
                operation["description"] = (
                    f"Rate limited: {dialect.limit_for(current_app, route.limit)}.")
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
