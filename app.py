"""betwatch: the Chalice app. API routes (one Blueprint per resource in chalicelib/api/routes),
the slip-clustering queue consumer and the rule schedule, with logs, metrics and traces as middleware.

Handlers are a few lines over the services (chalicelib/services) that chalicelib/wiring.py builds.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from chalice import Chalice, Rate
from pydantic import Json

from chalicelib import wiring
from chalicelib.api.errors import in_our_shape
from chalicelib.api.routes import (
    access,
    alerts,
    bets,
    feed,
    imports,
    intake,
    reports,
    results,
    rules,
    subjects,
    system,
    web,
    writers,
)
from chalicelib.core import observability as obs
from chalicelib.core.config import settings
from chalicelib.core.observability import logger, tracer
from chalicelib.core.resources import queue, schedule
from chalicelib.domain.imports import ImportStep
from chalicelib.domain.intake import S3Notification, S3TestEvent, file_refs
from chalicelib.domain.slips import ClusteringMessage
from chalicelib.domain.writers import JobMessage
from chalicelib.services.clustering import StaleSlip

app = Chalice(app_name="betwatch")
BLUEPRINTS = (system, access, bets, subjects, alerts, rules, writers, feed, reports, intake, results, imports, web)
for blueprint in (m.bp for m in BLUEPRINTS):
    app.register_blueprint(blueprint)


@app.middleware("http")
def observe_http(event: Any, get_response: Any) -> Any:
    ctx = getattr(event, "lambda_context", None)
    request_id = event.context.get("requestId") or getattr(ctx, "aws_request_id", None) or uuid.uuid4().hex
    logger.set_correlation_id(request_id)
    logger.append_keys(route=event.context.get("resourcePath"), method=event.method)
    try:
        with tracer.provider.in_subsegment(f"## {event.method} {event.context.get('resourcePath')}"):
            response = in_our_shape(get_response(event))
        logger.info("request done", extra={"status": response.status_code})
    finally:
        obs.flush()
        logger.remove_keys(["route", "method"])
    response.headers["X-Request-Id"] = request_id
    return response


class ClusteringRecord(SqsRecordModel):
    body: Json[ClusteringMessage]  # type: ignore[assignment]


@app.on_sqs_message(queue=settings().queue("slip-clustering"), batch_size=queue("slip-clustering").batch_size)
def cluster_slips(event: Any) -> dict[str, Any]:
    clusterer = wiring.container().clusterer()

    def record_handler(record: ClusteringRecord) -> None:
        logger.set_correlation_id(record.messageId)
        try:
            clusterer.assign(record.body)
        except StaleSlip:
            pass  # already assigned (a redelivery) or superseded by a newer upload

    try:
        processor = BatchProcessor(event_type=EventType.SQS, model=ClusteringRecord)
        return dict(process_partial_response(event.to_dict(), record_handler, processor, event.context))
    finally:
        obs.flush()


class JobRecord(SqsRecordModel):
    body: Json[JobMessage]  # type: ignore[assignment]


@app.on_sqs_message(queue=settings().queue("writer-jobs"), batch_size=queue("writer-jobs").batch_size)
def writer_jobs(event: Any) -> dict[str, Any]:
    desk = wiring.container().writers

    def record_handler(record: JobRecord) -> None:
        logger.set_correlation_id(record.messageId)
        desk.run(record.body.job_id)

    try:
        processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord)
        return dict(process_partial_response(event.to_dict(), record_handler, processor, event.context))
    finally:
        obs.flush()


class ImportRecord(SqsRecordModel):
    body: Json[ImportStep | S3Notification | S3TestEvent]  # type: ignore[assignment]


@app.on_sqs_message(queue=settings().queue("imports"), batch_size=queue("imports").batch_size)
def run_imports(event: Any) -> dict[str, Any]:
    imports = wiring.container().imports

    def record_handler(record: ImportRecord) -> None:
        logger.set_correlation_id(record.messageId)
        imports.handle(record.body)

    try:
        processor = BatchProcessor(event_type=EventType.SQS, model=ImportRecord)
        return dict(process_partial_response(event.to_dict(), record_handler, processor, event.context))
    finally:
        obs.flush()


class BetFileRecord(SqsRecordModel):
    body: Json[S3Notification | S3TestEvent]  # type: ignore[assignment]


@app.on_sqs_message(queue=settings().queue("bet-files"), batch_size=queue("bet-files").batch_size)
def ingest_bet_files(event: Any) -> dict[str, Any]:
    ingest = wiring.container().bet_files

    def record_handler(record: BetFileRecord) -> None:
        logger.set_correlation_id(record.messageId)
        for ref in file_refs(record.body):
            ingest.process(ref)  # a file it cannot record is quarantined; an AWS error fails the message

    try:
        processor = BatchProcessor(event_type=EventType.SQS, model=BetFileRecord)
        return dict(process_partial_response(event.to_dict(), record_handler, processor, event.context))
    finally:
        obs.flush()


@app.schedule(Rate(schedule("daily-report").rate_minutes, unit=Rate.MINUTES))
def daily_report(event: Any) -> dict[str, int]:
    try:
        return wiring.container().reports.run_schedule()
    finally:
        obs.flush()


@app.schedule(Rate(schedule("compact-writer-index").rate_minutes, unit=Rate.MINUTES))
def compact_writer_index(event: Any) -> dict[str, int]:
    try:
        return {"writers": wiring.container().writer_index.write_snapshot()}
    finally:
        obs.flush()


@app.schedule(Rate(schedule("evaluate-rules").rate_minutes, unit=Rate.MINUTES))
def evaluate_rules(event: Any) -> dict[str, int]:
    # The scheduled event's own time: a retried delivery evaluates the same instant.
    scheduled = EventBridgeModel.model_validate(event.to_dict())
    logger.set_correlation_id(scheduled.id)
    try:
        return wiring.container().monitor.run(scheduled.time)
    finally:
        obs.flush()
