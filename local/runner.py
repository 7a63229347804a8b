"""Lambda's event sources, played locally: SQS event source mappings and EventBridge schedules.

For each declared queue with a handler, the runner receives up to `Queue.batch_size` messages,
hands the handler the real SQS event (`local.lambda_events.sqs_event`) and then behaves like an
event source mapping with ReportBatchItemFailures:

* the handler returns None, {} or {"batchItemFailures": []} → every message is deleted;
* it returns {"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]} → only the others are
  deleted; a missing, empty or unknown itemIdentifier fails the whole batch (as Lambda does);
* it raises → nothing is deleted.

Messages not deleted stay invisible until their visibility timeout expires and are then received
again; after maxReceiveCount receives the queue's own RedrivePolicy moves them to the DLQ (the
runner never moves messages itself).

Schedules reach their handler two ways, both with the EventBridge "Scheduled Event" payload:

* real EventBridge deliveries: a schedule declaring `local_queue` has its rule target that queue
  (`local/provision.py`); the runner hands each event received there to the handler, as is, and
  deletes it once the handler returns (LocalStack, whose rules fire; moto's never do);
* the runner's own timer: every `rate_minutes`, or every BETWATCH_LOCAL_SCHEDULE_SECONDS when set
  (`off` or `0` turns the timer off, leaving only real deliveries).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import config, resources
from local import lambda_events

Handler = Callable[[dict[str, Any], Any], Any]

SCHEDULE_SECONDS_ENV = "BETWATCH_LOCAL_SCHEDULE_SECONDS"


def _log(message: str) -> None:
    sys.stderr.write(f"{datetime.now():%H:%M:%S} [runner] {message}\n")
    sys.stderr.flush()


class BatchResult:
    """Outcome of one invocation: which message ids failed (all of them if the batch failed)."""

    def __init__(self, failed: set[str], error: str | None = None) -> None:
        self.failed = failed
        self.error = error


def _failed_ids(result: Any, ids: list[str]) -> tuple[set[str], str | None]:
    """Lambda's reading of a ReportBatchItemFailures response."""
    if not isinstance(result, Mapping):
        return set(), None
    failures = result.get("batchItemFailures")
    if not failures:
        return set(), None
    failed: set[str] = set()
    for f in failures:
        item = f.get("itemIdentifier") if isinstance(f, Mapping) else None
        if not item or item not in ids:
            return set(ids), f"invalid batchItemFailures entry {f!r}: whole batch failed"
        failed.add(item)
    return failed, None


