"""The `endpoint` decorator: auth, strict body and query parsing, the mapping of errors, and the
OpenAPI metadata of a route — declared once per route and used both at run time and by
`/openapi.json`. Routing stays on Chalice's decorators (see the README for why)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalice import Response
from chalice.app import Blueprint, Chalice, Request
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import ApiError, from_domain, invalid
from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import DomainError

# Chalice answers 415 itself, in its own shape, for content types a route does not list: every
# route takes any, and the body parser answers 415 in ours.
ANY_CONTENT = ["*/*"]


@dataclass(frozen=True)
class Spec:
    summary: str
    roles: tuple[Role, ...] | None  # None: public
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "betwatch"
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    # Other successful answers and what they mean, e.g. {200: "replay of a stored bet"}.
    also: dict[int, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # request headers the route reads


@dataclass
class Ctx:
    request: Request
    _principal: Principal | None
    body: Any = None
    query: Any = None

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "public routes have no principal"
        return self._principal


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            # A till and the server must not disagree about which "stake" counted.
            raise ApiError(400, "malformed_json", f"request body repeats the key {k!r}")
        out[k] = v
    return out


# Longest number literal taken: far above any stake, odds or count, far below Python's
# int-conversion limit (4,300 digits), so a 5,000-digit stake is a 400, not a 500.
MAX_NUMBER_CHARS = 40
# Magnitudes taken (short literals such as 1e400 too): every amount, threshold and count fits, and
# so does DynamoDB's number type (38 digits, 1e-130 to 1e125).
MAX_MAGNITUDE = Decimal("1e15")
MIN_MAGNITUDE = Decimal("1e-12")


def _number(kind: type[int] | type[Decimal]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise ApiError(
                400,
                "malformed_json",
                f"request body has a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})",
            )
        value = kind(text)
        if value and not MIN_MAGNITUDE <= abs(Decimal(value)) < MAX_MAGNITUDE:
            raise ApiError(400, "malformed_json", f"request body has the number {text}, out of range (up to 1e15)")
        return value

    return parse


def _no_constant(name: str) -> Any:
    raise ApiError(400, "malformed_json", f"request body has {name}, which is not JSON")


def _unsafe_char(text: str) -> str | None:
    """The first character no field may hold: NUL and other control characters (tab and line
    breaks aside), direction overrides and isolates (which make text read other than it is stored)
    and lone surrogates (which no store can encode)."""
    for ch in text:
        o = ord(ch)
        if (o < 0x20 and ch not in "\t\n\r") or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            return ch
        if 0xD800 <= o <= 0xDFFF:
            return ch
    return None


MAX_DEPTH = 32  # no request model nests deeper than 4


def _check_strings(doc: Any) -> None:
    stack: list[tuple[str, int, Any]] = [("", 0, doc)]
    while stack:
        path, depth, node = stack.pop()
        if depth > MAX_DEPTH and isinstance(node, (dict, list)):
            raise ApiError(400, "malformed_json", f"request body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for k, v in node.items():
                stack.append((f"{path}.{k}" if path else k, depth + 1, v))
                if (bad := _unsafe_char(k)) is not None:
                    raise _unsafe(path or "body", bad, "a key")
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), depth + 1, v) for i, v in enumerate(node))
        elif isinstance(node, str) and (bad := _unsafe_char(node)) is not None:
            raise _unsafe(path or "body", bad, "")


def _unsafe(field: str, ch: str, what: str) -> ApiError:
    msg = f"{what + ' ' if what else ''}contains the control character U+{ord(ch):04X}, which is not allowed"
    return ApiError(422, "validation_error", f"{field}: {msg}", [{"field": field, "message": msg}])


def parse_json(raw: bytes | str | None, content_type: str | None, max_bytes: int) -> Any:
    if isinstance(raw, str):
        raw = raw.encode()
    if not content_type or content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json (Content-Type header)")
    if not raw:
        raise ApiError(400, "empty_body", "request body is empty; send a JSON object")
    if len(raw) > max_bytes:
        raise ApiError(413, "body_too_large", f"request body is {len(raw)} bytes, over the {max_bytes} byte limit")
    try:
        # Decimal keeps money exact: 0.1 + 0.2 stays 0.3, and 12.345 is seen as 3 decimals.
        doc = json.loads(
            raw,
            parse_float=_number(Decimal),
            parse_int=_number(int),
            parse_constant=_no_constant,
            object_pairs_hook=_no_duplicates,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        pos = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "malformed_json", f"request body is not valid JSON{pos}") from exc
    except RecursionError as exc:
        raise ApiError(400, "malformed_json", "request body is nested too deeply") from exc
    _check_strings(doc)
    return doc


def parse_model(model: type[BaseModel], data: Any) -> BaseModel:
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc


def parse_query(model: type[BaseModel], params: Mapping[str, str] | None) -> BaseModel:
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        details = [{"field": f"query.{'.'.join(map(str, e['loc'])) or '?'}", "message": e["msg"]} for e in exc.errors()]
        first = details[0]
        raise ApiError(400, "invalid_parameter", f"{first['field'][6:]}: {first['message']}", details) from exc


# A timestamp with an offset, as stores and models spell it (+00:00, Z, with or without fractions).
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def rfc3339(value: Any) -> Any:
    """Every timestamp in an answer in one format (`core.clock.rfc3339`: UTC with `Z`)."""
    if isinstance(value, str):
        if len(value) <= 32 and _TIMESTAMP.fullmatch(value):
            try:
                return clock.rfc3339(datetime.fromisoformat(value))
            except (ValueError, OverflowError):
                return value
        return value
    if isinstance(value, dict):
        return {k: rfc3339(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rfc3339(v) for v in value]
    return value


def json_response(
    model: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = rfc3339(model.model_dump(mode="json") if isinstance(model, BaseModel) else model)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def endpoint(app: Chalice | Blueprint, spec: Spec) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a route: authenticate and authorise, parse body and query, map every error."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(**path: str) -> Any:
            from chalicelib import wiring

            try:
                request = app.current_request
                assert request is not None
                headers = dict(request.headers)
                principal = None
                if spec.roles is not None:
                    principal = wiring.container().access.require(headers, *spec.roles)
                body = query = None
                if spec.request is not None:
                    max_bytes = wiring.container().settings.max_body_bytes
                    body = parse_model(
                        spec.request, parse_json(request.raw_body, headers.get("content-type"), max_bytes)
                    )
                if spec.query is not None:
                    query = parse_query(spec.query, request.query_params)
                return fn(Ctx(request, principal, body, query), **path)
            except ApiError as exc:
                return exc.response()
            except DomainError as exc:
                return from_domain(exc).response()
            except Exception:  # noqa: BLE001 - logged, answered as a 500 in our shape
                logger.exception("unhandled error", extra={"route": fn.__name__})
                return ApiError(500, "internal_error", "internal error; it has been logged").response()

        wrapper.__betwatch_spec__ = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate
