"""Messages to the declared queues, by logical name (queue URLs looked up once)."""

from __future__ import annotations

import threading
from typing import Any


class SqsQueue:
    def __init__(self, client: Any, names: dict[str, str]):
        self.client = client
        self.names = names
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def _url(self, logical: str) -> str:
        url = self._urls.get(logical)
        if url is None:
            with self._lock:
                url = self._urls[logical] = self.client.get_queue_url(QueueName=self.names[logical])["QueueUrl"]
        return url

    def send(self, queue: str, body: str) -> None:
        self.client.send_message(QueueUrl=self._url(queue), MessageBody=body)
