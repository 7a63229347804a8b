"""Import a history CSV into the running stack, with a progress bar.

    python -m local.import_file FILE [--raise-alerts] [--api URL]     (or: make import FILE=...)

Asks `POST /imports` for a presigned upload, streams the file to S3 (never read whole into
memory), then polls `GET /imports/{id}` until the job is done or failed, showing bytes read,
rows recorded and rejected. Credentials: BETWATCH_API_KEY, else the local admin key that
`make run` writes to .local/admin.key. The API: BETWATCH_API, else http://127.0.0.1:$BETWATCH_API_PORT
(8000 by default).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO

import requests

ROOT = Path(__file__).resolve().parent.parent


class _Multipart:
    """A multipart/form-data body (the presigned POST's fields, then the file) read in pieces, with
    its length known up front: S3's POST wants a Content-Length, not a chunked body."""

    def __init__(self, fields: dict[str, str], filename: str, fh: BinaryIO, size: int) -> None:
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        self._parts: list[bytes | BinaryIO] = [head, fh, f"\r\n--{self.boundary}--\r\n".encode()]
        self.len = len(head) + size + len(self._parts[2])  # type: ignore[arg-type]
        self.sent = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def read(self, n: int = -1) -> bytes:
        n = 1024 * 1024 if n is None or n < 0 else n
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                out, rest = part[:n], part[n:]
                self._parts[0] = rest
                if not rest:
                    self._parts.pop(0)
            else:
                out = part.read(n)
                if not out:
                    self._parts.pop(0)
                    continue
            if out:
                self.sent += len(out)
                return out
        return b""


def _api() -> str:
    return os.environ.get("BETWATCH_API") or f"http://127.0.0.1:{os.environ.get('BETWATCH_API_PORT', '8000')}"


def _key() -> str:
    if key := os.environ.get("BETWATCH_API_KEY"):
        return key
    path = ROOT / ".local" / "admin.key"
    if not path.exists():
        raise SystemExit("no BETWATCH_API_KEY and no .local/admin.key: start the stack with `make run` first")
    return path.read_text().strip()


def _bar(total: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # a plain line instead
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc="import", dynamic_ncols=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path)
    ap.add_argument("--raise-alerts", action="store_true", help="evaluate the rules on the imported bets")
    ap.add_argument("--api", default=_api())
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    args = ap.parse_args(argv)
    if not args.file.is_file():
        raise SystemExit(f"{args.file}: no such file")
    s = requests.Session()
    s.headers["x-api-key"] = _key()
    r = s.post(f"{args.api}/imports", json={"filename": args.file.name, "raise_alerts": args.raise_alerts}, timeout=30)
    if r.status_code != 201:
        raise SystemExit(f"POST /imports answered {r.status_code}: {r.text}")
    started = r.json()
    import_id, upload = started["import_id"], started["upload"]
    size = args.file.stat().st_size
    print(f"import {import_id}: uploading {args.file} ({size:,} bytes)", file=sys.stderr)
    with args.file.open("rb") as fh:
        body = _Multipart(upload["fields"], args.file.name, fh, size)
        up = requests.post(upload["url"], data=body, headers={"Content-Type": body.content_type}, timeout=600)
    if up.status_code not in (200, 201, 204):
        raise SystemExit(f"the upload answered {up.status_code}: {up.text[:500]}")
    bar = _bar(size)
    job: dict[str, Any] = {}
    while True:
        job = s.get(f"{args.api}/imports/{import_id}", timeout=30).json()
        stats = {k: job.get(k) for k in ("state", "rows_read", "recorded", "duplicates", "rejected")}
        if bar is not None:
            bar.n = min(int(job.get("bytes_read", 0)), size)
            bar.set_postfix(stats, refresh=True)
        else:
            print(f"\r{job.get('bytes_read', 0):,}/{size:,} bytes {stats}", end="", file=sys.stderr)
        if job.get("state") in ("done", "failed"):
            break
        time.sleep(args.interval)
    if bar is not None:
        bar.n = size if job["state"] == "done" else bar.n
        bar.close()
    print(file=sys.stderr)
    print(
        f"{job['state']}: {job['rows_read']:,} rows read, {job['recorded']:,} recorded, "
        f"{job['duplicates']:,} already stored, {job['rejected']:,} rejected"
    )
    if job.get("error"):
        print(f"error: {job['error']}")
    if job.get("errors_url"):
        print(f"error CSV: {job['errors_url']}")
    return 0 if job["state"] == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())
