"""Health and the API's own documentation (public)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib import wiring
from chalicelib.api import openapi
from chalicelib.api.spec import Ctx, Spec, endpoint, json_response

bp = Blueprint(__name__)


class Health(BaseModel):
    status: str = Field(description="ok, or degraded (then the answer is 503)")
    model_loaded: bool
    tables_reachable: bool
    detail: dict[str, str] = Field(default_factory=dict)


@bp.route("/health", methods=["GET"])
@endpoint(bp, Spec("Model loaded and tables reachable", roles=None, response=Health, also={503: "Degraded"}))
def health(ctx: Ctx) -> Response:
    h = wiring.container().health.check()
    body = Health(status="ok" if h.ok else "degraded", **h.__dict__)
    return json_response(body, 200 if h.ok else 503)


@bp.route("/openapi.json", methods=["GET"])
def openapi_json() -> dict[str, Any]:
    return openapi.document(bp.current_app)


@bp.route("/docs", methods=["GET"])
def docs() -> Response:
    return Response(body=openapi.SWAGGER_HTML, headers={"Content-Type": "text/html; charset=utf-8"})
