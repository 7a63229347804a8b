"""The embedded AWS's state on disk (.local/moto/): per-service snapshots and a DynamoDB journal.

    store = StateStore(Path(".local/moto"))
    store.restore()            # before the server serves: snapshots loaded, journal replayed
    store.start()              # journal DynamoDB writes, snapshot changed services periodically
    ...
    store.close()              # after the server stopped: a last snapshot of what changed (but DynamoDB:
                               # its journal is replayed on the next start)

What a crash (kill -9) can lose:

* DynamoDB: nothing that was acknowledged. Each successful DynamoDB write request is appended to
  `dynamodb.journal.<generation>` and flushed to the OS before its response leaves the server,
  under the DynamoDB lock, so the journal's order is the order the writes were applied in. A
  power cut can lose what the OS had not written yet, unless BETWATCH_LOCAL_FSYNC=1 (fsync each).
* SQS, S3, SNS, Secrets Manager, EventBridge: changes since their last snapshot, at most
  `interval_s` old (queue messages, uploaded slips, published alerts).

A snapshot pickles one service's backends under that service's lock (requests to it wait
meanwhile) and is written to a temporary file, fsynced and renamed over the previous one. For
DynamoDB the same locked step opens a new journal generation; the snapshot records it, so replay
starts there and older journals are deleted only after the rename: a crash at any point replays
each write exactly once.
"""

from __future__ import annotations

import gc
import io
import json
import os
import pickle
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import moto_patches
from local.moto_patches import LOCKED_SERVICES, LOCKS, Exchange

JOURNALED = "dynamodb"
READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")
DEFAULT_INTERVAL_S = 30.0
# DynamoDB is snapshotted (periodically) only once its journal has grown to this share of the last
# snapshot's size: a snapshot pickles every table, so taking one every interval would cost more CPU
# per write the more is stored; this way each write pays for a constant share of the next snapshot,
# and a restart replays a journal at most about a quarter of the snapshot's size.
JOURNAL_SHARE = 0.25
JOURNAL_MIN_BYTES = 4 << 20
CHILD_TIMEOUT_S = 300.0
_JOURNAL_RE = re.compile(r"^dynamodb\.journal\.(\d+)$")
# Attributes every BackendDict has; anything else on one (S3's bucket_accounts) is state too.
_BACKEND_DICT_ATTRS = {"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"}


def _log(message: str) -> None:
    sys.stderr.write(f"[moto-state] {message}\n")
    sys.stderr.flush()


class _Pickler(pickle.Pickler):
    """Locks and conditions (SQS queues hold one) are pickled as new, unheld ones."""

    _LOCK = type(threading.Lock())
    _RLOCK = type(threading.RLock())

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, self._LOCK):
            return threading.Lock, ()
        if isinstance(obj, self._RLOCK):
            return threading.RLock, ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        return NotImplemented


