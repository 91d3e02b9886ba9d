"""Image intake on the page: an upload (checked in the browser first), a web
address or a bundled example becomes the chosen image; its thumbnail and the
shared picture under every heatmap follow the state."""

from __future__ import annotations

import base64
from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashapp import intake
from dashapp.errors import UserError
from dashapp.figures.maps import picture_uri
from dashapp.i18n import _
from dashapp.service import Analyzer


def _image_error(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", className="py-1 px-2 mb-0 small image-error")


def _decode_upload(upload: dict[str, Any]) -> bytes:
    contents = str(upload.get("contents") or "")
    _scheme, _comma, payload = contents.partition(",")
    try:
        return base64.b64decode(payload, validate=False)
    except ValueError:
        raise intake.CorruptImage(_("The upload could not be read.")) from None


def register(app: Dash, service: Analyzer) -> None:
    library = service.library
    register_second_image(app, service)
    app.clientside_callback(
        ClientsideFunction("cnn", "checkUpload"),
        Output("upload-accepted", "data"),
        Output("image-message", "children", allow_duplicate=True),
        Input("ctl-upload", "contents"),
        State("ctl-upload", "filename"),
        State("upload-limit", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("image-choice", "data"),
        Output("image-message", "children"),
        Input("upload-accepted", "data"),
        Input("ctl-url-go", "n_clicks"),
        Input("ctl-url", "n_submit"),
        Input("ctl-example", "value"),
        State("ctl-url", "value"),
        prevent_initial_call=True,
    )
    def choose_image(upload: dict[str, Any] | None, _clicks: int, _submit: int, example: str | None,
                     url: str | None) -> tuple[Any, Any]:
        trigger = ctx.triggered_id
        try:
            if trigger == "upload-accepted" and isinstance(upload, dict):
                accepted = library.ingest_bytes(_decode_upload(upload))
                name = str(upload.get("filename") or _("upload"))[:80]
            elif trigger in ("ctl-url-go", "ctl-url"):
                if not isinstance(url, str) or not url.strip():
                    return no_update, _image_error(_("Type an image address (https://…) first."))
                accepted = library.ingest_url(url.strip())
                name = url.strip()[:80]
            elif trigger == "ctl-example" and example:
                sha = library.examples().get(str(example))
                if sha is None:
                    return no_update, _image_error(_("Unknown example."))
                return {"sha": sha}, None
            else:
                return no_update, no_update
        except UserError as exc:
            return no_update, _image_error(exc.message)
        # It stays until the next image: nothing on the page disappears on a timer.
        return {"sha": accepted.sha256}, dbc.Alert(
            _("Loaded {name} ({width}×{height}).").format(name=name, width=accepted.width, height=accepted.height),
            color="success", className="py-1 px-2 mb-0 small")

    @app.callback(
        Output("image-thumb", "src"),
        Output("image-caption", "children"),
        Output("shared-picture", "data"),
        Input("image-state", "data"),
        State("shared-picture", "data"),
    )
    def image_caption(view: dict[str, Any] | None, shared: dict[str, str] | None) -> tuple[Any, Any, Any]:
        if not isinstance(view, dict) or not view.get("image"):
            return no_update, no_update, no_update
        sha = view["image"]
        if shared and shared.get("image") == sha:  # same image, other settings: all already shown
            return no_update, no_update, no_update
        try:
            image = library.image(sha)
        except UserError as exc:
            return None, exc.message, no_update
        name = library.example_name(sha) or _("your image")
        # The picture under every heatmap, sent once per image.
        picture = {"image": sha, "uri": picture_uri(image)}
        return picture_uri(image, 96), [html.Div(name, className="fw-semibold"),
                                        html.Div(f"{image.width}×{image.height} px"),
                                        html.Code(sha[:12], title=sha)], picture


def register_second_image(app: Dash, service: Analyzer) -> None:
    library = service.library

    @app.callback(
        Output("ctl-image2", "options"),
        Output("ctl-image2", "value", allow_duplicate=True),
        Output("image2-message", "children"),
        Input("ctl-upload2", "contents"),
        State("ctl-upload2", "filename"),
        State("ctl-image2", "options"),
        prevent_initial_call=True,
    )
    def second_upload(contents: str | None, filename: str | None, options: list[dict[str, str]] | None
                      ) -> tuple[Any, Any, Any]:
        """A second image for the Compare page: stored like any upload, then chosen in ``ctl-image2``."""
        if not contents:
            return no_update, no_update, no_update
        try:
            accepted = library.ingest_bytes(_decode_upload({"contents": contents}))
        except UserError as exc:
            return no_update, no_update, _image_error(exc.message)
        name = str(filename or _("upload"))[:40]
        kept = [o for o in options or [] if o.get("value") != accepted.sha256]
        option = {"label": _("Upload: {name}").format(name=name), "value": accepted.sha256}
        return [*kept, option], accepted.sha256, None
