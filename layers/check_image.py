"""The slip function's container image, assembled as its Dockerfile says and run, without Docker.

    python layers/check_image.py            # python3.12, x86_64 wheels; prints what it did and timings

This machine has no Docker engine and no access to public.ecr.aws, so `docker build` cannot run.
What can go wrong in the image is still checked here, step by step as the Dockerfile does it:

- The Dockerfile is parsed; only FROM, COPY, RUN pip install -r and CMD are understood, and anything
  else fails the check (so a new instruction cannot be silently skipped).
- The build context is what the CDK asset sends (infra's SLIP_IMAGE_CONTEXT, everything else
  excluded), so a COPY of a file left out of the context fails here as `docker build` would.
- COPY into LAMBDA_TASK_ROOT; `RUN pip install -r` installs the same pins with pip for the Lambda
  platform (manylinux wheels, CPython 3.12, x86_64) into the image's site-packages.
- What the base image itself provides besides CPython 3.12 is boto3; it is installed into a
  separate runtime directory at the version of requirements-dev.txt.
- CMD's handler is then resolved the way the runtime interface client does (module path, attribute)
  in a fresh `python3.12 -I -S` whose sys.path is those three directories only (no venv, no repo),
  and invoked with SQS events built from the real S3 notifications moto's server sends: a generated
  slip must end `embedded` with a message on the clustering queue; a non-image must end `rejected`.

Exit status 1 on any failure. Runs offline once `layers/.cache` holds the wheels.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DOCKERFILE = REPO / "functions/slip_scoring/Dockerfile"
BASE_IMAGE = "public.ecr.aws/lambda/python:3.12"
TASK_ROOT = "/var/task"  # LAMBDA_TASK_ROOT in the base image
ARCH = "x86_64"

if str(REPO) not in sys.path:  # run as a script, sys.path[0] is layers/
    sys.path.insert(0, str(REPO))
from layers import build, check_sizes  # noqa: E402


@dataclass
class Image:
    base: str = ""
    copies: list[tuple[list[str], str]] = field(default_factory=list)  # (sources, destination)
    requirements: list[str] = field(default_factory=list)  # image paths given to pip install -r
    cmd: list[str] = field(default_factory=list)


def parse_dockerfile(text: str) -> Image:
    img = Image()
    env = {"LAMBDA_TASK_ROOT": TASK_ROOT}
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        rest = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env[m.group(1) or m.group(2)], rest.strip())
        match op.upper():
            case "FROM":
                img.base = rest
            case "COPY":
                *sources, dest = shlex.split(rest)
                if any(s.startswith("--") for s in sources):
                    raise SystemExit(f"COPY flags are not understood here: {line}")
                img.copies.append((sources, dest))
            case "RUN":
                for part in (p.strip() for p in rest.split("&&")):
                    words = shlex.split(part)
                    if words[:2] == ["pip", "install"]:
                        img.requirements += [words[i + 1] for i, w in enumerate(words) if w == "-r"]
                    elif words[:2] == ["rm", "-f"] or words[:1] == ["rm"]:
                        continue  # clean-up of the build's temporary files
                    else:
                        raise SystemExit(f"RUN step not understood here: {part!r}")
            case "CMD":
                img.cmd = json.loads(rest)
            case _:
                raise SystemExit(f"Dockerfile instruction not understood here: {line}")
    if img.base != BASE_IMAGE:
        raise SystemExit(f"base image {img.base!r}: this check knows only {BASE_IMAGE}")
    if len(img.cmd) != 1:
        raise SystemExit(f"CMD must name one handler (module.function): {img.cmd}")
    return img


def assemble(img: Image, root: Path, python: str) -> tuple[Path, Path, Path]:
    """The image's file system under `root`: task root, site-packages, the base image's boto3."""
    context = {f.relative_to(REPO).as_posix(): f for f in check_sizes.slip_context_files()}
    fs = root / "fs"
    for sources, dest in img.copies:
        for src in sources:
            src = src.rstrip("/")
            hits = {k: v for k, v in context.items() if k == src or k.startswith(src + "/")}
            if not hits:
                raise SystemExit(f"COPY {src}: not in the build context (infra SLIP_IMAGE_CONTEXT)")
            for rel, path in hits.items():
                if dest.endswith("/"):
                    inside = rel[len(src) + 1 :] if rel != src else Path(rel).name
                    target = fs / dest.lstrip("/") / inside
                else:
                    target = fs / dest.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    site = root / "site-packages"
    for req in img.requirements:
        build.install(fs / req.lstrip("/"), site, ARCH, python, compile_pyc=True)
    runtime = root / "runtime"
    boto3_pin = next(ln for ln in (REPO / "requirements-dev.txt").read_text().splitlines() if ln.startswith("boto3=="))
    reqs = root / "runtime-requirements.txt"
    reqs.write_text(boto3_pin + "\n")
    build.install(reqs, runtime, ARCH, python)
    return fs / TASK_ROOT.lstrip("/"), site, runtime


# The invocation, in a fresh interpreter that sees only the image's directories.
CHILD = r"""
import importlib, json, os, sys, time
t0 = time.perf_counter()
sys.path[:0] = PATHS
module, _, attr = CMD.rpartition(".")
handler = getattr(importlib.import_module(module), attr)
imported = time.perf_counter() - t0

