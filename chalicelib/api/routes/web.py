"""The staff web app (/ui) and Swagger UI's assets (/docs/assets), served from the package.

Public routes: the page and its scripts hold no data; everything they show comes from the
authenticated API. Chalice paths have no greedy parameter, so assets live under a fixed depth:
/ui/assets/<key>/<name> and /ui/assets/<key>/<folder>/<name>.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import wiring
from chalicelib.api.errors import ApiError
from chalicelib.api.spec import Ctx, Spec, endpoint
from chalicelib.web import assets

bp = Blueprint(__name__)


def _answer(asset: assets.Asset, immutable: bool, ctx: Ctx, csp: str = assets.CSP) -> Response:
    headers: dict[str, str | list[str]] = {**assets.headers(asset, immutable, csp)}
    if ctx.request.headers.get("if-none-match") == asset.etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers=headers)


def _asset(bundle: assets.Bundle, allowed: frozenset[str], ctx: Ctx, key: str, name: str) -> Response:
    asset = bundle.get(name) if name in allowed else None
    if asset is None:
        raise ApiError(404, "not_found", f"no asset {name!r}")
    # A page of the previous deploy may still ask for its key: answer today's file, uncached.
    return _answer(asset, key == bundle.key, ctx)


@bp.route("/ui", methods=["GET"])
@endpoint(bp, Spec("The staff web app (log in with a staff user)", roles=None, tag="web"))
def ui_page(ctx: Ctx) -> Response:
    # Slip thumbnails come straight from the slips bucket (presigned GETs): its origin, and only it.
    return _answer(assets.ui_page(), False, ctx, assets.ui_csp(wiring.container().uploads.image_origin()))


@bp.route("/ui/assets/{key}/{name}", methods=["GET"])
@endpoint(bp, Spec("A script, stylesheet or icon of the staff web app", roles=None, tag="web", errors=(404,)))
def ui_asset(ctx: Ctx, key: str, name: str) -> Response:
    return _asset(assets.UI, assets.UI_ASSET_NAMES, ctx, key, name)


@bp.route("/ui/assets/{key}/{folder}/{name}", methods=["GET"])
@endpoint(bp, Spec("A module of the staff web app in a folder (views/)", roles=None, tag="web", errors=(404,)))
def ui_folder_asset(ctx: Ctx, key: str, folder: str, name: str) -> Response:
    return _asset(assets.UI, assets.UI_ASSET_NAMES, ctx, key, f"{folder}/{name}")


@bp.route("/docs/assets/{key}/{name}", methods=["GET"])
@endpoint(bp, Spec("Swagger UI's own files (vendored swagger-ui-dist) for /docs", roles=None, tag="web", errors=(404,)))
def docs_asset(ctx: Ctx, key: str, name: str) -> Response:
    return _asset(assets.DOCS, frozenset(assets.DOCS.files), ctx, key, name)
