"""Which Python callable consumes each queue and schedule, read from `chalicelib/core/resources.py`.

`Queue.consumer` is "app:<name>" (a Chalice handler in app.py) or "fn:<folder>" (the `handler`
function of functions/<folder>/handler.py); `Schedule.handler` names a Chalice handler in app.py.
Modules are imported on first use, so this works before app.py or the functions exist, and an
import error surfaces on the invocation that needs it (or on `resolve()`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from chalicelib.core import resources

Handler = Callable[[dict[str, Any], Any], Any]


class LazyHandler:
    """A callable `(event, context)` that imports its target when first needed."""

    def __init__(self, spec: str) -> None:
        kind, _, name = spec.partition(":")
        if kind not in ("app", "fn") or not name:
            raise ValueError(f"unknown consumer {spec!r}: expected 'app:<handler>' or 'fn:<folder>'")
        self.spec = spec
        self.kind = kind
        self.name = name
        self._target: Handler | None = None

    def resolve(self) -> Handler:
        if self._target is None:
            if self.kind == "app":
                target = getattr(importlib.import_module("app"), self.name)
            else:
                target = importlib.import_module(f"functions.{self.name}.handler").handler
            if not callable(target):
                raise TypeError(f"{self.spec} is not callable")
            self._target = target
        return self._target

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self.resolve()(event, context)

    def __repr__(self) -> str:
        return f"LazyHandler({self.spec!r})"


def resolve_handlers() -> tuple[dict[str, LazyHandler], dict[str, LazyHandler]]:
    """(queue logical name → handler, schedule logical name → handler) for every declared consumer."""
    queue_handlers = {q.logical: LazyHandler(q.consumer) for q in resources.QUEUES if q.consumer}
    schedule_handlers = {s.logical: LazyHandler(f"app:{s.handler}") for s in resources.SCHEDULES}
    return queue_handlers, schedule_handlers
