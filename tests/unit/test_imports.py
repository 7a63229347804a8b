"""History imports on in-memory stores: chunks driven by queue messages, good rows recorded and bad
ones in the error CSV (row, line, column), a job killed mid-chunk (or between its progress and its
next message) resumes with exact totals and no duplicate, every message delivered twice changes
nothing, a bad header fails the job, history raises no alerts unless asked, and the API."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.core import config
from chalicelib.domain.imports import ImportJob, ImportRequest, ImportState, ImportStep
from chalicelib.domain.subjects import SubjectRef
from local.history_gen import history_csv
from tests.helpers import Api

T0 = (datetime.now(UTC) - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)


def container(rows_per_chunk: int = 7) -> wiring.Container:
    c = wiring.in_memory(config.from_env({}), clock=lambda: T0)
    c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), "rows_per_chunk": rows_per_chunk})
    return c


def upload(c: wiring.Container, data: bytes, **req: Any) -> ImportJob:
    job, post = c.imports.start(ImportRequest(**req), "user:alice")
    assert post["fields"]["key"] == job.object_key and job.object_key.endswith(f"{job.import_id}/source.csv")
    c.adapters.files.write(c.imports.limits.bucket, job.object_key, data)
    c.imports.uploaded(job.object_key)
    return job


def messages(c: wiring.Container) -> list[str]:
    q = c.adapters.queue
    assert isinstance(q, memory.MemoryQueue)
    return q.messages["imports"]


def drain(c: wiring.Container, deliver: Callable[[str], None] | None = None, limit: int = 10_000) -> int:
    q, n = messages(c), 0
    while q and n < limit:
        body = q.pop(0)
        (deliver or (lambda b: c.imports.handle(ImportStep.model_validate_json(b))))(body)
        n += 1
    return n


def totals(job: ImportJob) -> tuple[Any, ...]:
    return job.state, job.rows_read, job.recorded, job.duplicates, job.rejected


def error_rows(c: wiring.Container, job: ImportJob) -> list[dict[str, str]]:
    assert job.errors_key is not None
    data = c.adapters.files.read_optional(c.imports.limits.bucket, job.errors_key)
    assert data is not None
    return list(csv.DictReader(io.StringIO(data.decode())))


def stored_bets(c: wiring.Container) -> int:
    bets = c.adapters.bets
    assert isinstance(bets, memory.MemoryBets)
    return len(bets.items)


def test_good_rows_are_recorded_bad_ones_reported_with_row_line_and_column() -> None:
    c = container()
    job = upload(c, b"".join(history_csv(100, bad_every=10)))
    assert c.imports.get(job.import_id).state is ImportState.running
    assert drain(c) == 16  # 15 chunks (100 rows / 7, then the empty read at the end) + finalize
    done = c.imports.get(job.import_id)
    assert totals(done) == (ImportState.done, 100, 90, 0, 10)
    assert stored_bets(c) == 90
    rows = error_rows(c, done)
    assert [r["row"] for r in rows] == [str(i) for i in range(10, 101, 10)]
    assert [r["line"] for r in rows] == [str(i + 1) for i in range(10, 101, 10)]  # the header is line 1
    assert [r["error"].split(":")[0] for r in rows[:4]] == ["stake", "placed_at", "selections", "selections"]
    assert rows[0]["bet_id"] == "H-00000009" and rows[0]["note"] == "imported"
    assert c.imports.errors_url(job.import_id) is not None
    # Profiles and windows are filled from the history.
    profile = c.adapters.subjects.profile(SubjectRef.customer("C00000"))
    assert profile is not None and profile.bets_total == 1


def test_a_job_killed_mid_chunk_resumes_with_exact_totals() -> None:
    data = b"".join(history_csv(60, bad_every=9))
    clean = container()
    expected = totals(c_done := _run(clean, data))
    assert expected == (ImportState.done, 60, 54, 0, 6)

    c = container()
    job = upload(c, data)
    real = c.imports.recorder.record
    calls = {"n": 0}

    def dies_once(*a: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 24:  # the 4th chunk, half done: the process dies
            raise RuntimeError("killed")
        return real(*a, **kw)

    c.imports.recorder.record = dies_once  # type: ignore[method-assign]

    def deliver(body: str) -> None:
        try:
            c.imports.handle(ImportStep.model_validate_json(body))
        except RuntimeError:
            messages(c).append(body)  # not deleted: SQS delivers it again after its visibility timeout

    drain(c, deliver)
    done = c.imports.get(job.import_id)
    assert totals(done) == expected and stored_bets(c) == stored_bets(clean)
    assert error_rows(c, done) == error_rows(clean, c_done)
    subjects = c.adapters.subjects
    assert isinstance(subjects, memory.MemorySubjects)
    assert sum(p.bets_total for p in subjects.profiles.values()) == 54  # no bet counted twice


def test_progress_saved_but_next_message_lost_is_resent_by_the_redelivery() -> None:
    data = b"".join(history_csv(30))
    c = container()
    job = upload(c, data)
    q = c.adapters.queue
    assert isinstance(q, memory.MemoryQueue)
    real_send, lost = q.send, {"done": False}

    def send(queue: str, body: str) -> None:
        if not lost["done"] and json.loads(body)["chunk"] == 2:
            lost["done"] = True
            raise RuntimeError("crashed before sending")
        real_send(queue, body)

    q.send = send  # type: ignore[method-assign]

    def deliver(body: str) -> None:
        try:
            c.imports.handle(ImportStep.model_validate_json(body))
        except RuntimeError:
            messages(c).append(body)

    drain(c, deliver)
    assert totals(c.imports.get(job.import_id)) == (ImportState.done, 30, 30, 0, 0)


def test_every_message_delivered_twice_changes_nothing() -> None:
    data = b"".join(history_csv(40, bad_every=7))
    c = container()
    job = upload(c, data)
    c.imports.uploaded(job.object_key)  # the notification twice

    def twice(body: str) -> None:
        msg = ImportStep.model_validate_json(body)
        c.imports.handle(msg)
        c.imports.handle(msg)

    drain(c, twice)
    assert totals(c.imports.get(job.import_id)) == totals(_run(container(), data))


def test_the_same_file_again_reports_duplicates_and_records_nothing() -> None:
    data = b"".join(history_csv(20, bad_every=5))
    c = container()
    _run(c, data)
    again = _run(c, data)
    assert totals(again) == (ImportState.done, 20, 0, 16, 4)
    assert stored_bets(c) == 16


def test_a_bad_header_fails_the_job_and_names_the_problem() -> None:
    c = container()
    job = _run(c, b"bet_id,customer_id,stake\r\nH-1,C1,10.00\r\n")
    assert job.state is ImportState.failed and job.error is not None and "shop_id" in job.error
    assert stored_bets(c) == 0


def test_quoted_newlines_bom_and_crlf_keep_rows_lines_and_offsets_right() -> None:
    header = "\ufeffbet_id,customer_id,shop_id,channel,stake,currency,bet_type,sport,placed_at,selections,note\r\n"
    sel = '"[{""event"": ""14:30 Ascot"", ""market"": ""win"", ""selection"": ""Sea Bird"", ""price"": ""5.5""}]"'
    lines = [header]
    for i in range(12):
        note = '"two\r\nlines"' if i % 3 == 0 else "x"
        stake = "1.234" if i == 10 else "5.00"
        lines.append(f"Q-{i},C1,,online,{stake},GBP,single,horse_racing,2025-06-02T12:00:{i:02d}Z,{sel},{note}\r\n")
    c = container(rows_per_chunk=4)
    job = _run(c, "".join(lines).encode())
    assert totals(job) == (ImportState.done, 12, 11, 0, 1)
    [bad] = error_rows(c, job)
    # rows 1, 4, 7, 10 take two lines each: after the header and 14 lines, row 11 is on line 16
    assert (bad["row"], bad["line"], bad["bet_id"]) == ("11", "16", "Q-10")
    assert bad["error"].startswith("stake:")


def test_history_raises_no_alerts_unless_asked() -> None:
    recent = T0 - timedelta(hours=3)
    data = b"".join(history_csv(6, start=recent, step_s=60, customers=1, stake="200.00"))
    quiet = container()
    _run(quiet, data)
    assert quiet.monitor.evaluate(T0) == []
    loud = container()
    _run(loud, data, raise_alerts=True)
    assert [a.rule_id for a in loud.monitor.evaluate(T0)] == ["stake_window_customer"]


def _run(c: wiring.Container, data: bytes, **req: Any) -> ImportJob:
    job = upload(c, data, **req)
    drain(c)
    return c.imports.get(job.import_id)


# --- the API -------------------------------------------------------------------------------------


def test_post_imports_returns_an_upload_and_get_shows_progress(api: Api, services: wiring.Container) -> None:
    staff = {**api.staff(), "content-type": "application/json"}
    assert api.c.http.post("/imports", body="{}", headers=api.ingest()).status_code == 403
    r = api.c.http.post("/imports", body=json.dumps({"raise_alerts": 1.5}), headers=staff)
    assert r.status_code == 422 and r.json_body["details"][0]["field"] == "raise_alerts"
    r = api.c.http.post("/imports", body=json.dumps({"filename": "may.csv"}), headers=staff)
    assert r.status_code == 201, r.body
    import_id = r.json_body["import_id"]
    assert r.json_body["upload"]["fields"]["key"] == r.json_body["upload"]["object_key"]
    got = api.get(f"/imports/{import_id}").json_body
    assert (got["state"], got["rows_read"], got["errors_url"]) == ("pending", 0, None)
    assert api.get(f"/imports/{import_id}/errors").status_code == 404
    assert api.get("/imports/imp-0000").status_code == 404
    job = services.imports.get(import_id)
    services.adapters.files.write(services.imports.limits.bucket, job.object_key, b"".join(history_csv(9, bad_every=3)))
    services.imports.uploaded(job.object_key)
    drain(services)
    got = api.get(f"/imports/{import_id}").json_body
    assert (got["state"], got["rows_read"], got["recorded"], got["rejected"]) == ("done", 9, 6, 3)
    assert got["errors_url"] and api.get(f"/imports/{import_id}/errors").json_body["url"] == got["errors_url"]


def test_a_slow_chunk_ends_early_at_a_row_and_the_next_goes_on_from_there() -> None:
    c = container(rows_per_chunk=1000)
    c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), "chunk_seconds": 0.0})
    job = _run(c, b"".join(history_csv(5, bad_every=2)))
    assert totals(job) == (ImportState.done, 5, 3, 0, 2)
    assert job.next_chunk == 7  # one row per chunk with no time left, an empty read, then the error CSV
    assert [r["row"] for r in error_rows(c, job)] == ["2", "4"]


def test_a_chunk_recorded_in_lanes_killed_and_redelivered_gives_exact_totals() -> None:
    """8 lanes, 5 customers: a worker dies mid-chunk while the other lanes go on; the chunk's
    redelivery records what was missing and nothing twice. Each customer's rows are recorded in file
    order (so each is scored against the rows before it, as one at a time would be)."""
    data = b"".join(history_csv(120, bad_every=11, customers=5))
    lanes = {"workers": 8, "lane_depth": 2}

    def lanes_container() -> wiring.Container:
        c = container(rows_per_chunk=50)
        c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), **lanes})
        return c

    one = container(rows_per_chunk=50)
    one.imports.limits = one.imports.limits.__class__(**{**vars(one.imports.limits), "workers": 1})
    expected = totals(one_done := _run(one, data))
    assert expected == (ImportState.done, 120, 110, 0, 10)

    c = lanes_container()
    job = upload(c, data)
    real = c.imports.recorder.record
    seen: list[tuple[int, str, int]] = []  # (delivery, customer, row) in the order they were recorded
    calls, lock = {"n": 0, "delivery": 0}, threading.Lock()

    def dies_once(body: Any, source: str, *a: Any, **kw: Any) -> Any:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n == 70:  # in the 2nd chunk: this lane's worker dies, the chunk raises after the others finish
            raise RuntimeError("killed")
        seen.append((calls["delivery"], body.customer_id, int(source.rsplit("row", 1)[1])))
        return real(body, source, *a, **kw)

    c.imports.recorder.record = dies_once  # type: ignore[method-assign]
    redelivered = []

    def deliver(body: str) -> None:
        calls["delivery"] += 1
        try:
            c.imports.handle(ImportStep.model_validate_json(body))
        except RuntimeError:
            redelivered.append(body)
            messages(c).append(body)  # not deleted: SQS delivers it again after its visibility timeout

    drain(c, deliver)
    assert len(redelivered) == 1 and json.loads(redelivered[0])["chunk"] == 1
    done = c.imports.get(job.import_id)
    assert totals(done) == expected and stored_bets(c) == stored_bets(one) == 110
    assert error_rows(c, done) == error_rows(one, one_done)  # in row order, whatever order the lanes took
    subjects = c.adapters.subjects
    assert isinstance(subjects, memory.MemorySubjects)
    assert sum(p.bets_total for p in subjects.profiles.values()) == 110  # no bet counted twice
    # Within one delivery, a customer's rows were recorded in file order.
    for delivery, customer in {(d, cust) for d, cust, _ in seen}:
        rows = [r for d, cust, r in seen if (d, cust) == (delivery, customer)]
        assert rows == sorted(rows) and len(rows) > 1
    # The same bets, scored the same as one at a time (the history each saw was the same).
    one_bets, lane_bets = one.adapters.bets, c.adapters.bets
    assert isinstance(one_bets, memory.MemoryBets) and isinstance(lane_bets, memory.MemoryBets)
    assert {k: v.bet.risk for k, v in lane_bets.items.items()} == {k: v.bet.risk for k, v in one_bets.items.items()}


def test_imported_history_stays_out_of_the_live_feed_and_todays_report() -> None:
    """Months of history are not what arrived today: no feed rows, no bets in today's report."""
    c = container(rows_per_chunk=50)
    job = _run(c, b"".join(history_csv(30, customers=3)))
    assert job.recorded == 30
    feed = c.adapters.feed
    assert isinstance(feed, memory.MemoryFeed)
    assert not feed.rows
    assert c.reports.daily(T0.date()).totals.bets == 0
