"""local/provision.py creates every resource of chalicelib/resources.py, idempotently."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest

from chalicelib.core import aws as clients
from chalicelib.core import resources
from chalicelib.core.resources import physical_name

STAGE = "local"


def _queue_url(name: str) -> str:
    return str(clients.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def _queue_attrs(name: str) -> dict[str, str]:
    attrs = clients.client("sqs").get_queue_attributes(QueueUrl=_queue_url(name), AttributeNames=["All"])["Attributes"]
    return dict(attrs)


def _snapshot() -> dict[str, Any]:
    """Everything provisioning controls, without timestamps."""
    ddb, sqs, s3, sns = (clients.client(s) for s in ("dynamodb", "sqs", "s3", "sns"))
    snap: dict[str, Any] = {"tables": {}, "queues": {}, "buckets": {}, "subscriptions": []}
    for name in ddb.list_tables()["TableNames"]:
        t = ddb.describe_table(TableName=name)["Table"]
        snap["tables"][name] = (
            t["KeySchema"],
            sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            [(g["IndexName"], g["KeySchema"], g["Projection"]) for g in t.get("GlobalSecondaryIndexes", [])],
            ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        )
    for url in sqs.list_queues().get("QueueUrls", []):
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        snap["queues"][url] = {k: v for k, v in a.items() if "Timestamp" not in k}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        n = s3.get_bucket_notification_configuration(Bucket=name)
        n.pop("ResponseMetadata", None)
        snap["buckets"][name] = n
    for s in sns.list_subscriptions()["Subscriptions"]:
        attrs = sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
        snap["subscriptions"].append((s["Protocol"], s["Endpoint"], attrs.get("FilterPolicy")))
    snap["subscriptions"].sort()
    return snap


def test_env_names_every_declared_resource(provisioned: dict[str, str]) -> None:
    expected = {"BETWATCH_STAGE"}
    expected |= {t.env_var for t in resources.TABLES}
    expected |= {q.env_var for q in resources.QUEUES}
    expected |= {b.env_var for b in resources.BUCKETS}
    expected |= {t.env_var for t in resources.TOPICS}
    assert expected <= set(provisioned)
    assert provisioned["BETWATCH_STAGE"] == STAGE
    for t in resources.TOPICS:
        assert provisioned[t.env_var].startswith("arn:aws:sns:eu-west-2:")
        assert provisioned[t.env_var].endswith(":" + physical_name(STAGE, t.logical))
    for s in resources.SECRETS:
        assert provisioned[s.env_var].startswith("arn:aws:secretsmanager:eu-west-2:")


def test_secrets_hold_a_random_key_kept_across_reruns(provisioned: dict[str, str]) -> None:
    from chalicelib.core import aws
    from local.provision import provision

    sm = aws.client("secretsmanager")
    for s in resources.SECRETS:
        value = sm.get_secret_value(SecretId=provisioned[s.env_var])["SecretString"]
        assert len(value) >= 48
        provision(STAGE)
        assert sm.get_secret_value(SecretId=provisioned[s.env_var])["SecretString"] == value


def test_tables(provisioned: dict[str, str]) -> None:
    ddb = clients.client("dynamodb")
    for t in resources.TABLES:
        name = provisioned[t.env_var]
        assert name == physical_name(STAGE, t.logical)
        desc = ddb.describe_table(TableName=name)["Table"]
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        keys = {k["KeyType"]: k["AttributeName"] for k in desc["KeySchema"]}
        assert keys.get("HASH") == t.pk and keys.get("RANGE") == t.sk
        assert all(a["AttributeType"] == "S" for a in desc["AttributeDefinitions"])
        gsis = {g["IndexName"]: g for g in desc.get("GlobalSecondaryIndexes", [])}
        assert set(gsis) == {ix.name for ix in t.gsis}
        for ix in t.gsis:
            g = gsis[ix.name]
            gkeys = {k["KeyType"]: k["AttributeName"] for k in g["KeySchema"]}
            assert gkeys.get("HASH") == ix.pk and gkeys.get("RANGE") == ix.sk
            if ix.projection is None:
                assert g["Projection"]["ProjectionType"] == "ALL"
            else:
                assert g["Projection"]["ProjectionType"] == "INCLUDE"
                keys_all = {t.pk, t.sk, ix.pk, ix.sk}
                assert set(g["Projection"]["NonKeyAttributes"]) == set(ix.projection) - keys_all
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if t.ttl_attribute:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == t.ttl_attribute
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_queues_and_dlqs(provisioned: dict[str, str]) -> None:
    for q in resources.QUEUES:
        assert provisioned[q.env_var] == physical_name(STAGE, q.logical)
        dlq = _queue_attrs(physical_name(STAGE, q.dlq_logical))
        assert dlq["MessageRetentionPeriod"] == str(q.dlq_retention_s)
        attrs = _queue_attrs(provisioned[q.env_var])
        assert attrs["VisibilityTimeout"] == str(q.visibility_timeout_s)
        assert attrs["MessageRetentionPeriod"] == str(q.retention_s)
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == q.max_receive_count


def test_buckets_with_notifications(provisioned: dict[str, str]) -> None:
    s3 = clients.client("s3")
    for b in resources.BUCKETS:
        name = provisioned[b.env_var]
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-2"
        pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(pab.values())
        if b.expire_after_days:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
            assert rules[0]["Expiration"]["Days"] == b.expire_after_days
        if not b.notify_queue:
            continue
        queue_attrs = _queue_attrs(physical_name(STAGE, b.notify_queue))
        (conf,) = s3.get_bucket_notification_configuration(Bucket=name)["QueueConfigurations"]
        assert conf["QueueArn"] == queue_attrs["QueueArn"]
        assert conf["Events"] == ["s3:ObjectCreated:*"]
        assert conf["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": b.notify_prefix}] or conf["Filter"][
            "Key"
        ]["FilterRules"] == [{"Name": "prefix", "Value": b.notify_prefix}]
        policy = json.loads(queue_attrs["Policy"])
        (stmt,) = [s for s in policy["Statement"] if s["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(name)]
        assert stmt["Principal"] == {"Service": "s3.amazonaws.com"}
        assert stmt["Action"] == "sqs:SendMessage"
        assert stmt["Resource"] == queue_attrs["QueueArn"]


def test_topic_subscriptions_with_filter_policies(provisioned: dict[str, str]) -> None:
    sns = clients.client("sns")
    for t in resources.TOPICS:
        arn = provisioned[t.env_var]
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        for sub in t.subscriptions:
            endpoints = provisioned[sub.endpoints_env].split(",")
            mine = [s for s in subs if s["Protocol"] == sub.protocol]
            assert sorted(s["Endpoint"] for s in mine) == sorted(endpoints)
            for s in mine:
                attrs = sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
                policy = json.loads(attrs["FilterPolicy"]) if attrs.get("FilterPolicy") else {}
                assert policy == sub.filter_policy


def test_schedule_rules(provisioned: dict[str, str]) -> None:
    events = clients.client("events")
    for s in resources.SCHEDULES:
        rule = events.describe_rule(Name=physical_name(STAGE, s.logical))
        assert rule["ScheduleExpression"] in (f"rate({s.rate_minutes} minutes)", f"rate({s.rate_minutes} minute)")


def test_idempotent(provisioned: dict[str, str]) -> None:
    from local.provision import provision

    before = _snapshot()
    again = provision(STAGE, alert_emails=["staff@example.com"], alert_phones=["+447700900123"])
    assert again == provisioned
    assert _snapshot() == before


def test_converges_changed_queue_attributes(provisioned: dict[str, str]) -> None:
    from local.provision import provision

    q = resources.QUEUES[0]
    clients.client("sqs").set_queue_attributes(
        QueueUrl=_queue_url(provisioned[q.env_var]), Attributes={"VisibilityTimeout": "1"}
    )
    provision(STAGE, alert_emails=["staff@example.com"], alert_phones=["+447700900123"])
    assert _queue_attrs(provisioned[q.env_var])["VisibilityTimeout"] == str(q.visibility_timeout_s)


def test_s3_put_object_notifies_queue(provisioned: dict[str, str]) -> None:
    s3, sqs = clients.client("s3"), clients.client("sqs")
    for b in resources.BUCKETS:
        if not b.notify_queue:
            continue
        url = _queue_url(physical_name(STAGE, b.notify_queue))
        bucket = provisioned[b.env_var]
        # Configuring the notification made S3 send its test event, as AWS does.
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [json.loads(m["Body"]).get("Event") for m in first] == ["s3:TestEvent"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])

        key = f"{b.notify_prefix}abc.jpg"
        s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8 not really a jpeg")
        s3.put_object(Bucket=bucket, Key="elsewhere/ignored.jpg", Body=b"x")
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        assert len(msgs) == 1
        (record,) = json.loads(msgs[0]["Body"])["Records"]
        assert record["eventSource"] == "aws:s3"
        assert record["eventName"].startswith("ObjectCreated:")
        assert record["s3"]["bucket"]["name"] == bucket
        # Keys arrive URL-encoded (quote_plus): consumers must unquote_plus them. AWS leaves "/"
        # as is while moto encodes it as %2F; unquote_plus reads both.
        assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_alert_endpoints_from_env(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from local.provision import provision

    monkeypatch.setenv("BETWATCH_ALERT_EMAILS", "a@example.com, b@example.com")
    monkeypatch.setenv("BETWATCH_ALERT_PHONES", "+447700900001")
    env = provision(STAGE)
    subs = clients.client("sns").list_subscriptions_by_topic(TopicArn=env[resources.TOPICS[0].env_var])["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == [
        ("email", "a@example.com"),
        ("email", "b@example.com"),
        ("sms", "+447700900001"),
    ]


def test_main_prints_env(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    from local.provision import main

    assert main(["--email", "x@example.com", "--phone", "+447700900002"]) == 0
    lines = capsys.readouterr().out.splitlines()
    env = dict(line.split("=", 1) for line in lines)
    assert env["BETWATCH_STAGE"] == STAGE
    assert all(t.env_var in env for t in resources.TABLES)


def test_sns_deliveries_apply_filter_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the embedded server: email gets every alert, SMS only high/critical (moto's matcher)."""
    from local.moto_server import MotoServer, sns_deliveries
    from local.provision import provision

    with MotoServer(port=0) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
        clients.reset()
        try:
            env = provision(STAGE, alert_emails=["staff@example.com"], alert_phones=["+447700900123"])
            topic = env[resources.TOPICS[0].env_var]
            sns = clients.client("sns")
            for severity in ("low", "high", "critical"):
                sns.publish(
                    TopicArn=topic,
                    Subject=f"{severity} alert",
                    Message=json.dumps({"severity": severity}),
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
                )
            got = sns_deliveries(server.endpoint)
        finally:
            clients.reset()
    by = {(d["protocol"], d["subject"]) for d in got}
    assert by == {
        ("email", "low alert"),
        ("email", "high alert"),
        ("email", "critical alert"),
        ("sms", "high alert"),
        ("sms", "critical alert"),
    }
    sms = [d for d in got if d["protocol"] == "sms"]
    assert all(d["endpoint"] == "+447700900123" and d["attributes"]["severity"] in ("high", "critical") for d in sms)
