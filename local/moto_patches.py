"""Patches that make moto's server behave like DynamoDB under concurrent load (moto 5.2.5 only).

moto's ThreadedMotoServer runs every request on its own thread against shared dicts, and 5.2.5:

* copies every table a TransactWriteItems touches (`copy.deepcopy`) to roll back, applies the
  operations one by one and swaps the copies back on failure: the cost grows with the table, and
  a concurrent reader iterating the table fails with "dictionary changed size during iteration";
* answers a Query on the table (no index) by sorting every item of the table, then filtering on
  the hash key;
* appends every model instance it ever creates (`BaseModel.__new__`), deep copies included, to a
  class list read only by GET /moto-api/data.json, so nothing it creates is ever freed.

`apply()` fixes these, once per process:

* one lock per service around each request (`ServiceLock`): a request runs alone against its
  service's state, as DynamoDB's own serialisation of writes to an item would have it; an SQS long
  poll lets go of the lock while it waits. GET /moto-api/* takes every lock.
* TransactWriteItems checks every condition first, changes nothing if one fails (the same
  CancellationReasons as before: `ConditionalCheckFailed` or `None` per item), then applies the
  operations with an undo log of the touched items only, restored if an operation fails.
* a Query on a table reads only its hash key's partition (GSI queries still scan, as moto does).
* a projection of top-level names takes the named attributes as stored: moto turned the whole
  item into plain JSON and back once per name (21 names per item for a customer's history), and
  a Query deep-copied each matching item whole before projecting it. A 1 MB page still counts
  whole items.
* only the services in TRACKED_SERVICES keep their instances for /moto-api/data.json (SNS:
  `local.moto_server.sns_deliveries` reads topics, subscriptions and sent notifications there).
* DynamoDB's item answers (Query, GetItem, BatchGetItem, ...) are written with
  `json.dumps` of the result moto has already made plain JSON types, instead of moto's serializer
  walking the botocore output shape per attribute (a Query answer of 500 items cost ~100 ms that
  way). A result holding bytes or datetimes (binary attributes) still takes moto's serializer.
* two lookups moto redoes on every request (its package folder listed from disk, a handler's
  methods found by `inspect.getmembers`) are computed once: a tenth of a DynamoDB request's CPU.

Observers registered with `observe()` see each request a locked service answered (under its
lock), which is how `local/moto_state.py` journals DynamoDB writes and knows what changed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MOTO_VERSION = "5.2.5"

# Services whose requests run under a lock, and whose state local/moto_state.py keeps.
LOCKED_SERVICES = ("dynamodb", "events", "s3", "secretsmanager", "sns", "sqs")
TRACKED_SERVICES = frozenset({"sns"})


class ServiceLock:
    """A lock that knows which thread holds it, so a waiting long poll can let go of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def __enter__(self) -> ServiceLock:
        self._lock.acquire()
        self._owner = threading.get_ident()
        return self

    def __exit__(self, *exc: object) -> None:
        self._owner = None
        self._lock.release()

    def held(self) -> bool:
        return self._owner == threading.get_ident()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Let go of the lock for the block if this thread holds it (else: nothing)."""
        if not self.held():
            yield
            return
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()


LOCKS: dict[str, ServiceLock] = {s: ServiceLock() for s in LOCKED_SERVICES}


@contextlib.contextmanager
def all_locked() -> Iterator[None]:
    """Every service's lock, always taken in the same order (a request holds at most one)."""
    with contextlib.ExitStack() as stack:
        for service in sorted(LOCKS):
            stack.enter_context(LOCKS[service])
        yield


@dataclass(frozen=True)
class Exchange:
    """One request a locked service answered, as an observer sees it."""

    service: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def action(self) -> str:
        """The JSON protocol's operation (X-Amz-Target "DynamoDB_20120810.PutItem" → "PutItem")."""
        return self.headers.get("X-Amz-Target", "").rpartition(".")[2]


Observer = Callable[[Exchange], None]
_observers: list[Observer] = []
_body_services: set[str] = set()  # services whose request bodies some observer reads
# The request headers an observer gets (enough to replay a JSON-protocol request).
KEPT_HEADERS = ("Authorization", "Content-Type", "X-Amz-Target", "Host")


def observe(observer: Observer, bodies_of: Iterable[str] = ()) -> None:
    """Call `observer` after each request of a locked service; `bodies_of`: services whose
    request bodies it needs (others are passed with an empty body)."""
    _observers.append(observer)
    _body_services.update(bodies_of)


def unobserve(observer: Observer) -> None:
    with contextlib.suppress(ValueError):
        _observers.remove(observer)


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again
    return body


