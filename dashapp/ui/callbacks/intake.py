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

    chosen = {"choice": Output("image-choice", "data"), "message": Output("image-message", "children")}

    @app.callback(
        chosen,
        Input("upload-accepted", "data"),
        Input("ctl-url-go", "n_clicks"),
        Input("ctl-url", "n_submit"),
        Input("ctl-example", "value"),
        State("ctl-url", "value"),
        prevent_initial_call=True,
    )
    def choose_image(upload: dict[str, Any] | None, _clicks: int, _submit: int, example: str | None,
                     url: str | None) -> dict[str, Any]:
        trigger = ctx.triggered_id
        try:
            if trigger == "upload-accepted" and isinstance(upload, dict):
                accepted = library.ingest_bytes(_decode_upload(upload))
                name = str(upload.get("filename") or _("upload"))[:80]
            elif trigger in ("ctl-url-go", "ctl-url"):
                if not isinstance(url, str) or not url.strip():
                    return {"choice": no_update, "message": _image_error(_("Type an image address (https://…) first."))}
                accepted = library.ingest_url(url.strip())
                name = url.strip()[:80]
            elif trigger == "ctl-example" and example:
                sha = library.examples().get(str(example))
                if sha is None:
                    return {"choice": no_update, "message": _image_error(_("Unknown example."))}
                return {"choice": {"sha": sha}, "message": None}
            else:
                return dict.fromkeys(chosen, no_update)
        except UserError as exc:
            return {"choice": no_update, "message": _image_error(exc.message)}
        # It stays until the next image: nothing on the page disappears on a timer.
        loaded = _("Loaded {name} ({width}×{height}).").format(name=name, width=accepted.width, height=accepted.height)
        return {"choice": {"sha": accepted.sha256},
                "message": dbc.Alert(loaded, color="success", className="py-1 px-2 mb-0 small")}

    shown = {"thumb": Output("image-thumb", "src"), "caption": Output("image-caption", "children"),
             "picture": Output("shared-picture", "data")}

    @app.callback(shown, Input("image-state", "data"), State("shared-picture", "data"))
    def image_caption(view: dict[str, Any] | None, shared: dict[str, str] | None) -> dict[str, Any]:
        if not isinstance(view, dict) or not view.get("image"):
            return dict.fromkeys(shown, no_update)
        sha = view["image"]
        if shared and shared.get("image") == sha:  # same image, other settings: all already shown
            return dict.fromkeys(shown, no_update)
        try:
            image = library.image(sha)
        except UserError as exc:
            return {"thumb": None, "caption": exc.message, "picture": no_update}
        name = library.example_name(sha) or _("your image")
        # The picture under every heatmap, sent once per image.
        caption = [html.Div(name, className="fw-semibold"), html.Div(f"{image.width}×{image.height} px"),
                   html.Code(sha[:12], title=sha)]
        return {"thumb": picture_uri(image, 96), "caption": caption,
                "picture": {"image": sha, "uri": picture_uri(image)}}


def register_second_image(app: Dash, service: Analyzer) -> None:
    library = service.library

    second = {"options": Output("ctl-image2", "options"),
              "value": Output("ctl-image2", "value", allow_duplicate=True),
              "message": Output("image2-message", "children")}

    @app.callback(
        second,
        Input("ctl-upload2", "contents"),
        State("ctl-upload2", "filename"),
        State("ctl-image2", "options"),
        prevent_initial_call=True,
    )
    def second_upload(contents: str | None, filename: str | None, options: list[dict[str, str]] | None
                      ) -> dict[str, Any]:
        """A second image for the Compare page: stored like any upload, then chosen in ``ctl-image2``."""
        if not contents:
            return dict.fromkeys(second, no_update)
        try:
            accepted = library.ingest_bytes(_decode_upload({"contents": contents}))
        except UserError as exc:
            return {"options": no_update, "value": no_update, "message": _image_error(exc.message)}
        name = str(filename or _("upload"))[:40]
        kept = [o for o in options or [] if o.get("value") != accepted.sha256]
        option = {"label": _("Upload: {name}").format(name=name), "value": accepted.sha256}
        return {"options": [*kept, option], "value": accepted.sha256, "message": None}
