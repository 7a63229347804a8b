"""HTTP plumbing shared by the routes: JSON errors that name the problem, strict body parsing."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

log = logging.getLogger("betwatch")

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return Response(body=body, status_code=self.status, headers={"Content-Type": "application/json"})


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after", "function-before")) or "body"


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        field = _field(err["loc"])
        # Model-level checks name their field at the start of the message ("shop_id: required ...").
        if field == "body" and ": " in msg and msg.split(": ", 1)[0].isidentifier():
            field, msg = msg.split(": ", 1)
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.append({"field": field, "message": msg})
    return out


def parse_json(raw: bytes | str | None, content_type: str | None, max_bytes: int) -> Any:
    if isinstance(raw, str):
        raw = raw.encode()
    if not raw:
        raise ApiError(400, "empty_body", "request body is empty; send a JSON object")
    if len(raw) > max_bytes:
        raise ApiError(413, "body_too_large", f"request body is {len(raw)} bytes, over the {max_bytes} byte limit")
    if content_type and "json" not in content_type.lower():
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        # Decimal keeps money exact: 0.1 + 0.2 stays 0.3, and 12.345 is seen as 3 decimals.
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        pos = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "malformed_json", f"request body is not valid JSON{pos}") from exc


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        first = details[0]
        raise ApiError(422, "validation_error", f"{first['field']}: {first['message']}", details) from exc


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ApiError into its JSON response; log and hide anything unexpected as a 500."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            return exc.response()
        except Exception:
            log.exception("unhandled error in %s", fn.__name__)
            return ApiError(500, "internal_error", "internal error; it has been logged").response()

    return wrapper


def json_response(
    model: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})
