"""Circuit and Building blocks pages: what they show, walkable links, Spanish."""

from __future__ import annotations

from urllib.parse import parse_qs

from dash import Dash, dcc

from dashapp import i18n
from dashapp.pages import blocks, circuit
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def _links(tree: object, class_name: str) -> list[dcc.Link]:
    found = []

    def walk(node: object) -> None:
        if node is None or isinstance(node, (str, int, float)):
            return
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        if isinstance(node, dcc.Link) and class_name in (getattr(node, "className", "") or ""):
            found.append(node)
        walk(getattr(node, "children", None))

    walk(tree)
    return found


def test_circuit_links_walk_to_the_neighbours(app: Dash) -> None:
    ready = sync_state(app, "?layer=layer2.0.conv1&filter=7")["ready-state.data"]
    render = find_callback(app, "circuit-body.children")
    body = render(ready, "peak", 6)["body"]
    text = visible_text(body)
    assert "layer2.0.conv1 · filter 7" in text and "tolerance 1e-5" in text
    inputs, outputs = _links(body, "circuit-inputs-link"), _links(body, "circuit-outputs-link")
    assert len(inputs) == 6 and len(outputs) == 6
    up = parse_qs(inputs[0].href.split("?", 1)[1])
    assert inputs[0].href.startswith("/circuit?") and up["layer"] == ["layer1.1.conv2"]
    assert {parse_qs(link.href.split("?", 1)[1])["layer"][0] for link in outputs} == {"layer2.0.conv2"}
    assert "layer1 output, channel" in text
    every = render(ready, "weight", 0)["body"]
    assert len(_links(every, "circuit-inputs-link")) == 64 and len(_links(every, "circuit-outputs-link")) == 128


def test_circuit_speaks_spanish(app: Dash) -> None:
    ready = sync_state(app, "?layer=layer1.0.conv2&filter=3")["ready-state.data"]
    render = find_callback(app, "circuit-body.children")
    with i18n.speaking("es"):
        body = render({**ready, "lang": "es"}, "peak", 0)["body"]
        layout = circuit.layout()
    text = visible_text(body) + " " + visible_text(layout)
    assert "Entradas" in text and "Salidas" in text and "camino identidad de layer1.1" in text
    assert english_sentences_in(text) == []


def test_blocks_page_lists_channels_and_cells(app: Dash) -> None:
    ready = sync_state(app, "?elayer=layer4&cls=281")["ready-state.data"]
    render = find_callback(app, "blocks-body.children")
    out = render(ready, "gradxact")
    text = visible_text(out["body"])
    assert out["class"] == 281 and out["layer"] == "layer4"
    links = _links(out["body"], "blocks-link")
    assert len(links) == blocks.TOP
    assert all(parse_qs(link.href.split("?", 1)[1])["layer"] == ["layer4.1.conv2"] for link in links)
    assert "7 × 7" in text and "#" in text
    with i18n.speaking("es"):
        spanish = render({**ready, "lang": "es"}, "ig")["body"]
        layout = blocks.layout()
    words = visible_text(spanish) + " " + visible_text(layout)
    assert "canal" in words and english_sentences_in(words) == []


def test_detail_prediction_and_evidence_link_in(app: Dash) -> None:
    ready = sync_state(app, "?layer=layer2.0.conv1&filter=7")["ready-state.data"]
    section = find_callback(app, "detail-circuit.children")(ready)
    links = _links(section, "detail-circuit")
    assert len(links) == 7  # three inputs, three outputs (layer2.0.conv2 filters) and "Open the circuit"
    assert links[-1].href.startswith("/circuit?") and "filter=7" in links[-1].href
    prediction = find_callback(app, "prediction-evidence.children")(ready)["links"]
    entry = _links(prediction, "blocks-entry")
    assert len(entry) == 1 and entry[0].href.startswith("/blocks?") and "cls=" in entry[0].href
    evidence = find_callback(app, "evidence-blocks.children")({**ready, "cls": 281})
    assert evidence.href.startswith("/blocks?") and "cls=281" in evidence.href


def test_a_cached_feature_visualization_shows_on_its_card(app: Dash) -> None:
    service = app.server.extensions["dashapp.analyzer"]
    ready = sync_state(app, "?layer=layer2.0.conv1&filter=7")["ready-state.data"]
    render = find_callback(app, "circuit-body.children")
    first = _links(render(ready, "peak", 6)["body"], "circuit-inputs-link")[0]
    query = parse_qs(first.href.split("?", 1)[1])
    layer, index = query["layer"][0], query["filter"][0]
    request = service.featurevis.request("resnet18", layer, index)
    assert f"/api/featurevis.png?{request.query}" not in str(render(ready, "peak", 6)["body"])
    service.activations.put_blob(f"{request.key}:meta", b"{}")  # as if computed: the page only reads it
    body = str(render(ready, "peak", 6)["body"])
    assert f"/api/featurevis.png?{request.query}" in body
