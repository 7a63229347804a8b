"""`chalice local`, answering every HTTP method through the app.

Chalice's local server handles GET, PUT, POST, HEAD, DELETE, PATCH and OPTIONS; any other method
(TRACE, CONNECT, QUERY, PROPFIND...) got Python's bare 501 page from http.server. Here they reach the app
too, which answers 405 in the API's one error shape, as the Lambda does behind API Gateway.

    python -m local.chalice_local local --port 8000 ...   (the arguments of the `chalice` CLI)
"""

from __future__ import annotations

import sys
from typing import Any

from chalice.cli import main
from chalice.local import ChaliceRequestHandler


def _any_method(self: ChaliceRequestHandler, name: str) -> Any:
    # http.server looks up do_<METHOD>; every method without one goes to the app.
    if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
        return self._generic_handle
    raise AttributeError(name)


def patch() -> None:
    ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]


if __name__ == "__main__":
    patch()
    sys.argv[0] = "chalice"
    sys.exit(main())