class EventRunner:
    def __init__(
        self,
        settings: config.Settings | Mapping[str, str],
        sqs: Any,
        queue_handlers: Mapping[str, Handler],
        schedule_handlers: Mapping[str, Handler] | None = None,
        *,
        wait_time_s: int = 1,
        schedule_seconds: float | None = None,
        idle_sleep_s: float = 0.5,
        log: Callable[[str], None] = _log,
    ) -> None:
        env: Mapping[str, str] = {}
        if isinstance(settings, config.Settings):
            self.settings = settings
        else:
            env = settings
            self.settings = config.from_env(dict(settings))
        self.sqs = sqs
        declared_queues = {q.logical for q in resources.QUEUES}
        declared_schedules = {s.logical for s in resources.SCHEDULES}
        unknown = (set(queue_handlers) - declared_queues) | (set(schedule_handlers or {}) - declared_schedules)
        if unknown:
            raise ValueError(f"handlers for undeclared queues/schedules: {sorted(unknown)}")
        self.queue_handlers = dict(queue_handlers)
        self.schedule_handlers = dict(schedule_handlers or {})
        self.wait_time_s = wait_time_s
        self.idle_sleep_s = idle_sleep_s
        self.log = log
        if schedule_seconds is None:
            raw = (env.get(SCHEDULE_SECONDS_ENV) or os.environ.get(SCHEDULE_SECONDS_ENV) or "").strip().lower()
            schedule_seconds = (0.0 if raw == "off" else float(raw)) if raw else None
        # None: each schedule's declared rate; <= 0: no timer (only events delivered by EventBridge).
        self.timer = schedule_seconds is None or schedule_seconds > 0
        self.schedule_seconds = schedule_seconds if self.timer else None
        self._env = dict(env)
        self._urls: dict[str, str] = {}
        self._arns: dict[str, str] = {}
        self._schedule_urls: dict[str, str | None] = {}
        self.invocations = 0

    # --- queues -----------------------------------------------------------------------------------

    def queue_url(self, logical: str) -> str:
        url = self._urls.get(logical)
        if url is None:
            url = self._urls[logical] = self.sqs.get_queue_url(QueueName=self.settings.queue(logical))["QueueUrl"]
        return url

    def queue_arn(self, logical: str) -> str:
        arn = self._arns.get(logical)
        if arn is None:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url(logical), AttributeNames=["QueueArn"])
            arn = self._arns[logical] = attrs["Attributes"]["QueueArn"]
        return arn

    @property
    def account(self) -> str:
        for logical in self.queue_handlers:
            return self.queue_arn(logical).split(":")[4]
        return lambda_events.DEFAULT_ACCOUNT

    def _receive(self, logical: str, wait_time_s: int) -> list[dict[str, Any]]:
        q = resources.queue(logical)
        messages: list[dict[str, Any]] = []
        wait = wait_time_s
        seen: set[str] = set()
        while len(messages) < q.batch_size:  # SQS returns at most 10 per call
            want = min(10, q.batch_size - len(messages))
            resp = self.sqs.receive_message(
                QueueUrl=self.queue_url(logical),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                MaxNumberOfMessages=want,
                WaitTimeSeconds=wait,
            )
            got = [m for m in resp.get("Messages", []) if m["MessageId"] not in seen]
            seen.update(m["MessageId"] for m in got)
            messages.extend(got)
            if len(got) < want:
                break
            wait = 0
        return messages

    def _context(self, function: str, timeout_s: float) -> lambda_events.LambdaContext:
        return lambda_events.LambdaContext(
            function_name=resources.physical_name(self.settings.stage, function),
            timeout_s=timeout_s,
            region=self.settings.region,
            account=self.account,
        )

    def invoke_queue(self, logical: str, messages: list[dict[str, Any]]) -> BatchResult:
        """Run the handler on `messages` (as received) and delete what Lambda would delete."""
        q = resources.queue(logical)
        handler = self.queue_handlers[logical]
        event = lambda_events.sqs_event(messages, self.queue_arn(logical), self.settings.region)
        ids = [r["messageId"] for r in event["Records"]]
        function = q.consumer.partition(":")[2] or logical
        started = time.monotonic()
        self.invocations += 1
        error: str | None
        try:
            result = handler(event, self._context(function, q.visibility_timeout_s))
        except Exception as e:  # noqa: BLE001 - Lambda: an error fails the whole batch
            failed, error = set(ids), f"{type(e).__name__}: {e}"
        else:
            failed, error = _failed_ids(result, ids)
        ms = (time.monotonic() - started) * 1000
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(logical, done)
        note = f" error={error}" if error else ""
        self.log(f"sqs {logical}: batch={len(messages)} failures={len(failed)} deleted={len(done)} {ms:.0f}ms{note}")
        return BatchResult(failed, error)

    def _delete(self, logical: str, messages: list[dict[str, Any]]) -> None:
        for i in range(0, len(messages), 10):
            chunk = messages[i : i + 10]
            resp = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url(logical),
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )
            for f in resp.get("Failed", []):
                self.log(f"sqs {logical}: delete failed {f}")

    def poll_once(self, wait_time_s: int | None = None) -> int:
        """One receive (and invocation, if anything arrived) per queue and per schedule queue;
        returns messages handled."""
        wait = self.wait_time_s if wait_time_s is None else wait_time_s
        handled = 0
        for logical in self.queue_handlers:
            messages = self._receive(logical, wait)
            if messages:
                self.invoke_queue(logical, messages)
                handled += len(messages)
        return handled + self.poll_schedules(wait_time_s=0)

    def pending(self) -> dict[str, int]:
        """Visible + in-flight + delayed messages per handled queue."""
        out: dict[str, int] = {}
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        for logical in self.queue_handlers:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url(logical), AttributeNames=names)
            out[logical] = sum(int(attrs["Attributes"].get(n, 0)) for n in names)
        return out

    def drain(self, timeout_s: float = 30) -> int:
        """Poll until every handled queue is empty with nothing in flight; returns messages handled.

        Raises TimeoutError if that does not happen within `timeout_s` (e.g. a failed message whose
        visibility timeout is longer than that).
        """
        deadline = time.monotonic() + timeout_s
        total = 0
        while True:
            n = self.poll_once(wait_time_s=0)
            total += n
            if n:
                continue
            pending = self.pending()
            if not any(pending.values()):
                return total
            if time.monotonic() >= deadline:
                raise TimeoutError(f"queues not drained after {timeout_s}s: {pending}")
            time.sleep(0.1)

    # --- schedules --------------------------------------------------------------------------------

    def period_s(self, schedule_logical: str) -> float:
        if self.schedule_seconds:
            return self.schedule_seconds
        return next(s for s in resources.SCHEDULES if s.logical == schedule_logical).rate_minutes * 60.0

    def fire(self, schedule_logical: str, now: datetime | None = None) -> Any:
        """Invoke a schedule's handler once with the EventBridge scheduled event; returns its result."""
        account = self.account
        rule = lambda_events.rule_arn(
            self.settings.region, account, resources.physical_name(self.settings.stage, schedule_logical)
        )
        event = lambda_events.scheduled_event(rule, now or datetime.now(UTC), self.settings.region, account)
        return self.invoke_schedule(schedule_logical, event)

    def schedule_queue_url(self, schedule_logical: str) -> str | None:
        """URL of the queue the schedule's rule delivers to, or None (not declared or not provisioned)."""
        if schedule_logical in self._schedule_urls:
            return self._schedule_urls[schedule_logical]
        s = resources.schedule(schedule_logical)
        url: str | None = None
        if s.local_queue:
            name = self._env.get(s.local_queue_env_var) or resources.physical_name(self.settings.stage, s.local_queue)
            try:
                url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except Exception as e:  # noqa: BLE001 - provisioned before schedule queues existed: timer only
                self.log(f"schedule {schedule_logical}: no event queue {name} ({type(e).__name__}); timer only")
        self._schedule_urls[schedule_logical] = url
        return url

    def poll_schedules(self, wait_time_s: int = 0) -> int:
        """Hand each EventBridge event waiting in a schedule queue to its handler; returns events handled.

        An event is deleted once the handler returns; if it raises, the event is received again
        after the queue's visibility timeout (EventBridge retries a failed invocation too).
        """
        handled = 0
        for logical in self.schedule_handlers:
            url = self.schedule_queue_url(logical)
            if url is None:
                continue
            resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_time_s)
            for m in resp.get("Messages", []):
                handled += 1
                try:
                    event = json.loads(m["Body"])
                except ValueError:
                    self.log(f"schedule {logical}: dropping a message that is not an event: {m['Body'][:200]!r}")
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    continue
                try:
                    self.invoke_schedule(logical, event, source="eventbridge")
                except Exception:  # noqa: BLE001, S112 - logged by invoke_schedule; redelivered later
                    continue
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return handled

    def invoke_schedule(self, schedule_logical: str, event: dict[str, Any], source: str = "timer") -> Any:
        """Invoke a schedule's handler with `event`; returns its result, raises its error."""
        s = resources.schedule(schedule_logical)
        handler = self.schedule_handlers[schedule_logical]
        started = time.monotonic()
        self.invocations += 1
        try:
            result = handler(event, self._context(s.handler, 300))
        except Exception as e:
            self.log(f"schedule {schedule_logical} ({source}): error {type(e).__name__}: {e}")
            raise
        ms = (time.monotonic() - started) * 1000
        self.log(f"schedule {schedule_logical} ({source}, event time {event.get('time')}): ok {ms:.0f}ms")
        return result

    # --- loop -------------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Poll queues and fire schedules until `stop` is set."""
        due = {s: time.monotonic() + self.period_s(s) for s in self.schedule_handlers} if self.timer else {}
        periods = ", ".join(f"{s} every {self.period_s(s):g}s" for s in due) or "none"
        delivered = [s for s in self.schedule_handlers if self.schedule_queue_url(s)]
        if delivered:
            periods += f"; EventBridge deliveries for {sorted(delivered)}"
        self.log(f"polling {sorted(self.queue_handlers)}; schedules: {periods}")
        while not stop.is_set():
            try:
                handled = self.poll_once()
            except Exception as e:  # noqa: BLE001 - e.g. the endpoint went away: back off, keep going
                self.log(f"poll error {type(e).__name__}: {e}")
                stop.wait(2)
                continue
            now = time.monotonic()
            for s, at in due.items():
                if now >= at and not stop.is_set():
                    due[s] = now + self.period_s(s)
                    try:
                        self.fire(s)
                    except Exception as e:  # noqa: BLE001 - EventBridge would retry; the next tick will do
                        self.log(f"schedule {s}: failed ({type(e).__name__}), next in {self.period_s(s):g}s")
            if not handled and (self.wait_time_s == 0 or not self.queue_handlers):
                stop.wait(self.idle_sleep_s)
        self.log("stopped")
