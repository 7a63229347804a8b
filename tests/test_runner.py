"""local/runner.py plays Lambda's SQS event source mapping and EventBridge schedules on moto."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core import aws as clients
from chalicelib.core import resources
from chalicelib.core.resources import physical_name
from local import lambda_events
from local.runner import EventRunner

QUEUE = "slip-clustering"  # no S3 test event in it, unlike slip-uploads
SCHEDULE = resources.SCHEDULES[0].logical


class Recorder:
    """A dummy handler: records each (event, context); `reply` decides the response."""

    def __init__(self, reply: Any = None) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.reply = reply

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        return self.reply(event) if callable(self.reply) else self.reply

    @property
    def bodies(self) -> list[list[str]]:
        return [[r["body"] for r in e["Records"]] for e, _ in self.calls]


def _url(logical: str) -> str:
    return str(clients.client("sqs").get_queue_url(QueueName=physical_name("local", logical))["QueueUrl"])


def _counts(logical: str) -> tuple[int, int]:
    a = clients.client("sqs").get_queue_attributes(
        QueueUrl=_url(logical),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def _send(logical: str, *bodies: str) -> None:
    sqs = clients.client("sqs")
    for b in bodies:
        sqs.send_message(
            QueueUrl=_url(logical),
            MessageBody=b,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
        )


def _visibility(logical: str, seconds: int) -> None:
    clients.client("sqs").set_queue_attributes(QueueUrl=_url(logical), Attributes={"VisibilityTimeout": str(seconds)})


def _runner(env: dict[str, str], handler: Any, logical: str = QUEUE, **kw: Any) -> EventRunner:
    return EventRunner(env, clients.client("sqs"), {logical: handler}, kw.pop("schedules", {}), wait_time_s=0, **kw)


def test_successful_batch_deletes_messages_and_passes_real_sqs_event(
    provisioned: dict[str, str], load_event: Any
) -> None:
    handler = Recorder()
    _send(QUEUE, "a", "b", "c")
    runner = _runner(provisioned, handler)
    assert runner.drain(timeout_s=10) == 3
    assert _counts(QUEUE) == (0, 0)
    assert sorted(b for batch in handler.bodies for b in batch) == ["a", "b", "c"]

    event, context = handler.calls[0]
    fixture = load_event("sqs_event_s3_notification.json")["Records"][0]
    record = event["Records"][0]
    assert set(record) == set(fixture)
    assert set(fixture["attributes"]) <= set(record["attributes"])
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == runner.queue_arn(QUEUE)
    assert record["eventSourceARN"].endswith(":" + physical_name("local", QUEUE))
    assert record["awsRegion"] == "eu-west-2"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert context.function_name == physical_name("local", "cluster_slips")
    assert context.aws_request_id and 0 < context.get_remaining_time_in_millis() <= 60_000
    assert context.invoked_function_arn.startswith("arn:aws:lambda:eu-west-2:")
    assert context.memory_limit_in_mb > 0


def test_batches_are_capped_at_the_declared_batch_size(provisioned: dict[str, str]) -> None:
    q = resources.queue(QUEUE)
    handler = Recorder()
    _send(QUEUE, *[str(i) for i in range(q.batch_size + 3)])
    runner = _runner(provisioned, handler)
    assert runner.poll_once() == q.batch_size
    assert len(handler.calls[0][0]["Records"]) == q.batch_size
    assert runner.drain(timeout_s=10) == 3


def test_partial_batch_failure_deletes_only_successes_and_redelivers_after_visibility(
    provisioned: dict[str, str],
) -> None:
    _visibility(QUEUE, 1)
    seen_bad: list[dict[str, Any]] = []

    def reply(event: dict[str, Any]) -> dict[str, Any]:
        bad = [r for r in event["Records"] if r["body"] == "bad" and not seen_bad]
        seen_bad.extend(bad)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in bad]}

    handler = Recorder(reply)
    _send(QUEUE, "good-1", "bad", "good-2")
    runner = _runner(provisioned, handler)
    assert runner.poll_once() == 3
    assert _counts(QUEUE) == (0, 1)  # the failed one is in flight, the others are gone
    assert runner.poll_once() == 0  # still invisible
    time.sleep(1.2)
    assert runner.poll_once() == 1
    (record,) = handler.calls[-1][0]["Records"]
    assert record["body"] == "bad"
    assert record["messageId"] == seen_bad[0]["messageId"]
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert _counts(QUEUE) == (0, 0)


def test_always_failing_message_lands_in_dlq_after_max_receive_count(provisioned: dict[str, str]) -> None:
    q = resources.queue(QUEUE)
    _visibility(QUEUE, 0)  # redeliver at once; the RedrivePolicy is the provisioned one
    handler = Recorder(lambda e: {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in e["Records"]]})
    _send(QUEUE, "poison")
    runner = _runner(provisioned, handler)
    runner.drain(timeout_s=20)
    assert len(handler.calls) == q.max_receive_count
    assert [c[0]["Records"][0]["attributes"]["ApproximateReceiveCount"] for c in handler.calls] == [
        str(i) for i in range(1, q.max_receive_count + 1)
    ]
    sqs = clients.client("sqs")
    dlq = sqs.receive_message(QueueUrl=_url(q.dlq_logical), MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dlq] == ["poison"]


def test_exception_deletes_nothing(provisioned: dict[str, str]) -> None:
    def boom(event: dict[str, Any]) -> None:
        raise RuntimeError("handler crashed")

    handler = Recorder(boom)
    _send(QUEUE, "a", "b")
    runner = _runner(provisioned, handler)
    assert runner.poll_once() == 2
    assert _counts(QUEUE) == (0, 2)
    _visibility(QUEUE, 0)
    time.sleep(0.1)
    # Shortening the queue's timeout does not shorten in-flight messages; make them visible.
    sqs = clients.client("sqs")
    msgs = sqs.receive_message(QueueUrl=_url(QUEUE), MaxNumberOfMessages=10)
    assert "Messages" not in msgs


def test_exception_redelivers_whole_batch(provisioned: dict[str, str]) -> None:
    _visibility(QUEUE, 1)
    calls = {"n": 0}

    def first_fails(event: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("first invocation crashes")

    handler = Recorder(first_fails)
    _send(QUEUE, "a", "b")
    runner = _runner(provisioned, handler)
    assert runner.poll_once() == 2
    time.sleep(1.2)
    assert runner.drain(timeout_s=10) == 2
    assert sorted(handler.bodies[1]) == ["a", "b"]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in handler.calls[1][0]["Records"]} == {"2"}


@pytest.mark.parametrize(
    "failures",
    [[{"itemIdentifier": ""}], [{"itemIdentifier": None}], [{"itemIdentifier": "not-in-batch"}], [{"wrong": "x"}]],
)
def test_invalid_batch_item_failures_fail_the_whole_batch(provisioned: dict[str, str], failures: list[Any]) -> None:
    handler = Recorder({"batchItemFailures": failures})
    _send(QUEUE, "a", "b")
    runner = _runner(provisioned, handler)
    assert runner.poll_once() == 2
    assert _counts(QUEUE) == (0, 2)


@pytest.mark.parametrize("reply", [None, {}, {"batchItemFailures": []}, {"statusCode": 200}])
def test_empty_responses_mean_success(provisioned: dict[str, str], reply: Any) -> None:
    _send(QUEUE, "a")
    assert _runner(provisioned, Recorder(reply)).poll_once() == 1
    assert _counts(QUEUE) == (0, 0)


def test_s3_upload_reaches_the_slip_uploads_handler(provisioned: dict[str, str], load_event: Any) -> None:
    b = next(b for b in resources.BUCKETS if b.notify_queue)
    handler = Recorder()
    assert b.notify_queue
    runner = _runner(provisioned, handler, logical=b.notify_queue)
    clients.client("s3").put_object(Bucket=provisioned[b.env_var], Key=f"{b.notify_prefix}x.jpg", Body=b"img")
    assert runner.drain(timeout_s=10) == 2
    bodies = [json.loads(body) for batch in handler.bodies for body in batch]
    test_events = [x for x in bodies if x.get("Event") == "s3:TestEvent"]
    notifications = [x for x in bodies if "Records" in x]
    assert len(test_events) == 1 and len(notifications) == 1
    assert set(load_event("s3_test_event.json")) >= set(test_events[0])
    record = notifications[0]["Records"][0]
    fixture = load_event("s3_object_created.json")["Records"][0]
    for k in ("eventVersion", "eventSource", "awsRegion", "eventName", "s3"):
        assert k in record and k in fixture
    assert set(record["s3"]["object"]) <= set(fixture["s3"]["object"])


def test_fire_passes_a_scheduled_event(provisioned: dict[str, str], load_event: Any) -> None:
    handler = Recorder({"ok": True})
    runner = EventRunner(provisioned, clients.client("sqs"), {}, {SCHEDULE: handler})
    at = datetime(2026, 11, 22, 10, 20, tzinfo=UTC)
    assert runner.fire(SCHEDULE, now=at) == {"ok": True}
    (event, context), *_ = handler.calls
    fixture = load_event("scheduled_event.json")
    assert set(event) == set(fixture)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-22T10:20:00Z"
    assert event["region"] == "eu-west-2"
    assert event["detail"] == {}
    assert event["resources"] == [
        lambda_events.rule_arn("eu-west-2", event["account"], physical_name("local", SCHEDULE))
    ]
    assert context.function_name == physical_name("local", resources.SCHEDULES[0].handler)


def test_fire_propagates_handler_errors(provisioned: dict[str, str]) -> None:
    def boom(event: dict[str, Any], context: Any) -> None:
        raise ValueError("nope")

    runner = EventRunner(provisioned, clients.client("sqs"), {}, {SCHEDULE: boom})
    with pytest.raises(ValueError):
        runner.fire(SCHEDULE)


def test_run_forever_polls_and_fires_schedules(provisioned: dict[str, str]) -> None:
    queue_handler, schedule_handler = Recorder(), Recorder()
    runner = EventRunner(
        provisioned,
        clients.client("sqs"),
        {QUEUE: queue_handler},
        {SCHEDULE: schedule_handler},
        wait_time_s=0,
        schedule_seconds=0.2,
        idle_sleep_s=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        _send(QUEUE, "x")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not queue_handler.calls or len(schedule_handler.calls) < 2):
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert queue_handler.bodies == [["x"]]
    assert len(schedule_handler.calls) >= 2


def test_schedule_period_from_env(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    runner = EventRunner(provisioned, clients.client("sqs"), {}, {})
    assert runner.period_s(SCHEDULE) == resources.SCHEDULES[0].rate_minutes * 60
    monkeypatch.setenv("BETWATCH_LOCAL_SCHEDULE_SECONDS", "15")
    fast = EventRunner(provisioned, clients.client("sqs"), {}, {})
    # The fastest schedule (the 5-minute rules) every 15 s; the hourly ones 12x less often.
    assert fast.period_s("evaluate-rules") == 15
    assert fast.period_s("daily-report") == 15 * 12


def test_resolve_handlers_covers_every_declared_consumer_lazily() -> None:
    from local.handlers import resolve_handlers

    queues, schedules = resolve_handlers()
    assert set(queues) == {q.logical for q in resources.QUEUES if q.consumer}
    assert set(schedules) == {s.logical for s in resources.SCHEDULES}
    assert {h.spec for h in queues.values()} == {q.consumer for q in resources.QUEUES if q.consumer}


def test_sqs_event_builder_matches_fixture_shape(load_event: Any) -> None:
    fixture = load_event("sqs_event_s3_notification.json")
    arn = fixture["Records"][0]["eventSourceARN"]
    built = lambda_events.sqs_event([fixture["Records"][0]["body"]], arn, "eu-west-2")
    assert set(built["Records"][0]) == set(fixture["Records"][0])
    assert set(built["Records"][0]["attributes"]) == set(fixture["Records"][0]["attributes"])
    assert built["Records"][0]["md5OfBody"] == fixture["Records"][0]["md5OfBody"]
    body = json.loads(fixture["Records"][0]["body"])
    assert body == load_event("s3_object_created.json")


class Blocking(Recorder):
    """A handler that stays inside until released (a rule evaluation that takes minutes)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        super().__call__(event, context)
        self.inside.set()
        self.release.wait(30)
        return None


