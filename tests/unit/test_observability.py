"""Logs and metrics as an operator reads them: one correlation id on every log line of a request,
an EMF metric for every item the issue names, and no secret in any log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.core import observability as obs
from chalicelib.domain.bets import BetIn
from chalicelib.domain.slips import S3ObjectRef, SlipLimits
from chalicelib.services.slip_processing import SlipProcessor, SlipRefused
from tests.helpers import Api, bet_body


def lines(out: str) -> list[dict[str, Any]]:
    found = []
    for raw in out.splitlines():
        try:
            found.append(json.loads(raw))
        except ValueError:
            continue
    return found


def emf_names(out: str) -> dict[str, list[dict[str, Any]]]:
    names: dict[str, list[dict[str, Any]]] = {}
    for line in lines(out):
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            for m in directive["Metrics"]:
                names.setdefault(m["Name"], []).append(line)
    return names


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the JSON logger writes, through its own formatter (its stdout handler is bound at import)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(obs.logger.registered_formatter)
    obs.logger.addHandler(handler)
    yield buf
    obs.logger.removeHandler(handler)


def test_every_log_line_of_a_request_carries_its_correlation_id(api: Api, logged: io.StringIO) -> None:
    r = api.post("/bets", bet_body(stake="600.00"))
    assert r.status_code == 201
    records = [line for line in lines(logged.getvalue()) if "level" in line]
    assert len(records) >= 2  # the recording and the request summary at least
    ids = {line.get("correlation_id") for line in records}
    assert len(ids) == 1 and None not in ids and r.headers["X-Request-Id"] in ids
    assert {line.get("route") for line in records} == {"/bets"}


def test_no_credentials_in_logs(api: Api, logged: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    api.c.http.post(
        "/auth/login",
        body=json.dumps({"username": "alice", "password": "correct horse battery"}),
        headers={"content-type": "application/json"},
    )
    api.post("/bets", bet_body())
    out = capsys.readouterr().out + logged.getvalue()
    assert "correct horse battery" not in out and api.ingest_key not in out and api.staff_token not in out


def test_a_metric_for_every_named_item(services: wiring.Container, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC) - timedelta(hours=2)
    for stake in ("300.00", "250.00"):
        services.recorder.record(
            BetIn.model_validate(bet_body(customer_id="C9", stake=stake, placed_at=now.isoformat())), "k"
        )
    services.monitor.run(now + timedelta(minutes=1))
    # Clustering: one new writer, one matched.
    for vec in ([1.0] + [0.0] * 47, [0.99, 0.05] + [0.0] * 46):
        bet = services.recorder.record(BetIn.model_validate(bet_body(placed_at=now.isoformat())), "k")[0]
        key = services.uploads.start(bet.bet_id, "image/jpeg")["object_key"]
        services.adapters.slips.mark_embedded(bet.bet_id, key, vec, "m", None, now)
        msg = services.adapters.slips.clustering_message(bet.bet_id)
        assert msg is not None
        services.clusterer().assign(msg)
    # Slips processed and rejected by reason.

    def refuse(data: bytes, limits: SlipLimits | None) -> Any:
        raise SlipRefused("not an image", "not_image")

    proc = SlipProcessor(
        services.adapters.slips,
        services.adapters.files,
        services.adapters.queue,
        refuse,
        SlipLimits(10**6, 1, 10**8, 1),
    )
    bet = services.recorder.record(BetIn.model_validate(bet_body(placed_at=now.isoformat())), "k")[0]
    key = services.uploads.start(bet.bet_id, "image/jpeg")["object_key"]
    services.adapters.files.objects[("b", key)] = b"GIF"  # type: ignore[attr-defined]
    assert proc.process(S3ObjectRef(bucket="b", key=key, size=3)) == "rejected"
    obs.flush()
    names = emf_names(capsys.readouterr().out)
    for name in (
        obs.BETS_RECORDED,
        "RiskLevelMedium",
        obs.ALERTS_RAISED,
        obs.ALERTS_PUBLISHED,
        obs.RULE_RUN_MS,
        obs.WRITER_NEW,
        obs.WRITER_MATCHED,
        obs.SLIPS_PROCESSED,
        obs.SLIPS_REJECTED,
    ):
        assert name in names, (name, sorted(names))
    rejected = names[obs.SLIPS_REJECTED][0]
    assert rejected["reason"] == "not_image" and rejected["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "betwatch"
    assert sum(names[obs.BETS_RECORDED][0][obs.BETS_RECORDED]) == 5
