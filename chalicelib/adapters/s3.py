"""Objects in S3: bounded presigned POSTs for clients, and bounded reads."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_MISSING = ("NoSuchKey", "404", "NotFound")


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
