"""Rules in the `rules` table: the catalogue of current versions, every version, the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, delete, put, values
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.rules import Rule


def _audit_item(rule_id: str, audit: AuditEvent) -> dict[str, Any]:
    return {
        "pk": keys.rule(rule_id),
        "sk": keys.audit(audit.at, uuid.uuid4().hex[:8]),
        "doc": audit.model_dump(mode="json"),
    }


class DynamoRuleStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["rules"]

    def catalogue(self) -> list[Rule]:
        items = self.db.query(
            self.table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.CATALOGUE)
        )
        return [Rule.model_validate(i["doc"]) for i in items]

    def get(self, rule_id: str) -> Rule | None:
        item = self.db.get(self.table, {"pk": keys.CATALOGUE, "sk": rule_id})
        return Rule.model_validate(item["doc"]) if item else None

    def versions(self, rule_id: str) -> list[Rule]:
        items = self.db.query(
            self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues=values(pk=keys.rule(rule_id), v=keys.VERSION_PREFIX),
        )
        return [Rule.model_validate(i["doc"]) for i in items]

    def save(self, rule: Rule, expected_version: int | None, audit: AuditEvent) -> bool:
        doc = rule.model_dump(mode="json")
        current = (
            {"condition": "attribute_not_exists(pk)"}
            if expected_version is None
            else {"condition": "version = :v", "ExpressionAttributeValues": values(v=expected_version)}
        )
        writes = [
            put(self.table, {"pk": keys.CATALOGUE, "sk": rule.rule_id, "version": rule.version, "doc": doc}, **current),
            put(self.table, {"pk": keys.rule(rule.rule_id), "sk": keys.rule_version(rule.version), "doc": doc}),
            put(self.table, _audit_item(rule.rule_id, audit)),
        ]
        if expected_version is not None and expected_version == rule.version:
            writes.pop(1)  # enable/disable of the same version: the version item stays as created
        try:
            self.db.transact(writes)
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        return True

    def remove(self, rule_id: str, expected_version: int, audit: AuditEvent) -> bool:
        try:
            self.db.transact(
                [
                    delete(
                        self.table,
                        {"pk": keys.CATALOGUE, "sk": rule_id},
                        "version = :v",
                        ExpressionAttributeValues=values(v=expected_version),
                    ),
                    put(self.table, _audit_item(rule_id, audit)),
                ]
            )
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        return True

    def audit(self, rule_id: str) -> list[AuditEvent]:
        items = self.db.query(
            self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            ExpressionAttributeValues=values(pk=keys.rule(rule_id), a=keys.AUDIT_PREFIX),
        )
        return [AuditEvent.model_validate(i["doc"]) for i in items]
