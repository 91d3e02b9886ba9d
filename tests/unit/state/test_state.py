"""The view state: the field table, the lenient (URL) and strict (API, callbacks) readers, and transitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashapp.errors import UserError
from dashapp.state.schema import FIELDS, MAX_N, StateError, ViewState
from dashapp.state.transitions import ControlChanged, ImageChosen, Navigated, UrlLoaded, World, apply
from dashapp.state.url import MIGRATIONS, encode_state, parse_state, strict_state

CATALOG = {"resnet18": {"conv1": 64, "layer1.0.conv1": 64, "layer2.0.conv1": 128},
           "alexnet": {"features.0": 64, "features.3": 192}}
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
        ("colormap=Rainbow<script>", "colormap", "Viridis", "colormap"),
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


# -- the strict reader (API and callbacks)


@pytest.mark.parametrize(
    ("data", "word"),
    [
        ({"model": "vgg99"}, "vgg99"),
        ({"layer": "nope"}, "nope"),
        ({"n": 128}, "n=128"),
        ({"n": 2.5}, "n=2.5"),
        ({"n": True}, "n=True"),
        ({"weight": float("nan")}, "weight=nan"),
        ({"min_sparsity": 0.95}, "min_sparsity"),
        ({"criterion": "median"}, "median"),
        ({"filter": 64}, "filter=64"),  # conv1 has filters 0–63
        ({"filter": -1}, "filter=-1"),
        ({"filter": "3"}, None),
        ({"cls": 1000}, "cls=1000"),
        ({"cam": "lime"}, "lime"),
        ({"image": "ab" * 32 + "\n"}, "image"),
        ({"colormap": ["Jet"]}, "colormap"),
    ],
)
def test_strict_reader_refuses_what_the_lenient_one_replaces(data: dict[str, object], word: str | None) -> None:
    base = {"image": SHA, "model": "resnet18", "layer": "conv1"}
    if word is None:  # a digit string is an index too
        assert strict_state({**base, **data}, CATALOG).filter == 3
        return
    with pytest.raises(StateError) as info:
        strict_state({**base, **data}, CATALOG)
    message = info.value.message.lower()
    assert all(part.lower() in message for part in word.split("=")) and info.value.status == 400
    assert "using" not in info.value.message  # nothing is substituted


def test_strict_reader_takes_the_analysis_part_of_a_state() -> None:
    state = ViewState(image=SHA, model="alexnet", layer="features.3", n=24, filter=191, cls=3, cam="gradcam++")
    assert strict_state(state.analysis_part(), CATALOG) == state.with_(opacity=0.5, colormap="Viridis")
    # The API allows n up to the layer's filter count.
    assert strict_state({**state.analysis_part(), "n": 192}, CATALOG, max_n=None).n == 192
    with pytest.raises(StateError):
        strict_state({**state.analysis_part(), "n": 193}, CATALOG, max_n=None)


def test_versions_older_links_migrate_and_newer_ones_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "v=1" in encode_state(ViewState())
    monkeypatch.setitem(MIGRATIONS, 0, lambda params: {**params, "n": params.pop("top", "6")})
    monkeypatch.setattr("dashapp.state.url.STATE_VERSION", 1)
    state, messages = parse_state("v=0&top=9", CATALOG)
    assert state.n == 9 and messages == []
    state, messages = parse_state("v=7&n=3", CATALOG)
    assert state.n == 3 and "newer version" in messages[0]


# -- transitions


def world(known: set[str] | None = None) -> World:
    return World(CATALOG, DEFAULT_IMAGE, (known if known is not None else {SHA, DEFAULT_IMAGE}).__contains__,
                 pages=("/", "/detail", "/heatmaps"))


DEFAULT_IMAGE = "cd" * 32


def test_a_model_change_resets_the_layer_and_the_filter() -> None:
    start = ViewState(image=SHA, model="resnet18", layer="layer1.0.conv1", filter=5)
    state, messages, path = apply(start, ControlChanged("model", "alexnet"), world())
    assert (state.model, state.layer, state.filter, messages, path) == ("alexnet", "features.3", None, [], None)


def test_a_layer_change_resets_the_filter_and_a_navigation_moves() -> None:
    start = ViewState(image=SHA, filter=5)
    state, _, _ = apply(start, ControlChanged("layer", "conv1"), world())
    assert state.layer == "conv1" and state.filter is None
    state, _, path = apply(start, Navigated({"filter": 7, "page": "/detail"}, "/detail"), world())
    assert state.filter == 7 and path == "/detail"
    state, _, path = apply(start, Navigated({"filter": 7}, "//evil.example/"), world())
    assert path is None  # only the app's own pages


def test_an_unknown_image_falls_back_to_the_example_and_a_down_store_keeps_it() -> None:
    state, messages, _ = apply(ViewState(), ImageChosen("ef" * 32), world())
    assert state.image == DEFAULT_IMAGE and "not stored" in messages[0]

    def down(_sha: str) -> bool:
        raise UserError("The image store is unavailable right now.", 503)

    state, messages, _ = apply(ViewState(), ImageChosen("ef" * 32),
                               World(CATALOG, DEFAULT_IMAGE, down))
    assert state.image == "ef" * 32 and "unavailable" in messages[0]


def test_the_second_subject_is_read_like_the_first() -> None:
    state, messages = parse_state(f"?image={SHA}&image2={DEFAULT_IMAGE}&model2=alexnet", CATALOG)
    assert (state.image2, state.model2, messages) == (DEFAULT_IMAGE, "alexnet", [])
    assert parse_state(encode_state(state), CATALOG)[0] == state
    state, messages = parse_state(f"?image={SHA}&image2=xyz&model2=vgg99", CATALOG)
    assert state.image2 is None and state.model2 is None
    assert any("second image id" in m for m in messages) and any("second model 'vgg99'" in m for m in messages)
    with pytest.raises(StateError, match="second model"):
        strict_state({"model2": "vgg99"}, CATALOG)
    with pytest.raises(StateError, match="second image id"):
        strict_state({"image2": "nope"}, CATALOG)
    # Other pages read the same state: the second subject changes nothing of theirs.
    plain = strict_state({"image": SHA, "layer": "conv1"}, CATALOG)
    assert strict_state({"image": SHA, "layer": "conv1", "image2": SHA, "model2": "alexnet"}, CATALOG).with_(
        image2=None, model2=None) == plain


def test_an_unknown_second_image_is_dropped_with_a_message() -> None:
    state, messages, _ = apply(ViewState(image=SHA), UrlLoaded(f"?image={SHA}&image2={'ef' * 32}"), world())
    assert state.image == SHA and state.image2 is None and "second image" in messages[0]
    state, messages, _ = apply(state, ControlChanged("image2", DEFAULT_IMAGE), world())
    assert state.image2 == DEFAULT_IMAGE and messages == []
    state, _, _ = apply(state, ControlChanged("model2", ""), world())  # "the same model"
    assert state.model2 is None


def test_the_class_range_follows_each_models_head() -> None:
    counts = {"resnet18": 1000, "alexnet": 10}
    assert strict_state({"model": "alexnet", "layer": "features.0", "cls": 9}, CATALOG, classes=counts).cls == 9
    with pytest.raises(StateError, match="from 0 to 9"):
        strict_state({"model": "alexnet", "layer": "features.0", "cls": 10}, CATALOG, classes=counts)
    state, messages = parse_state("?model=resnet18&cls=999", CATALOG, classes=counts)
    assert state.cls == 999 and messages == []


EVENTS = st.one_of(
    st.builds(UrlLoaded, st.text(max_size=80)),
    st.builds(ControlChanged, st.sampled_from([f.name for f in FIELDS]),
              st.one_of(st.none(), st.integers(-5, 300), st.floats(allow_nan=True), st.text(max_size=20),
                        st.sampled_from(["alexnet", "resnet18", "conv1", "features.0", "max", "Viridis", SHA,
                                         "ef" * 32]))),
    st.builds(ImageChosen, st.sampled_from([SHA, DEFAULT_IMAGE, "ef" * 32, "x"])),
    st.builds(Navigated, st.dictionaries(st.sampled_from(["filter", "layer", "cls", "cam", "model", "image"]),
                                         st.one_of(st.integers(-3, 500), st.text(max_size=12),
                                                   st.sampled_from(["conv1", "features.3", "gradcam++"])),
                                         max_size=3),
              st.one_of(st.none(), st.sampled_from(["/", "/detail", "/nowhere", "javascript:x"]))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, min_size=1, max_size=6))
def test_any_sequence_of_events_leaves_a_valid_state(events: list[object]) -> None:
    state = ViewState(image=SHA)
    for event in events:
        before = state
        state, messages, path = apply(state, event, world())  # type: ignore[arg-type]
        assert state.model in CATALOG and state.layer in CATALOG[state.model]
        assert state.filter is None or 0 <= state.filter < CATALOG[state.model][state.layer]
        assert 1 <= state.n <= MAX_N and 0 <= state.min_sparsity <= 0.8 and 0 <= state.weight <= 1
        assert state.image in (SHA, DEFAULT_IMAGE)
        assert state.image2 in (None, SHA, DEFAULT_IMAGE) and state.model2 in (None, *CATALOG)
        assert path is None or path in ("/", "/detail")
        assert isinstance(messages, list)
        if (state.model, state.layer) != (before.model, before.layer) and not isinstance(event, UrlLoaded):
            nav = event.changes if isinstance(event, Navigated) else {}
            assert state.filter is None or "filter" in nav
        # Same input, same output: the transition is a pure function.
        assert apply(before, event, world()) == (state, messages, path)  # type: ignore[arg-type]


EVIDENCE = {"resnet18": ("conv1", "layer1.0", "layer1", "layer4"), "alexnet": ("features.0", "features.3")}


def test_evidence_layer_is_read_against_the_models_convs_and_blocks() -> None:
    state, messages = parse_state(f"image={SHA}&model=resnet18&elayer=layer4", CATALOG, evidence=EVIDENCE)
    assert state.elayer == "layer4" and messages == []
    assert parse_state(encode_state(state), CATALOG, evidence=EVIDENCE)[0] == state
    state, messages = parse_state("model=resnet18&elayer=layer9", CATALOG, evidence=EVIDENCE)
    assert state.elayer is None and "Unknown evidence layer 'layer9'" in messages[0]
    with pytest.raises(StateError, match="layer9"):
        strict_state({"model": "resnet18", "elayer": "layer9"}, CATALOG, evidence=EVIDENCE)
    # A block of one model is not an evidence layer of another.
    with pytest.raises(StateError):
        strict_state({"model": "alexnet", "elayer": "layer4"}, CATALOG, evidence=EVIDENCE)


def test_a_model_change_drops_an_evidence_layer_the_new_model_lacks() -> None:
    w = World(CATALOG, SHA, lambda sha: True, evidence=EVIDENCE)
    start = ViewState(image=SHA, model="resnet18", layer="conv1", elayer="layer4")
    state, messages, _ = apply(start, ControlChanged("model", "alexnet"), w)
    assert state.model == "alexnet" and state.elayer is None and messages == []
    state, _, _ = apply(start, Navigated({"elayer": "layer1.0"}), w)
    assert state.elayer == "layer1.0"


# -- messages in the reader's language


def test_lenient_messages_are_spanish_sentences_with_locale_numbers() -> None:
    from dashapp import i18n

    query = "model=vgg99&min_sparsity=0.95&cls=5000&image=nope&n=abc&layer=x"
    with i18n.speaking("es"):
        state, messages = parse_state(query, CATALOG)
    assert state.min_sparsity == 0.8 and state.cls is None and state.n == 6
    assert messages == [
        "El identificador de imagen no es válido: debe ser un SHA-256 de 64 caracteres hexadecimales.",
        "No existe el modelo 'vgg99'; disponibles: resnet18, alexnet.",
        "resnet18 no tiene la capa convolucional 'x'; en su lugar se muestra layer2.0.conv1.",
        "n='abc' no es un número; se usa 6.",
        "min_sparsity='0.95' está fuera de 0–0,8; se usa 0,8.",  # the echoed input stays as sent
        "cls='5000': La clase 5000 no existe (0–999); se ignora.",
    ]
    # The same link in English, as before.
    _, english = parse_state(query, CATALOG)
    assert english[1] == "Unknown model 'vgg99'; available: resnet18, alexnet."
    assert english[4] == "min_sparsity='0.95' is outside 0–0.8; using 0.8."


def test_strict_messages_and_transitions_speak_spanish_too() -> None:
    from dashapp import i18n

    base = {"image": SHA, "model": "resnet18", "layer": "conv1"}
    with i18n.speaking("es"), pytest.raises(StateError) as info:
        strict_state({**base, "weight": 7}, CATALOG)
    assert info.value.message == "weight debe ser un número de 0 a 1; se recibió '7'."
    with i18n.speaking("es"):
        _, messages, _ = apply(ViewState(), UrlLoaded(f"?image={'ef' * 32}&v=9"), world())
    assert messages == [
        "Este enlace se creó con una versión más reciente (v=9); puede que algunos ajustes no se apliquen.",
        "La imagen de este enlace no está guardada en este servidor; en su lugar se muestra un ejemplo.",
    ]
