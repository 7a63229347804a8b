"""History imports on moto: the S3 adapter's ranged streams and multipart writes, the job store's
conditional progress, and the whole job through the upload's S3 notification, the imports queue
and the run_imports consumer (played by the local event runner)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from chalicelib import wiring
from chalicelib.adapters.memory import FixedScorer
from chalicelib.adapters.s3 import S3FileStore
from chalicelib.core import aws, config
from chalicelib.domain.imports import ImportJob, ImportRequest, ImportState
from local.history_gen import history_csv

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_ranged_streams_and_multipart_writes(provisioned: dict[str, str]) -> None:
    s3 = S3FileStore(aws.client("s3"))
    bucket = config.settings().bucket("imports")
    data = bytes(range(256)) * 2000  # 512 KB
    s3.write(bucket, "imports/x/source.csv", data)
    for start in (0, 1, 300_001, len(data) - 1):
        assert b"".join(s3.stream(bucket, "imports/x/source.csv", start)) == data[start:]
    assert b"".join(s3.stream(bucket, "imports/x/source.csv", len(data))) == b""
    big = [b"x" * (1024 * 1024) for _ in range(9)] + [b"end"]  # over boto3's 8 MB multipart threshold
    s3.write_stream(bucket, "imports/x/errors.csv", iter(big))
    assert s3.read_optional(bucket, "imports/x/errors.csv") == b"".join(big)


def test_job_progress_is_conditional_on_the_chunk(provisioned: dict[str, str]) -> None:
    store = wiring.aws_adapters(config.settings()).imports
    job = ImportJob(import_id="imp-" + "0" * 32, filename="f.csv", created_by="t", created_at=NOW,
                    updated_at=NOW, object_key="imports/k")  # fmt: skip
    store.create(job)
    moved = job.model_copy(update={"next_chunk": 1, "rows_read": 10})
    assert store.save(moved, 0) is True
    assert store.save(moved.model_copy(update={"rows_read": 99}), 0) is False  # a second delivery of chunk 0
    got = store.get(job.import_id)
    assert got is not None and (got.next_chunk, got.rows_read) == (1, 10)


def test_an_upload_runs_the_job_through_the_queue(provisioned: dict[str, str]) -> None:
    from local.handlers import resolve_handlers
    from local.runner import EventRunner

    adapters = wiring.aws_adapters(config.settings())
    adapters.scorer = FixedScorer()
    c = wiring.assemble(config.settings(), adapters)
    # One row at a time: moto's in-process mock_aws is not safe for concurrent requests (a Query
    # iterating a table another thread writes to fails); its server with local/moto_patches.py is,
    # and bench/bench_import_moto.py runs the import's 8 lanes there.
    c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), "rows_per_chunk": 25, "workers": 1})
    wiring.use(c)
    queue_handlers, _ = resolve_handlers()
    runner = EventRunner(dict(provisioned), aws.client("sqs"), {"imports": queue_handlers["imports"]}, {})
    job, upload = c.imports.start(ImportRequest(filename="h.csv"), "user:alice")
    assert upload["fields"]["key"] == job.object_key and upload["url"]
    data = b"".join(history_csv(80, bad_every=8))
    # moto intercepts boto3, not form POSTs: put the object where the presigned POST would.
    aws.client("s3").put_object(Bucket=c.imports.limits.bucket, Key=job.object_key, Body=data)
    runner.drain(timeout_s=120)
    done = c.imports.get(job.import_id)
    assert (done.state, done.rows_read, done.recorded, done.rejected, done.next_chunk) == (
        ImportState.done,
        80,
        70,
        10,
        5,
    )  # fmt: skip  (4 chunks of 25 rows (the last reads 5), then finalize)
    stored = c.adapters.bets.get("H-00000000")
    assert stored is not None and stored.bet.ingested_by == f"import:{job.import_id}:row1"
    assert done.errors_key is not None
    errors: Any = c.adapters.files.read_optional(c.imports.limits.bucket, done.errors_key)
    rows = list(csv.DictReader(io.StringIO(errors.decode())))
    assert [r["row"] for r in rows] == [str(i) for i in range(8, 81, 8)]
    assert c.imports.errors_url(job.import_id)
    wiring.use(None)
