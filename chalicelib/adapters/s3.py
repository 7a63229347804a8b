"""Objects in S3: bounded presigned POSTs for clients, and bounded reads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

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
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return  # `start` is the object's end: nothing left
            raise
        yield from obj["Body"].iter_chunks(STREAM_PIECE)

    def write_stream(self, bucket: str, key: str, chunks: Iterable[bytes]) -> None:
        # upload_fileobj reads the pieces through a file-like view and uses a multipart upload over 8 MB.
        self.client.upload_fileobj(_ChunkReader(iter(chunks)), bucket, key)


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
