"""/health's view of the tables: each one described (cheap, and proves access and existence)."""

from __future__ import annotations

from chalicelib.adapters.dynamodb.client import Dynamo


class DynamoHealthProbe:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.tables = tables

    def unreachable(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for logical, name in self.tables.items():
            try:
                self.db.describe(name)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                out[logical] = type(exc).__name__
        return out
