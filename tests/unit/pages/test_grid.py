"""Filter grid: each tile is also a link that says what the map shows, in the reader's language."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from dash import Dash

from dashapp import i18n
from dashapp.pages import grid
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def test_tile_links_follow_the_tiles_and_tell_each_map(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    out = find_callback(app, "grid-links.children")(ready)
    figure, filters, links = out["figure"], out["filters"], out["links"]
    items = [li.children for li in links.children]
    assert len(items) == len(filters) == len(figure["data"]) == 24
    for rank, (link, index) in enumerate(zip(items, filters, strict=True), start=1):
        # The link opens what a click on tile i opens: that filter's detail page, in the same view.
        url = urlsplit(link.href)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert url.path == "/detail" and query["filter"] == str(index)
        assert query["image"] == ready["image"] and query["layer"] == ready["layer"]
        assert query["n"] == str(ready["n"])  # the grid's 24 stay on the grid
        assert link.children.startswith(f"Filter {index} (rank {rank}): ")
        assert " in the " in link.children and "silent on" in link.children


def test_the_grid_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(grid.layout())
    assert "Cuadrícula de filtros" in text and "Los 24 filtros principales de la capa" in text
    assert "Cada mapa en palabras" in text
    assert "Filter grid" not in text and english_sentences_in(text) == []


def test_tile_labels_and_links_speak_the_language_of_the_ready_state(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    with i18n.speaking("en"):
        out = find_callback(app, "grid-links.children")({**ready, "lang": "es"})
    figure, filters, links = out["figure"], out["filters"], out["links"]
    labels = [a["text"] for a in figure["layout"]["annotations"]]
    assert labels == [f"#{index} · puesto {rank}" for rank, index in enumerate(filters, start=1)]
    first = links.children[0].children.children
    assert first.startswith(f"Filtro {filters[0]} (puesto 1): ")
