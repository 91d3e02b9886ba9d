"""One declaration per field: ``ViewState``'s attributes carry their spec, and
everything else (the readers' table, labels, controls, API parameters,
navigation keys, the browser's display fields) is derived from them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dashapp.state.schema import FIELD, FIELDS, SCHEMA, StateError, ViewState
from dashapp.state.spec import declare, schema
from dashapp.state.transitions import ControlChanged, Navigated, World, apply
from dashapp.state.url import encode_state, parse_state, strict_state
from dashapp.state.values import field_label

CATALOG = {"resnet18": {"conv1": 64, "layer2.0.conv1": 128}, "alexnet": {"features.0": 64, "features.3": 192}}
SHA = "ab" * 32


@dataclass(frozen=True)
class Extended(ViewState):
    """Two fields added in one place each: nothing else is edited."""

    gamma: float = declare(1.0, "float", low=0.5, high=2.0, step=0.1, display=True, control="ctl-gamma",
                           api=("analysis",), api_name="g", label=lambda: "gamma correction")
    palette: str = declare("warm", "choice", choices=("warm", "cold"), api=("evidence",), nav=True,
                           label=lambda: "palette")


def extended(state: ViewState) -> Extended:
    """The readers and transitions answer the class they were given."""
    assert isinstance(state, Extended)
    return state


def test_an_added_field_is_parsed_validated_and_encoded() -> None:
    state, messages = parse_state(f"?image={SHA}&gamma=1.5&palette=cold", CATALOG, state_class=Extended)
    assert (extended(state).gamma, extended(state).palette, messages) == (1.5, "cold", [])
    assert parse_state("", CATALOG, state_class=Extended)[0] == Extended()  # the declared defaults
    # Lenient: out of range is clamped, an unknown choice falls back, each with a message.
    state, messages = parse_state("gamma=9&palette=hot", CATALOG, state_class=Extended)
    assert (extended(state).gamma, extended(state).palette) == (2.0, "warm")
    assert messages == ["gamma='9' is outside 0.5–2; using 2.", "Unknown palette 'hot'; available: warm, cold."]
    # Strict: refused, named.
    with pytest.raises(StateError, match=r"gamma must be a number from 0\.5 to 2"):
        strict_state({"gamma": 0.1}, CATALOG, state_class=Extended)
    assert extended(strict_state({"gamma": 0.75}, CATALOG, state_class=Extended)).gamma == 0.75
    # Encoded into the link, and read back.
    search = encode_state(Extended(image=SHA, gamma=1.25, palette="cold"))
    assert "gamma=1.25" in search and "palette=cold" in search
    assert parse_state(search, CATALOG, state_class=Extended)[0] == Extended(image=SHA, gamma=1.25, palette="cold")


def test_an_added_field_is_labelled_and_offered_as_its_spec_says() -> None:
    declared = schema(Extended)
    assert [f.name for f in declared.fields] == [*(f.name for f in FIELDS), "gamma", "palette"]
    assert field_label(declared.field["gamma"]) == "gamma correction"
    assert declared.controls == {**SCHEMA.controls, "gamma": "ctl-gamma"}
    assert declared.display_controls == {**SCHEMA.display_controls, "gamma": "ctl-gamma"}
    assert {"key": "gamma", "number": True} in declared.browser_display()
    assert declared.answered("analysis") == {**SCHEMA.answered("analysis"), "g": "gamma"}
    assert declared.answered("evidence") == {**SCHEMA.answered("evidence"), "palette": "palette"}
    assert declared.nav_keys == (*SCHEMA.nav_keys, "palette")
    state = Extended(image=SHA)
    assert "palette" in state.analysis_part() and "gamma" not in state.analysis_part()  # display-only
    # Transitions take it too: a control sets it, a page may navigate to it.
    world = World(CATALOG, SHA, lambda sha: True)
    changed, messages, _ = apply(state, ControlChanged("gamma", 1.5), world)
    assert extended(changed).gamma == 1.5 and messages == []
    moved, _, _ = apply(state, Navigated({"palette": "cold", "gamma": 2}), world)
    assert (extended(moved).palette, extended(moved).gamma) == ("cold", 1.0)  # gamma is not a navigation key
    # The app's own state is untouched.
    assert "gamma" not in SCHEMA.field and not hasattr(ViewState(), "gamma")


def test_the_table_is_the_state_its_defaults_and_its_spec() -> None:
    state = ViewState()
    assert [f.name for f in FIELDS] == list(state.__dataclass_fields__)
    for f in FIELDS:
        assert getattr(state, f.name) == f.default, f.name
    # The layer's default is the default model's (the readers pick each model's own).
    assert parse_state("", CATALOG)[0].layer == FIELD["layer"].default
    assert parse_state("model=alexnet", CATALOG)[0].layer == "features.3"


def test_the_derived_tables_are_what_the_app_offered_before() -> None:
    """The API's parameters, the sidebar's controls, the navigation and display keys (unchanged behaviour)."""
    from dashapp.ui.callbacks.url_sync import CONTROLS
    from dashapp.web.api.routes import ANSWERED, EVIDENCE_PARAMS

    assert dict(CONTROLS) == {
        "model": "ctl-model", "layer": "ctl-layer", "criterion": "ctl-criterion", "n": "ctl-n",
        "min_sparsity": "ctl-min-sparsity", "weight": "ctl-weight", "opacity": "ctl-opacity",
        "colormap": "ctl-colormap", "image2": "ctl-image2", "model2": "ctl-model2"}
    assert dict(ANSWERED) == {key: key for key in ("image", "model", "layer", "criterion", "n", "min_sparsity",
                                                   "weight", "filter", "lang")}
    # The API names three fields differently.
    assert dict(EVIDENCE_PARAMS) == {"image": "image", "model": "model", "class": "cls", "method": "cam",
                                     "layer": "elayer"}
    assert set(SCHEMA.nav_keys) == {"filter", "layer", "cls", "cam", "elayer", "image", "collection"}
    assert SCHEMA.display_keys == ("opacity", "colormap")
    assert SCHEMA.browser_display() == [{"key": "opacity", "number": True}, {"key": "colormap", "number": False}]


def test_model_dependent_ranges_are_named_bounds() -> None:
    assert {f.name: f.bound for f in FIELDS if f.bound} == {"n": "filters shown", "filter": "filter index",
                                                            "cls": "class index"}
    # filter < the layer's filter count, cls < the model's class count, n <= MAX_N (the API: the layer's size).
    with pytest.raises(StateError, match="from 0 to 63"):
        strict_state({"layer": "conv1", "filter": 64}, CATALOG)
    with pytest.raises(StateError, match="from 0 to 9"):
        strict_state({"model": "alexnet", "cls": 10}, CATALOG, classes={"alexnet": 10})
    assert strict_state({"layer": "conv1", "n": 64}, CATALOG, max_n=None).n == 64
    with pytest.raises(StateError, match="from 1 to 24"):
        strict_state({"layer": "conv1", "n": 25}, CATALOG)
