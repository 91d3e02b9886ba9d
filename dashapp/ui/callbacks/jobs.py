"""Computing feature visualizations from a page: a Dash background job with
the step, a live preview, the time left and a cancel button.

The job runs in the app's DiskcacheManager (a separate process, found by
whichever worker answers the poll). It computes through the same service
as the API (``Analyzer.featurevis``), so its results land in the shared
store and a visualization another request is computing is joined, not
repeated. Cancel ends the job's process; the OS then drops its file locks.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp import i18n
from dashapp.analysis.featurevis.optimize import Cancelled
from dashapp.analysis.models.threads import one_thread_after_fork
from dashapp.errors import UserError
from dashapp.i18n import _, number
from dashapp.service import Analyzer
from dashapp.service.featurevis import png_bytes
from dashapp.service.page_jobs import StopFlag, new_job_id
from dashapp.ui.attributes import attrs

PREVIEW_EVERY_S = 0.7  # how often the job publishes a progress update
FOLLOW_POLL_S = 0.5  # how often it reads another request's progress
STOP_WAIT_S = 10.0  # how long a cancel waits for the job to stop before it counts


def job_controls(prefix: str, label: str) -> html.Div:
    """The button that starts the job, and what shows while it runs."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(label, id=f"{prefix}-go", n_clicks=0, color="primary", size="sm"),
                    dbc.Button(_("Cancel"), id=f"{prefix}-cancel", n_clicks=0, color="outline-danger", size="sm",
                               style={"display": "none"}),
                ],
                className="d-flex gap-2 align-items-center",
            ),
            html.Div(
                [
                    html.Img(id=f"{prefix}-preview", className="fv-preview", alt=_("live preview of the optimization")),
                    html.Div([
                        dbc.Progress(id=f"{prefix}-progress", value=0, striped=True, animated=True,
                                     className="fv-progress"),
                        html.Div(id=f"{prefix}-label", className="control-help fv-label"),
                    ], className="flex-grow-1"),
                ],
                id=f"{prefix}-run", className="fv-run", style={"display": "none"},
            ),
            # What the job has finished so far (its progress), that count once
            # it changes (what the page redraws on), and what a cancel left.
            dcc.Store(id=f"{prefix}-finished"),
            dcc.Store(id=f"{prefix}-tally"),
            html.Div(id=f"{prefix}-status", className="control-help fv-status", **attrs(aria_live="polite")),
        ],
        className="fv-controls",
    )


