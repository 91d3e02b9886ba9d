"""JSON routes on the Flask server. Errors are ``{"error": message}`` with a 4xx."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import intake
from .service import AnalysisError, Analyzer, strict_query

log = logging.getLogger(__name__)

api = Blueprint("api", __name__)


def analyzer() -> Analyzer:
    return current_app.extensions["dashapp.analyzer"]


def error(message: str, status: int) -> tuple[Any, int]:
    return jsonify({"error": message}), status


@api.errorhandler(intake.IntakeError)
def _intake_error(exc: intake.IntakeError) -> tuple[Any, int]:
    return error(str(exc), exc.status)


@api.errorhandler(AnalysisError)
def _analysis_error(exc: AnalysisError) -> tuple[Any, int]:
    return error(exc.message, exc.status)


@api.route("/api/images", methods=["POST"])
def post_image() -> tuple[Any, int]:
    service = analyzer()
    if request.files:
        upload = next(iter(request.files.values()))
        data = upload.read(service.limits.max_bytes + 1)
        accepted = service.ingest_bytes(data)
    elif request.is_json:
        body = request.get_json(silent=True)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            return error('Send a file (multipart field "file") or JSON {"url": "https://..."}.', 400)
        accepted = service.ingest_url(url)
    elif request.mimetype == "application/octet-stream" or request.mimetype.startswith("image/"):
        accepted = service.ingest_bytes(request.get_data(cache=False))
    else:
        return error('Send a file (multipart field "file") or JSON {"url": "https://..."}.', 400)
    return jsonify({"sha256": accepted.sha256, "width": accepted.width, "height": accepted.height,
                    "format": accepted.source_format}), 201


@api.route("/api/models", methods=["GET"])
def get_models() -> Any:
    return jsonify({"models": analyzer().catalog()})


@api.route("/api/analysis", methods=["GET"])
def get_analysis() -> Any:
    service = analyzer()
    params = {key: request.args.get(key, "") for key in request.args}
    query = strict_query(params, service)
    return jsonify(service.analysis(query))


@api.route("/api/export/ranking.<fmt>", methods=["GET"])
def export_ranking(fmt: str) -> Any:
    """The ranked filters and their statistics, as CSV or JSON (same query as /api/analysis)."""
    if fmt not in ("csv", "json"):
        return error("Export formats are csv and json.", 404)
    service = analyzer()
    query = strict_query({key: request.args.get(key, "") for key in request.args}, service)
    ranking = service.ranking(query)
    name = f"ranking_{query.model}_{query.layer}_{query.criterion}_{query.image[:12]}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        body = {"image": query.image, "model": query.model, "layer": query.layer, **ranking.as_dict(),
                "min_sparsity": query.min_sparsity, "weight": query.weight}
        return Response(json.dumps(body, indent=1), mimetype="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["filter", "rank", "score", "mean", "max", "std", "sparsity"])
    for f in ranking.filters:
        writer.writerow([f.index, f.rank, f"{f.score:.6g}", f"{f.mean:.6g}", f"{f.max:.6g}", f"{f.std:.6g}",
                         f"{f.sparsity:.6g}"])
    return Response(out.getvalue(), mimetype="text/csv", headers=headers)


@api.route("/api/export/regions.json", methods=["GET"])
def export_regions() -> Any:
    """One filter's activation regions (the top-ranked filter when none is named)."""
    service = analyzer()
    params = {key: request.args.get(key, "") for key in request.args}
    query = strict_query(params, service)
    raw = params.get("filter", "")
    if raw:
        # isdigit() alone accepts "²", which int() refuses; more than 9 digits is never a filter.
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            return error("filter must be a filter index (a whole number).", 400)
        index = int(raw)
    else:
        ranking = service.ranking(query)
        if not ranking.filters:
            return error(ranking.notice or "No filter passes the cutoff.", 404)
        index = ranking.filters[0].index
    view = service.filter_view(query, index)
    body = {"image": query.image, "model": query.model, "layer": query.layer, "filter": index,
            **view.regions.as_dict(), "patches": [p.as_dict() for p in view.patches], "statistics": view.stats}
    name = f"regions_{query.model}_{query.layer}_f{index}_{query.image[:12]}.json"
    return Response(json.dumps(body, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api.route("/api/<path:_rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(_rest: str) -> tuple[Any, int]:
    # Without this, Dash's page router would answer unknown API paths with HTML.
    return error("No such API route. See GET /api/models, POST /api/images, GET /api/analysis.", 404)


@api.route("/healthz", methods=["GET"])
def healthz() -> Any:
    service = analyzer()
    return jsonify({
        "status": "ok",
        "models": {name: service.registry.is_loaded(name) for name in service.registry.names},
        "cache": dict(service.activations.stats),
    })


def install(server: Flask, service: Analyzer) -> None:
    server.extensions["dashapp.analyzer"] = service
    server.register_blueprint(api)

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge) -> tuple[Any, int]:
        # intake's wording, so a small limit reads "19.5 KB", not "0 MB".
        return error(f"The upload is larger than the {intake._human_size(service.limits.max_bytes)} limit.", 413)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return error(exc.description or exc.name, exc.code or 400)
        return exc

    @server.errorhandler(Exception)
    def _unexpected(_exc: Exception) -> tuple[Any, int]:
        # Never leak a traceback; log it for the operator.
        log.exception("unhandled error on %s", request.path)
        return error("The server could not complete this request.", 500)
