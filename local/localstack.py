"""LocalStack without Docker: its own venv, started on 127.0.0.1, stopped by us.

LocalStack's community core runs in-process on the host (`python -m localstack.runtime.main`) for
the services betwatch needs besides DynamoDB: S3 (with S3→SQS notifications), SQS, SNS (SNS→SQS,
SMS and email recorded), SES (where SNS email goes) and EventBridge (rate rules really fire). Its
DynamoDB needs Java and its Lambda needs Docker, so DynamoDB goes to moto
(AWS_ENDPOINT_URL_DYNAMODB) and Lambda's event sources are played by `local/runner.py`.

It needs Python >= 3.13, so it lives in `.venv-localstack`, apart from the project's venv:

    python -m local.localstack install          # create/update .venv-localstack (idempotent)
    python -m local.localstack run [--port N]   # start, wait until healthy, Ctrl-C stops it
    python -m local.localstack status [--port N]

From Python (the tests):

    with LocalStack(port=4566) as ls:           # started, healthy; stopped on exit
        os.environ["AWS_ENDPOINT_URL"] = ls.endpoint
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-localstack"
REQUIREMENTS = Path(__file__).resolve().parent / "localstack-requirements.txt"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
# What betwatch uses on LocalStack; DynamoDB is on moto.
DEFAULT_SERVICES = ("s3", "sqs", "sns", "ses", "events", "secretsmanager", "iam", "sts")
MIN_PYTHON = (3, 13)


def _say(message: str) -> None:
    sys.stderr.write(f"[localstack] {message}\n")
    sys.stderr.flush()


# --- the venv -------------------------------------------------------------------------------------


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def _stamp(venv: Path) -> Path:
    digest = hashlib.sha1(REQUIREMENTS.read_bytes(), usedforsecurity=False).hexdigest()[:12]
    return venv / f".installed-{digest}"


def is_installed(venv: Path = VENV) -> bool:
    return venv_python(venv).exists() and _stamp(venv).exists()


def _version_ok(python: str) -> bool:
    check = f"import sys; sys.exit(0 if sys.version_info >= {MIN_PYTHON!r} else 1)"
    try:
        return subprocess.run([python, "-c", check], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def find_python() -> str:
    """A Python >= 3.13: $LOCALSTACK_PYTHON, else pyenv's, else python3.13/3.14/python3 on PATH."""
    given = os.environ.get("LOCALSTACK_PYTHON")
    if given:
        if not _version_ok(given):
            raise SystemExit(f"LOCALSTACK_PYTHON={given} is not Python >= 3.13")
        return given
    home = Path.home()
    candidates = sorted(glob.glob(str(home / ".pyenv/versions/3.1[3-9]*/bin/python3.1[3-9]")))
    for name in ("python3.13", "python3.14", "python3"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for c in candidates:
        if _version_ok(c):
            return c
    raise SystemExit("LocalStack needs Python >= 3.13: none found (set LOCALSTACK_PYTHON)")


def install(venv: Path = VENV, force: bool = False) -> Path:
    """Create or update the LocalStack venv from local/localstack-requirements.txt; returns its python."""
    if is_installed(venv) and not force:
        return venv_python(venv)
    started = time.monotonic()
    if not venv_python(venv).exists():
        python = find_python()
        _say(f"creating {venv} with {python}")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    for old in venv.glob(".installed-*"):
        old.unlink()
    _stamp(venv).touch()
    _say(f"installed in {time.monotonic() - started:.0f}s")
    return venv_python(venv)


# --- the server -----------------------------------------------------------------------------------


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen there (connections in TIME_WAIT do not count, as for servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalStack:
    """One LocalStack process on `host:port`, with its state in a temporary directory."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        services: tuple[str, ...] = DEFAULT_SERVICES,
        venv: Path = VENV,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.services = services
        self.venv = venv
        self.log_path = log_path
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._root: str | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # LocalStack's own boto3 clients must not follow the project's endpoint settings.
            if not k.startswith(("AWS_", "LOCALSTACK_", "BETWATCH_")) and k not in ("SERVICES", "DEBUG")
        }
        env.update(
            GATEWAY_LISTEN=f"{self.host}:{self.port}",
            GATEWAY_SERVER="hypercorn",  # honours GATEWAY_LISTEN's host (loopback only)
            LOCALSTACK_HOST=f"{self.host}:{self.port}",  # host in the URLs it returns
            DNS_ADDRESS="0",  # no DNS server
            DISABLE_EVENTS="1",  # no analytics
            SKIP_SSL_CERT_DOWNLOAD="1",
            SERVICES=",".join(self.services),
            EAGER_SERVICE_LOADING="1",  # start them now: health says "running", schedules tick from boot
            SQS_ENDPOINT_STRATEGY="path",  # queue URLs on host:port, no *.localstack.cloud DNS
            PERSISTENCE="0",
            FILESYSTEM_ROOT=self._root or "",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LocalStack:
        python = venv_python(self.venv)
        if not python.exists():
            raise RuntimeError(f"{python} missing: run `python -m local.localstack install` first")
        if not port_free(self.host, self.port):
            raise RuntimeError(f"{self.host}:{self.port} is in use (another LocalStack?)")
        self._root = tempfile.mkdtemp(prefix="betwatch-localstack-")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        else:
            self._log = Path(self._root, "localstack.log").open("wb")
        self.proc = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=self.env(),
            cwd=self._root,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it and only it
        )
        return self

    def log_tail(self, chars: int = 3000) -> str:
        path = self.log_path or (Path(self._root) / "localstack.log" if self._root else None)
        if path is None or not path.exists():
            return ""
        return path.read_text(errors="replace")[-chars:]

    def health(self) -> dict[str, Any]:
        r = requests.get(f"{self.endpoint}/_localstack/health", timeout=3)
        r.raise_for_status()
        return dict(r.json())

    def wait_ready(self, timeout_s: float = 90.0) -> dict[str, Any]:
        """Block until every service is running; raise (with the log's tail) if it does not happen."""
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"LocalStack exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                last = self.health()
                states = last.get("services", {})
                if all(states.get(s) in ("running", "available") for s in self.services):
                    return last
            except (requests.RequestException, ValueError) as e:
                last = e
            time.sleep(0.3)
        raise TimeoutError(f"LocalStack not ready after {timeout_s:.0f}s (last: {last}):\n{self.log_tail()}")

    def stop(self, timeout_s: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the group we created for it
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._root is not None and self.log_path is None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> LocalStack:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- CLI ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("install", help="create/update .venv-localstack")
    i.add_argument("--force", action="store_true")
    r = sub.add_parser("run", help="start LocalStack in the foreground until Ctrl-C")
    s = sub.add_parser("status", help="print the health of a running LocalStack")
    for x in (r, s):
        x.add_argument("--host", default=DEFAULT_HOST)
        x.add_argument("--port", type=int, default=int(os.environ.get("BETWATCH_LOCALSTACK_PORT", DEFAULT_PORT)))
    r.add_argument("--log", type=Path, default=ROOT / ".local" / "localstack.log")
    args = p.parse_args(argv)

    if args.command == "install":
        started = time.monotonic()
        python = install(force=args.force)
        _say(f"ready: {python} ({time.monotonic() - started:.0f}s)")
        return 0
    if args.command == "status":
        try:
            print(LocalStack(args.host, args.port).health())
        except requests.RequestException as e:
            _say(f"not running at {args.host}:{args.port}: {e}")
            return 1
        return 0

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ls = LocalStack(args.host, args.port, log_path=args.log)
    with ls:
        _say(f"running at {ls.endpoint} ({', '.join(ls.services)}); log {args.log}; Ctrl-C stops it")
        _say(f"use: AWS_ENDPOINT_URL={ls.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test")
        while not stop.is_set():
            if ls.proc is None or ls.proc.poll() is not None:
                _say("LocalStack exited")
                return 1
            stop.wait(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