def preview_uri(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


def _progress_text(position: int, total: int, index: int, step: int, steps: int, seconds_left: float | None) -> str:
    facts = {"index": index, "position": position, "total": total, "step": step, "steps": steps}
    if total > 1:
        text = _("Optimizing filter {index} ({position} of {total}): step {step} of {steps}").format(**facts)
    else:
        text = _("Optimizing filter {index}: step {step} of {steps}").format(**facts)
    if seconds_left is None:
        return text
    return _("{progress} · about {seconds} s left").format(progress=text, seconds=number(seconds_left, 0))


def _follow(set_progress: Any, service: Analyzer, request: Any, position: int, total: int,
            stop: StopFlag | None = None) -> bool:
    """While another request (the API, another page, another worker) computes
    this visualization, show its progress instead of computing it again;
    True when it is then done."""
    status = service.featurevis.status(request)
    while status["state"] in ("queued", "running"):
        if stop is not None and stop.is_set():
            raise Cancelled("cancelled while following another request")
        step, steps = status["step"], status["steps"]
        text = _progress_text(position, total, request.filter, step, steps, status.get("seconds_left"))
        text = _("{progress} (computed for another request)").format(progress=text)
        set_progress((int(100 * step / max(steps, 1)), text, None))
        time.sleep(FOLLOW_POLL_S)
        status = service.featurevis.status(request)
    return status["state"] == "done"


def job_requests(service: Analyzer, targets: dict[str, Any], max_filters: int) -> list[Any]:
    """The visualizations a page job asks for, checked on the server: the
    store comes from the browser, so its list is capped at the page's own
    maximum (a forged job asks for no more than the page would)."""
    filters = targets.get("filters") or []
    if not isinstance(filters, list) or len(filters) > max_filters:
        raise UserError(_("A page job computes at most {n} filters.").format(n=max_filters))
    jobs = service.featurevis
    return [jobs.request(str(targets.get("model")), str(targets.get("layer")), str(index),
                         str(targets.get("objective") or "channel")) for index in filters]


def register_job(app: Dash, service: Analyzer, prefix: str, max_filters: int) -> None:
    """The background callback behind ``job_controls(prefix)``: it computes
    every filter listed in the ``{prefix}-targets`` store that is not cached
    yet (at most ``max_filters``, the page's own maximum), then sets
    ``{prefix}-done`` so the page redraws. Each finished visualization is
    counted in ``{prefix}-tally`` as it lands, so the page can show it at
    once; a cancel says how many were finished, and they stay. Past the
    host's page-job slots a job is refused at once ("busy, try again")."""

    @app.callback(
        Output(f"{prefix}-done", "data"),
        Input(f"{prefix}-go", "n_clicks"),
        State(f"{prefix}-targets", "data"),
        State("ready-state", "data"),
        background=True,
        progress=[Output(f"{prefix}-progress", "value"), Output(f"{prefix}-label", "children"),
                  Output(f"{prefix}-preview", "src"), Output(f"{prefix}-finished", "data")],
        running=[
            (Output(f"{prefix}-go", "disabled"), True, False),
            (Output(f"{prefix}-cancel", "style"), {"display": "inline-block"}, {"display": "none"}),
            (Output(f"{prefix}-run", "style"), {"display": "flex"}, {"display": "none"}),
        ],
        cancel=[Input(f"{prefix}-cancel", "n_clicks")],
        prevent_initial_call=True,
    )
    def compute(set_progress: Any, clicks: int, targets: dict[str, Any] | None, ready: dict[str, Any] | None) -> Any:
        if not clicks or not isinstance(targets, dict):
            return no_update
        one_thread_after_fork()  # a forked process: see analysis/models/threads.py
        # The job runs in another process, outside any request: it speaks
        # the language of the page that started it.
        i18n.use(ready.get("lang") if isinstance(ready, dict) else None)
        jobs = service.featurevis
        try:
            requests = job_requests(service, targets, max_filters)
            with jobs.page_jobs.slot() as slot:
                return _compute_missing(set_progress, service, [r for r in requests if jobs.meta(r) is None], slot)
        except UserError as exc:
            return {"at": time.time(), "error": exc.message}

    # The tally changes only when one more is finished (the progress comes
    # every PREVIEW_EVERY_S); a cancel shows what the job had finished.
    app.clientside_callback(ClientsideFunction("cnn", "jobTally"), Output(f"{prefix}-tally", "data"),
                            Input(f"{prefix}-finished", "data"), State(f"{prefix}-tally", "data"),
                            prevent_initial_call=True)

    @app.callback(Output(f"{prefix}-status", "children"), Input(f"{prefix}-go", "n_clicks"),
                  Input(f"{prefix}-cancel", "n_clicks"), State(f"{prefix}-finished", "data"),
                  State(f"{prefix}-targets", "data"), prevent_initial_call=True)
    def status(_go: int, _cancel: int, finished: dict[str, Any] | None, targets: dict[str, Any] | None) -> str:
        if ctx.triggered_id != f"{prefix}-cancel" or not isinstance(finished, dict):
            return ""  # a new job clears the line
        try:
            return cancelled_status(service, finished, targets, max_filters)
        except UserError:
            return ""


def cancelled_status(service: Analyzer, finished: dict[str, Any], targets: dict[str, Any] | None,
                     max_filters: int) -> str:
    """What a cancelled job leaves, counted in the store once it has stopped
    (service/page_jobs.py): a visualization it stored after the browser's
    last progress counts too."""
    job, slot = finished.get("job"), finished.get("slot")
    if isinstance(job, str) and isinstance(slot, int):
        service.featurevis.page_jobs.stop(job, slot, STOP_WAIT_S)
    filters = [f for f in finished.get("filters") or [] if isinstance(f, int)]
    requests = job_requests(service, {**(targets if isinstance(targets, dict) else {}), "filters": filters},
                            max_filters)
    done = sum(service.featurevis.meta(r) is not None for r in requests)
    return _("Cancelled after {done} of {total}; the finished ones are kept.").format(done=done, total=len(requests))


def _finished(done: int, missing: list[Any], job: str, slot: int) -> dict[str, Any]:
    """What job ``job`` (on page-job slot ``slot``) has finished of the
    ``missing`` visualizations it computes."""
    return {"done": done, "total": len(missing), "job": job, "slot": slot,
            "filters": [request.filter for request in missing]}


def _compute_missing(report: Any, service: Analyzer, missing: list[Any], slot: int) -> dict[str, Any]:
    """Compute each visualization in turn (or follow another request's), with
    progress, a preview, and how many are finished so far."""
    jobs = service.featurevis
    job = new_job_id()
    stop = jobs.page_jobs.stop_flag(job)
    tally = [_finished(0, missing, job, slot)]
    preview: list[str | None] = [None]  # the last one shown, kept while nothing newer comes

    def set_progress(values: tuple[Any, Any, Any]) -> None:
        preview[0] = values[2] or preview[0]
        report((values[0], values[1], preview[0], tally[0]))

    for position, request in enumerate(missing, start=1):
        started, last = time.monotonic(), [0.0]

        def on_step(step: int, steps: int, preview: np.ndarray | None, position: int = position,
                    request: Any = request, started: float = started, last: list[float] = last) -> None:
            now = time.monotonic()
            if preview is None or now - last[0] < PREVIEW_EVERY_S:
                return
            last[0] = now
            per_step = (now - started) / step
            left = per_step * ((steps - step) + steps * (len(missing) - position))
            text = _progress_text(position, len(missing), request.filter, step, steps, left)
            set_progress((int(100 * step / steps), text, preview_uri(preview)))

        set_progress((0, _progress_text(position, len(missing), request.filter, 0,
                                        request.settings.steps, None), None))
        try:
            if not _follow(set_progress, service, request, position, len(missing), stop):  # else another did it
                jobs.compute(request, on_step, stop)
        except UserError as exc:
            return {"at": time.time(), "error": exc.message}
        except Cancelled:
            stop.acknowledge()  # after the last store: the page now counts what is kept
            return {"at": time.time(), "cancelled": True}
        tally[0] = _finished(position, missing, job, slot)
        set_progress((100, _progress_text(position, len(missing), request.filter, request.settings.steps,
                                          request.settings.steps, None), None))
    return {"at": time.time()}