class Context:
    function_name = "betwatch-image-check-slip-scoring"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:" + function_name
    memory_limit_in_mb = 2048
    aws_request_id = "image-check"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "image-check"
    def get_remaining_time_in_millis(self):
        return 60_000

results = []
for event in json.loads(sys.stdin.read()):
    t1 = time.perf_counter()
    results.append({"response": handler(event, Context()), "seconds": time.perf_counter() - t1})
for name in ("numpy", "cv2", "onnxruntime", "boto3", "pydantic", "aws_lambda_powertools"):
    origin = getattr(sys.modules.get(name), "__file__", None) or "(not imported)"
    assert any(origin.startswith(p) for p in PATHS), f"{name}: {origin} is not in the image"
print("RESULT " + json.dumps({"import_s": imported, "invocations": results}))
"""


def run(python: str, task: Path, site: Path, runtime: Path, cmd: str, events: list[Any]) -> Any:
    code = f"PATHS = {[str(task), str(site), str(runtime)]!r}\nCMD = {cmd!r}\n" + CHILD
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    child_env.update(LAMBDA_TASK_ROOT=str(task), POWERTOOLS_SERVICE_NAME="betwatch-slip-scoring")
    res = subprocess.run(
        [python, "-I", "-S", "-c", code],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=child_env,
        cwd=task,
        check=False,
        timeout=300,
    )
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if res.returncode != 0 or line is None:
        tail = res.stdout[-3000:] + res.stderr[-3000:]
        raise SystemExit(f"the image's handler failed (exit {res.returncode}):\n{tail}")
    return json.loads(line.removeprefix("RESULT "))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", help="CPython 3.12 to run pip and the handler with (default: found automatically)")
    ap.add_argument("--dockerfile", type=Path, default=DOCKERFILE)
    args = ap.parse_args(argv)
    python = build.find_python(args.python)
    img = parse_dockerfile(args.dockerfile.read_text())
    print(f"{args.dockerfile}: FROM {img.base}, {len(img.copies)} COPY, CMD {img.cmd[0]}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="betwatch-image-") as tmp:
        task, site, runtime = assemble(img, Path(tmp), python)
        print(
            f"  assembled: task root {build.tree_size(task) / 2**20:.2f} MB, site-packages"
            f" {build.tree_size(site) / 2**20:.1f} MB, base-image boto3 {build.tree_size(runtime) / 2**20:.1f} MB"
            f" ({time.monotonic() - t0:.1f}s)"
        )
        return _invoke_on_moto(python, task, site, runtime, img.cmd[0])


def _invoke_on_moto(python: str, task: Path, site: Path, runtime: Path, cmd: str) -> int:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-2")
    from datetime import UTC, datetime

    from chalicelib import wiring
    from chalicelib.core import aws, config, resources
    from local.lambda_events import sqs_event
    from local.moto_server import MotoServer
    from local.provision import provision
    from local.slipgen import make_slip

    server = MotoServer(port=0).start()
    try:
        server.wait_ready()
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        aws.reset()
        env = provision("imagecheck")
        os.environ.update(env)
        config.reset()
        s3, sqs = aws.client("s3"), aws.client("sqs")
        bucket = env[resources.bucket("slips").env_var]
        slips_in = {"IMG1": make_slip(writer_seed=1, slip_seed=3), "IMG2": b"%PDF-1.4 not an image" + b"0" * 4096}
        slips = wiring.aws_adapters(config.settings()).slips
        for bet_id, data in slips_in.items():
            key = f"slips/{bet_id}/upload1"
            assert slips.reserve_upload(bet_id, key, datetime.now(UTC))
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        uploads = env[resources.queue("slip-uploads").env_var]
        url = sqs.get_queue_url(QueueName=uploads)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        msgs: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10

        def created() -> int:
            return sum("ObjectCreated" in m["Body"] for m in msgs)

        while created() < len(slips_in) and time.monotonic() < deadline:
            msgs += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert created() == len(slips_in), f"moto sent {created()} ObjectCreated events for {len(slips_in)} uploads"
        # One invocation per message, S3's s3:TestEvent (sent when notifications are set up) included.
        events = [sqs_event([m], arn, "eu-west-2") for m in msgs]
        out = run(python, task, site, runtime, cmd, events)  # the child inherits the AWS_/BETWATCH_ env

        failures = [inv["response"] for inv in out["invocations"] if inv["response"].get("batchItemFailures")]
        good, bad = slips.get("IMG1"), slips.get("IMG2")
        clustering = sqs.get_queue_url(QueueName=env[resources.queue("slip-clustering").env_var])["QueueUrl"]
        queued = sqs.receive_message(QueueUrl=clustering, MaxNumberOfMessages=10).get("Messages", [])
        checks = {
            "no batch item failures": not failures,
            "slip embedded by the image's model": good is not None and good.status == "embedded",
            "non-image rejected with its reason": (
                bad is not None and bad.status == "rejected" and "image" in (bad.reason or "")
            ),
            "one message on the clustering queue": [json.loads(m["Body"])["bet_id"] for m in queued] == ["IMG1"],
        }
        secs = [f"{inv['seconds']:.2f}s" for inv in out["invocations"]]
        print(f"  fresh python3.12 -I -S: import {cmd} {out['import_s']:.2f}s; invocations {', '.join(secs)}")
        for what, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not all(checks.values()):
            print(f"FAIL: {good}, {bad}, {failures}")
            return 1
        print("OK: the image as the Dockerfile builds it runs its CMD handler on Lambda-platform wheels")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
