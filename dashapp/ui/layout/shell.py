"""The parts every page shares: navbar, sidebar with every control, banners."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.analysis.maps.stats import CRITERIA
from dashapp.figures.colormaps import COLORSCALES
from dashapp.i18n import N_, _
from dashapp.i18n.browser import strings_element
from dashapp.intake.limits import short_number
from dashapp.state.schema import COLORMAPS, FIELD, SCHEMA, ViewState
from dashapp.ui.attributes import attrs
from dashapp.ui.layout.navigation import SIDEBAR_ID, navbar
from dashapp.ui.layout.served import SERVED_ADDRESS
from dashapp.ui.layout.widgets import heatmap_slot
from dashapp.web.plotly_bundle import PLOTLY_PATH

# Perceptually uniform: equal steps in value read as equal steps in lightness;
# colour-blind-safe: the order survives the common colour-vision deficiencies.
COLORMAP_NOTES = {
    "Viridis": N_("perceptually uniform, colour-blind-safe"),
    "Cividis": N_("perceptually uniform, colour-blind-safe"),
    "Inferno": N_("perceptually uniform, colour-blind-safe"),
    "Plasma": N_("perceptually uniform, colour-blind-safe"),
    "Greys": N_("greyscale, colour-blind-safe"),
    "Jet": N_("rainbow: not uniform, not colour-blind-safe"),
    "Hot": N_("not uniform, not colour-blind-safe"),
}

# The criteria's names as readers see them (the link keeps the identifiers).
CRITERION_NAMES = {"balanced": N_("balanced"), "mean": N_("mean"), "max": N_("max"), "std": N_("std")}
CRITERION_HELP = {
    "balanced": N_("activation and selectivity"),
    "mean": N_("average response"),
    "max": N_("strongest single response"),
    "std": N_("most varied response"),
}


# dcc's components loaded when they first mount (webpack chunks of
# dash_core_components): every page's shell has uploads, drop-downs and
# sliders, and every page a graph. Left alone, each is asked for only once the
# layout has been rendered, and Dash fires no callback of a component before
# its chunk has arrived; preloaded, they come with the page's scripts.
LAZY_CHUNKS = ("async-graph.js", "async-dropdown.js", "async-slider.js", "async-upload.js")
DCC_SUITE = "/_dash-component-suites/dash/dcc/"

# Dash's page template with the interface language on <html>: screen readers
# pick their voice from it. ``{%lang%}`` is ours: filled per request by
# i18n/negotiation.py with a language the interface speaks; so is
# ``{%plotly_locale%}`` (web/page_scripts.py), plotly.js's words in that
# language for assets/js/language.js, in the head before plotly.js can arrive.
# plotly.js runs as soon as it has arrived (async), while the page's other
# scripts download, instead of when the first graph mounts (dcc.Graph uses the
# window.Plotly it finds: web/plotly_bundle.py).
DOCUMENT = """<!DOCTYPE html>
<html lang="{%lang%}">
    <head>
        <meta name="dashapp-plotly-locale" content="{%plotly_locale%}">
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <script src="{%plotly%}" async></script>
        {%chunks%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>""".replace("{%plotly%}", PLOTLY_PATH).replace("{%chunks%}", "\n        ".join(
    f'<link rel="preload" href="{DCC_SUITE}{chunk}" as="script">' for chunk in LAZY_CHUNKS))


def _label(text: str, for_id: str, help_text: str | None = None) -> html.Div:
    """A visible label tied to its control: ``htmlFor`` for native controls,
    and its id ``<control>-label`` names a Dash composite's focusable parts
    (slider thumbs, the dropdown button; assets/js/dashapp.js, nameComposites)."""
    children: list[Any] = [html.Label(text, htmlFor=for_id, id=f"{for_id}-label", className="control-label")]
    if help_text:
        children.append(html.Span(help_text, className="control-help"))
    return html.Div(children, className="d-flex justify-content-between align-items-baseline")


def _hidden_label(text: str, for_id: str) -> html.Label:
    """A label only assistive technology reads (the control's look says what it is)."""
    return html.Label(text, htmlFor=for_id, id=f"{for_id}-label", className="visually-hidden")


def _section(title: str) -> html.H2:
    return html.H2(title, className="sidebar-section")


def _with_link(template: str, link: str) -> html.Div:
    """A translated sentence whose ``{link}`` part looks like a link (the
    upload zones): Spanish may put it elsewhere than English does."""
    before, _marker, after = template.partition("{link}")
    return html.Div([before, html.Span(link, className="link-like"), after])


def _control(key: str) -> str:
    """The id of the sidebar control that sets field ``key`` (the field declares it: state/schema.py)."""
    control = FIELD[key].control
    if not control:
        raise ValueError(f"the view-state field {key} declares no control")
    return control


def _slider(key: str, defaults: ViewState, intervals: int) -> dcc.Slider:
    """Field ``key``'s slider: its range and step are the field's; ``intervals``
    equal steps from 0 to the top are marked (the first at the bottom of the range)."""
    f = FIELD[key]
    marks = [max(f.low, round(f.high * i / intervals, 6)) for i in range(intervals + 1)]
    # Marks in the reader's locale ("0,5" in Spanish).
    return dcc.Slider(id=_control(key), min=_whole(f.low), max=_whole(f.high), step=f.step,
                      value=getattr(defaults, key),
                      marks={_whole(mark): short_number(mark) for mark in marks}, updatemode="mouseup",
                      tooltip={"placement": "bottom", "always_visible": False})


def _whole(number: float) -> float:
    """1.0 as 1: a mark's key is written as its number."""
    return int(number) if float(number).is_integer() else number


def colormap_options() -> list[dict[str, str]]:
    """Each colormap says whether it reads right for everyone: equal steps in
    value look like equal steps in lightness, and colour-blind readers see them."""
    return [{"label": _("{colormap} — {note}").format(
                colormap=name, note=_(COLORMAP_NOTES.get(name, N_("not perceptually uniform")))), "value": name}
            for name in COLORMAPS]


def _example_options(examples: dict[str, str], values: str) -> list[dict[str, str]]:
    """The bundled examples by name; ``values`` says what each option's value is ("name" or "sha")."""
    return [{"label": _("Example: {name}").format(name=name.rsplit(".", 1)[0]),
             "value": name if values == "name" else sha} for name, sha in examples.items()]


def _image_section(examples: dict[str, str], max_upload_bytes: int) -> list[Any]:
    return [
        _section(_("Image")),
        html.Div(
            [
                html.Img(id="image-thumb", className="image-thumb", alt=_("The image being analysed")),
                html.Div(id="image-caption", className="image-caption"),
            ],
            className="d-flex gap-2 align-items-center mb-2",
        ),
        html.Span(_("Upload an image"), id="ctl-upload-label", className="visually-hidden",
                  **attrs(data_labels="ctl-upload")),
        dcc.Upload(
            id="ctl-upload",
            children=_with_link(_("Drop an image here or {link}"), _("choose a file")),
            className="upload-zone",
            # No `accept` or `max_size`: dcc.Upload drops such files
            # silently; our own check says why instead.
            multiple=False,
        ),
        dcc.Store(id="upload-limit", data=max_upload_bytes),
        _hidden_label(_("Image address (https://…)"), "ctl-url"),
        dbc.InputGroup(
            [
                dbc.Input(id="ctl-url", placeholder=_("https://… image address"), type="url", debounce=True,
                          maxLength=2000),
                dbc.Button(_("Load"), id="ctl-url-go", color="secondary", n_clicks=0),
            ],
            size="sm",
            className="mt-2",
        ),
        _hidden_label(_("Example image"), "ctl-example"),
        dbc.Select(
            id="ctl-example",
            options=_example_options(examples, "name"),
            placeholder=_("…or pick an example"),
            size="sm",
            className="mt-2",
        ),
        html.Div(dcc.Loading(html.Div(id="image-message", className="control-message"), type="dot",
                             delay_show=250), role="status", **attrs(aria_live="polite")),
    ]


def _model_section(model_names: list[str], defaults: ViewState) -> list[Any]:
    return [
        _section(_("Model and layer")),
        _label(_("Model"), _control("model")),
        dbc.Select(id=_control("model"), options=[{"label": m, "value": m} for m in model_names],
                   value=defaults.model if defaults.model in model_names else model_names[0], size="sm"),
        _label(_("Layer"), _control("layer")),
        # Open, as many rows as fit below it (style.css), not Dash's 200 px.
        dcc.Dropdown(id=_control("layer"), clearable=False, searchable=True, className="layer-dropdown",
                     optionHeight=30, maxHeight=480),
        # What the layer is in plain words (ui/callbacks/layer_meaning.py).
        html.Div(id="layer-meaning", className="control-help mt-1", **attrs(aria_live="polite")),
    ]


def _ranking_section(defaults: ViewState) -> list[Any]:
    return [
        _section(_("Ranking")),
        _label(_("Filters to show"), _control("n")),
        _slider("n", defaults, 4),
        html.Fieldset(
            [
                html.Legend(_("Criterion"), className="control-label"),
                dbc.RadioItems(
                    id=_control("criterion"),
                    options=[{"label": _("{criterion} — {help}").format(criterion=_(CRITERION_NAMES[c]),
                                                                        help=_(CRITERION_HELP[c])),
                              "value": c} for c in CRITERIA],
                    value=defaults.criterion,
                    className="criterion-radios",
                ),
            ],
        ),
        html.Div(
            [
                _label(_("Minimum sparsity"), _control("min_sparsity"), _("filters below are excluded")),
                _slider("min_sparsity", defaults, 4),
                _label(_("Activation weight"), _control("weight"), _("vs. selectivity")),
                _slider("weight", defaults, 2),
                html.Div(_("0 ranks by selectivity only, 1 by activation only."), className="control-help"),
            ],
            id="balanced-controls",
        ),
    ]


def _display_section(defaults: ViewState) -> list[Any]:
    return [
        _section(_("Display")),
        _label(_("Heatmap opacity"), _control("opacity")),
        _slider("opacity", defaults, 2),
        _label(_("Colormap"), _control("colormap")),
        dcc.Dropdown(id=_control("colormap"), options=colormap_options(), value=defaults.colormap, clearable=False,
                     searchable=False),
        html.Div(_("Perceptually uniform maps show equal steps in response as equal steps in lightness; "
                   "Jet and Hot do not, and hide differences from colour-blind readers."), className="control-help"),
    ]


def _share_section() -> list[Any]:
    return [
        _section(_("Share")),
        _hidden_label(_("Link to this view"), "permalink"),
        html.Div(
            [
                dbc.Input(id="permalink", readonly=True, size="sm", className="permalink"),
                dcc.Clipboard(target_id="permalink", title=_("Copy link"), className="copy-link btn btn-sm "
                              "btn-outline-primary", id="copy-link"),
            ],
            className="d-flex gap-1 align-items-center",
        ),
        html.Div(_("Copy this link to share exactly this view."), className="control-help mt-1"),
        html.Div(
            [
                html.Span(_("Download:") + " ", className="control-help"),
                html.A(_("ranking CSV"), id="export-csv", download="", className="export-link"),
                html.A(_("ranking JSON"), id="export-json", download="", className="export-link"),
                html.A(_("regions JSON"), id="export-regions", download="", className="export-link"),
            ],
            className="exports mt-1",
        ),
        html.Div(_("Every figure also saves as PNG from its camera button."), className="control-help"),
    ]


def _compare_section(model_names: list[str], examples: dict[str, str]) -> list[Any]:
    """The Compare page's second subject: another image (example or upload) and/or another model."""
    return [
        _section(_("Compare with")),
        _hidden_label(_("Second image (Compare page)"), _control("image2")),
        dbc.Select(id=_control("image2"), size="sm", placeholder=_("second image: an example"),
                   options=_example_options(examples, "sha")),
        html.Span(_("Upload a second image"), id="ctl-upload2-label", className="visually-hidden",
                  **attrs(data_labels="ctl-upload2")),
        dcc.Upload(id="ctl-upload2", children=_with_link(_("…or {link}"), _("upload a second image")),
                   className="upload-zone upload-zone-small mt-1", multiple=False),
        html.Div(html.Div(id="image2-message", className="control-message"), role="status",
                 **attrs(aria_live="polite")),
        _hidden_label(_("Second model (Compare page)"), _control("model2")),
        # The placeholder is no option's label: "the same" is listed once.
        dbc.Select(id=_control("model2"), size="sm", className="mt-1", placeholder=_("second model"),
                   options=[{"label": _("second model: the same"), "value": ""}]
                   + [{"label": _("second model: {model}").format(model=m), "value": m} for m in model_names]),
    ]


def sidebar(model_names: list[str], examples: dict[str, str], max_upload_bytes: int) -> html.Div:
    defaults = ViewState()
    return html.Div(
        [
            *_image_section(examples, max_upload_bytes),
            *_model_section(model_names, defaults),
            *_compare_section(model_names, examples),
            *_ranking_section(defaults),
            *_display_section(defaults),
            *_share_section(),
        ],
        className="sidebar",
    )


def shell(pages: list[dict[str, Any]], model_names: list[str], examples: dict[str, str],
          max_upload_bytes: int, page_container: Any) -> html.Div:
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Store(id="view-state"),
            dcc.Store(id="url-target"),
            dcc.Store(id=SERVED_ADDRESS),  # the address the layout holds the state of (ui/layout/served.py)
            dcc.Store(id="shared-picture"),
            dcc.Store(id="image-choice"),
            dcc.Store(id="upload-accepted"),
            dcc.Store(id="nav-request"),
            dcc.Store(id="filter-on-screen"),  # the filter the detail page draws (the navbar's detail link)
            dcc.Interval(id="load-poll", interval=500, disabled=True),
            dcc.Store(id="ready-state"),
            # every colormap's stops, for restyling in the browser (figures/colormaps.py)
            dcc.Store(id="colorscales", data=COLORSCALES),
            # the fields the browser restyles alone, for the address it writes (assets/js/dashapp.js displaySearch)
            dcc.Store(id="display-fields", data=SCHEMA.browser_display()),
            strings_element(),  # the words assets/*.js show, in the page's language
            # The first thing Tab reaches: past the navbar and sidebar to the page.
            html.A(_("Skip to content"), href="#main-content", className="skip-link", id="skip-link"),
            # ready-state and view-state as they were when the model, the image
            # or the layer last changed: the banner, the image caption and the
            # layer's meaning listen to these.
            dcc.Store(id="model-state"),
            dcc.Store(id="image-state"),
            dcc.Store(id="layer-state"),
            navbar(pages),
            html.Div(
                [
                    # On a narrow screen a panel the navbar's "Controls" button opens
                    # (assets/js/navigation.js); beside the page on a wide one.
                    html.Aside([
                        html.Button(id="sidebar-close", type="button", className="btn-close sidebar-close",
                                    **attrs(aria_label=_("Close the controls"), aria_controls=SIDEBAR_ID)),
                        sidebar(model_names, examples, max_upload_bytes),
                    ], className="app-sidebar", id=SIDEBAR_ID, **attrs(aria_label=_("Controls"))),
                    html.Div(id="sidebar-backdrop", className="sidebar-backdrop"),
                    html.Main(
                        [
                            # The untrained-weights banner folds to one line until the tab
                            # is closed (sessionStorage, assets/js/dashapp.js), never away.
                            html.Div([
                                html.Div(id="weights-banner"),
                                html.Button([html.Span(_("Fold"), className="when-open"),
                                             html.Span(_("Show all"), className="when-folded")],
                                            id="banner-toggle", type="button", className="btn btn-sm banner-toggle",
                                            **attrs(aria_expanded="true", aria_controls="weights-banner")),
                            ], className="banner-wrap"),
                            # Always in the page, so what appears inside is announced.
                            html.Div(
                                html.Div(
                                    [html.Div(_("Preparing the model…"), id="load-label", className="small",
                                              **attrs(data_labels="load-progress")),
                                     dbc.Progress(id="load-progress", value=0, striped=True, animated=True)],
                                    id="load-progress-wrap", style={"display": "none"}, className="mb-2",
                                ),
                                role="status", **attrs(aria_live="polite"),
                            ),
                            html.Div(id="state-messages", **attrs(aria_live="polite")),
                            page_container,
                        ],
                        className="app-main", id="main-content", tabIndex="-1",
                    ),
                ],
                className="app-body",
            ),
        ]
    )


__all__ = ["DOCUMENT", "heatmap_slot", "navbar", "shell", "sidebar"]
