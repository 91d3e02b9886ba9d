"""URL state: parse, validate, encode; never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashapp.state import ViewState, encode_state, parse_state

CATALOG = {"resnet18": ["conv1", "layer1.0.conv1", "layer2.0.conv1"], "alexnet": ["features.0", "features.3"]}
SHA = "ab" * 32


def test_round_trip() -> None:
    state = ViewState(image=SHA, model="alexnet", layer="features.0", criterion="max", n=12, min_sparsity=0.3,
                      weight=0.25, filter=7, opacity=0.8, colormap="Viridis", cls=281)
    parsed, messages = parse_state(encode_state(state), CATALOG)
    assert parsed == state and messages == []


def test_defaults_for_an_empty_query() -> None:
    state, messages = parse_state("", CATALOG)
    assert state == ViewState() and messages == []


@pytest.mark.parametrize(
    ("query", "field", "expected", "word"),
    [
        ("model=vgg99", "model", "resnet18", "vgg99"),
        ("layer=nope.conv", "layer", "layer2.0.conv1", "nope.conv"),
        ("model=alexnet&layer=conv1", "layer", "features.3", "conv1"),
        ("n=0", "n", 1, "n="),
        ("n=-1", "n", 1, "n="),
        ("n=1000000000", "n", 24, "n="),
        ("n=NaN", "n", 6, "NaN"),
        ("n=2.5", "n", 6, "2.5"),
        ("weight=7", "weight", 1.0, "weight"),
        ("weight=-inf", "weight", 0.5, "weight"),
        ("min_sparsity=0.95", "min_sparsity", 0.8, "min_sparsity"),
        ("criterion=median", "criterion", "balanced", "median"),
        ("image=../../etc/passwd", "image", None, "image"),
        ("colormap=Rainbow<script>", "colormap", "Jet", "colormap"),
        ("filter=-3", "filter", None, "filter"),
        ("cls=5000", "cls", None, "cls"),
        ("filter=1e3", "filter", None, "filter"),
    ],
)
def test_bad_values_fall_back_with_a_message(query: str, field: str, expected: object, word: str) -> None:
    state, messages = parse_state(query, CATALOG)
    assert getattr(state, field) == expected
    assert messages and any(word.lower() in m.lower() for m in messages)


def test_repeated_and_very_long_parameters() -> None:
    state, _ = parse_state("n=3&n=9&model=alexnet&model=resnet18", CATALOG)
    assert state.n == 3 and state.model == "alexnet"
    state, messages = parse_state("layer=" + "x" * 100_000, CATALOG)
    assert state.layer == "layer2.0.conv1" and len(messages[0]) < 400


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises(query: str) -> None:
    state, messages = parse_state(query, CATALOG)
    assert state.model in CATALOG and state.layer in CATALOG[state.model]
    assert 1 <= state.n <= 24 and 0 <= state.weight <= 1 and isinstance(messages, list)
