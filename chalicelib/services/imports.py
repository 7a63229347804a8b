"""Batch history imports: a CSV of past bets (the bet API's fields, `domain/history_csv.py`)
uploaded with a presigned POST, then read as a job in chunks, one queue message each.

    start()     -> the job (pending) and the presigned upload
    uploaded()  <- the upload's S3 notification: the job runs, chunk 0 is queued
    step()      <- a chunk message: read the file from the chunk's byte offset (a ranged GET, streamed),
                   record up to rows_per_chunk rows through the recorder, write the rejected rows'
                   part of the error CSV, advance the job (conditional on the chunk), queue the next
    finalize    <- the last step: the error CSV from its parts (streamed), the job done

At least once: each row's bet is recorded with its import and row as its source (`bet_id` makes a
second delivery a replay), the job advances only if it is still at the chunk (so a chunk delivered
twice counts once), and a redelivered chunk that had already advanced re-sends the next message (in
case that send was lost). Totals after a crash and redelivery equal those of a run without one.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ValidationError

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.bets import BetIn
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.history_csv import (
    CountingLines,
    ErrorCsv,
    HistoryCsvError,
    HistoryCsvReader,
    RowResult,
    describe_validation_error,
    header_line,
)
from chalicelib.domain.imports import ImportJob, ImportRequest, ImportState, ImportStep, S3Notification, S3TestEvent
from chalicelib.ports import FileStore, ImportStore, MessageQueue
from chalicelib.services.history_cache import HistoryCache
from chalicelib.services.recording import BetRecorder
from chalicelib.services.settlement import ResultFiles

QUEUE = "imports"


@dataclass(frozen=True)
class ImportLimits:
    bucket: str
    prefix: str  # the bucket's notification prefix: uploads under it start their job
    max_bytes: int
    expires_s: int
    rows_per_chunk: int = 2000
    # A chunk also ends (at a row) after this long, well inside the queue's 300 s visibility timeout
    # and the function's timeout, however slow the database is answering.
    chunk_seconds: float = 120.0
    # Rows of a chunk recorded at once (each a few database round trips), in as many lanes: a
    # customer's rows always take the same lane, in file order, so each is scored against the
    # history of the rows before it exactly as one at a time would be. 1 records inline.
    workers: int = 8
    lane_depth: int = 4  # rows queued per lane: at most workers * (lane_depth + 1) rows in flight


@dataclass
class _Chunk:
    rows: int = 0
    recorded: int = 0
    duplicates: int = 0
    rejected: int = 0


def _lane_key(row: RowResult) -> str:
    customer = row.fields.get("customer_id") if row.fields else None
    return f"c:{customer}" if customer else f"r:{row.row}"  # no customer: no history to keep in order


class _Lanes:
    """Rows recorded by `workers` threads, each draining its own bounded queue in order; a row's lane
    is its customer's, so one customer's rows are recorded one after another, in file order.

    `submit` blocks while the row's lane is full (memory stays bounded whatever the chunk's size);
    leaving the block waits for every submitted row, then re-raises a worker's first error (the chunk
    is then redone by the message's redelivery: each row is idempotent). `problems` lists the rows
    that were not recorded by this import: (row, 'duplicate' or the problem)."""

    _STOP = object()

    def __init__(self, workers: int, depth: int, record: Callable[[RowResult], str | None]):
        self.record = record
        self.problems: list[tuple[RowResult, str]] = []
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        n = max(1, workers)
        self._queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=max(1, depth)) for _ in range(n)] if n > 1 else []
        self._threads = [threading.Thread(target=self._work, args=(q,), daemon=True) for q in self._queues]

    def __enter__(self) -> _Lanes:
        for t in self._threads:
            t.start()
        return self

    def submit(self, row: RowResult) -> None:
        if self._error is not None:
            raise self._error
        if not self._queues:
            self._one(row)
            return
        self._queues[zlib.crc32(_lane_key(row).encode()) % len(self._queues)].put(row)

    def _one(self, row: RowResult) -> None:
        problem = self.record(row)
        if problem is not None:
            with self._lock:
                self.problems.append((row, problem))

    def _work(self, q: queue.Queue[Any]) -> None:
        while (row := q.get()) is not self._STOP:
            if self._error is None:
                try:
                    self._one(row)
                except BaseException as exc:  # noqa: BLE001 - re-raised by the submitting thread
                    with self._lock:
                        self._error = self._error or exc

    def __exit__(self, *exc: object) -> None:
        for q in self._queues:
            q.put(self._STOP)
        for t in self._threads:
            t.join()
        if self._error is not None and exc[0] is None:
            raise self._error


class HistoryImports:
    def __init__(
        self,
        store: ImportStore,
        files: FileStore,
        queue: MessageQueue,
        recorder: BetRecorder,
        limits: ImportLimits,
        clock: Clock = utcnow,
        result_files: ResultFiles | None = None,
    ):
        self.store, self.files, self.queue, self.recorder = store, files, queue, recorder
        self.result_files = result_files  # results files dropped in the same bucket
        self.limits = limits
        self.clock = clock
        self._source_key = re.compile(re.escape(limits.prefix) + r"(imp-[0-9a-f]{32})/source\.csv")

    # --- staff ------------------------------------------------------------------------------------

    def start(self, req: ImportRequest, actor: str) -> tuple[ImportJob, dict[str, Any]]:
        import_id = f"imp-{uuid.uuid4().hex}"
        now = self.clock()
        job = ImportJob(
            import_id=import_id, filename=req.filename, raise_alerts=req.raise_alerts, created_by=actor,
            created_at=now, updated_at=now, object_key=f"{self.limits.prefix}{import_id}/source.csv",
        )  # fmt: skip
        self.store.create(job)
        lim = self.limits
        post = self.files.presign_post(lim.bucket, job.object_key, "text/csv", 1, lim.max_bytes, lim.expires_s)
        upload = {**post, "object_key": job.object_key, "max_bytes": lim.max_bytes, "expires_in": lim.expires_s}
        return job, upload

    def get(self, import_id: str) -> ImportJob:
        job = self.store.get(import_id)
        if job is None:
            raise NotFound(f"import {import_id} not found")
        return job

    def errors_url(self, import_id: str) -> str | None:
        """A short-lived link to the error CSV (None while running, or when no row was rejected)."""
        job = self.get(import_id)
        if job.errors_key is None:
            return None
        return self.files.presign_get(self.limits.bucket, job.errors_key, self.limits.expires_s)

    # --- the job ----------------------------------------------------------------------------------

    def uploaded(self, key: str) -> None:
        """An object was created under the prefix: a source upload starts its job (others are ignored:
        the job's own error parts and CSV, and a second notification of the same upload)."""
        m = self._source_key.fullmatch(key)  # imports/<id>/source.csv
        if not m:
            return
        job = self.store.get(m.group(1))
        if job is None:
            logger.warning("upload for an unknown import", extra={"object_key": key})
            return
        if job.state is ImportState.pending:
            job = job.model_copy(update={"state": ImportState.running, "updated_at": self.clock()})
            if not self.store.save(job, 0):
                return
        if job.state is ImportState.running and job.next_chunk == 0:
            self._send(ImportStep(import_id=job.import_id, chunk=0))

    def handle(self, body: ImportStep | S3Notification | S3TestEvent) -> None:
        """One message of the imports queue: a chunk step, or the notification of an upload."""
        if isinstance(body, ImportStep):
            self.step(body)
        elif isinstance(body, S3Notification):
            for rec in body.Records:
                if not rec.eventName.startswith("ObjectCreated"):
                    continue
                key = unquote_plus(rec.s3.object.key)
                if self.result_files is not None and self.result_files.wants(key):
                    self.result_files.settle_file(key)
                else:
                    self.uploaded(key)

    def step(self, msg: ImportStep) -> None:
        job = self.store.get(msg.import_id)
        if job is None or job.state in (ImportState.done, ImportState.failed, ImportState.pending):
            return
        if msg.chunk != job.next_chunk:
            if msg.chunk == job.next_chunk - 1:
                self._send_next(job)  # this chunk was done; its successor's message may have been lost
            return
        if job.eof:
            self._finalize(job)
        else:
            self._chunk(job)

    def _send(self, msg: ImportStep) -> None:
        self.queue.send(QUEUE, msg.model_dump_json())

    def _send_next(self, job: ImportJob) -> None:
        if job.state is ImportState.running:
            msg = ImportStep(import_id=job.import_id, chunk=job.next_chunk, step="finalize" if job.eof else "chunk")
            self._send(msg)

    def _chunk(self, job: ImportJob) -> None:
        first = job.next_chunk == 0
        stream = self.files.stream(self.limits.bucket, job.object_key, job.offset)
        lines = CountingLines(stream, first=first, first_line=job.lines_before + 1)
        try:
            reader = HistoryCsvReader(lines if first else chain([header_line(job.columns)], lines))
            errors = ErrorCsv(reader.columns)
            done = _Chunk()
            deadline = time.monotonic() + self.limits.chunk_seconds
            eof = True
            history = HistoryCache()  # each customer's history read once per chunk
            with _Lanes(
                self.limits.workers, self.limits.lane_depth, lambda row: self._record(job, row, history)
            ) as lanes:
                for r in reader:
                    line = r.line if first else job.lines_before + r.line - 1
                    row = r._replace(row=job.rows_before + r.row, line=line)
                    lanes.submit(row)
                    done.rows += 1
                    if done.rows >= self.limits.rows_per_chunk or time.monotonic() > deadline:
                        eof = False
                        break
            # Every row of the chunk is recorded (or the chunk raised, to be redone) before it advances.
            problems = lanes.problems
        except HistoryCsvError as exc:
            self._fail(job, str(exc))
            return
        out: list[str] = []
        for row, problem in sorted(problems, key=lambda p: p[0].row):
            if problem == "duplicate":
                done.duplicates += 1
            else:
                done.rejected += 1
                out.append(errors.row(row, problem))
        done.recorded = done.rows - done.duplicates - done.rejected
        parts = list(job.error_parts)
        if out:
            self.files.write(self.limits.bucket, self._part_key(job, job.next_chunk), "".join(out).encode())
            parts.append(job.next_chunk)
        advanced = job.model_copy(
            update={
                "next_chunk": job.next_chunk + 1, "offset": job.offset + lines.bytes,
                "rows_before": job.rows_before + done.rows, "lines_before": job.lines_before + lines.lines,
                "columns": reader.columns, "eof": eof, "rows_read": job.rows_read + done.rows,
                "recorded": job.recorded + done.recorded, "duplicates": job.duplicates + done.duplicates,
                "rejected": job.rejected + done.rejected, "error_parts": parts, "updated_at": self.clock(),
            }
        )  # fmt: skip
        if self.store.save(advanced, job.next_chunk):
            logger.info("import chunk done", extra={"import_id": job.import_id, "chunk": job.next_chunk, **vars(done)})
            self._send_next(advanced)

    def _record(self, job: ImportJob, row: RowResult, history: HistoryCache | None = None) -> str | None:
        """None (recorded by this import), 'duplicate', or the problem for the error CSV."""
        if row.error is not None or row.fields is None:
            return row.error or "row: not a bet"
        try:
            body = BetIn.model_validate(row.fields)
        except ValidationError as exc:
            return describe_validation_error(exc)
        source = f"import:{job.import_id}:row{row.row}"
        try:
            bet, created = self.recorder.record(
                body, source, monitor=job.raise_alerts, read_first=False, histories=history
            )
        except Conflict:
            return "bet_id: already stored with different details"
        except Invalid as exc:
            return exc.message
        return None if created or bet.ingested_by == source else "duplicate"

    def _part_key(self, job: ImportJob, chunk: int) -> str:
        return f"{self.limits.prefix}{job.import_id}/errors/{chunk:06d}.csv"

    def _error_csv(self, job: ImportJob) -> Iterator[bytes]:
        yield ErrorCsv(job.columns).header().encode()
        for chunk in job.error_parts:
            part = self.files.read_optional(self.limits.bucket, self._part_key(job, chunk))
            if part is None:
                raise RuntimeError(f"error part {chunk} of {job.import_id} is missing")
            yield part

    def _finalize(self, job: ImportJob) -> None:
        key = None
        if job.error_parts:
            key = f"{self.limits.prefix}{job.import_id}/errors.csv"
            self.files.write_stream(self.limits.bucket, key, self._error_csv(job))
        done = job.model_copy(
            update={"state": ImportState.done, "next_chunk": job.next_chunk + 1, "errors_key": key,
                    "updated_at": self.clock()}
        )  # fmt: skip
        if self.store.save(done, job.next_chunk):
            logger.info("import done", extra={"import_id": job.import_id, "rows_read": job.rows_read})

    def _fail(self, job: ImportJob, error: str) -> None:
        failed = job.model_copy(
            update={"state": ImportState.failed, "next_chunk": job.next_chunk + 1, "error": error,
                    "updated_at": self.clock()}
        )  # fmt: skip
        if self.store.save(failed, job.next_chunk):
            logger.warning("import failed", extra={"import_id": job.import_id, "error": error})
