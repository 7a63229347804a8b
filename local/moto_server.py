"""The embedded AWS: moto's server on 127.0.0.1, and what it recorded as sent to staff.

    server = MotoServer(port=5000).start()   # .endpoint == "http://127.0.0.1:5000"
    server.wait_ready()
    ...
    sns_deliveries(server.endpoint)          # the emails and SMS staff would have received
    server.stop()

The server runs with `local/moto_patches.py` applied (safe concurrent requests, transactions that
cost what they touch, no instance tracking but SNS's). With `state_dir` its state is kept there
(`local/moto_state.py`): restored on start, journaled and snapshotted while it runs and on stop.

Moto accepts email/SMS subscriptions but delivers nothing to them; it records every publish on the
topic (`Topic.sent_notifications`) and exposes its state at GET /moto-api/data.json. Which message
reached which subscriber is computed here with moto's own filter-policy matcher.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import requests

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


class MotoServer:
    """moto's ThreadedMotoServer in this process (port 0 picks a free port)."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        quiet: bool = True,
        state_dir: Path | None = None,
        snapshot_interval_s: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.quiet = quiet
        self.state_dir = state_dir
        self.snapshot_interval_s = snapshot_interval_s
        self.restored: Any = None  # moto_state.RestoreReport when state_dir is set
        self.store: Any = None  # moto_state.StateStore when state_dir is set
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        from local import moto_patches

        moto_patches.apply()
        if self.quiet:  # werkzeug logs every request otherwise
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if self.state_dir is not None:
            from local.moto_state import DEFAULT_INTERVAL_S, StateStore

            interval = DEFAULT_INTERVAL_S if self.snapshot_interval_s is None else self.snapshot_interval_s
            self.store = StateStore(self.state_dir, interval_s=interval)
            self.restored = self.store.restore()
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        if self.store is not None:
            self.store.start()
        return self

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        wait_ready(self.endpoint, timeout_s)

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self, final_snapshot: bool = True) -> None:
        """Stop serving, then (with state_dir) save what changed since the last snapshot.

        final_snapshot=False leaves the state as a crash would: the last snapshots and the journal.
        """
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.store is not None:
            self.store.close(final_snapshot=final_snapshot)
            self.store = None

    def __enter__(self) -> MotoServer:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> MotoServer:
    server = MotoServer(host, port).start()
    server.wait_ready()
    return server


def wait_ready(endpoint: str, timeout_s: float = 15.0) -> None:
    """Block until the server at `endpoint` answers its API, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{endpoint.rstrip('/')}/moto-api/data.json", timeout=2).ok:
                return
        except requests.RequestException as e:
            last = e
        time.sleep(0.1)
    raise TimeoutError(f"moto server at {endpoint} not ready after {timeout_s}s: {last}")


def _plain_attributes(attrs: dict[str, Any] | None) -> dict[str, Any]:
    """Moto's recorded attributes {"name": {"Type": ..., "Value": ...}} → {"name": value}."""
    out: dict[str, Any] = {}
    for name, a in (attrs or {}).items():
        out[name] = a.get("Value") if isinstance(a, dict) else a
    return out


def _for_protocol(message: str, protocol: str) -> str:
    """What a subscriber of `protocol` receives from a MessageStructure=json publish."""
    try:
        parsed = json.loads(message)
    except ValueError:
        return message
    if isinstance(parsed, dict) and "default" in parsed:
        return str(parsed.get(protocol, parsed["default"]))
    return message


def sns_deliveries(endpoint: str, topic_arn: str | None = None) -> list[dict[str, Any]]:
    """What email and SMS subscribers received, in publish order per subscription.

    Returns [{"protocol", "endpoint", "subject", "message", "attributes", "topic_arn",
    "message_id"}] where attributes are plain {name: value}. Caveats (moto's model): a subscription
    is considered for every notification of its topic, including ones published before it was
    created; unsubscribed subscriptions stay in moto's tracked instances and are reported too.
    """
    from moto.sns.utils import FilterPolicyMatcher

    data = requests.get(f"{endpoint.rstrip('/')}/moto-api/data.json", timeout=10).json()
    sns = data.get("sns", {})
    topics = {t["arn"]: t for t in sns.get("Topic", [])}
    deliveries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sub in sns.get("Subscription", []):
        if sub.get("protocol") not in ("email", "email-json", "sms") or sub.get("arn") in seen:
            continue
        seen.add(sub.get("arn", ""))
        if topic_arn is not None and sub.get("topic_arn") != topic_arn:
            continue
        topic = topics.get(sub.get("topic_arn", ""))
        if topic is None:
            continue
        attributes = sub.get("attributes") or {}
        raw_policy = attributes.get("FilterPolicy")
        policy = json.loads(raw_policy) if raw_policy else {}
        matcher = FilterPolicyMatcher(policy, attributes.get("FilterPolicyScope"))
        for message_id, message, subject, message_attributes, _group in topic.get("sent_notifications", []):
            if not matcher.matches(message_attributes, message):
                continue
            deliveries.append(
                {
                    "protocol": sub["protocol"],
                    "endpoint": sub.get("endpoint"),
                    "subject": subject,
                    "message": _for_protocol(message, sub.get("protocol", "")),
                    "attributes": _plain_attributes(message_attributes),
                    "topic_arn": sub.get("topic_arn"),
                    "message_id": message_id,
                }
            )
    return deliveries


def main() -> None:
    """Run the embedded AWS alone: `python -m local.moto_server [port]`."""
    import sys
    import threading

    port = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PORT
    server = start(port=port)
    print(f"moto server at {server.endpoint} (Ctrl-C to stop)", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
