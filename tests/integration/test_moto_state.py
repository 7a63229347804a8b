"""local/moto_state.py: the embedded AWS keeps its state across a restart, and across a crash for DynamoDB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.moto_server import MotoServer
from tests.integration.conftest import bet_transaction, client_for, create_table, profile


def _forget_everything() -> None:
    """What a new process starts with: moto holding nothing."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    _forget_everything()
    yield tmp_path / "moto"
    _forget_everything()


def _start(state_dir: Path) -> MotoServer:
    server = MotoServer(port=0, state_dir=state_dir, snapshot_interval_s=0).start()  # snapshots only when told
    server.wait_ready()
    return server


def _restart(server: MotoServer, final_snapshot: bool = True) -> MotoServer:
    assert server.state_dir is not None
    server.stop(final_snapshot=final_snapshot)
    _forget_everything()
    return _start(server.state_dir)


def _bets(ddb: Any, table: str, start: int, n: int) -> None:
    for i in range(start, start + n):
        ddb.transact_write_items(TransactItems=bet_transaction(table, f"C{i % 2}", f"b{i}", 2))


def _totals(ddb: Any, table: str) -> tuple[int, ...]:
    out: list[int] = []
    for c in ("C0", "C1"):
        item = profile(ddb, table, c)
        out.append(int(item["bets_total"]["N"]) if item else 0)
    return tuple(out)


def test_every_service_survives_a_restart(state_dir: Path) -> None:
    server = _start(state_dir)
    ddb = client_for(server.endpoint, "dynamodb")
    table = create_table(ddb, gsi=True)
    _bets(ddb, table, 0, 10)
    sqs = client_for(server.endpoint, "sqs")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="still here")
    s3 = client_for(server.endpoint, "s3")
    s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_object(Bucket="kept", Key="slips/a.jpg", Body=b"\xff\xd8 jpeg bytes")
    secrets = client_for(server.endpoint, "secretsmanager")
    secrets.create_secret(Name="betwatch/local/key", SecretString="s3cr3t")
    sns = client_for(server.endpoint, "sns")
    topic = sns.create_topic(Name="kept")["TopicArn"]

    server = _restart(server)
    try:
        # Stop snapshots every service but DynamoDB, whose writes come back from its journal.
        assert {"s3", "secretsmanager", "sns", "sqs"} <= set(server.restored.services)
        assert server.restored.replayed == 11 and server.restored.replay_failures == 0  # table + 10 bets
        ddb = client_for(server.endpoint, "dynamodb")
        assert _totals(ddb, table) == (5, 5)
        assert ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by_kind"
        sqs = client_for(server.endpoint, "sqs")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["still here"]
        body = client_for(server.endpoint, "s3").get_object(Bucket="kept", Key="slips/a.jpg")["Body"].read()
        assert body == b"\xff\xd8 jpeg bytes"
        secret = client_for(server.endpoint, "secretsmanager").get_secret_value(SecretId="betwatch/local/key")
        assert secret["SecretString"] == "s3cr3t"
        assert topic in [t["TopicArn"] for t in client_for(server.endpoint, "sns").list_topics()["Topics"]]
        _bets(ddb, table, 10, 2)  # and it goes on from there
        assert _totals(ddb, table) == (6, 6)
    finally:
        server.stop()


def test_a_crash_loses_no_acknowledged_write_and_replays_each_once(state_dir: Path) -> None:
    server = _start(state_dir)
    ddb = client_for(server.endpoint, "dynamodb")
    table = create_table(ddb)
    _bets(ddb, table, 0, 6)
    # A crash after the snapshot's rename but before the old journal was deleted: keep a copy of it.
    kept = {p.name: p.read_bytes() for p in state_dir.glob("dynamodb.journal.*")}
    server.store.snapshot(fork=True)
    assert (state_dir / "dynamodb.pkl").exists()
    for name, data in kept.items():
        (state_dir / name).write_bytes(data)
    _bets(ddb, table, 6, 4)  # only in the journal

    server = _restart(server, final_snapshot=False)
    try:
        assert server.restored.replayed == 4 and server.restored.replay_failures == 0
        assert _totals(client_for(server.endpoint, "dynamodb"), table) == (5, 5)
    finally:
        server.stop()


def test_a_write_cut_short_by_a_crash_is_skipped(state_dir: Path) -> None:
    server = _start(state_dir)
    ddb = client_for(server.endpoint, "dynamodb")
    table = create_table(ddb)
    _bets(ddb, table, 0, 3)
    server.stop(final_snapshot=False)
    (journal,) = state_dir.glob("dynamodb.journal.*")
    with journal.open("ab") as f:
        f.write(b'{"method":"POST","path":"/","qu')
    _forget_everything()
    server = _start(state_dir)
    try:
        assert (server.restored.replayed, server.restored.replay_failures) == (4, 0)  # CreateTable + 3 bets
        assert _totals(client_for(server.endpoint, "dynamodb"), table) == (2, 1)
    finally:
        server.stop()


def test_a_moto_reset_is_kept(state_dir: Path) -> None:
    server = _start(state_dir)
    ddb = client_for(server.endpoint, "dynamodb")
    create_table(ddb)
    requests.post(f"{server.endpoint}/moto-api/reset", timeout=10).raise_for_status()
    server = _restart(server, final_snapshot=False)
    try:
        assert client_for(server.endpoint, "dynamodb").list_tables()["TableNames"] == []
    finally:
        server.stop()


def test_failed_writes_are_not_journaled(state_dir: Path) -> None:
    server = _start(state_dir)
    ddb = client_for(server.endpoint, "dynamodb")
    table = create_table(ddb)
    _bets(ddb, table, 0, 1)
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        _bets(ddb, table, 0, 1)
    server.stop(final_snapshot=False)
    (journal,) = state_dir.glob("dynamodb.journal.*")
    assert len(journal.read_bytes().splitlines()) == 2  # CreateTable and the first bet
    shutil.rmtree(state_dir)


def test_dynamodb_is_snapshotted_periodically_only_once_its_journal_is_long(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A periodic snapshot pickles every table: it waits until the journal is a quarter of the last
    snapshot's size, so the CPU per write does not grow with what is stored."""
    from local import moto_state

    monkeypatch.setattr(moto_state, "JOURNAL_MIN_BYTES", 1)
    server = _start(state_dir)
    try:
        store = server.store
        assert store is not None
        ddb = client_for(server.endpoint, "dynamodb")
        table = create_table(ddb)
        _bets(ddb, table, 0, 20)
        store.snapshot(due_only=True)  # nothing on disk yet: due
        first = (state_dir / "dynamodb.pkl").stat().st_mtime_ns
        assert store.journal_bytes == 0 and store.dynamodb_snapshot_bytes > 0
        _bets(ddb, table, 20, 1)
        assert 0 < store.journal_bytes < moto_state.JOURNAL_SHARE * store.dynamodb_snapshot_bytes
        store.snapshot(due_only=True)
        assert (state_dir / "dynamodb.pkl").stat().st_mtime_ns == first  # not due: the journal holds it
        n = 21
        while not store.dynamodb_due():
            _bets(ddb, table, n, 1)
            n += 1
        store.snapshot(due_only=True)
        assert (state_dir / "dynamodb.pkl").stat().st_mtime_ns != first and store.journal_bytes == 0
        _bets(ddb, table, n, 3)  # only in the journal
        server = _restart(server, final_snapshot=False)
        assert server.restored.replayed == 3
        assert sum(_totals(client_for(server.endpoint, "dynamodb"), table)) == n + 3
    finally:
        server.stop()
