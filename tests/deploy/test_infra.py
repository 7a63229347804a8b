"""The CDK stack (infra/) against the declarations in chalicelib/resources.py.

Synthesizes in-process (no CDK CLI, no Docker, no AWS). Two templates:
- `template`: the stack without the Chalice app (`-c chalice=false`): always offline;
- `full`: with the Chalice app, which runs `chalice package` on the code alone (no dependencies:
  they are in the layers, which layers/build.py builds during synth when missing or stale).
Skipped altogether when aws-cdk-lib is not installed (see infra/requirements.txt).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

cdk = pytest.importorskip("aws_cdk")
assertions = pytest.importorskip("aws_cdk.assertions")

from chalicelib.core import resources  # noqa: E402
from infra.betwatch_stack import CHALICE_FUNCTIONS, BetwatchStack  # noqa: E402
from infra.stages import STAGES  # noqa: E402

Match = assertions.Match
STAGE = "dev"


def _stack(with_chalice: bool, stage: str = STAGE) -> BetwatchStack:
    return BetwatchStack(
        cdk.App(),
        f"test-{stage}",
        stage=STAGES[stage],
        with_chalice=with_chalice,
        env=cdk.Environment(account="123456789012", region="eu-west-2"),
    )


def _synth(with_chalice: bool, stage: str = STAGE) -> Any:
    return assertions.Template.from_stack(_stack(with_chalice, stage))


@pytest.fixture(scope="module")
def template() -> Any:
    return _synth(with_chalice=False)


@pytest.fixture(scope="module")
def full_stack() -> BetwatchStack:
    return _stack(with_chalice=True)


@pytest.fixture(scope="module")
def full(full_stack: BetwatchStack) -> Any:
    return assertions.Template.from_stack(full_stack)


def _resources(t: Any, type_: str) -> dict[str, Any]:
    return dict(t.find_resources(type_))


def _by_prop(t: Any, type_: str, prop: str, value: Any) -> dict[str, Any]:
    found = [r for r in _resources(t, type_).values() if r["Properties"].get(prop) == value]
    assert len(found) == 1, f"{type_} with {prop}={value!r}: {len(found)} found"
    return found[0]["Properties"]


def _name(logical: str) -> str:
    return resources.physical_name(STAGE, logical)


# --- declarations -> resources ----------------------------------------------------------------------


def test_tables(template: Any) -> None:
    assert len(_resources(template, "AWS::DynamoDB::Table")) == len(resources.TABLES)
    for t in resources.TABLES:
        props = _by_prop(template, "AWS::DynamoDB::Table", "TableName", _name(t.logical))
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
        assert keys == ({t.pk: "HASH", t.sk: "RANGE"} if t.sk else {t.pk: "HASH"})
        if t.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": t.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        assert set(gsis) == {ix.name for ix in t.gsis}
        for ix in t.gsis:
            ks = {k["AttributeName"]: k["KeyType"] for k in gsis[ix.name]["KeySchema"]}
            assert ks == ({ix.pk: "HASH", ix.sk: "RANGE"} if ix.sk else {ix.pk: "HASH"})
            if ix.projection is None:
                assert gsis[ix.name]["Projection"]["ProjectionType"] == "ALL"


def test_queues_with_dlq_redrive_and_sse(template: Any) -> None:
    queues = _resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2 * len(resources.QUEUES)
    dlq_ids = {}
    for q in resources.QUEUES:
        dlq = _by_prop(template, "AWS::SQS::Queue", "QueueName", _name(q.dlq_logical))
        assert dlq["SqsManagedSseEnabled"] is True
        assert dlq["MessageRetentionPeriod"] == q.dlq_retention_s
        dlq_ids[q.logical] = next(k for k, v in queues.items() if v["Properties"]["QueueName"] == _name(q.dlq_logical))
        props = _by_prop(template, "AWS::SQS::Queue", "QueueName", _name(q.logical))
        assert props["SqsManagedSseEnabled"] is True
        assert props["VisibilityTimeout"] == q.visibility_timeout_s
        assert props["MessageRetentionPeriod"] == q.retention_s
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_ids[q.logical], "Arn"]},
            "maxReceiveCount": q.max_receive_count,
        }
    # Every queue refuses plain HTTP.
    policies = _resources(template, "AWS::SQS::QueuePolicy")
    secured = {
        ref["Ref"]
        for p in policies.values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for ref in p["Properties"]["Queues"]
    }
    assert len(secured) == len(queues)


def test_bucket(template: Any) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == len(resources.BUCKETS)
    for b in resources.BUCKETS:
        (bucket_id, bucket), *_ = [
            (k, v) for k, v in buckets.items() if _name(b.logical) in json.dumps(v["Properties"]["BucketName"])
        ]
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] in ("AES256", "aws:kms")
        if b.expire_after_days:
            rules = props["LifecycleConfiguration"]["Rules"]
            assert any(r.get("ExpirationInDays") == b.expire_after_days and r["Status"] == "Enabled" for r in rules)
        if b.notify_queue:
            (conf,) = props["NotificationConfiguration"]["QueueConfigurations"]
            assert conf["Event"] == "s3:ObjectCreated:*"
            queue_id = next(
                k
                for k, v in _resources(template, "AWS::SQS::Queue").items()
                if v["Properties"]["QueueName"] == _name(b.notify_queue)
            )
            assert conf["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
            if b.notify_prefix:
                assert conf["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": b.notify_prefix}]
        # TLS only.
        template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_topics_and_subscriptions(template: Any) -> None:
    subs = [s["Properties"] for s in _resources(template, "AWS::SNS::Subscription").values()]
    for t in resources.TOPICS:
        props = _by_prop(template, "AWS::SNS::Topic", "TopicName", _name(t.logical))
        assert "KmsMasterKeyId" in props
        topic_id = next(
            k
            for k, v in _resources(template, "AWS::SNS::Topic").items()
            if v["Properties"]["TopicName"] == _name(t.logical)
        )
        for sub in t.subscriptions:
            endpoints = STAGES[STAGE].endpoints.get(sub.protocol, ())
            mine = [s for s in subs if s["TopicArn"] == {"Ref": topic_id} and s["Protocol"] == sub.protocol]
            assert sorted(s["Endpoint"] for s in mine) == sorted(endpoints)
            for s in mine:
                assert s.get("FilterPolicy", {}) == sub.filter_policy


def test_sms_filter_policy_in_prod() -> None:
    t = _synth(with_chalice=False, stage="prod")
    subs = [
        s["Properties"]
        for s in _resources(t, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "sms"
    ]
    declared = next(s for topic in resources.TOPICS for s in topic.subscriptions if s.protocol == "sms")
    assert subs and all(s["FilterPolicy"] == declared.filter_policy for s in subs)
    # prod keeps its data.
    for table in _resources(t, "AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_slip_function_is_an_image_with_partial_batch_failures(template: Any) -> None:
    template.has_resource_properties("AWS::Lambda::Function", {"PackageType": "Image"})
    for q in resources.QUEUES:
        if q.consumer.startswith("fn:"):
            template.has_resource_properties(
                "AWS::Lambda::EventSourceMapping",
                {
                    "BatchSize": q.batch_size,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("Queue"), "Arn"]},
                },
            )


def test_alarm_per_dlq_and_function(template: Any) -> None:
    alarms = [a["Properties"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()]
    dlq_alarms = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(dlq_alarms) == len(resources.QUEUES)
    for a in dlq_alarms:
        assert a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"
    assert [a for a in alarms if a["MetricName"] == "Errors"]


def test_secrets(template: Any) -> None:
    template.resource_count_is("AWS::SecretsManager::Secret", len(resources.SECRETS))


# --- IAM ----------------------------------------------------------------------------------------------


def _statements(t: Any) -> list[dict[str, Any]]:
    out = []
    for p in _resources(t, "AWS::IAM::Policy").values():
        out.extend(p["Properties"]["PolicyDocument"]["Statement"])
    for r in _resources(t, "AWS::IAM::Role").values():
        for p in r["Properties"].get("Policies", []):
            out.extend(p["PolicyDocument"]["Statement"])
    return out


def _assert_no_wildcards(t: Any) -> None:
    statements = _statements(t)
    assert statements
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            assert a != "*" and not a.endswith(":*"), f"wildcard action {a}: {st}"


def test_no_wildcard_actions(template: Any) -> None:
    _assert_no_wildcards(template)


def test_no_managed_policies(template: Any) -> None:
    for r in _resources(template, "AWS::IAM::Role").values():
        assert not r["Properties"].get("ManagedPolicyArns")


# --- the Chalice app (needs `chalice package`) ------------------------------------------------------


def test_chalice_functions_have_their_own_roles(full: Any) -> None:
    fns = _resources(full, "AWS::Serverless::Function")
    assert set(CHALICE_FUNCTIONS.values()) <= set(fns)
    roles = {json.dumps(fns[logical]["Properties"]["Role"]) for logical in CHALICE_FUNCTIONS.values()}
    assert len(roles) == len(CHALICE_FUNCTIONS)
    for logical in CHALICE_FUNCTIONS.values():
        env = fns[logical]["Properties"]["Environment"]["Variables"]
        for t in resources.TABLES:
            assert t.env_var in env
        for q in resources.QUEUES:
            assert q.env_var in env
        for topic in resources.TOPICS:
            assert topic.env_var in env
    _assert_no_wildcards(full)


def test_secrets_reach_only_their_readers_by_id(full: Any) -> None:
    """The function gets the secret's ARN, never its value, and only the readers may read it."""
    fns = _resources(full, "AWS::Serverless::Function")
    secrets = _resources(full, "AWS::SecretsManager::Secret")
    text = json.dumps(full.to_json())
    assert "resolve:secretsmanager" not in text  # no dynamic reference puts a value into an env
    for sec in resources.SECRETS:
        sec_readers = [f.name for f in resources.FUNCTIONS if sec.logical in f.secrets]
        name = resources.secret_name(STAGE, sec.logical)
        (logical,) = [k for k, v in secrets.items() if v["Properties"]["Name"] == name]
        for handler, fn_logical in CHALICE_FUNCTIONS.items():
            env = fns[fn_logical]["Properties"]["Environment"]["Variables"]
            if handler in sec_readers:
                assert env[sec.env_var] == {"Ref": logical}
            else:
                assert sec.env_var not in env
        readers = [
            st
            for st in _statements(full)
            if "secretsmanager:GetSecretValue" in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
        ]
        assert readers and all(st["Resource"] == {"Ref": logical} for st in readers)
        assert len(readers) == len(sec_readers)


