"""Concepts: does the model use a concept for a class? Testing with Concept
Activation Vectors (Kim et al. 2018) on the team's own collections: pick
concept collections, a random collection, a class and its images, and the
layers; the test runs in the background (progress, cancel, still there when
the page is re-opened) and answers per layer with its significance."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp.analysis.tcav.experiment import DEFAULT_RUNS, MAX_RUNS
from dashapp.figures.concepts import concept_figure
from dashapp.service.concepts.request import default_layers
from dashapp.service.concepts.runtime import service_jobs
from dashapp.state.url import encode_state
from dashapp.ui.layout.dataset_widgets import collection_title
from dashapp.ui.layout.widgets import job_bar, page_header
from dashapp.wording.concepts import chance_note, finding

from ..errors import UserError
from ..i18n import N_, _, integer, ngettext, number, quoted
from ..service import Analyzer
from ._common import guarded, state_of

PATH = "/concepts"
NAME = N_("Concepts")
DESCRIPTION = N_("Test whether the model uses a concept, from example images, at each layer, with significance.")
ALIGNED = 4  # class images shown at each end of the alignment


def _field(label: str, control: Any, for_id: str, width: int) -> dbc.Col:
    return dbc.Col([html.Label(label, className="form-label", id=f"{for_id}-label", htmlFor=for_id), control],
                   md=width)


def _group(label: str, control_id: str, width: int) -> dbc.Col:
    """Checkboxes under a legend (a multi-select dropdown's "n selected" would not be part of its name)."""
    return dbc.Col(html.Fieldset([
        html.Legend(label, className="form-label fs-6 mb-1"),
        dbc.Checklist(id=control_id, inline=True, value=[], className="concepts-checklist"),
    ]), md=width)


def layout(**_query: Any) -> html.Div:
    return html.Div([
        page_header(_("Concepts"), _("Does the model use a concept for a class? Give example images of the concept "
                                     "and random counterexamples; each layer answers with a statistical test.")),
        html.Div(id="concepts-error"),
        dbc.Row([
            _group(_("Concept collections"), "concepts-concepts", 6),
            _field(_("Random collection"), dcc.Dropdown(id="concepts-random", placeholder=_("Counterexamples")),
                   "concepts-random", 6),
        ], className="g-2 mb-2"),
        dbc.Row([
            _field(_("Class"), dcc.Dropdown(id="concepts-class", placeholder=_("Choose a class")), "concepts-class", 4),
            _field(_("Class images"), dcc.Dropdown(id="concepts-images", placeholder=_("Images of that class")),
                   "concepts-images", 4),
            _field(_("Runs"), dbc.Input(id="concepts-runs", type="number", min=2, max=MAX_RUNS, step=1,
                                        value=DEFAULT_RUNS), "concepts-runs", 4),
        ], className="g-2 mb-2"),
        dbc.Row([_group(_("Layers"), "concepts-layers", 12)], className="g-2 mb-2"),
        job_bar("concepts", "concepts-test", _("Test")),
        dcc.Interval(id="concepts-poll", interval=1000, disabled=True),
        dcc.Store(id="concepts-job", storage_type="session"),
        dcc.Store(id="concepts-done"),
        dcc.Loading(html.Div(id="concepts-results"), type="default", delay_show=300),
    ])


def status_text(status: dict[str, Any]) -> str:
    state, done, total = status.get("state"), int(status.get("done") or 0), int(status.get("total") or 0)
    counts = {"done": integer(done), "total": integer(total)}
    if state == "done":
        return _("Tested: {total} steps.").format(**counts)
    if state in ("queued", "running"):
        text = _("Testing: step {done} of {total}").format(**counts) if total else _("Testing: starting")
        eta = status.get("eta_s")
        if eta is not None:
            text = _("{progress} · about {seconds} s left").format(progress=text, seconds=number(eta, 0))
        return text + "."
    if state == "cancelled":
        return _("Cancelled at step {done} of {total}. Test again to start over.").format(**counts)
    if state == "interrupted":
        return _("Interrupted (the server restarted). Test again to start over.")
    if state == "failed":
        return _("The test failed: {error}.").format(error=status.get("error") or _("unknown error"))
    return _("Choose the collections, the class and its images, then press Test.")


def register(app: Dash, service: Analyzer) -> None:
    _register_choices(app, service)
    _register_job(app, service)
    _register_results(app, service)


def _register_choices(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("concepts-concepts", "options"), Output("concepts-random", "options"),
        Output("concepts-images", "options"), Output("concepts-class", "options"),
        Output("concepts-layers", "options"), Output("concepts-concepts", "value"), Output("concepts-random", "value"),
        Output("concepts-images", "value"), Output("concepts-class", "value"), Output("concepts-layers", "value"),
        Output("concepts-runs", "value"),
        Input("ready-state", "data"), State("concepts-job", "data"),
    )
    def choices(ready: dict[str, Any], job_id: str | None) -> tuple[Any, ...]:
        if not isinstance(ready, dict):
            return (no_update,) * 11
        state = state_of(service, ready)
        collections = [{"label": ngettext("{name} · {n} image", "{name} · {n} images", len(c.images)).format(
            name=collection_title(c), n=len(c.images)), "value": c.id} for c in service.collections.stored()]
        categories = service.models.model(state.model).categories
        classes = [{"label": f"{i} · {name}", "value": i} for i, name in enumerate(categories)]
        layers = service.models.evidence_layers(state.model)
        options = (collections, collections, collections, classes,
                   [{"label": layer.name, "value": layer.name} for layer in layers])
        asked = _asked(service, job_id, state.model)
        if asked is not None:  # the page opened again: the choices of the test it shows
            return (*options, asked["concepts"], asked["random"], asked["images"], asked["class_index"],
                    asked["layers"], asked["runs"])
        return (*options, [], None, None, state.cls, default_layers(layers), DEFAULT_RUNS)


def _asked(service: Analyzer, job_id: str | None, model: str) -> dict[str, Any] | None:
    """The request of the session's last test, when it was for this model."""
    if not job_id:
        return None
    try:
        asked = service_jobs(service).request_of(job_id).as_dict()
    except UserError:
        return None
    return asked if asked["model"] == model else None


def _register_job(app: Dash, service: Analyzer) -> None:
    outputs = {
        "status": Output("concepts-status", "children"),
        "percent": Output("concepts-progress", "value"),
        "running": Output("concepts-progress", "animated"),
        "poll_off": Output("concepts-poll", "disabled"),
        "job": Output("concepts-job", "data"),
        "done": Output("concepts-done", "data"),
        "error": Output("concepts-error", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("concepts-test", "n_clicks"),
                  Input("concepts-cancel", "n_clicks"), Input("concepts-poll", "n_intervals"),
                  State("concepts-job", "data"), State("concepts-concepts", "value"), State("concepts-random", "value"),
                  State("concepts-class", "value"), State("concepts-images", "value"),
                  State("concepts-layers", "value"), State("concepts-runs", "value"))
    @guarded(outputs)
    def job(ready: dict[str, Any], _test: int, _cancel: int, _poll: int, job_id: str | None, concepts: Any,
            random: Any, class_index: Any, images: Any, layers: Any, runs: Any) -> dict[str, Any]:
        state = state_of(service, ready)
        jobs = service_jobs(service)
        if ctx.triggered_id == "concepts-test":
            job_id = jobs.start({"model": state.model, "concepts": concepts or [], "random": random,
                                 "class": class_index, "images": images, "layers": layers or [],
                                 "runs": runs if runs is not None else DEFAULT_RUNS})
        elif ctx.triggered_id == "concepts-cancel" and job_id:
            jobs.cancel(job_id)
        if not job_id:
            return {"status": status_text({}), "percent": 0, "running": False, "poll_off": True, "job": None,
                    "done": None, "error": None}
        status = jobs.status(job_id)
        running = status["state"] in ("queued", "running")
        percent = 100.0 * status["done"] / status["total"] if status["total"] else 0.0
        return {"status": status_text(status), "percent": percent, "running": running, "poll_off": not running,
                "job": job_id, "done": job_id if status["state"] == "done" else None, "error": None}


def _aligned(result: dict[str, Any], row: dict[str, Any], state: Any) -> Any:
    """The class images most and least aligned with the concept at ``row``'s layer; each opens Class evidence."""
    ids = result["used"]["images"]
    order = sorted(range(len(ids)), key=lambda i: (-row["derivatives"][i], ids[i]))
    cls = result["request"]["class_index"]

    def tile(i: int) -> Any:
        href = "/evidence" + encode_state(state.with_(image=ids[i], cls=cls))
        picture = html.Img(src=f"/api/crops/{ids[i]}.jpg?box=0,0,100000,100000", width=72, height=72,
                           className="crop-img", alt=_("class image {image}").format(image=ids[i][:8]))
        return dcc.Link(picture, href=href, className="crop-link concepts-aligned-link")

    most, least = order[:ALIGNED], order[::-1][:ALIGNED]
    return html.Div([
        html.Div([html.Span(_("Most aligned:"), className="me-2 small"), *[tile(i) for i in most]],
                 className="crop-row mb-1"),
        html.Div([html.Span(_("Least aligned:"), className="me-2 small"), *[tile(i) for i in least]],
                 className="crop-row"),
    ], className="mb-3")


def _register_results(app: Dash, service: Analyzer) -> None:
    @app.callback(Output("concepts-results", "children"), Input("ready-state", "data"),
                  Input("concepts-done", "data"))
    @guarded()
    def results(ready: dict[str, Any], job_id: str | None) -> Any:
        state = state_of(service, ready)
        result = service_jobs(service).result(job_id) if job_id else None
        if result is None:
            return html.P(_("Results appear here once a test has run."), className="text-muted")
        category = result["category"]
        sections = []
        for concept in result["request"]["concepts"]:
            rows = [row for row in result["results"] if row["concept"] == concept]
            stored = service.collections.scans.collections.get(concept)
            name = collection_title(stored) if stored is not None else rows[0]["name"]
            words = [finding(row, name, category) for row in rows] + [chance_note(row, name) for row in rows]
            said = [html.Li(text) for text in words if text] or [html.Li(
                _("No layer shows a significant effect of {concept} on {category}.").format(
                    concept=quoted(name), category=quoted(category)))]
            best = min(rows, key=lambda row: (row["p_value"], -rows.index(row)))
            sections.append(html.Section([
                html.H2(_("Concept {concept}").format(concept=quoted(name)), className="h5"),
                dcc.Graph(figure=concept_figure(rows, _("{concept} for {category}").format(
                    concept=quoted(name), category=quoted(category))), config={"displayModeBar": False},
                    className="concepts-figure"),
                html.Ul(said, className="concepts-findings"),
                html.P(_("Class images along the concept at {layer}; click one to open its class evidence.").format(
                    layer=best["layer"]), className="text-muted small mb-1"),
                _aligned(result, best, state),
            ], className="concepts-concept"))
        note = html.P(_("Significant: p < {threshold} (0.05 divided by layers × concepts, Bonferroni); grey bars are "
                        "not significant and are no finding.").format(threshold=number(result["threshold"], 4)),
                      className="text-muted small")
        return [note, *sections]