def _locked_call(app: Any, service: str, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Run the service's WSGI app under its lock, body included, and tell the observers."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured.update(status=status, headers=headers, exc_info=exc_info)
        return lambda _data: None  # moto never uses write()

    body = _read_body(environ) if service in _body_services else b""
    with LOCKS[service]:
        result = app(environ, capture)
        try:
            payload = b"".join(result)  # serialised under the lock: the items can't change meanwhile
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        _notify(service, environ, body, int(str(captured["status"]).split(" ", 1)[0]))
    start_response(captured["status"], captured["headers"], captured.get("exc_info"))
    return [payload]


def _notify(service: str, environ: dict[str, Any], body: bytes, status: int) -> None:
    if not _observers:
        return
    exchange = Exchange(
        service=service,
        method=environ.get("REQUEST_METHOD", ""),
        path=environ.get("PATH_INFO", ""),
        query=environ.get("QUERY_STRING", ""),
        headers={h: environ[k] for h in KEPT_HEADERS if (k := _environ_key(h)) in environ},
        body=body,
        status=status,
    )
    for observer in list(_observers):
        observer(exchange)


def _environ_key(header: str) -> str:
    name = header.upper().replace("-", "_")
    return name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"


def _patch_dispatcher() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        service = getattr(app, "service", "")
        if service in LOCKS:
            return _locked_call(app, service, environ, start_response)
        if service == "moto_api":  # data.json reads every service, reset writes them all
            with all_locked():
                result = list(app(environ, start_response))
                _notify("moto_api", environ, b"", 200)
                return result
        return app(environ, start_response)

    DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]


def _patch_sqs_wait() -> None:
    from moto.sqs.models import Queue

    original = Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        with LOCKS["sqs"].released():  # a long poll must not block the other SQS requests
            original(self, timeout)

    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def _patch_instance_tracking() -> None:
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data

    tracked: dict[type, bool] = {}

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance: Any = object.__new__(cls)
        keep = tracked.get(cls)
        if keep is None:
            keep = tracked[cls] = cls.__module__.split(".")[1] in TRACKED_SERVICES
        if keep:
            cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
        return instance

    BaseModel.__new__ = __new__  # type: ignore[method-assign,assignment]
    for service, models in model_data.items():
        if service not in TRACKED_SERVICES:
            for model in models.values():
                model.instances_tracked = []  # type: ignore[attr-defined]


def _patch_static_lookups() -> None:
    import functools

    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    moto.core.responses.method_names_from_class = functools.cache(moto.core.responses.method_names_from_class)


QUERY_KEYWORDS = frozenset(
    {"index_name", "consistent_read", "filter_expression", "projection_expressions", "hash_key_conditions",
     "range_key_conditions"}
)  # fmt: skip


def _top_level(projection: list[list[str]] | None) -> set[str] | None:
    """The attribute names of a projection naming top-level attributes only (no `a.b`, no `a[1]`)."""
    if not projection or any(len(path) != 1 or "[" in path[0] for path in projection):
        return None
    return {path[0] for path in projection}


def _patch_query() -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    original = originals["Table.query"] = Table.query
    original_project = originals["Item.project"] = Item.project

    class Slim(Item):
        """A stored item cut to what a Query's projection and key conditions read. Its size is the
        whole item's: DynamoDB's 1 MB page counts the items read, not what is returned."""

        full: Item

        @classmethod
        def of(cls, item: Item, attrs: dict[str, Any]) -> Slim:
            slim = object.__new__(cls)
            slim.hash_key, slim.range_key, slim.full = item.hash_key, item.range_key, item
            slim.attrs = attrs  # type: ignore[assignment]
            return slim

        def size(self) -> int:
            return self.full.size()

        def __deepcopy__(self, memo: dict[int, Any]) -> Slim:
            return Slim.of(self.full, copy.deepcopy(self.attrs, memo))

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        # moto turns the whole item into plain JSON once per projected name, then back; for
        # top-level names the answer is the named attributes as stored.
        names = _top_level(projection_expressions)
        if names is None:
            return original_project(self, projection_expressions)
        return Item(self.hash_key, self.range_key, {k: v for k, v in self.attrs.items() if k in names})

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        # moto filters (and sorts) every item of the table; a view holding one partition suffices.
        partition: Any = object.__new__(type(self))
        partition.__dict__.update(self.__dict__)
        items = self.items.get(hash_key, {})
        names = _top_level(args[5] if len(args) > 5 else kwargs.get("projection_expressions"))
        filter_expression = args[8] if len(args) > 8 else kwargs.get("filter_expression")
        filter_kwargs = set(kwargs) - QUERY_KEYWORDS  # the legacy KeyConditions/QueryFilter form
        if names is not None and filter_expression is None and not filter_kwargs and isinstance(items, dict):
            # moto deep-copies every matching item whole before projecting it: copy what is returned.
            conditions = {str(c[0]) for c in kwargs.get("range_key_conditions") or ()}
            keep = names | conditions | {str(k) for k in (self.hash_key_attr, self.range_key_attr) if k}
            items = {rk: Slim.of(i, {k: v for k, v in i.attrs.items() if k in keep}) for rk, i in items.items()}
        partition.items = {hash_key: items} if hash_key in self.items else {}
        return original(partition, hash_key, *args, **kwargs)

    Table.query = query  # type: ignore[method-assign]
    Item.project = project  # type: ignore[method-assign]


