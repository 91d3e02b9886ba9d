"""Filter detail: the region buttons open what a click on a box opens; the page in Spanish."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from dash import Dash, no_update

from dashapp import i18n
from dashapp.pages import detail
from tests.support.dash_harness import alert_text, find_callback, run_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def select_region(app: Dash) -> Callable[..., Any]:
    return next(value["callback"].__wrapped__ for value in app.callback_map.values()
                if any(str(i["id"]).find("region-button") >= 0 for i in value["inputs"]))


def button(index: int) -> str:
    return json.dumps({"index": index, "type": "region-button"}, separators=(",", ":")) + ".n_clicks"


def rendered(app: Dash) -> tuple[dict[str, Any], dict[str, Any]]:
    ready = sync_state(app, "")["view-state.data"]
    return ready, find_callback(app, "detail-region-list.children")(ready)


def test_every_region_has_a_button_that_tells_its_size_class_in_words(app: Dash) -> None:
    _ready, out = rendered(app)
    figure, data, buttons = out["figure"], out["regions"], out["buttons"]
    count = data["count"]
    assert count >= 1 and len(figure.data) == count
    texts = [alert_text(b) for b in buttons.children[1:]]
    assert len(texts) == count
    for number, (text, trace) in enumerate(zip(texts, figure.data, strict=True), start=1):
        size_class = trace.name.split(": ")[1].split(",")[0]  # "Region 1: small, 0.1% of image, ..."
        assert text.startswith(f"Region {number} · ") and size_class in text and "peak" in text


def test_pressing_a_region_button_opens_that_region(app: Dash) -> None:
    ready, out = rendered(app)
    data, count = out["regions"], out["regions"]["count"]
    last = count - 1
    presses = [0] * count
    presses[last] = 1
    card, highlight = run_callback(select_region(app), button(last), None, presses, data, ready)
    assert f"Region {count} ·" in alert_text(card)
    # The figure patch: the chosen box drawn thick, the others thin.
    widths = {op["location"][1]: op["params"]["value"] for op in highlight.to_plotly_json()["operations"]
              if op["location"][2:] == ["line", "width"]}
    assert sorted(widths) == list(range(count))
    assert widths[last] == 5 and all(w == 2 for i, w in widths.items() if i != last)


def test_unpressed_or_forged_buttons_open_nothing(app: Dash) -> None:
    ready, out = rendered(app)
    data, count = out["regions"], out["regions"]["count"]
    func = select_region(app)
    # Buttons are re-created unpressed on every render: that is no choice.
    assert run_callback(func, button(0), None, [0] * count, data, ready) == (no_update, no_update)
    # A button index the server did not draw.
    assert run_callback(func, button(count + 3), None, [1] * count, data, ready) == (no_update, no_update)


def test_the_detail_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(detail.layout())
    for spanish in ("Detalle del filtro", "Cualquier filtro", "índice", "Abrir", "Mapa de calor",
                    "Patrón RGB del kernel", "Visualización de características", "En toda la colección",
                    "pequeña (< 5 %)", "muy grande (> 30 %, probablemente fondo)"):
        assert spanish in text, spanish
    assert "Any filter" not in text and "very large" not in text and english_sentences_in(text) == []


def test_the_filter_title_cards_buttons_and_region_card_speak_spanish(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    spanish_ready = {**ready, "lang": "es"}
    with i18n.speaking("en"):
        out = find_callback(app, "detail-region-list.children")(spanish_ready)
        title, side, kernel, hint, buttons = out["title"], out["side"], out["kernel"], out["hint"], out["buttons"]
        count = out["regions"]["count"]
        presses = [1] + [0] * (count - 1)
        card, _highlight = run_callback(select_region(app), button(0), None, presses, out["regions"], spanish_ready)
    plural = "región" if count == 1 else "regiones"
    assert re.fullmatch(rf"Filtro \d+ de layer2\.0\.conv1 · puesto 1 de \d+ · {count} {plural}", title), title
    cards = visible_text(side)
    assert "Media" in cards and "Desv. típica" in cards and "Sparsity" in cards and "Lectura." in cards
    assert "recibe 64 mapas de características" in visible_text(kernel)
    assert "Haz clic en un recuadro" in visible_text(hint)
    words = visible_text(buttons)
    assert "Regiones:" in words and "Región 1 · " in words and "de la imagen, pico " in words
    region = visible_text(card)
    assert region.startswith("Región 1 · ") and "Recuadro (px)" in region and "de la imagen" in region
    assert "Pico de respuesta" in region and "Interés" in region and "Peak response" not in region
