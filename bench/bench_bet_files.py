"""Files per second for raw bet files through the consumer (app.ingest_bet_files).

    .venv/bin/python bench/bench_bet_files.py [--files 1000] [--moto-files 300] [--no-moto]

A mix like a day's folder: 70 % website bets (singles to Lucky 15s), 20 % knockbacks, 10 % SMS wagers
(half in a common form), 1 in 50 malformed (quarantined), over 200 customers. Three figures:

- parse: `parse_bet_file` alone (pure);
- memory: the Chalice handler on SQS events of 10 messages (Powertools batch, S3 read, parse,
  the bet recorder with the ONNX risk model and bet-path rules, knockback and SMS stores) over the
  in-memory fakes;
- moto: the same on moto's in-process AWS through the real adapters: objects put in the bucket,
  S3's notification to SQS, the local event runner draining the queue (DynamoDB transactions, S3
  ranged reads and moves). Wall clock on this machine; for comparison, not thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from chalicelib.domain.uk_time import LONDON

START = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
HORSES = ["Sea Bird", "Night Owl", "Desert Orchid", "Red Rum", "Kauto Star", "Arkle", "Frankel", "Galileo"]
MEETINGS = ["Ascot", "Kempton", "Newbury", "York", "Sandown", "Cheltenham"]
SHAPES = [("Single", 1, 1), ("Double", 2, 1), ("Treble", 3, 1), ("Yankee", 4, 11), ("Lucky 15", 4, 15)]


def _uk(ts: datetime) -> str:
    return f"{ts.astimezone(LONDON):%d/%m/%Y %H:%M:%S}"


def make_files(n: int, seed: int = 7) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        at = START + timedelta(seconds=20 * i)
        cust = f"C{rng.randrange(200):03d}"
        roll = rng.random()
        if i % 50 == 49:
            out.append((f"bad-{i}.txt", f"Wager Number - 9{i:06d}\nthis is not a bet file\n".encode()))
        elif roll < 0.7:
            name, legs, lines = rng.choice(SHAPES)
            unit = rng.choice([1, 2, 5, 10, 20])
            sels = [
                f"{MEETINGS[(i + k) % len(MEETINGS)]}, {13 + k}:{rng.choice(['00', '30'])}, - "
                f"{HORSES[(i + k) % len(HORSES)]} at {rng.choice(['5.5', '9/2', '2.25', 'evs', 'SP'])}"
                for k in range(legs)
            ]
            text = "\n".join(
                [
                    f"Wager Number - {1000000 + i} / Customer Reference - {cust} / Customer Risk Category - W",
                    f"Bet placed on {_uk(at)}",
                    *sels,
                    f"Bets Win Only: {lines} {name}. Unit Stake: £{unit}.00, Payment: £{unit * lines}.00.",
                    f"Wagers : {lines} x £{unit}.00 : {name}",
                ]
            )
            out.append((f"bet-{i}.txt", text.encode()))
        elif roll < 0.9:
            text = (
                f"Knockback Details: KB-{i}\nCustomer Ref: {cust}\n- Error Message: Maximum liability exceeded\n"
                f"- Liability Exceeded: {rng.choice(['True', 'False'])}\n- Maximum stake available: £2.50\n"
                f"{_uk(at)}\n- Meeting Name: Ascot 14:30\n- Selection Name: Sea Bird\n- Bet Price: 5.5\n"
                "- Wager Name: Single\n- Total Stake: £50.00\n"
            )
            out.append((f"kb-{i}.txt", text.encode()))
        else:
            wager = "£5 win Sea Bird 14:30 Ascot" if i % 2 else "a fiver on the favourite please"
            text = (
                f"Wager Number = {5000000 + i}\nCustomer Reference: {cust}\nMobile Number: 07700 900123\n"
                f"Received: {_uk(at)}\nSMS Wager Text: {wager}\n"
            )
            out.append((f"sms-{i}.txt", text.encode()))
    return out


def _body(bucket: str, key: str, size: int) -> str:
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": datetime.now(UTC).isoformat(),
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}},
    }
    return json.dumps({"Records": [record]})


def bench_parse(files: list[tuple[str, bytes]]) -> float:
    from chalicelib.domain.betfiles import BetFileError, parse_bet_file

    t = time.perf_counter()
    for _, data in files:
        try:
            parse_bet_file(data)
        except BetFileError:
            pass
    return len(files) / (time.perf_counter() - t)


def bench_memory(files: list[tuple[str, bytes]]) -> tuple[float, dict[str, int]]:
    from chalice.test import Client

    from chalicelib import wiring
    from chalicelib.adapters.risk_model import OnnxRiskScorer
    from chalicelib.core import config

    cfg = config.from_env({"BETWATCH_JWT_SECRET": "bench-secret-0123456789-0123456789"})
    c = wiring.in_memory(cfg, scorer=OnnxRiskScorer())
    wiring.use(c)
    import app as app_module

    bucket = cfg.bucket("bet-files")
    for name, data in files:
        c.adapters.objects.write(bucket, f"incoming/{name}", data)
    bodies = [_body(bucket, f"incoming/{name}", len(data)) for name, data in files]
    c.recorder.scorer.assess  # noqa: B018 - the model is loaded before timing
    failures = 0
    with Client(app_module.app) as client:
        events = [client.events.generate_sqs_event(bodies[i : i + 10], "bet-files") for i in range(0, len(bodies), 10)]
        t = time.perf_counter()
        for event in events:
            failures += len(client.lambda_.invoke("ingest_bet_files", event).payload["batchItemFailures"])
        rate = len(files) / (time.perf_counter() - t)
    counts = {
        "bets": len(c.adapters.bets.items),  # type: ignore[attr-defined]
        "knockbacks": len(c.adapters.intake.kbs),  # type: ignore[attr-defined]
        "sms": len(c.adapters.intake.sms_map),  # type: ignore[attr-defined]
        "quarantined": sum(1 for (_, k) in c.adapters.objects.objects if k.endswith(".error.json")),  # type: ignore[attr-defined]
        "failed_messages": failures,
    }
    wiring.use(None)
    return rate, counts


def bench_moto(files: list[tuple[str, bytes]]) -> tuple[float, float, dict[str, int]]:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
    }.items():
        os.environ[k] = v
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from chalicelib import wiring
    from chalicelib.core import aws, config
    from local import moto_patches

    moto_patches.apply()  # as `make run` serves it: per-partition Queries, transactions with an undo log
    with mock_aws():
        aws.reset()
        config.reset()
        from local.handlers import resolve_handlers
        from local.provision import provision
        from local.runner import EventRunner

        env = provision("bench")
        os.environ.update(env)
        config.reset()
        wiring.use(None)
        handlers, _ = resolve_handlers()
        runner = EventRunner(dict(env), aws.client("sqs"), {"bet-files": handlers["bet-files"]}, log=_quiet)
        runner.drain(timeout_s=30)  # the s3:TestEvent; warms the app and its clients
        s3, bucket = aws.client("s3"), config.settings().bucket("bet-files")
        t = time.perf_counter()
        for name, data in files:
            s3.put_object(Bucket=bucket, Key=f"incoming/{name}", Body=data)
        put_s = time.perf_counter() - t
        t = time.perf_counter()
        handled = runner.drain(timeout_s=600)
        rate = len(files) / (time.perf_counter() - t)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("KeyCount", 0)
        counts = {"messages": handled, "quarantine_objects": listed}
        wiring.use(None)
    return rate, len(files) / put_s, counts


def _quiet(message: str) -> None:
    if "error" in message:
        print("  runner:", message[:300], file=sys.stderr)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--moto-files", type=int, default=300)
    p.add_argument("--no-moto", action="store_true")
    args = p.parse_args()

    files = make_files(args.files)
    print(f"bet files: {args.files} (70 % bets, 20 % knockbacks, 10 % SMS, 2 % malformed), 200 customers")
    print(f"  parse only            {bench_parse(files):9,.0f} files/s")
    rate, counts = bench_memory(files)
    print(f"  consumer, in memory   {rate:9,.0f} files/s   {counts}")
    if not args.no_moto:
        few = files[: args.moto_files]
        rate, put_rate, counts = bench_moto(few)
        print(f"  consumer, moto        {rate:9,.0f} files/s   ({len(few)} files; puts {put_rate:,.0f}/s; {counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
