"""Objects in S3: bounded presigned POSTs for clients, and bounded reads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

_MISSING = ("NoSuchKey", "404", "NotFound")
STREAM_PIECE = 256 * 1024


class S3FileStore:
    def __init__(self, client: Any):
        self.client = client

    def presign_post(
        self, bucket: str, key: str, content_type: str, min_bytes: int, max_bytes: int, expires_s: int
    ) -> dict[str, Any]:
        post = self.client.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", min_bytes, max_bytes]],
            ExpiresIn=expires_s,
        )
        return {"url": post["url"], "fields": post["fields"]}

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """At most max_bytes + 1 bytes, so an oversized object is detected without reading all of it."""
        obj = self.client.get_object(Bucket=bucket, Key=key)
        return bytes(obj["Body"].read(max_bytes + 1))

    def read_optional(self, bucket: str, key: str) -> bytes | None:
        try:
            obj = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(obj["Body"].read())

    def write(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def presign_get(self, bucket: str, key: str, expires_s: int) -> str:
        return str(
            self.client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s)
        )

    def stream(self, bucket: str, key: str, start: int = 0) -> Iterator[bytes]:
        kwargs: dict[str, Any] = {"Range": f"bytes={start}-"} if start else {}
        try:
            obj = self.client.get_object(Bucket=bucket, Key=key, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return  # `start` is the object's end: nothing left
            raise
        yield from obj["Body"].iter_chunks(STREAM_PIECE)

    def write_stream(self, bucket: str, key: str, chunks: Iterable[bytes]) -> None:
        # upload_fileobj reads the pieces through a file-like view and uses a multipart upload over 8 MB.
        self.client.upload_fileobj(_ChunkReader(iter(chunks)), bucket, key)

    def read_upto(self, bucket: str, key: str, max_bytes: int) -> bytes | None:
        """At most max_bytes + 1 bytes (a ranged GET), or None when there is no such object."""
        try:
            obj = self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in _MISSING:
                return None
            if code == "InvalidRange":  # an empty object has no byte 0
                return b""
            raise
        return bytes(obj["Body"].read(max_bytes + 1))

    def copy(self, bucket: str, key: str, to_key: str) -> bool:
        try:
            self.client.copy_object(Bucket=bucket, Key=to_key, CopySource={"Bucket": bucket, "Key": key})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)


class _ChunkReader(io.RawIOBase):
    """An iterator of bytes as a readable file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