def _patch_transactions() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    return {name: attrs[name] for name in table.table_key_attrs}


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDBBackend.transact_write_items: all conditions first, then apply with an undo log."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (op type, op, key)
    errors: list[tuple[Any, Any, Any]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        original_item = None
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(self, op_type, op)
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            plan.append((op_type, op, key))
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            errors.append((None, None, None))
        except MockValidationException:
            raise  # the whole request is invalid; nothing was changed
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: BLE001 - reported per item, as moto does
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    undo: list[tuple[Any, Any, Any, Any]] = []  # (table, hash key, range key, item before or None)
    position = -1
    try:
        for op_type, op, key in plan:
            position += 1
            if op_type == "ConditionCheck":
                continue
            table = self.get_table(op["TableName"])
            hash_key, range_key = self.get_keys_value(table, key)
            undo.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            else:
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
    except Exception as e:
        for table, hash_key, range_key, before in reversed(undo):
            _restore(table, hash_key, range_key, before)
        if isinstance(e, MockValidationException):
            raise
        reasons: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(transact_items)
        reasons[position] = (type(e).__name__, str(e), None)
        raise TransactionCanceledException(reasons) from e


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    """Put one item back as it was (`before` None: it did not exist)."""
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
        return
    partition = table.items.get(hash_key)
    if before is not None:
        table.items[hash_key][range_key] = before
    elif partition is not None:
        partition.pop(range_key, None)
        if not partition:
            table.items.pop(hash_key, None)


# Operations answering a DynamoResult (items made plain dicts) that json.dumps writes as moto's
# serializer would: items, keys, counts, consumed capacity (the write operations' small answers
# are ActionResults and keep moto's serializer).
FAST_JSON_OPERATIONS = frozenset(
    {
        "BatchGetItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "UpdateItem",
    }
)
DYNAMODB_CONTENT_TYPE = "application/x-amz-json-1.0"


original_dynamo_execute_result: Any = None  # moto's own, kept for the equivalence test
originals: dict[str, Any] = {}  # moto's own Table.query and Item.project, for the equivalence test


class _NotPlainJson(Exception):
    pass


def _not_plain(value: Any) -> Any:
    raise _NotPlainJson(type(value).__name__)  # bytes (B, BS) or datetime: moto's serializer encodes them


def _patch_dynamodb_serializer() -> None:
    from moto.dynamodb.responses import DynamoResult

    global original_dynamo_execute_result
    original = original_dynamo_execute_result = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in FAST_JSON_OPERATIONS and not isinstance(self.result, Exception):
            members = context.operation_model.output_shape.members  # moto adds keys the shape has not
            result = {k: v for k, v in self.result.items() if k in members}
            try:
                body = json.dumps(result, default=_not_plain)
            except _NotPlainJson:
                return original(self, context)
            return 200, {"Content-Type": DYNAMODB_CONTENT_TYPE}, body
        return original(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


_applied = False
_apply_lock = threading.Lock()


def check_version() -> None:
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"local/moto_patches.py patches moto {MOTO_VERSION}'s internals, but moto {moto.__version__} is "
            "installed: re-read transact_write_items, Table.query, BaseModel.__new__, Queue.wait_for_messages, "
            "DomainDispatcherApplication.__call__, list_of_moto_modules, method_names_from_class and "
            "DynamoResult.execute_result in the new "
            "version, adapt the patches, then MOTO_VERSION."
        )


def apply() -> None:
    """Patch moto in this process (idempotent)."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        check_version()
        _patch_dispatcher()
        _patch_sqs_wait()
        _patch_instance_tracking()
        _patch_static_lookups()
        _patch_query()
        _patch_transactions()
        _patch_dynamodb_serializer()
        _applied = True


def applied() -> bool:
    return _applied
