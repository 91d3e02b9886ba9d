"""The reading of a filter, in English and Spanish: every sparsity band ×
strength × warning case × region case reads as a whole, grammatical sentence
(the Spanish agrees with "filtro", masculine, and "región", feminine) and the
Spanish holds no English."""

from __future__ import annotations

import itertools

import pytest

from dashapp import i18n
from dashapp.analysis.maps.explain import BANDS, STRENGTHS, WARNINGS, Reading
from dashapp.wording.reading import word_reading

from .leaks import english_words

SPARSITY = {"very selective": 0.8, "moderately selective": 0.5, "weakly selective": 0.2, "not selective": 0.05}

SUMMARIES = {
    "en": {
        "very selective": "Filter 7 is very selective (80% of positions silent): it fires on a small, specific part "
                          "of the image (an eye, a particular stripe).",
        "moderately selective": "Filter 7 is moderately selective (50% of positions silent): it responds to recurring "
                                "textures or edges.",
        "weakly selective": "Filter 7 is weakly selective (20% of positions silent): it responds to common colours or "
                            "broad areas.",
        "not selective": "Filter 7 is not selective (5% of positions silent): it responds almost everywhere: "
                         "background, lighting or overall colour.",
    },
    "es": {
        "very selective": "El filtro 7 es muy selectivo (sin respuesta en el 80\xa0% de las posiciones): se activa en "
                          "una parte pequeña y concreta de la imagen (un ojo, una raya determinada).",
        "moderately selective": "El filtro 7 es moderadamente selectivo (sin respuesta en el 50\xa0% de las "
                                "posiciones): responde a texturas o bordes que se repiten.",
        "weakly selective": "El filtro 7 es poco selectivo (sin respuesta en el 20\xa0% de las posiciones): responde a "
                            "colores comunes o a zonas amplias.",
        "not selective": "El filtro 7 no es selectivo (sin respuesta en el 5\xa0% de las posiciones): responde casi en "
                         "todas partes, ya sea al fondo, a la iluminación o al color general.",
    },
}
LABELS = {"en": {band: band for band in BANDS},
          "es": {"very selective": "muy selectivo", "moderately selective": "moderadamente selectivo",
                 "weakly selective": "poco selectivo", "not selective": "no selectivo"}}
STRENGTH_SENTENCES = {
    "en": {"strongest": "One of the strongest filters of this layer on this image (mean above 95% of filters).",
           "stronger": "Stronger than most filters of this layer (mean above 95% of filters).",
           "weaker": "Weaker than most filters of this layer (mean above only 95% of filters)."},
    "es": {"strongest": "Uno de los filtros más fuertes de esta capa en esta imagen (su media supera a la del "
                        "95\xa0% de los filtros).",
           "stronger": "Más fuerte que la mayoría de los filtros de esta capa (su media supera a la del 95\xa0% de los "
                       "filtros).",
           "weaker": "Más débil que la mayoría de los filtros de esta capa (su media solo supera a la del 95\xa0% de "
                     "los filtros)."},
}
# (regions, best size, all small) -> the region sentences
REGION_CASES = {"none": (0, None, False), "one": (1, "small", True), "several": (3, "large", False)}
REGION_SENTENCES = {
    "en": {"none": ["It does not respond anywhere on this image."],
           "one": ["1 activation region, covering 3.0% of the image (small).",
                   "All its regions are small: it picks out specific details."],
           "several": ["3 activation regions; the most interesting covers 3.0% of the image (large)."]},
    "es": {"none": ["No responde en ninguna parte de esta imagen."],
           "one": ["1 región de activación, que cubre el 3,0\xa0% de la imagen (pequeña).",
                   "Todas sus regiones son pequeñas: distingue detalles concretos."],
           "several": ["3 regiones de activación; la más interesante cubre el 3,0\xa0% de la imagen (grande)."]},
}
WARNING_SENTENCES = {
    "en": {"background": "Likely background: it responds over a very large part of the image, so it may encode "
                         "colour or lighting rather than an object part.",
           "silent": "This filter is silent on this image; its reading says nothing about what it detects.",
           "untrained": "The model runs on untrained (random) weights, so this filter has learned nothing: its "
                        "pattern and responses are arbitrary.",
           "unsure": "The model is unsure what the image shows (top class 12%); its filters may respond to features "
                     "unrelated to the main object."},
    "es": {"background": "Probablemente fondo: responde en una parte muy grande de la imagen, así que puede codificar "
                         "el color o la iluminación más que una parte de un objeto.",
           "silent": "Este filtro no responde en esta imagen; su lectura no dice nada de lo que detecta.",
           "untrained": "El modelo usa pesos sin entrenar (aleatorios), así que este filtro no ha aprendido nada: su "
                        "patrón y sus respuestas son arbitrarios.",
           "unsure": "El modelo no está seguro de lo que muestra la imagen (clase principal: 12\xa0%); sus filtros "
                     "pueden responder a rasgos que no tienen que ver con el objeto principal."},
}
WARNING_CASES = [(), *[(code,) for code in WARNINGS], tuple(WARNINGS)]


