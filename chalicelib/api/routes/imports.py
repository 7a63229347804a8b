"""History imports: start one (a presigned upload of the CSV), follow it, download its error CSV."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib import wiring
from chalicelib.api.errors import ApiError
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.imports import ImportJob, ImportRequest, ImportState

bp = Blueprint(__name__)


class ImportUpload(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Form fields to send, before the `file` field, in a multipart POST.")
    object_key: str
    max_bytes: int
    expires_in: int


class ImportView(BaseModel):
    import_id: str
    state: ImportState
    filename: str
    raise_alerts: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    rows_read: int
    recorded: int = Field(description="Rows whose bet this import stored.")
    duplicates: int = Field(description="Rows whose bet was already stored with the same details.")
    rejected: int = Field(description="Rows written to the error CSV.")
    chunks_done: int
    bytes_read: int = Field(description="How far into the file the job is (for a progress bar).")
    error: str | None = Field(default=None, description="Why the import failed as a whole (its header).")
    errors_url: str | None = Field(default=None, description="A short-lived link to the error CSV, once done.")


class ImportStarted(BaseModel):
    import_id: str
    state: ImportState
    upload: ImportUpload


class ErrorsLink(BaseModel):
    url: str
    expires_in: int


def _view(job: ImportJob, url: str | None) -> ImportView:
    fields = job.model_dump(include=set(ImportView.model_fields))
    return ImportView(**fields, chunks_done=job.next_chunk, bytes_read=job.offset, errors_url=url)


@bp.route("/imports", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Start a history import: a presigned POST for the CSV",
        roles=(Role.staff,),
        request=ImportRequest,
        response=ImportStarted,
        status=201,
        tag="imports",
    ),
)
def start_import(ctx: Ctx) -> Response:
    job, upload = wiring.container().imports.start(ctx.body, ctx.principal.id)
    body = ImportStarted(import_id=job.import_id, state=job.state, upload=ImportUpload(**upload))
    return json_response(body, 201, {"Location": f"/imports/{job.import_id}"})


@bp.route("/imports/{import_id}", methods=["GET"])
@endpoint(
    bp, Spec("A history import's progress", roles=(Role.staff,), response=ImportView, errors=(404,), tag="imports")
)
def get_import(ctx: Ctx, import_id: str) -> Response:
    imports = wiring.container().imports
    return json_response(_view(imports.get(import_id), imports.errors_url(import_id)))


@bp.route("/imports/{import_id}/errors", methods=["GET"])
@endpoint(
    bp,
    Spec("A short-lived link to the import's error CSV", roles=(Role.staff,), response=ErrorsLink, errors=(404,),
         tag="imports"),
)  # fmt: skip
def import_errors(ctx: Ctx, import_id: str) -> Response:
    c = wiring.container()
    url = c.imports.errors_url(import_id)
    if url is None:
        raise ApiError(404, "not_found", f"import {import_id} has no error CSV (still running, or no row rejected)")
    return json_response(ErrorsLink(url=url, expires_in=c.settings.presign_expires_s))
