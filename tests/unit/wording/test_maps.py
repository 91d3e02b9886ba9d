"""The words that stand in for a heatmap: peak, where it lies, silence, in
English and Spanish."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dashapp import i18n
from dashapp.analysis.maps.describe import PLACES
from dashapp.analysis.maps.stats import filter_stats
from dashapp.wording.maps import describe_map, place

from .leaks import english_words


def planted() -> np.ndarray:
    fmap = np.zeros((12, 12), dtype=np.float32)
    fmap[1, 10] = 2.5
    return fmap


def spread() -> np.ndarray:
    fmap = np.ones((9, 9), dtype=np.float32)
    fmap[8, 0] = 1.8  # the peak, lower left; everything else is above half of it
    return fmap


def test_a_planted_peak_is_told_by_value_place_and_silence() -> None:
    assert describe_map(planted(), "Filter 38") == (
        "Filter 38: peak response 2.5 in the upper right of the image; silent on 99% of it.")
    with i18n.speaking("es"):
        assert describe_map(planted(), "Filtro 38") == (
            "Filtro 38: respuesta máxima de 2,5 en la zona superior derecha de la imagen; el 99\xa0% de la imagen "
            "queda en silencio.")


def test_a_spread_response_says_how_many_areas_reach_half_the_peak() -> None:
    text = describe_map(spread(), "Filter 1")
    assert text == ("Filter 1: peak response 1.8 in the lower left of the image; at least half the peak in 9 of 9 "
                    "areas; silent on 0% of it.")
    with i18n.speaking("es"):
        assert describe_map(spread(), "Filtro 1") == (
            "Filtro 1: respuesta máxima de 1,8 en la zona inferior izquierda de la imagen; al menos la mitad del "
            "máximo en 9 de 9 zonas; el 0\xa0% de la imagen queda en silencio.")


def test_a_silent_map_says_so() -> None:
    assert describe_map(np.zeros((4, 4)), "Filter 7") == "Filter 7: no response anywhere on the image."
    with i18n.speaking("es"):
        assert describe_map(np.zeros((4, 4)), "Filtro 7") == "Filtro 7: ninguna respuesta en toda la imagen."
        assert describe_map(np.zeros((4, 4)), "Grad-CAM", "evidence") == (
            "Grad-CAM: ninguna evidencia en toda la imagen.")


def test_the_quantity_is_named() -> None:
    fmap = np.zeros((3, 3))
    fmap[1, 1] = 0.25
    assert describe_map(fmap, "Grad-CAM for goldfish", "evidence").startswith(
        "Grad-CAM for goldfish: peak evidence 0.25 in the centre")
    with i18n.speaking("es"):
        assert describe_map(fmap, "Grad-CAM", "evidence").startswith(
            "Grad-CAM: evidencia máxima de 0,25 en el centro de la imagen")


@pytest.mark.parametrize("key", PLACES)
def test_every_place_has_spanish_words_with_their_article(key: str) -> None:
    assert place(key) == ("the " + key)
    with i18n.speaking("es"):
        words = place(key)
    assert re.fullmatch(r"(la zona (superior|central|inferior) (izquierda|central|derecha))|el centro", words), words
    assert english_words(words) == set()


def test_peak_and_sparsity_agree_with_the_statistics_module() -> None:
    """Independent reference: the numbers in the words are the layer statistics'."""
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(5, 14, 14)), 0).astype(np.float32)
    stats = filter_stats(maps)
    for i, fmap in enumerate(maps):
        for language, pattern in (("en", r"peak response ([0-9.]+) .* silent on (\d+)% of it\.$"),
                                  ("es", r"respuesta máxima de ([0-9,]+) .*; el (\d+)\xa0% de la imagen queda")):
            with i18n.speaking(language):
                text = describe_map(fmap, f"Filter {i}")
            match = re.search(pattern, text)
            assert match, text
            assert float(match.group(1).replace(",", ".")) == pytest.approx(float(stats.max[i]), rel=5e-3)
            assert int(match.group(2)) == round(100 * float(stats.sparsity[i]))
