"""Objects in S3: bounded presigned POSTs for clients, and bounded reads."""

from __future__ import annotations

from typing import Any


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
