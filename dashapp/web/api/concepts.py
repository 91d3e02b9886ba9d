"""JSON routes for concept tests (TCAV). Errors are ``{"error": message}`` with a 4xx.

    POST   /api/concepts       {"model", "concepts": [ids], "random": id, "class", "images": id,
                                "layers": [...], "runs": R, "seed"?} -> 202 {"id", "state", "done", "total", ...}
    GET    /api/concepts/<id>  {"id", "state", "done", "total", "eta_s", "error", "request", "results": [
                                {"concept", "name", "layer", "score_mean", "score_std", "p_value", "significant",
                                 "cav_accuracy", "null_mean", "null_std", "scores", "null", "accuracies",
                                 "derivatives"}]}
    DELETE /api/concepts/<id>  cancel -> the status

``significant`` is exactly ``p_value < 0.05 / (layers x concepts)``; the
same body again is the same job (cached by its inputs).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from dashapp.errors import UserError
from dashapp.service.concepts.runtime import service_jobs

concepts_api = Blueprint("concepts_api", __name__)
_SERVICE = "dashapp.concepts.service"


def _jobs() -> Any:
    from flask import current_app

    return service_jobs(current_app.extensions[_SERVICE])


@concepts_api.errorhandler(UserError)
def _user_error(exc: UserError) -> tuple[Any, int]:
    return jsonify({"error": exc.message}), exc.status


@concepts_api.route("/api/concepts", methods=["POST"])
def start() -> tuple[Any, int]:
    jobs = _jobs()
    job = jobs.start(request.get_json(silent=True))
    return jsonify(jobs.status(job)), 202


@concepts_api.route("/api/concepts/<job>", methods=["GET", "DELETE"])
def job_status(job: str) -> tuple[Any, int]:
    jobs = _jobs()
    if request.method == "DELETE":
        return jsonify(jobs.cancel(job)), 200
    return jsonify(jobs.status(job)), 200


def install(server: Flask, service: Any) -> None:
    server.extensions[_SERVICE] = service
    server.register_blueprint(concepts_api)