def facts(band: str, strength: str, warnings: tuple[str, ...], regions: str) -> Reading:
    count, size, all_small = REGION_CASES[regions]
    return Reading(index=7, band=band, sparsity=SPARSITY[band], strength=strength, percentile=0.95, regions=count,
                   best_area=0.03 if count else None, best_size=size, all_small=all_small, warnings=warnings,
                   top_probability=0.12)


CASES = list(itertools.product(BANDS, STRENGTHS, WARNING_CASES, REGION_CASES))


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_band_strength_warning_and_region_case_reads_as_expected(language: str) -> None:
    assert len(CASES) == 4 * 3 * 6 * 3
    for band, strength, warnings, regions in CASES:
        with i18n.speaking(language):
            worded = word_reading(facts(band, strength, warnings, regions))
        case = (band, strength, warnings, regions)
        assert worded.band == band, case  # the API's key stays the same in every language
        assert worded.band_label == LABELS[language][band], case
        assert worded.summary == SUMMARIES[language][band], case
        assert worded.details == [STRENGTH_SENTENCES[language][strength], *REGION_SENTENCES[language][regions]], case
        assert worded.warnings == [WARNING_SENTENCES[language][code] for code in warnings], case
        assert worded.warning_codes == list(warnings), case
        if language == "es":
            text = " ".join([worded.band_label, worded.summary, *worded.details, *worded.warnings])
            assert english_words(text) == set(), (case, english_words(text))


def test_the_leak_check_finds_english() -> None:
    assert english_words(SUMMARIES["en"]["very selective"]) >= {"Filter", "is", "very", "selective", "of", "image"}
    assert english_words("layer4.1.conv2 es la segunda convolución") == set()


def test_spanish_agrees_with_filtro_and_region() -> None:
    with i18n.speaking("es"):
        for band, strength, warnings, regions in CASES:
            worded = word_reading(facts(band, strength, warnings, regions))
            text = " ".join([worded.band_label, worded.summary, *worded.details, *worded.warnings])
            assert "selectiva" not in text and "La filtro" not in text and "la filtro" not in text
            assert "regiones pequeños" not in text and "región pequeño" not in text
            assert worded.summary.startswith("El filtro 7 ")
    with i18n.speaking("es"):
        selective = word_reading(facts("very selective", "strongest", (), "one"))
    assert "muy selectivo" in selective.summary and "1 región de activación, que cubre" in selective.details[1]


def test_as_dict_keeps_the_api_keys_and_adds_the_codes() -> None:
    with i18n.speaking("es"):
        worded = word_reading(facts("very selective", "weaker", ("untrained",), "several")).as_dict()
    assert set(worded) == {"band", "band_label", "summary", "details", "warnings", "warning_codes"}
    assert worded["band"] == "very selective" and worded["warning_codes"] == ["untrained"]
    assert worded["summary"].startswith("El filtro 7 es muy selectivo")