def _running(runner: EventRunner) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), kwargs={"join_timeout_s": 1}, daemon=True)
    thread.start()
    return stop, thread


def _until(condition: Any, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not condition():
        time.sleep(0.02)
    return bool(condition())


def test_a_long_schedule_does_not_hold_up_the_queues(provisioned: dict[str, str]) -> None:
    evaluation, slips = Blocking(), Recorder()
    runner = EventRunner(
        provisioned,
        clients.client("sqs"),
        {QUEUE: slips},
        {SCHEDULE: evaluation},
        wait_time_s=0,
        schedule_seconds=0.05,
        idle_sleep_s=0.02,
    )
    stop, thread = _running(runner)
    try:
        assert evaluation.inside.wait(10)
        _send(QUEUE, "slip-1", "slip-2")
        assert _until(lambda: sum(len(b) for b in slips.bodies) == 2)
        assert not evaluation.release.is_set() and len(evaluation.calls) == 1  # still evaluating
        assert _counts(QUEUE) == (0, 0)
    finally:
        evaluation.release.set()
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_each_queue_is_polled_on_its_own_thread(provisioned: dict[str, str]) -> None:
    other = next(q.logical for q in resources.QUEUES if q.logical != QUEUE)
    stuck, free = Blocking(), Recorder()
    runner = EventRunner(
        provisioned, clients.client("sqs"), {other: stuck, QUEUE: free}, {}, wait_time_s=0, idle_sleep_s=0.02
    )
    stop, thread = _running(runner)
    try:
        _send(other, "held up")
        assert stuck.inside.wait(10)
        _send(QUEUE, "goes through")
        assert _until(lambda: free.bodies == [["goes through"]])
    finally:
        stuck.release.set()
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_stop_does_not_wait_for_a_handler_and_deletes_nothing_of_its_batch(provisioned: dict[str, str]) -> None:
    stuck = Blocking()
    runner = EventRunner(provisioned, clients.client("sqs"), {QUEUE: stuck}, {}, wait_time_s=0, idle_sleep_s=0.02)
    stop, thread = _running(runner)
    try:
        _send(QUEUE, "in flight")
        assert stuck.inside.wait(10)
        stop.set()
        thread.join(timeout=5)
        assert not thread.is_alive()  # run_forever returned; the handler is still inside
        assert _counts(QUEUE) == (0, 1)  # received, not deleted: back after its visibility timeout
    finally:
        stuck.release.set()
