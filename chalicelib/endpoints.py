"""The `endpoint` decorator: auth, body parsing, JSON errors, and the OpenAPI metadata of a route.

Routes declare their roles and pydantic request/response models once; the same declaration drives
the checks at run time and the generated `/openapi.json`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Chalice, Request
from pydantic import BaseModel

from chalicelib.auth import Principal, Role, require
from chalicelib.config import settings
from chalicelib.http import handle_errors, parse_json, parse_model

# Chalice answers 415 itself for content types a route does not list; let our parser do it with a
# clear JSON error instead.
ANY_CONTENT = [
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/octet-stream",
]


@dataclass(frozen=True)
class Spec:
    summary: str
    roles: tuple[Role, ...] | None  # None: public
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "betwatch"
    query: dict[str, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


@dataclass
class Ctx:
    request: Request
    _principal: Principal | None
    body: Any = None

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "public routes have no principal"
        return self._principal


def endpoint(app: Chalice, spec: Spec) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        @handle_errors
        def wrapper(**path: str) -> Any:
            request = app.current_request
            assert request is not None
            headers = dict(request.headers)
            principal = require(headers, *spec.roles) if spec.roles is not None else None
            body = None
            if spec.request is not None:
                data = parse_json(request.raw_body, headers.get("content-type"), settings().max_body_bytes)
                body = parse_model(spec.request, data)
            return fn(Ctx(request, principal, body), **path)

        wrapper.__betwatch_spec__ = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate
