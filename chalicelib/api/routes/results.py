"""Results: an event's finishing order, SPs, non-runners and each-way terms settle its open bets.

The body is a results file's JSON (`domain/results.py`): one result object, or a list of them."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from chalicelib import wiring
from chalicelib.api.errors import ApiError, invalid
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response, parse_json
from chalicelib.domain.access import Role
from chalicelib.domain.results import EventResult

bp = Blueprint(__name__)
MAX_RESULTS = 100
_RESULTS = TypeAdapter(list[EventResult])


class ResultSettled(BaseModel):
    event: str
    event_key: str = Field(description="How bets' events are matched to the result ('14:30 ascot').")
    version: str = Field(description="A hash of the result: the same result again settles nothing twice.")
    bets: int = Field(description="Bets found on the event (open, or settled with an earlier version).")
    settled: int = Field(description="Settled now (or re-settled with a corrected result).")
    unchanged: int = Field(description="Already settled with these results.")
    still_open: int = Field(description="Waiting for another leg's result, or left to a person.")
    settled_ids: list[str]


class ResultsSettled(BaseModel):
    results: list[ResultSettled]


def parse_results(data: Any) -> list[EventResult]:
    """One result (errors name its fields) or a list (errors name the index: '0.positions')."""
    if isinstance(data, list) and not 1 <= len(data) <= MAX_RESULTS:
        raise ApiError(422, "validation_error", f"results: send 1 to {MAX_RESULTS} results")
    if not isinstance(data, (list, dict)):
        raise ApiError(422, "validation_error", "request body must be a result object or a list of them")
    try:
        return _RESULTS.validate_python(data) if isinstance(data, list) else [EventResult.model_validate(data)]
    except ValidationError as exc:
        raise invalid(exc) from exc


@bp.route("/results", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Settle the bets on events with their results (one result or a list, as in a results file)",
        roles=(Role.staff,),
        response=ResultsSettled,
        errors=(400, 413, 415, 422),
        tag="results",
    ),
)
def post_results(ctx: Ctx) -> Response:
    c = wiring.container()
    data = parse_json(ctx.request.raw_body, ctx.request.headers.get("content-type"), c.settings.max_body_bytes)
    reports = c.settler.post_results(parse_results(data))
    return json_response(ResultsSettled(results=[ResultSettled(**vars(r)) for r in reports]))
