"""`make run`: the whole system on this machine.

* AWS: moto's server on 127.0.0.1:5000 (embedded, in this process), unless AWS_ENDPOINT_URL is
  already set, in which case that endpoint is used as is (LocalStack, or real AWS). Its state is
  kept in .local/moto/ across restarts (`local/moto_state.py`; `make reset` forgets it).
* Every resource of `chalicelib/core/resources.py` provisioned there (`local/provision.py`); the env is
  written to .local/env as KEY=value lines.
* A local admin API key in .local/admin.key (mode 0600); the JWT signing key in moto's Secrets Manager.
* The API: `chalice local` on 127.0.0.1:8000 (a subprocess with that env).
* Lambda's event sources: the SQS queues and the schedules, played by `local/runner.py` in a process of its own
  (schedules every BETWATCH_LOCAL_SCHEDULE_SECONDS, default 15).

    python -m local.run [--port 8000] [--moto-port 5000] [--ready-file PATH]

Ctrl-C (SIGINT) or SIGTERM stops everything. The process id is in .local/run.pid while it runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
# Where the embedded AWS keeps its state, the env, the admin key and the pid (a test stack uses its own).
LOCAL = Path(os.environ.get("BETWATCH_LOCAL_DIR") or ROOT / ".local")
REGION = "eu-west-2"
DEFAULT_SCHEDULE_SECONDS = "15"


def _say(message: str) -> None:
    sys.stderr.write(f"[run] {message}\n")
    sys.stderr.flush()


def _admin_key() -> str:
    """The local admin key: created on the first start, a new secret for it on every later one."""
    from chalicelib import wiring
    from chalicelib.domain.errors import Conflict

    access = wiring.container().access
    try:
        return access.create_api_key(name="local-admin", role="admin", actor="local.run")
    except Conflict:  # kept from an earlier run (.local/): rotate it, the old secret stops at once
        return access.rotate_api_key("local-admin", actor="local.run")[0]


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _wait_health(url: str, stop: threading.Event, proc: subprocess.Popen[Any], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    reported = False
    while not stop.is_set() and time.monotonic() < deadline and proc.poll() is None:
        try:
            r = requests.get(url, timeout=3)
            if r.status_code == 200:
                return True
            if not reported:
                _say(f"GET {url} answered {r.status_code}: {r.text[:300]}")
                reported = True
        except requests.RequestException:
            pass
        stop.wait(0.3)
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("BETWATCH_API_PORT", "8000")))
    p.add_argument("--moto-port", type=int, default=int(os.environ.get("BETWATCH_MOTO_PORT", "5000")))
    p.add_argument("--stage", default="local")
    p.add_argument("--ready-file", type=Path, help="touched once GET /health answers 200")
    p.add_argument("--no-state", action="store_true", help="embedded AWS starts empty and keeps nothing (tests)")
    p.add_argument("--health-timeout", type=float, default=180.0)
    args = p.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _say(f"{signal.Signals(signum).name}: stopping")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    LOCAL.mkdir(exist_ok=True)
    pid_file = LOCAL / "run.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    if args.ready_file:
        args.ready_file.unlink(missing_ok=True)

    moto: Any = None
    chalice: subprocess.Popen[Any] | None = None
    runner: subprocess.Popen[Any] | None = None
    try:
        # 1. The AWS endpoint.
        env_file: dict[str, str] = {}
        if os.environ.get("AWS_ENDPOINT_URL"):
            endpoint = os.environ["AWS_ENDPOINT_URL"]
            os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
            _say(f"using AWS_ENDPOINT_URL={endpoint}")
        else:
            from local.moto_server import MotoServer

            snapshot_s = os.environ.get("BETWATCH_LOCAL_SNAPSHOT_SECONDS")
            moto = MotoServer(
                "127.0.0.1",
                args.moto_port,
                state_dir=None if args.no_state else LOCAL / "moto",
                snapshot_interval_s=float(snapshot_s) if snapshot_s else None,
            ).start()
            _say(f"embedded AWS state (.local/moto): {moto.restored}")
            moto.wait_ready()
            endpoint = moto.endpoint
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                os.environ.pop(name, None)
            os.environ.update(
                AWS_ENDPOINT_URL=endpoint,
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_DEFAULT_REGION=REGION,
                AWS_REGION=REGION,
            )
            env_file.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
            _say(f"embedded AWS (moto) at {endpoint}")
        env_file.update(AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION=os.environ["AWS_DEFAULT_REGION"])

        from chalicelib.core import aws, config

        aws.reset()
        config.reset()

        # 2. Resources, env, secrets.
        from local.provision import provision

        env = provision(args.stage)
        os.environ.update(env)
        schedule_seconds = os.environ.setdefault("BETWATCH_LOCAL_SCHEDULE_SECONDS", DEFAULT_SCHEDULE_SECONDS)
        config.reset()
        api_url = f"http://{args.host}:{args.port}"
        env_file.update(env)
        env_file["BETWATCH_API"] = api_url
        (LOCAL / "env").write_text("".join(f"{k}={v}\n" for k, v in sorted(env_file.items())))

        key_path = LOCAL / "admin.key"
        _write_private(key_path, _admin_key() + "\n")

        # 3. The API.
        chalice = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.chalice_local",  # `chalice local`, with every HTTP method reaching the app
                "local",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--stage",
                args.stage,
                "--no-autoreload",
            ],
            cwd=ROOT,
            env=dict(os.environ),
            start_new_session=True,  # we stop it ourselves, after the runner
        )

        # 4. Lambda's event sources, in a process of their own (`python -m local.runner`).
        runner = subprocess.Popen(
            [sys.executable, "-m", "local.runner"], cwd=ROOT, env=dict(os.environ), start_new_session=True
        )

        # 5. Ready.
        if _wait_health(f"{api_url}/health", stop, chalice, args.health_timeout):
            if args.ready_file:
                args.ready_file.parent.mkdir(parents=True, exist_ok=True)
                args.ready_file.touch()
            sys.stderr.write(
                "\n"
                f"  betwatch is running\n"
                f"  API            {api_url}   (docs: {api_url}/docs)\n"
                f"  AWS endpoint   {endpoint}\n"
                f"  admin API key  {key_path}   (header: X-Api-Key)\n"
                f"  env            {LOCAL / 'env'}\n"
                f"  schedules      every {schedule_seconds}s\n"
                "  Ctrl-C to stop\n\n"
            )
            sys.stderr.flush()
        elif not stop.is_set():
            _say(f"the API did not answer GET /health with 200 (chalice exit code {chalice.poll()})")
            if chalice.poll() is not None:
                return 1

        while not stop.is_set():
            if chalice.poll() is not None:
                _say(f"chalice local exited with {chalice.returncode}; stopping")
                return 1
            if runner.poll() is not None:
                _say(f"the event runner exited with {runner.returncode}; stopping")
                return 1
            stop.wait(0.5)
        return 0
    finally:
        stopping = time.monotonic()
        stop.set()
        if chalice is not None and chalice.poll() is None:
            chalice.terminate()
        if runner is not None and runner.poll() is None:
            runner.terminate()
            try:
                runner.wait(timeout=5)  # the runner waits 2 s at most for its handlers
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()
        if chalice is not None and chalice.poll() is None:
            try:
                chalice.wait(timeout=3)
            except subprocess.TimeoutExpired:
                chalice.kill()
                chalice.wait()
        if moto is not None:
            moto.stop()  # saves what changed since the last snapshot
        if args.ready_file:
            args.ready_file.unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)
        _say(f"stopped in {time.monotonic() - stopping:.1f}s")


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is saved by now; tearing down the embedded AWS's million objects takes seconds.
    os._exit(code)
