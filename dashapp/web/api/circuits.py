"""JSON routes for circuits and channel attribution. Errors are
``{"error": message}`` with a 4xx, in the request's language.

    GET /api/circuit?image=&model=&layer=&filter=&rank_by=peak|map|weight&k=
        -> {filter, cell: [row, col], value, bias, inputs: [{layer, channel, source, contribution, weight_norm,
           kernel}], outputs: [...]}, highest first; k=0 lists every channel
    GET /api/attribution?image=&model=&layer=&class=&method=gradxact|ig&k=
        -> {class, logit, baseline_logit, residual, channels: [{channel, attribution, map}]}, highest first
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from dashapp.errors import UserError
from dashapp.i18n import _
from dashapp.service import circuits

circuits_api = Blueprint("circuits_api", __name__)


def _service() -> Any:
    return current_app.extensions["dashapp.analyzer"]


@circuits_api.errorhandler(UserError)
def _user_error(exc: UserError) -> tuple[Any, int]:
    return jsonify({"error": exc.message}), exc.status


def _integer(name: str, default: int | None = None) -> int:
    text = request.args.get(name, "")
    if not text and default is not None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise UserError(_("{name} must be a whole number of 0 or more.").format(name=name))
    return int(text)


def _subject() -> tuple[Any, str, str, str]:
    """(analyzer, image id, model, layer name as given), each required but the model."""
    service = _service()
    sha = request.args.get("image", "")
    if not sha:
        raise UserError(_("image is required: the id answered by POST /api/images."))
    layer = request.args.get("layer", "")
    if not layer:
        raise UserError(_("layer is required, e.g. layer2.0.conv1; GET /api/models lists them."))
    model = request.args.get("model") or service.models.names[0]
    service.models.layers(model)  # an unknown model is a 404 that lists them
    return service, sha, model, layer


@circuits_api.route("/api/circuit", methods=["GET"])
def get_circuit() -> Any:
    service, sha, model, layer = _subject()
    service.models.layer(model, layer)  # an unknown conv layer is a 404
    if not request.args.get("filter"):
        raise UserError(_("filter is required, e.g. filter=0."))
    rank_by = circuits.check_rank_by(request.args.get("rank_by") or "peak")
    k = circuits.check_k(_integer("k", circuits.DEFAULT_K))
    found = circuits.filter_circuit(service, sha, model, layer, _integer("filter"))
    return jsonify(circuits.circuit_answer(found, rank_by, k))


@circuits_api.route("/api/attribution", methods=["GET"])
def get_attribution() -> Any:
    service, sha, model, layer = _subject()
    if not request.args.get("class"):
        raise UserError(_("class is required: an ImageNet class index, e.g. class=281."))
    k = circuits.check_k(_integer("k", circuits.DEFAULT_K))
    found = circuits.attribution(service, sha, model, layer, _integer("class"),
                                 request.args.get("method") or "gradxact")
    return jsonify(circuits.attribution_answer(found, k))


def install(server: Flask) -> None:
    """Register the routes (after ``routes.install``, which puts the analyzer on the server)."""
    server.register_blueprint(circuits_api)
