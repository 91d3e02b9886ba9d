"""JSON routes on the Flask server. Errors are ``{"error": message}`` with a 4xx,
the message in the request's language (``?lang=``, then ``Accept-Language``:
i18n/negotiation.py); the keys stay English.

Every route reads its parameters through the one strict state reader
(``state.strict_state``), binds them once with ``Analyzer.open`` and builds
its answer here: the service knows nothing about HTTP.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from dashapp import intake
from dashapp.config.version import version
from dashapp.errors import UserError
from dashapp.i18n import _
from dashapp.service import Analyzer, FeatureVisRequest, LayerView
from dashapp.state.schema import SCHEMA, ViewState
from dashapp.state.url import strict_state
from dashapp.web import auth, crossorigin

log = logging.getLogger(__name__)

api = Blueprint("api", __name__)
# API parameter -> state field, as each field declares (state/schema.py: api, api_name)
ANSWERED = SCHEMA.answered("analysis")


def analyzer() -> Analyzer:
    return current_app.extensions["dashapp.analyzer"]


def error(message: str, status: int) -> tuple[Any, int]:
    return jsonify({"error": message}), status


@api.errorhandler(UserError)
def _user_error(exc: UserError) -> tuple[Any, int]:
    return error(exc.message, exc.status)


def query_state(service: Analyzer) -> ViewState:
    """The request's parameters, strictly: a bad one is a 400 that names it.
    ``n`` may go up to the layer's filter count (pages stop at 24)."""
    params = {field: request.args.get(key, "") for key, field in ANSWERED.items() if key in request.args}
    if not params.get("image"):
        raise UserError(_("image is required: the id answered by POST /api/images."))
    if not params.get("layer"):
        raise UserError(_("layer is required, e.g. layer2.0.conv1; GET /api/models lists them."))
    model = params.get("model") or service.models.names[0]
    service.models.layers(model)  # an unknown model is a 404 that lists them
    params["model"] = model
    catalog = service.models.state_catalog()
    layer = params["layer"]
    service.models.layer(model, layer)  # an unknown layer is a 404
    wanted = params.get("filter", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 9 and int(wanted) >= catalog[model][layer]:
        # Well formed but absent: "not found", as for an unknown layer.
        raise UserError(_("Filter {index} does not exist: {layer} has filters 0 to {last}.").format(
            index=wanted, layer=layer, last=catalog[model][layer] - 1), 404)
    return strict_state(params, catalog, max_n=None)


def open_view() -> tuple[Analyzer, LayerView]:
    service = analyzer()
    return service, service.open(query_state(service))


def analysis_answer(view: LayerView) -> dict[str, Any]:
    """Prediction, layer statistics, ranked filters with their statistics, regions and reading."""
    ranking = view.ranking
    filters = [
        {**ranked.as_dict(), **view.regions(ranked.index).as_dict(), "reading": view.reading(ranked.index).as_dict()}
        for ranked in ranking.filters
    ]
    state = view.state
    return {
        "image": {"sha256": view.subject.sha, "width": view.image.width, "height": view.image.height},
        "model": view.loaded.name,
        "weights": view.loaded.weights.as_dict(),
        "layer": view.info.as_dict(),
        "prediction": view.prediction,
        "layer_stats": view.layer_stats.as_dict(),
        "ranking": {**ranking.as_dict(), "filters": filters},
        "query": {"criterion": state.criterion, "n": ranking.requested, "min_sparsity": state.min_sparsity,
                  "weight": state.weight},
    }


@api.route("/api/images", methods=["POST"])
def post_image() -> tuple[Any, int]:
    library = analyzer().library
    if request.files:
        upload = next(iter(request.files.values()))
        data = upload.read(library.limits.max_bytes + 1)
        accepted = library.ingest_bytes(data)
    elif request.is_json:
        body = request.get_json(silent=True)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            return error(_('Send a file (multipart field "file") or JSON {"url": "https://..."}.'), 400)
        accepted = library.ingest_url(url)
    elif request.mimetype == "application/octet-stream" or request.mimetype.startswith("image/"):
        accepted = library.ingest_bytes(request.get_data(cache=False))
    else:
        return error(_('Send a file (multipart field "file") or JSON {"url": "https://..."}.'), 400)
    return jsonify({"sha256": accepted.sha256, "width": accepted.width, "height": accepted.height,
                    "format": accepted.source_format}), 201


@api.route("/api/models", methods=["GET"])
def get_models() -> Any:
    return jsonify({"models": analyzer().models.describe()})


@api.route("/api/analysis", methods=["GET"])
def get_analysis() -> Any:
    _service, view = open_view()
    return jsonify(analysis_answer(view))


def _attachment(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def export_context(view: LayerView) -> dict[str, Any]:
    """What every export says about where its numbers come from: the model,
    its weights (their tag, and whether ImageNet's, random or a team's
    checkpoint), the layer, the image's hash and the app's version."""
    return {"app_version": version(), "model": view.loaded.name, "weights_tag": view.loaded.weights.tag,
            "weights": view.loaded.trained_on, "layer": view.state.layer, "image": view.subject.sha}


@api.route("/api/export/ranking.<fmt>", methods=["GET"])
def export_ranking(fmt: str) -> Any:
    """The ranked filters and their statistics, as CSV or JSON (same query as
    /api/analysis), each carrying ``export_context``: in JSON as keys, in CSV
    as columns of every row (so a file read by any CSV tool keeps them)."""
    if fmt not in ("csv", "json"):
        return error(_("Export formats are csv and json."), 404)
    _service, view = open_view()
    state, ranking = view.state, view.ranking
    context = export_context(view)
    name = f"ranking_{state.model}_{state.layer}_{state.criterion}_{view.subject.sha[:12]}.{fmt}"
    if fmt == "json":
        body = {**context, **ranking.as_dict(), "min_sparsity": state.min_sparsity, "weight": state.weight}
        return _attachment(json.dumps(body, indent=1), "application/json", name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["filter", "rank", "score", "mean", "max", "std", "sparsity", *context])
    for f in ranking.filters:
        writer.writerow([f.index, f.rank, f"{f.score:.6g}", f"{f.mean:.6g}", f"{f.max:.6g}", f"{f.std:.6g}",
                         f"{f.sparsity:.6g}", *context.values()])
    return _attachment(out.getvalue(), "text/csv", name)


@api.route("/api/export/regions.json", methods=["GET"])
def export_regions() -> Any:
    """One filter's activation regions (the top-ranked filter when none is named)."""
    _service, view = open_view()
    index = view.state.filter
    if index is None:
        if not view.ranking.filters:
            return error(view.ranking.notice or _("No filter passes the cutoff."), 404)
        index = view.ranking.filters[0].index
    detail = view.filter(index)
    state = view.state
    body = {**export_context(view), "filter": index, **detail.regions.as_dict(),
            "patches": [p.as_dict() for p in detail.patches], "statistics": detail.stats}
    name = f"regions_{state.model}_{state.layer}_f{index}_{view.subject.sha[:12]}.json"
    return _attachment(json.dumps(body, indent=1), "application/json", name)


@api.route("/api/export/map.json", methods=["GET"])
def export_map() -> Any:
    """One filter's map as numbers, with where its cells lie in the original
    image: cell (i, j) is centred at (x0 + j·dx, y0 + i·dy) and sees an
    rf_width × rf_height box (docs/definitions.md, map geometry)."""
    _service, view = open_view()
    index = view.state.filter
    if index is None:
        return error(_("filter is required, e.g. filter=0."), 400)
    fmap = view.maps[view.check_filter(index)]
    return jsonify({**export_context(view), "filter": index, "width": view.image.width,
                    "height": view.image.height, "shape": list(fmap.shape),
                    "map": fmap.astype(float).tolist(), "geometry": view.geometry.as_dict()})


EVIDENCE_PARAMS = SCHEMA.answered("evidence")  # image, model, class (cls), method (cam), layer (elayer)


def evidence_view() -> tuple[LayerView, int, str, str]:
    """The evidence routes' parameters, strictly: (view, class, method, evidence layer)."""
    service = analyzer()
    args = {key: request.args.get(key, "") for key in EVIDENCE_PARAMS}
    if not args["image"]:
        raise UserError(_("image is required: the id answered by POST /api/images."))
    if not args["class"]:
        raise UserError(_("class is required: an ImageNet class index, e.g. class=281."))
    if not args["layer"]:
        raise UserError(_("layer is required, e.g. layer4 or layer4.1.conv2; GET /api/models lists evidence layers."))
    model = args["model"] or service.models.names[0]
    service.models.layers(model)  # an unknown model is a 404 that lists them
    layer = service.models.evidence_layer(model, args["layer"]).name  # 404 when unknown
    # The evidence layer is read above; the rest strictly, by field (an empty method means the default).
    params = {EVIDENCE_PARAMS[key]: value for key, value in args.items() if key != "layer"} | {"model": model}
    state = strict_state(params, service.models.state_catalog(), classes=service.models.classes(model))
    if state.cls is None:  # unreachable: required above and read strictly
        raise UserError(_("class is required."))
    return service.open(state), state.cls, state.cam, layer


@api.route("/api/evidence", methods=["GET"])
def get_evidence() -> Any:
    """Grad-CAM / Grad-CAM++ at a conv or block: the map (max 1), its scale
    (raw = map × scale) and its geometry in original-image pixels."""
    view, cls, method, layer = evidence_view()
    answer = view.evidence(cls, method, layer)
    return jsonify({"image": view.subject.sha, "model": view.loaded.name, "width": view.image.width,
                    "height": view.image.height, **answer.as_dict()})


@api.route("/api/sanity", methods=["GET"])
@crossorigin.same_site_only  # a page view only shows a stored check: another site's <img> may not start one
def get_sanity() -> Any:
    """The cascading model-randomization check of that evidence (cached; computed on the first request)."""
    view, cls, method, layer = evidence_view()
    result = view.sanity(cls, method, layer)
    return jsonify({"image": view.subject.sha, "model": view.loaded.name, **(result or {})})


def featurevis_request() -> FeatureVisRequest:
    args = request.args
    for name in ("model", "layer", "filter"):
        if not args.get(name):
            raise UserError(_("{name} is required, e.g. ?model=resnet18&layer=layer2.0.conv1&filter=3.").format(
                name=name))
    return analyzer().featurevis.request(args["model"], args["layer"], args["filter"],
                                         args.get("objective") or "channel", args.get("steps"), args.get("size"))


@api.route("/api/featurevis", methods=["GET", "POST"])
def featurevis() -> tuple[Any, int]:
    """POST starts the visualization (or joins it, or answers the cached one);
    GET answers its state: ``{state, step, steps}``, and when done the PNG's
    URL and the response it reached."""
    jobs = analyzer().featurevis
    wanted = featurevis_request()
    if request.method == "POST":
        status = jobs.start(wanted, analyzer().collections.viewer().name)  # the request's user (web/auth.py)
        return jsonify(status), 200 if status["state"] == "done" else 202
    status = jobs.status(wanted)
    return jsonify(status), 404 if status["state"] == "absent" else 200


@api.route("/api/featurevis.png", methods=["GET"])
def featurevis_png() -> Any:
    png = analyzer().featurevis.png(featurevis_request())
    if png is None:
        return error(_("This visualization has not been computed yet: POST /api/featurevis starts it."), 404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "max-age=60"})


@api.route("/api/<path:_rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(_rest: str) -> tuple[Any, int]:
    # Without this, Dash's page router would answer unknown API paths with HTML.
    return error(_("No such API route. See GET /api/models, POST /api/images, GET /api/analysis, "
                   "GET /api/evidence, POST /api/featurevis, GET /api/collections."), 404)


@api.route("/healthz", methods=["GET"])
def healthz() -> Any:
    """A status word for load balancers; the model and cache counters only to
    authenticated requests (or to anyone with ``DASHAPP_HEALTHZ_DETAILS``)."""
    service = analyzer()
    if not (service.settings.healthz_details or auth.authenticated(service.settings)):
        return jsonify({"status": "ok"})
    return jsonify({
        "status": "ok",
        "models": {name: service.registry.is_loaded(name) for name in service.registry.names},
        "cache": dict(service.activations.stats),
    })


def http_message(exc: HTTPException) -> str:
    """What an HTTP error says: a message given where it was raised as is;
    Werkzeug's stock English ones in the reader's language."""
    if exc.description and exc.description != type(exc).description:
        return exc.description
    stock = {
        400: _("The request could not be read."),
        404: _("Nothing is at this address."),
        405: _("This address does not accept the {method} method.").format(method=request.method),
        413: _("The request is too large."),
    }
    return stock.get(exc.code or 400, exc.description or exc.name)


def install(server: Flask, service: Analyzer) -> None:
    from dashapp.web.api.collections import collections_api

    server.extensions["dashapp.analyzer"] = service
    server.register_blueprint(collections_api)
    server.register_blueprint(api)
    # A new image's cache writes go on while its answer is built; each request waits for its own before it ends.
    server.before_request(service.activations.defer_writes)
    server.teardown_request(service.activations.finish_writes)

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge) -> tuple[Any, int]:
        # intake's wording, so a small limit reads "19.5 KB", not "0 MB".
        return error(_("The upload is larger than the {limit} limit.").format(
            limit=intake.human_size(service.library.limits.max_bytes)), 413)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return error(http_message(exc), exc.code or 400)
        return exc

    @server.errorhandler(Exception)
    def _unexpected(_exc: Exception) -> tuple[Any, int]:
        # Never leak a traceback; log it for the operator.
        log.exception("unhandled error on %s", request.path)
        return error(_("The server could not complete this request."), 500)
