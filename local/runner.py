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
* the runner's own timer: every `rate_minutes`, or faster when BETWATCH_LOCAL_SCHEDULE_SECONDS is
  set: the most frequent schedule every that many seconds and the others at their declared ratio
  (`off` or `0` turns the timer off, leaving only real deliveries); the period counts from the end
  of the previous run, so a slow evaluation leaves the period free for the rest.

`run_forever` gives each queue and each schedule a thread of its own, as Lambda runs each event
source's invocations apart: a rule evaluation that takes minutes never holds up the slip queues.
`poll_once` and `drain` do the same work in the calling thread, one source after the other.
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
        self._count_lock = threading.Lock()
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
        self._counted()
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

    def _counted(self) -> None:
        with self._count_lock:  # the threads of run_forever invoke concurrently
            self.invocations += 1

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
        handled = sum(self.poll_queue(logical, wait) for logical in self.queue_handlers)
        return handled + self.poll_schedules(wait_time_s=0)

    def poll_queue(self, logical: str, wait_time_s: int) -> int:
        """One receive from a queue and, if anything arrived, one invocation; returns messages handled."""
        messages = self._receive(logical, wait_time_s)
        if messages:
            self.invoke_queue(logical, messages)
        return len(messages)

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
        rate = next(s for s in resources.SCHEDULES if s.logical == schedule_logical).rate_minutes
        if self.schedule_seconds:
            # The local clock of schedules runs faster, uniformly: the most frequent schedule every
            # `schedule_seconds`, the others at their declared ratio (an hourly report 12x less often
            # than 5-minute rules), so a report over the whole day does not run as often as the rules.
            fastest = min(s.rate_minutes for s in resources.SCHEDULES)
            return self.schedule_seconds * rate / fastest
        return rate * 60.0

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
        """Hand each EventBridge event waiting in a schedule queue to its handler; returns events handled."""
        return sum(self.poll_schedule(logical, wait_time_s) for logical in self.schedule_handlers)

    def poll_schedule(self, logical: str, wait_time_s: int = 0) -> int:
        """The events waiting in one schedule's queue, each handed to its handler; returns events handled.

        An event is deleted once the handler returns; if it raises, the event is received again
        after the queue's visibility timeout (EventBridge retries a failed invocation too).
        """
        url = self.schedule_queue_url(logical)
        if url is None:
            return 0
        handled = 0
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
        self._counted()
        try:
            result = handler(event, self._context(s.handler, 300))
        except Exception as e:
            self.log(f"schedule {schedule_logical} ({source}): error {type(e).__name__}: {e}")
            raise
        ms = (time.monotonic() - started) * 1000
        self.log(f"schedule {schedule_logical} ({source}, event time {event.get('time')}): ok {ms:.0f}ms")
        return result

    # --- loop -------------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event, join_timeout_s: float = 2.0) -> None:
        """Poll each queue and run each schedule on its own thread until `stop` is set.

        Then waits up to `join_timeout_s` for the threads; one still inside a handler is left to
        finish (daemon thread): its messages are not deleted, so they come back after their
        visibility timeout, as when a Lambda invocation is cut short.
        """
        workers = [
            threading.Thread(target=self._queue_loop, args=(q, stop), name=f"runner-{q}", daemon=True)
            for q in self.queue_handlers
        ] + [
            threading.Thread(target=self._schedule_loop, args=(s, stop), name=f"runner-{s}", daemon=True)
            for s in self.schedule_handlers
        ]
        periods = ", ".join(f"{s} every {self.period_s(s):g}s" for s in self.schedule_handlers if self.timer)
        delivered = [s for s in self.schedule_handlers if self.schedule_queue_url(s)]
        if delivered:
            periods += f"; EventBridge deliveries for {sorted(delivered)}"
        self.log(f"polling {sorted(self.queue_handlers)}; schedules: {periods or 'none'}; {len(workers)} threads")
        for w in workers:
            w.start()
        stop.wait()
        deadline = time.monotonic() + join_timeout_s
        for w in workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        busy = [w.name for w in workers if w.is_alive()]
        self.log(f"stopped{f' (still in a handler: {busy})' if busy else ''}")

    def _queue_loop(self, logical: str, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                handled = self.poll_queue(logical, self.wait_time_s)
            except Exception as e:  # noqa: BLE001 - e.g. the endpoint went away: back off, keep going
                self.log(f"sqs {logical}: poll error {type(e).__name__}: {e}")
                stop.wait(2)
                continue
            if not handled and self.wait_time_s == 0:
                stop.wait(self.idle_sleep_s)

    def _schedule_loop(self, logical: str, stop: threading.Event) -> None:
        period = self.period_s(logical)
        due = time.monotonic() + period if self.timer else None
        while not stop.is_set():
            listening = self.schedule_queue_url(logical) is not None
            try:
                if listening:  # the long poll is this loop's sleep
                    self.poll_schedule(logical, wait_time_s=self.wait_time_s)
            except Exception as e:  # noqa: BLE001 - as for queues: back off, keep going
                self.log(f"schedule {logical}: poll error {type(e).__name__}: {e}")
                stop.wait(2)
                continue
            if due is not None and time.monotonic() >= due and not stop.is_set():
                try:
                    self.fire(logical)
                except Exception as e:  # noqa: BLE001 - EventBridge would retry; the next tick will do
                    self.log(f"schedule {logical}: failed ({type(e).__name__}), next in {period:g}s")
                # Counted from the end of the run: an evaluation slower than the period does not
                # run back to back (locally every 15 s instead of every 5 minutes).
                due = time.monotonic() + period
            if not listening or self.wait_time_s == 0:
                pause = self.idle_sleep_s if due is None else min(max(0.0, due - time.monotonic()), 1.0)
                stop.wait(pause)


def main() -> int:
    """`python -m local.runner`: the event sources in a process of their own, until SIGTERM/SIGINT.

    `make run` starts it with the provisioned env, as it starts `chalice local`: the handlers'
    CPU (rule evaluation, slip processing) then never competes with the embedded AWS for one
    interpreter, as Lambda's functions never share a process with DynamoDB.
    """
    import signal

    from chalicelib.core import aws
    from local.handlers import resolve_handlers

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    queue_handlers, schedule_handlers = resolve_handlers()
    for name, h in {**queue_handlers, **schedule_handlers}.items():
        try:
            h.resolve()
        except Exception as e:  # noqa: BLE001 - reported, and again on each invocation
            _log(f"handler for {name} ({h.spec}) not importable: {type(e).__name__}: {e}")
    runner = EventRunner(dict(os.environ), aws.client("sqs"), queue_handlers, schedule_handlers)
    runner.run_forever(stop)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # a thread still inside a handler is cut short, as Lambda's timeout would
