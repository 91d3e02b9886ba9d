"""JSON routes for image collections and their scans, and the crop images
the Dataset page loads lazily. Errors are ``{"error": message}`` with a 4xx.

    POST /api/collections                     files (multipart, many) or one zip -> {id, images, rejected}
    POST /api/collections?demo=1 | ?folder=x  the bundled demo, or a server folder
         (an upload may say shared=1: with DASHAPP_AUTH on, readable by every user, not only its uploader)
    GET  /api/collections                     stored collections (the user's own and shared ones) and server folders
    GET  /api/collections/<id>                one collection's summary (404: missing or another user's, unshared)
    PATCH /api/collections/<id>               {"shared": true|false}, by the collection's owner only (403)
    POST /api/collections/<id>/scan?model=    start (or resume) -> job status, 202
    GET  /api/collections/<id>/scan?model=    {state, done, total, rate, eta_s}
    DELETE /api/collections/<id>/scan?model=  cancel (403 for a scan another user started)
    GET  /api/collections/<id>/top?model=&layer=&filter=&k=   [{image, value, row, col, box}], highest first
    GET  /api/collections/<id>/filters?model=&layer=&sort=&min_firing_rate=    per-filter firing rate, peak,
         selectivity (sort=selectivity leaves out filters firing on fewer than min_firing_rate of the images,
         default service.dataset.MIN_FIRING_RATE; "left_out" counts them)
    GET  /api/crops/<sha>.jpg?box=x0,y0,x1,y1 a crop of a stored image (cached: images never change)

A crop checks its box before reading the image, decodes the image reduced
where the format allows (JPEG), and is kept in a small per-process cache.
"""

from __future__ import annotations

import io
import math
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from PIL import Image

from dashapp.errors import UserError
from dashapp.i18n import _
from dashapp.intake import is_sha256
from dashapp.intake.reduced import decode_region, stored_size
from dashapp.service import Analyzer
from dashapp.service.dataset import SORTS, Collections, checked_min_firing
from dashapp.store import LruDict

collections_api = Blueprint("collections_api", __name__)
CROP_SIDE = 112
MAX_COORDINATE = 1_000_000  # beyond any image the pixel limit lets in
_CROPS = LruDict(max_cost=32 * 1024 * 1024)  # JPEG bytes by (image, box): a page shows the same tiles again


def _service() -> Analyzer:
    service: Analyzer = current_app.extensions["dashapp.analyzer"]
    return service


def _collections() -> Collections:
    return _service().collections


@collections_api.errorhandler(UserError)
def _user_error(exc: UserError) -> tuple[Any, int]:
    return jsonify({"error": exc.message}), exc.status


def _flag(raw: object) -> bool:
    return str(raw).strip().lower() in ("1", "true", "yes", "on")


def _model() -> str:
    return _collections().model(request.args.get("model"))


def _int_arg(name: str, default: int | None, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise UserError(_("{name} is required.").format(name=name))
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise UserError(_("{name}={value} is not a whole number between {low} and {high}.").format(
            name=name, value=repr(raw[:20]), low=low, high=high))
    return int(raw)


@collections_api.route("/api/collections", methods=["POST"])
def post_collection() -> tuple[Any, int]:
    collections = _collections()
    name = (request.form.get("name") or request.args.get("name") or "")[:120]
    shared = _flag(request.form.get("shared") or request.args.get("shared"))
    if request.args.get("demo"):
        collection = collections.add_demo()
    elif request.args.get("folder"):
        collection = collections.add_folder(request.args["folder"][:128])
    elif request.files:
        files = [(upload.filename or "upload", upload.read(collections.settings.collection_max_bytes + 1))
                 for upload in request.files.getlist("file") + request.files.getlist("files")]
        collection = collections.add_upload(name, files, shared)
    elif request.mimetype in ("application/zip", "application/octet-stream"):
        collection = collections.add_upload(name or "upload.zip", [("upload.zip", request.get_data())], shared)
    else:
        raise UserError(_('Send image files or one zip (multipart field "files"), or ?demo=1, or ?folder=NAME.'))
    return jsonify({**collection.summary(), "rejected": [r.as_dict() for r in collection.rejected]}), 201


@collections_api.route("/api/collections", methods=["GET"])
def list_collections() -> Any:
    collections = _collections()
    return jsonify({"collections": [c.summary() for c in collections.stored()], "folders": collections.folders()})


@collections_api.route("/api/collections/<collection_id>", methods=["GET", "PATCH"])
def one_collection(collection_id: str) -> Any:
    collections = _collections()
    if request.method == "PATCH":
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("shared"), bool):
            raise UserError(_('Send {"shared": true} or {"shared": false}.'))
        return jsonify(collections.set_shared(collection_id, body["shared"]).summary())
    return jsonify(collections.get(collection_id).summary())