def test_chalice_functions_run_on_the_layers(full: Any, full_stack: BetwatchStack) -> None:
    """Every Chalice function has both layers; the deployment package itself holds no dependency."""
    import zipfile
    from pathlib import Path

    layers = _resources(full, "AWS::Lambda::LayerVersion")
    assert len(layers) == len(list(Path("layers").glob("*/requirements.txt"))) == 2
    for props in (r["Properties"] for r in layers.values()):
        assert props["CompatibleRuntimes"] == ["python3.12"] and props["CompatibleArchitectures"] == ["x86_64"]
    fns = _resources(full, "AWS::Serverless::Function")
    for logical in CHALICE_FUNCTIONS.values():
        props = fns[logical]["Properties"]
        assert props["Runtime"] == "python3.12"
        assert sorted(x["Ref"] for x in props["Layers"]) == sorted(layers)
    # The package chalice wrote: app.py, chalicelib/ (models included) and chalice's runtime only.
    package = full_stack.chalice_package
    names = zipfile.ZipFile(package).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"app.py", "chalicelib", "chalice"}, tops
    assert "chalicelib/models/risk.onnx" in names
    assert package.stat().st_size < 2 * 2**20


def test_chalice_queue_consumer_reports_batch_item_failures(full: Any) -> None:
    fns = _resources(full, "AWS::Serverless::Function")
    for q in resources.QUEUES:
        if not q.consumer.startswith("app:"):
            continue
        handler = q.consumer.removeprefix("app:")
        events = fns[CHALICE_FUNCTIONS[handler]]["Properties"]["Events"]
        (sqs_event,) = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]
        assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert sqs_event["BatchSize"] == q.batch_size
        assert sqs_event["Queue"]["Fn::GetAtt"][1] == "Arn"


def test_chalice_schedules(full: Any) -> None:
    fns = _resources(full, "AWS::Serverless::Function")
    for s in resources.SCHEDULES:
        events = fns[CHALICE_FUNCTIONS[s.handler]]["Properties"]["Events"]
        (sched,) = [e["Properties"] for e in events.values() if e["Type"] == "Schedule"]
        assert sched["Schedule"] == f"rate({s.rate_minutes} minutes)"
        assert sched["Name"] == _name(s.logical)


def test_every_consumer_is_wired(full: Any) -> None:
    """Each queue's declared consumer exists: an event source mapping (fn:) or a SAM SQS event (app:)."""
    for q in resources.QUEUES:
        kind, name = q.consumer.split(":", 1)
        assert kind in ("fn", "app")
        if kind == "app":
            assert name in CHALICE_FUNCTIONS
