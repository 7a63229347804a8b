"""HTTP errors in one shape, and the one place domain errors become HTTP statuses."""

from __future__ import annotations

from typing import Any

from chalice import Response
from pydantic import BaseModel, Field, ValidationError

from chalicelib.domain import errors as d

STATUS: dict[type[d.DomainError], int] = {
    d.NotFound: 404,
    d.Conflict: 409,
    d.InvalidParameter: 400,  # before Invalid: the first match counts
    d.Invalid: 422,
    d.Unauthenticated: 401,
    d.Forbidden: 403,
    d.Unavailable: 503,
    d.RateLimited: 429,
}


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer has this shape."""

    error: str = Field(description="Machine-readable code, e.g. validation_error, not_found.")
    message: str = Field(description="What is wrong, for people; names the field where there is one.")
    details: list[dict[str, Any]] = Field(default_factory=list)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return Response(
            body=body, status_code=self.status, headers={"Content-Type": "application/json", **self.headers}
        )


def from_domain(exc: d.DomainError) -> ApiError:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    retry_after = exc.retry_after_s if isinstance(exc, (d.Unavailable, d.RateLimited)) else None
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ApiError(status, exc.code, exc.message, exc.details, headers)


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


def invalid(exc: ValidationError, where: str = "") -> ApiError:
    details = validation_details(exc)
    if where:
        details = [{**x, "field": f"{where}.{x['field']}" if x["field"] != "body" else where} for x in details]
    first = details[0]
    return ApiError(422 if not where else 400, "validation_error", f"{first['field']}: {first['message']}", details)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


# Chalice's own answers (a method a route does not declare, its 415, its 500) and their codes in ours.
CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}


def in_our_shape(response: Response) -> Response:
    """Chalice's own error answers ({"Code": ..., "Message": ...}) in the one error shape."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    code = CHALICE_CODES.get(str(body["Code"]), "error")
    message = str(body["Message"])
    if code == "method_not_allowed" and (allowed := response.headers.get("Allow")):
        message = f"{message}; this path takes {allowed}"
    return ApiError(
        response.status_code, code, message, headers={k: str(v) for k, v in response.headers.items()}
    ).response()