@collections_api.route("/api/collections/<collection_id>/scan", methods=["GET", "POST", "DELETE"])
def scan_job(collection_id: str) -> tuple[Any, int]:
    scans, model = _collections(), _model()
    if request.method == "POST":
        return jsonify(scans.start(collection_id, model)), 202
    if request.method == "DELETE":
        return jsonify(scans.cancel(collection_id, model)), 200
    return jsonify(scans.status(collection_id, model)), 200


def _layer() -> str:
    layer = request.args.get("layer")
    if not layer:
        raise UserError(_("layer is required, e.g. layer2.0.conv1; GET /api/models lists them."))
    return layer


@collections_api.route("/api/collections/<collection_id>/top", methods=["GET"])
def top(collection_id: str) -> Any:
    view = _collections().layer(collection_id, _model(), _layer())
    index = _int_arg("filter", None, 0, 100_000)
    k = _int_arg("k", view.result.k, 1, view.result.k)
    return jsonify([example.as_dict() for example in view.top(index, k)])


@collections_api.route("/api/collections/<collection_id>/filters", methods=["GET"])
def filters(collection_id: str) -> Any:
    view = _collections().layer(collection_id, _model(), _layer())
    sort = request.args.get("sort") or "peak"
    if sort not in SORTS:
        raise UserError(_("sort must be one of {choices}.").format(choices=", ".join(SORTS)))
    min_firing = checked_min_firing(request.args.get("min_firing_rate"))
    rows, left_out = view.ranked(sort, min_firing)
    return jsonify({"images": view.result.images, "labels": view.result.labels, "min_firing_rate": min_firing,
                    "left_out": left_out, "filters": [row.as_dict() for row in rows]})


def _requested_box(raw: str | None) -> tuple[float, float, float, float]:
    """The box as asked, checked before any image is read."""
    parts = (raw or "").split(",")
    try:
        values = [float(p) for p in parts] if len(raw or "") <= 100 else []
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in values):
        raise UserError(_("box must be x0,y0,x1,y1 in the image's pixels."))
    x0, y0, x1, y1 = values
    if x1 <= max(0.0, x0) or y1 <= max(0.0, y0):
        raise UserError(_("box is empty once clipped to the image."))
    return x0, y0, x1, y1


def _box(requested: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = requested
    box = (max(0, math.floor(x0)), max(0, math.floor(y0)), min(width, math.ceil(x1)), min(height, math.ceil(y1)))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise UserError(_("box is empty once clipped to the image."))
    return box


def _piece(sha: str, requested: tuple[float, float, float, float]) -> Image.Image:
    """The box's pixels: from the stored bytes, reduced; else (a bundled example) from the library."""
    library = _service().library
    data = library.store.stored_bytes(sha) if is_sha256(sha) else None
    if data is None:
        image = library.image(sha)  # a bundled example, or the 400/404 for an unknown id
        return image.crop(_box(requested, image.width, image.height))
    width, height = stored_size(data)
    return decode_region(data, _box(requested, width, height), CROP_SIDE)


@collections_api.route("/api/crops/<sha>.jpg", methods=["GET"])
def crop(sha: str) -> Response:
    requested = _requested_box(request.args.get("box"))
    body = _CROPS.get((sha, requested))
    if body is None:
        body = _crop_jpeg(_piece(sha, requested))
        _CROPS.put((sha, requested), body, len(body))
    response = Response(body, mimetype="image/jpeg")
    # Content-addressed: the same URL always shows the same pixels.
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"
    return response


def _crop_jpeg(piece: Image.Image) -> bytes:
    # Small receptive fields (first layers) are upscaled so the tile is legible.
    scale = CROP_SIDE / max(piece.width, piece.height)
    size = (max(1, round(piece.width * scale)), max(1, round(piece.height * scale)))
    piece = piece.resize(size, Image.Resampling.NEAREST if scale > 2 else Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    piece.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
