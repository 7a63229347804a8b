"""Structured logs, metrics and traces (Powertools), one instance of each per process.

* `logger`: JSON lines with the function's name and a correlation id (the API request id, or the
  SQS message id being processed). Never log request bodies, credentials or images.
* `metrics`: CloudWatch embedded metric format (EMF) on stdout, namespace "betwatch", flushed at
  the end of every invocation by the middleware in `app.py` (and by the slip function's handler).
* `tracer`: X-Ray segments for each invocation and every botocore call; off outside Lambda.

Locally (`make run`) the same lines appear in the terminal; POWERTOOLS_DEV=true pretty-prints them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "betwatch"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "betwatch")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Patching botocore records every AWS call as a subsegment; disabled (a no-op) off Lambda.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))

# Metric names, declared once (the CDK dashboard graphs these).
BETS_RECORDED = "BetsRecorded"
RISK_LEVEL = "RiskLevel{level}"  # RiskLevelLow, RiskLevelMedium, ...
SLIPS_PROCESSED = "SlipsProcessed"
SLIPS_REJECTED = "SlipsRejected"
WRITER_NEW = "WriterAssignmentsNew"
WRITER_MATCHED = "WriterAssignmentsMatched"
WRITER_CANDIDATES = "WriterCandidateLinks"
WRITER_MERGES = "WriterMergesStarted"
ALERTS_RAISED = "AlertsRaised"
ALERTS_PUBLISHED = "AlertsPublished"
ALERTS_SHADOW = "AlertsShadowHits"
BET_PATH_RULE_ERRORS = "BetPathRuleErrors"
RULE_RUN_MS = "RuleRunDuration"
BET_FILES = "BetFiles{outcome}"  # BetFilesBet, BetFilesKnockback, BetFilesSms, BetFilesDuplicate, BetFilesQuarantined


_metrics_lock = threading.Lock()  # Metrics' buffer is a plain dict: rows recorded in threads share it


def count(name: str, value: float = 1) -> None:
    with _metrics_lock:
        metrics.add_metric(name=name, unit="Count", value=value)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Emit the block's duration in milliseconds as metric `name`."""
    start = perf_counter()
    try:
        yield
    finally:
        metrics.add_metric(name=name, unit="Milliseconds", value=round((perf_counter() - start) * 1000, 3))


def flush() -> None:
    """Write the invocation's metrics (EMF) and start afresh; nothing is written when there are none."""
    if metrics.metric_set:
        metrics.flush_metrics()


def count_by(name: str, value: float = 1, **dimensions: str) -> None:
    """A count with its own dimensions (e.g. rejections by reason), written at once as one EMF line."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as m:
        m.add_dimension(name="service", value=SERVICE)
        for k, v in dimensions.items():
            m.add_dimension(name=k, value=v)
