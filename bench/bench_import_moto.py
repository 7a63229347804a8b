"""Throughput of a history import on the embedded AWS: rows/s and memory for a generated CSV.

    .venv/bin/python bench/bench_import_moto.py [--rows 100000] [--chunk 2000] [--workers 8]
        [--scorer onnx|fixed] [--moto-process] [--profile]

The real DynamoDB, S3 and SQS adapters (wiring.aws_adapters) against moto's server on a free port
of 127.0.0.1, with the project's patches (local/moto_patches.py) applied as `make run` does, and
every declared resource provisioned there (local/provision.py). The CSV (local/history_gen.py, 500
customers, 1 row in 50 bad) is PUT in the imports bucket; the bucket's notification lands in the
imports queue, and this loop plays the run_imports consumer: it receives each message from SQS,
handles it (the upload starts the job; each chunk is streamed from its byte offset with a ranged
GET, its rows recorded through BetRecorder — history Query, risk score, the bet's transaction —
then the job advanced and the next chunk's message sent) and deletes it.

The server runs in this process by default (it then shares the GIL with the import: a pessimistic
figure on 2 cores); --moto-process runs it as a separate process (`python -m local.moto_server`),
as `make run` does for the event runner, which is a separate process from the embedded AWS.

Memory: peak RSS of this process (which includes moto's state when in process) and the peak of one
chunk's own allocations (tracemalloc, for one chunk near the end only).
--profile: cProfile one chunk (the second) and print where its time went.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGION = "eu-west-2"
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # a log line per row would swamp the figures
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=None, help="rows recorded at once (default: the config's)")
    ap.add_argument("--scorer", choices=("onnx", "fixed"), default="onnx")
    ap.add_argument("--moto-process", action="store_true", help="run moto as a separate process")
    ap.add_argument("--profile", action="store_true", help="cProfile the second chunk")
    args = ap.parse_args()

    from local.moto_server import MotoServer, wait_ready

    proc: subprocess.Popen[bytes] | None = None
    server: MotoServer | None = None
    if args.moto_process:
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "local.moto_server", str(port)], cwd=ROOT)
        endpoint = f"http://127.0.0.1:{port}"
        wait_ready(endpoint, 60)
    else:
        server = MotoServer(port=0).start()
        server.wait_ready()
        endpoint = server.endpoint
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION)  # fmt: skip
    try:
        return _run(args, endpoint)
    finally:
        if server is not None:
            server.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(10)


def _run(args: argparse.Namespace, endpoint: str) -> int:
    from chalicelib import wiring
    from chalicelib.adapters import memory
    from chalicelib.adapters.risk_model import OnnxRiskScorer
    from chalicelib.core import aws, config
    from chalicelib.domain.imports import ImportRequest
    from local.history_gen import history_csv
    from local.provision import provision

    aws.reset()
    config.reset()
    env = provision("local")
    os.environ.update(env)
    config.reset()
    settings = config.settings()
    adapters = wiring.aws_adapters(settings)
    adapters.scorer = OnnxRiskScorer() if args.scorer == "onnx" else memory.FixedScorer()
    adapters.scorer.ready()
    c = wiring.assemble(settings, adapters)
    lim = c.imports.limits
    update: dict[str, Any] = {"rows_per_chunk": args.chunk}
    if args.workers is not None:
        update["workers"] = args.workers
    c.imports.limits = lim = lim.__class__(**{**vars(lim), **update})
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.queue("imports"))["QueueUrl"]

    data = b"".join(history_csv(args.rows, bad_every=50))
    job, _ = c.imports.start(ImportRequest(filename="bench.csv"), "bench")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    chunks = -(-args.rows // args.chunk)
    traced_chunk = max(0, chunks - 2)
    chunk_peak = 0
    started = time.perf_counter()
    aws.client("s3").put_object(Bucket=lim.bucket, Key=job.object_key, Body=data)
    del data
    n = 0
    idle_since = time.monotonic()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            if c.imports.get(job.import_id).state.value in ("done", "failed") or time.monotonic() - idle_since > 60:
                break
            continue
        m = got[0]
        body = _body(m["Body"])
        chunk_no = getattr(body, "chunk", None)
        if chunk_no is not None and chunk_no == traced_chunk:
            tracemalloc.start()
            c.imports.handle(body)
            chunk_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        elif args.profile and chunk_no == 1:
            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.runcall(c.imports.handle, body)
            print(f"profiled chunk 1: {time.perf_counter() - t:.1f} s", file=sys.stderr)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
        else:
            c.imports.handle(body)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        idle_since = time.monotonic()
        n += 1
        if chunk_no is not None:
            print(f"  chunk {chunk_no}: {c.imports.get(job.import_id).rows_read:,} rows, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    elapsed = time.perf_counter() - started
    done = c.imports.get(job.import_id)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    where = "separate process" if args.moto_process else "in process"
    lanes = getattr(lim, "workers", 1)
    print(f"history import, embedded AWS (moto server {where}, patched), scorer={args.scorer}, "
          f"{args.rows:,} rows in chunks of {args.chunk:,}, {lanes} rows at once:")  # fmt: skip
    print(f"  {done.state.value}: read {done.rows_read:,}, recorded {done.recorded:,}, "
          f"duplicates {done.duplicates:,}, rejected {done.rejected:,}; {n} messages")  # fmt: skip
    rate = done.rows_read / elapsed
    print(f"  {elapsed:.1f} s, {rate:,.1f} rows/s (the upload, its notification and tracing one chunk included)")
    print(f"  peak RSS {rss / 1024:.0f} MB ({rss0 / 1024:.0f} MB before the job)")
    print(f"  one chunk's peak allocations (tracemalloc, chunk {traced_chunk}): {chunk_peak / 1e6:.2f} MB")
    return 0 if done.state.value == "done" and done.rows_read == args.rows else 1


def _body(raw: str) -> Any:
    from pydantic import TypeAdapter

    from chalicelib.domain.imports import ImportStep, S3Notification, S3TestEvent

    return TypeAdapter(ImportStep | S3Notification | S3TestEvent).validate_python(json.loads(raw))


if __name__ == "__main__":
    raise SystemExit(main())
