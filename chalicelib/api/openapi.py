"""OpenAPI 3.1 document generated from the routes' Specs and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from chalice import Chalice
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.errors import ErrorBody
from chalicelib.api.spec import Spec
from chalicelib.web import assets

REF = "#/components/schemas/{model}"

# Swagger UI's own assets from the package (chalicelib/web): /docs works with no network beyond the API.
SWAGGER_HTML = assets.docs_html()

REASONS = {
    200: "OK",
    400: "Malformed request or query parameter",
    401: "Missing or invalid credentials",
    403: "Role not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Not application/json",
    422: "Validation error naming the field",
    429: "Too many failed attempts: locked out for Retry-After seconds",
    503: "A dependency is busy or down; retry after Retry-After seconds",
}


def routes(app: Chalice) -> list[tuple[str, str, Spec]]:
    out: list[tuple[str, str, Spec]] = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            spec = getattr(entry.view_function, "__betwatch_spec__", None)
            if spec is not None:
                out.append((path, method.lower(), spec))
    return out


def _query_params(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    # Enums and other models a parameter names go to components/schemas with the rest.
    schema = model.model_json_schema(ref_template=REF)
    defs.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def document(app: Chalice, version: str = "1.0.0") -> dict[str, Any]:
    specs = routes(app)
    models: set[type[BaseModel]] = {ErrorBody}
    for _, _, s in specs:
        models.update(m for m in (s.request, s.response) if m is not None)
    _, schemas = models_json_schema(
        [
            (m, "validation" if any(s.request is m for *_, s in specs) else "serialization")
            for m in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    query_defs: dict[str, Any] = {}
    for path, method, s in specs:
        op: dict[str, Any] = {"summary": s.summary, "tags": [s.tag], "operationId": _op_id(method, path)}
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in re.findall(r"{(\w+)}", path)
        ]
        if s.query is not None:
            params += _query_params(s.query, query_defs)
        params += [
            {"name": h, "in": "header", "required": False, "schema": {"type": "string"}, "description": d}
            for h, d in s.headers.items()
        ]
        if params:
            op["parameters"] = params
        if s.request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=s.request.__name__)}}},
            }
        ok: dict[str, Any] = {"description": REASONS.get(s.status, "OK")}
        if s.response is not None:
            ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=s.response.__name__)}}}
        responses: dict[str, Any] = {str(s.status): ok}
        for code, what in s.also.items():
            responses[str(code)] = {**ok, "description": what}
        err = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
        codes = set(s.errors)
        if s.request is not None:
            codes |= {400, 413, 415, 422}
        if s.query is not None:
            codes |= {400}
        if s.roles is not None:  # credentials are looked up: a busy principals table is a 503
            codes |= {401, 403, 503}
            op["security"] = [{"apiKey": []}, {"bearer": []}]
            op["description"] = "Roles: " + ", ".join(r.value for r in s.roles) + " (admin may do everything)."
        for code in sorted(codes):
            responses[str(code)] = {"description": REASONS.get(code, "Error"), **err}
        op["responses"] = responses
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "betwatch",
            "version": version,
            "description": "Bet monitoring and customer-behaviour tracking for bookmakers. "
            "Money is in integer minor units; times are UTC (RFC 3339).",
        },
        "paths": paths,
        "components": {
            "schemas": {**query_defs, **schemas.get("$defs", {})},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


def _op_id(method: str, path: str) -> str:
    return method + "".join(p.strip("{}").title() for p in path.split("/") if p)
