"""Ranking notices count and name what each rule removed, in English and
Spanish."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp import i18n
from dashapp.analysis.maps.stats import Ranking, filter_stats, rank_filters
from dashapp.wording.ranking import name_filters, ranking_notice, with_notice

from .leaks import english_words


def mixed() -> Ranking:
    maps = np.ones((8, 5, 5), dtype=np.float32)
    maps[:3, :3] = 0.0  # filters 0-2 sparse (60 % zeros)
    maps[5] = 0.0  # dead
    maps[6] = 0.0
    maps[6, 0, 0] = 0.01  # nearly dead: peak 1 % of the strongest
    return rank_filters(filter_stats(maps), "balanced", 6, min_sparsity=0.5)


def none_eligible() -> Ranking:
    """The reviewed case: all sparse filters were removed by the 5 % peak rule,
    and the notice blamed the sparsity ("the sparsest is 1.00")."""
    maps = np.zeros((4, 10, 10), dtype=np.float32)
    maps[0] = 1.0  # strong and dense
    maps[1:, 0, 0] = 0.01  # sparse but barely there
    return rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)


def test_notice_counts_and_names_each_rule() -> None:
    assert ranking_notice(mixed()) == (
        "Only 3 of 8 filters are eligible: 2 too weak, their peak below 5% of the layer's strongest (filters 5 and 6); "
        "3 below the minimum sparsity of 0.50 (filters 3, 4 and 7). Showing 3 instead of 6.")
    with i18n.speaking("es"):
        notice = ranking_notice(mixed())
    assert notice == (
        "Solo 3 de 8 filtros son elegibles: 2 demasiado débiles, con un pico por debajo del 5\xa0% del más fuerte "
        "de la capa (filtros 5 y 6); 3 por debajo de la sparsity mínima de 0,50 (filtros 3, 4 y 7). Se muestran 3 "
        "en lugar de 6.")
    assert english_words(notice) == set()


def test_no_eligible_filter_says_the_peak_rule_not_the_sparsity() -> None:
    notice = ranking_notice(none_eligible()) or ""
    assert notice.startswith("No filter of this layer is eligible")
    assert "3 too weak" in notice and "filters 1, 2 and 3" in notice
    assert "1 below the minimum sparsity" in notice and "filter 0)" in notice
    assert "sparsity 0.00" in notice and "1.00" not in notice
    with i18n.speaking("es"):
        spanish = ranking_notice(none_eligible()) or ""
    assert spanish == (
        "Ningún filtro de esta capa es elegible: 3 demasiado débiles, con un pico por debajo del 5\xa0% del más fuerte "
        "de la capa (filtros 1, 2 y 3); 1 por debajo de la sparsity mínima de 0,50 (filtro 0). El filtro que "
        "responde con más sparsity tiene una sparsity de 0,00. Baja la sparsity mínima, o elige otra capa u otra "
        "imagen, para ver filtros.")
    assert english_words(spanish) == set()


def test_one_eligible_filter_is_singular_in_both_languages() -> None:
    maps = np.ones((4, 5, 5), dtype=np.float32)
    maps[0, :3] = 0
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert (ranking_notice(ranking) or "").startswith("Only 1 of 4 filters is eligible: 3 below the minimum sparsity")
    with i18n.speaking("es"):
        spanish = ranking_notice(ranking) or ""
    assert spanish.startswith("Solo 1 de 4 filtros es elegible: 3 por debajo de la sparsity mínima de 0,50 "
                              "(filtros 1, 2 y 3).")
    assert spanish.endswith("Se muestra 1 en lugar de 3.")


def test_a_single_weak_filter_is_singular() -> None:
    maps = np.ones((3, 5, 5), dtype=np.float32)
    maps[:, :3] = 0.0
    maps[2] = 0.0
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert "1 too weak, its peak below 5% of the layer's strongest (filter 2)" in (ranking_notice(ranking) or "")
    with i18n.speaking("es"):
        assert "1 demasiado débil, con un pico por debajo del 5\xa0% del más fuerte de la capa (filtro 2)" in (
            ranking_notice(ranking) or "")


def test_many_filters_are_named_briefly() -> None:
    maps = np.ones((40, 4, 4), dtype=np.float32)
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    notice = ranking_notice(ranking) or ""
    assert "40 below the minimum sparsity" in notice and "… (40 in all)" in notice
    with i18n.speaking("es"):
        assert "0, 1, 2, 3, 4, 5, 6, 7, … (40 en total)" in (ranking_notice(ranking) or "")


@pytest.mark.parametrize(("indices", "en", "es"), [
    ((3,), "3", "3"), ((3, 7), "3 and 7", "3 y 7"), ((3, 7, 12), "3, 7 and 12", "3, 7 y 12"),
])
def test_filters_are_named_as_a_list(indices: tuple[int, ...], en: str, es: str) -> None:
    assert name_filters(indices) == en
    with i18n.speaking("es"):
        assert name_filters(indices) == es


def test_no_notice_when_enough_filters_or_another_criterion() -> None:
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(10, 6, 6)), 0).astype(np.float32)
    assert ranking_notice(rank_filters(filter_stats(maps), "mean", 5)) is None
    assert ranking_notice(rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.0)) is None


def test_with_notice_fills_the_field_the_pages_and_the_api_show() -> None:
    with i18n.speaking("es"):
        ranking = with_notice(mixed())
    assert ranking.notice and ranking.notice.startswith("Solo 3 de 8 filtros")
    assert ranking.as_dict()["notice"] == ranking.notice and ranking.filters == mixed().filters
