"""Staff decisions about writers: tag to a customer and untag, merge, split, the jobs that carry
out merges and splits, and the writer's audit trail."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.bets import Id
from chalicelib.domain.writers import WriterJob

bp = Blueprint(__name__)
STAFF = (Role.staff,)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TagRequest(Strict):
    customer_id: Id


class TagResult(BaseModel):
    writer_id: str
    customer_id: str
    tagged: bool
    bets_copied: int = 0
    bets_removed: int = 0


class MergeRequest(Strict):
    from_writer_id: Id = Field(description="This writer's slips join the writer in the path; it is retired.")
    note: str | None = Field(default=None, max_length=2000)


class SplitRequest(Strict):
    bet_ids: list[Id] = Field(min_length=1, max_length=5000, description="Slips (bet ids) that move to a new writer.")
    note: str | None = Field(default=None, max_length=2000)


class WriterAudit(BaseModel):
    events: list[AuditEvent]


class CandidateView(BaseModel):
    writer_id: str
    other: str = Field(description="The writer this one may be the same person as.")
    bet_id: str = Field(description="The slip that raised the candidate link.")
    score: float = Field(description="Normalised linking score of the match (join needs more).")
    reason: str
    status: str = Field(description="pending, confirmed or rejected")
    at: str
    decided_by: str | None = None


class CandidateList(BaseModel):
    candidates: list[CandidateView]


@bp.route("/writers/{writer_id}/tags", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Tag the writer to a customer",
        roles=STAFF,
        request=TagRequest,
        response=TagResult,
        errors=(404,),
        tag="writers",
    ),
)
def tag_writer(ctx: Ctx, writer_id: str) -> Response:
    result = wiring.container().writers.tag(writer_id, ctx.body.customer_id, ctx.principal.id)
    return json_response(TagResult.model_validate(result))


@bp.route("/writers/{writer_id}/tags/{customer_id}", methods=["DELETE"])
@endpoint(bp, Spec("Untag the writer from a customer", roles=STAFF, response=TagResult, errors=(404,), tag="writers"))
def untag_writer(ctx: Ctx, writer_id: str, customer_id: str) -> Response:
    result = wiring.container().writers.untag(writer_id, customer_id, ctx.principal.id)
    return json_response(TagResult.model_validate(result))


@bp.route("/writers/{writer_id}/merge", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Merge another writer into this one (a job)",
        roles=STAFF,
        request=MergeRequest,
        response=WriterJob,
        status=202,
        errors=(404, 422),
        tag="writers",
    ),
)
def merge_writers(ctx: Ctx, writer_id: str) -> Response:
    b: MergeRequest = ctx.body
    return json_response(wiring.container().writers.merge(writer_id, b.from_writer_id, ctx.principal.id, b.note), 202)


@bp.route("/writers/{writer_id}/split", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Split slips off into a new writer (a job)",
        roles=STAFF,
        request=SplitRequest,
        response=WriterJob,
        status=202,
        errors=(404, 422),
        tag="writers",
    ),
)
def split_writer(ctx: Ctx, writer_id: str) -> Response:
    b: SplitRequest = ctx.body
    return json_response(wiring.container().writers.split(writer_id, b.bet_ids, ctx.principal.id, b.note), 202)


@bp.route("/jobs/{job_id}", methods=["GET"])
@endpoint(
    bp, Spec("A merge or split job and its progress", roles=STAFF, response=WriterJob, errors=(404,), tag="writers")
)
def get_job(ctx: Ctx, job_id: str) -> Response:
    return json_response(wiring.container().writers.job(job_id))


@bp.route("/writers/{writer_id}/audit", methods=["GET"])
@endpoint(bp, Spec("Staff actions on the writer", roles=STAFF, response=WriterAudit, tag="writers"))
def writer_audit(ctx: Ctx, writer_id: str) -> Response:
    return json_response(WriterAudit(events=wiring.container().writers.audit(writer_id)))


@bp.route("/writers/{writer_id}/candidates", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "Candidate links of the writer (borderline matches for staff)",
        roles=STAFF,
        response=CandidateList,
        tag="writers",
    ),
)
def writer_candidates(ctx: Ctx, writer_id: str) -> Response:
    found = wiring.container().writers.candidates(writer_id)
    return json_response(CandidateList(candidates=[CandidateView(**c.__dict__) for c in found]))


@bp.route("/writers/{writer_id}/candidates/{other_id}/confirm", methods=["POST"])
@endpoint(
    bp,
    Spec(
        "Confirm: the same person (the writers merge, as a job)",
        roles=STAFF,
        response=WriterJob,
        status=202,
        errors=(404, 409, 422),
        tag="writers",
    ),
)
def confirm_candidate(ctx: Ctx, writer_id: str, other_id: str) -> Response:
    return json_response(wiring.container().writers.confirm(writer_id, other_id, ctx.principal.id), 202)


@bp.route("/writers/{writer_id}/candidates/{other_id}/reject", methods=["POST"])
@endpoint(
    bp,
    Spec(
        "Reject: different people (never proposed or merged again)",
        roles=STAFF,
        status=204,
        errors=(404, 409, 422),
        tag="writers",
    ),
)
def reject_candidate(ctx: Ctx, writer_id: str, other_id: str) -> Response:
    wiring.container().writers.reject(writer_id, other_id, ctx.principal.id)
    return Response(body="", status_code=204)