def _dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _backend_dict(service: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def service_state(service: str) -> dict[str, Any]:
    """What moto holds for `service`: its region backends and its BackendDict's extra attributes."""
    bd = _backend_dict(service)
    return {
        "regions": {(account, region): backend for account, region, backend in bd.iter_backends()},
        "extras": {k: v for k, v in vars(bd).items() if k not in _BACKEND_DICT_ATTRS},
    }


def load_service_state(service: str, state: dict[str, Any]) -> None:
    bd = _backend_dict(service)
    for (account, region), backend in state["regions"].items():
        dict.__setitem__(bd[account], region, backend)
    for k, v in state["extras"].items():
        setattr(bd, k, v)


def is_write(exchange: Exchange) -> bool:
    """Whether the request may have changed its service's state (only failures are sure not to)."""
    if exchange.status >= 300:
        return False
    if exchange.action:
        return not exchange.action.startswith(READ_PREFIXES)
    return exchange.method not in ("GET", "HEAD", "OPTIONS")


def _call(app: Any, environ: dict[str, Any]) -> str:
    """Run a WSGI request; its status line."""
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc_info: Any = None) -> None:
        status.append(line)

    b"".join(app(environ, start_response))
    return status[0] if status else "500 no response"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fork_writer(path: Path, saved: dict[str, Any]) -> int:
    """Fork a child that pickles `saved` to `path` and exits; returns its pid.

    The child has a copy-on-write image of this process taken under the service's lock, so it
    sees one consistent state while the server goes on. It only pickles and writes (no logging,
    no locks another thread could have held at the fork), and leaves with os._exit.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, fork() may deadlock"
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        gc.disable()  # a collection would touch (and so copy) every page
        _write_synced(path, _dumps(saved))
        code = 0
    finally:
        os._exit(code)


def _wait_child(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


@dataclass
class _Snapshot:
    service: str
    seq: int
    tmp: Path
    generation: int | None  # DynamoDB: the first journal generation the snapshot does not hold
    started: float
    data: bytes = b""
    pid: int | None = None
    locked_s: float = 0.0


@dataclass(frozen=True)
class SnapshotStats:
    service: str
    locked_s: float  # how long the service's requests waited
    total_s: float
    bytes: int


@dataclass
class RestoreReport:
    services: list[str] = field(default_factory=list)
    replayed: int = 0
    replay_failures: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        failed = f", {self.replay_failures} failed" if self.replay_failures else ""
        return (
            f"restored {', '.join(self.services) or 'nothing'}; replayed {self.replayed} DynamoDB writes{failed} "
            f"in {self.seconds:.1f}s"
        )


class StateStore:
    """Snapshots of LOCKED_SERVICES and the DynamoDB journal, in `directory`."""

    def __init__(
        self,
        directory: Path,
        interval_s: float = DEFAULT_INTERVAL_S,
        fsync: bool | None = None,
        fork: bool | None = None,
        log: Callable[[str], None] = _log,
    ) -> None:
        self.directory = directory
        self.interval_s = interval_s
        self.fsync = os.environ.get("BETWATCH_LOCAL_FSYNC") == "1" if fsync is None else fsync
        self.fork = hasattr(os, "fork") if fork is None else fork
        self.log = log
        self.generation = 0
        self._journal: Any = None
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._taken = 0  # snapshots taken, numbered under the dirty lock
        self._written: dict[str, int] = {}  # service -> number of the snapshot on disk
        self._write_lock = threading.Lock()
        self.snapshots: list[SnapshotStats] = []
        self.journal_bytes = 0  # written to the journal since DynamoDB's last snapshot began
        self.dynamodb_snapshot_bytes = 0  # the size of the last one

    # --- files ------------------------------------------------------------------------------------

    def _snapshot_path(self, service: str) -> Path:
        return self.directory / f"{service}.pkl"

    def _journal_path(self, generation: int) -> Path:
        return self.directory / f"dynamodb.journal.{generation}"

    def _journal_generations(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        found = (_JOURNAL_RE.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    # --- restore ----------------------------------------------------------------------------------

    def restore(self) -> RestoreReport:
        """Load every snapshot and replay the journal; call before the server takes requests."""
        import moto

        started = time.monotonic()
        report = RestoreReport()
        self.directory.mkdir(parents=True, exist_ok=True)
        for tmp in self.directory.glob("*.tmp"):  # a snapshot a crash cut short
            tmp.unlink()
        start_generation = 0
        for service in LOCKED_SERVICES:
            path = self._snapshot_path(service)
            if not path.exists():
                continue
            try:
                saved = pickle.loads(path.read_bytes())  # noqa: S301 - our own file under .local/
            except Exception as e:  # noqa: BLE001 - a damaged snapshot: start that service empty
                self.log(f"{path.name} unreadable ({type(e).__name__}: {e}); {service} starts empty")
                continue
            if saved.get("moto") != moto.__version__:
                self.log(f"{path.name} was written by moto {saved.get('moto')}; {service} starts empty")
                continue
            load_service_state(service, saved["state"])
            report.services.append(service)
            if service == JOURNALED:
                start_generation = int(saved["generation"])
                self.dynamodb_snapshot_bytes = path.stat().st_size
        generations = [g for g in self._journal_generations() if g >= start_generation]
        # The replayed journals stay until the next snapshot: they count towards making it due.
        self.journal_bytes = sum(self._journal_path(g).stat().st_size for g in generations)
        if generations:
            report.replayed, report.replay_failures = self._replay(generations)
        self.generation = max([start_generation, *generations]) + 1
        gc.freeze()  # what was loaded is long-lived: keep it out of every later collection
        report.seconds = time.monotonic() - started
        return report

    def _replay(self, generations: list[int]) -> tuple[int, int]:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.test import EnvironBuilder

        app = DomainDispatcherApplication(create_backend_app)
        replayed = failures = 0
        for generation in generations:
            lines = self._journal_path(generation).read_bytes().splitlines()
            for n, line in enumerate(lines):
                try:
                    entry = json.loads(line)
                except ValueError:  # a write cut short by a crash: never acknowledged
                    self.log(f"journal {generation}: skipping unreadable line {n + 1} of {len(lines)}")
                    continue
                environ = EnvironBuilder(
                    method=entry["method"],
                    path=entry["path"],
                    query_string=entry["query"],
                    headers=entry["headers"],
                    data=entry["body"].encode(),
                ).get_environ()
                status = _call(app, environ)
                replayed += 1
                if not status.startswith("2"):
                    failures += 1
                    self.log(f"journal {generation} line {n + 1}: replay answered {status}")
        return replayed, failures

    # --- journal and snapshots --------------------------------------------------------------------

    def start(self) -> None:
        """Journal DynamoDB writes from now on and snapshot changed services every interval_s."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._journal = open(self._journal_path(self.generation), "ab")
        moto_patches.observe(self._observe, bodies_of=(JOURNALED,))
        self._stop.clear()
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name="moto-snapshots", daemon=True)
            self._thread.start()

    def _observe(self, exchange: Exchange) -> None:
        # Runs under the service's lock (moto_api: under every lock), before the response is sent.
        if exchange.service == "moto_api":
            if exchange.method == "POST" and exchange.path.endswith("/reset"):
                for service in LOCKED_SERVICES:  # every lock is held: snapshot the empty state now
                    self._snapshot_locked(service)
            return
        if not is_write(exchange):
            return
        with self._dirty_lock:
            self._dirty.add(exchange.service)
        if exchange.service == JOURNALED and self._journal is not None:
            entry = {
                "method": exchange.method,
                "path": exchange.path,
                "query": exchange.query,
                "headers": exchange.headers,
                "body": exchange.body.decode(),
            }
            line = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
            self._journal.write(line)
            self._journal.flush()
            self.journal_bytes += len(line)
            if self.fsync:
                os.fsync(self._journal.fileno())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.snapshot(due_only=True)
            except Exception as e:  # noqa: BLE001 - keep journaling; try again next interval
                self.log(f"snapshot failed: {type(e).__name__}: {e}")
            # What is stored now is long-lived: later collections need not walk it again (moto keeps
            # every item as Python objects, so a full collection's pause grew with the tables).
            gc.freeze()

    def dynamodb_due(self) -> bool:
        return self.journal_bytes >= max(JOURNAL_MIN_BYTES, JOURNAL_SHARE * self.dynamodb_snapshot_bytes)

    def snapshot(self, services: list[str] | None = None, fork: bool | None = None, due_only: bool = False) -> None:
        """Snapshot `services` (default: those changed since their last snapshot), one at a time.
        `due_only` (the periodic loop): DynamoDB only once its journal is long enough (`dynamodb_due`).

        `fork` (default: the store's setting): DynamoDB is pickled by a forked child, so its lock
        is held only for the fork (milliseconds, not seconds at 50k bets). Other services are
        small and pickled in-process (S3 keys may share file offsets with a child).
        """
        fork = self.fork if fork is None else fork
        with self._dirty_lock:
            todo = sorted(self._dirty) if services is None else list(services)
        if due_only and not self.dynamodb_due():
            todo = [s for s in todo if s != JOURNALED]
        for service in todo:
            with LOCKS[service]:
                snap = self._take(service, in_child=fork and service == JOURNALED)
            self._commit(snap)

    def _snapshot_locked(self, service: str) -> None:
        self._commit(self._take(service, in_child=False))

    def _take(self, service: str, in_child: bool) -> _Snapshot:
        """Start a snapshot of `service` (its lock held by the caller); DynamoDB: open a new journal."""
        import moto

        started = time.monotonic()
        with self._dirty_lock:
            self._dirty.discard(service)
            self._taken += 1
            seq = self._taken
        generation = None
        if service == JOURNALED:
            if self._journal is not None:
                self._journal.close()
                self.generation += 1
                self._journal = open(self._journal_path(self.generation), "ab")
            generation = self.generation
            self.journal_bytes = 0
        saved = {"moto": moto.__version__, "state": service_state(service), "generation": generation}
        tmp = self.directory / f"{service}.pkl.{seq}.tmp"
        snap = _Snapshot(service, seq, tmp, generation, started)
        if in_child:
            snap.pid = _fork_writer(tmp, saved)
        else:
            snap.data = _dumps(saved)
        snap.locked_s = time.monotonic() - started
        return snap

    def _commit(self, snap: _Snapshot) -> None:
        """Finish a snapshot outside the lock: the file written, renamed, older journals deleted."""
        if snap.pid is not None:
            if not _wait_child(snap.pid, CHILD_TIMEOUT_S):
                self.log(f"snapshot of {snap.service} failed in its child process; retried next interval")
                snap.tmp.unlink(missing_ok=True)
                with self._dirty_lock:
                    self._dirty.add(snap.service)
                return
        else:
            _write_synced(snap.tmp, snap.data)
        with self._write_lock:
            if self._written.get(snap.service, 0) > snap.seq:
                snap.tmp.unlink(missing_ok=True)
                return  # a newer snapshot of the service is already on disk
            self._written[snap.service] = snap.seq
            os.replace(snap.tmp, self._snapshot_path(snap.service))
            if snap.generation is not None:  # the snapshot holds everything older journals had
                for g in self._journal_generations():
                    if g < snap.generation:
                        self._journal_path(g).unlink(missing_ok=True)
        size = self._snapshot_path(snap.service).stat().st_size
        if snap.service == JOURNALED:
            self.dynamodb_snapshot_bytes = size
        self.snapshots.append(SnapshotStats(snap.service, snap.locked_s, time.monotonic() - snap.started, size))

    def close(self, final_snapshot: bool = True) -> None:
        """Stop the snapshot thread, snapshot what changed but DynamoDB (the server no longer
        serves), close the journal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        moto_patches.unobserve(self._observe)
        if final_snapshot:
            # DynamoDB's journal already holds every write since its last snapshot, and pickling
            # 50k bets takes seconds: the next start replays that journal instead.
            with self._dirty_lock:
                todo = sorted(self._dirty - {JOURNALED})
            self.snapshot(todo, fork=False)
        if self._journal is not None:
            self._journal.close()
            self._journal = None
