"""Spanish that a Spanish ML reader does not trip on: the field's own words
(the seed app's README.es: "ranking", "sparsity", "kernels" kept), the app's
name, one quotation style, the size letters."""

from __future__ import annotations

import re

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from dashapp import i18n
from dashapp.figures.maps import SIZE_LETTERS

# Words that read as something else to a Spanish ML reader.
MISLEADING = {
    "clasificación": "ranking reads as classification",
    "dispersión": "sparsity is called sparsity",
    "núcleo": "kernels are called kernels",
    "cordura": "a sanity check is called a sanity check",
}


def spanish() -> Catalog:
    with i18n.catalog_path("es").open("rb") as handle:
        return read_po(handle, locale="es")


def translations(catalog: Catalog) -> list[tuple[str, str]]:
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs.extend((ids[0], text) for text in strings)
    return pairs


def test_no_translation_uses_a_word_the_field_does_not() -> None:
    found = [(msgid, word) for msgid, text in translations(spanish()) for word in MISLEADING
             if word in text.lower()]
    assert found == []


def test_ranking_sparsity_kernel_and_sanity_check_keep_the_fields_words() -> None:
    with i18n.speaking("es"):
        assert i18n._("Ranking") == "Ranking"
        assert i18n._("Minimum sparsity") == "Sparsity mínima"  # the seed's own "Sparsity mínima"
        assert i18n._("kernel") == "kernel"
        assert i18n._("Sanity check") == "Sanity check"


def test_the_apps_name_is_translated() -> None:
    assert i18n.app_name() == "CNN Activation Analyzer"
    with i18n.speaking("es"):
        assert i18n.app_name() == "Analizador de Activaciones de CNN"


def test_spanish_quotes_with_guillemets_only() -> None:
    # One quotation style: «…»; no curly or straight quotes around words.
    curly = [msgid for msgid, text in translations(spanish()) if re.search(r"[“”‘’]", text)]
    straight = [msgid for msgid, text in translations(spanish())
                if re.search(r"(?<![{:,] )\"\w[^\"]*\"(?!:)", text) and "{\"" not in text]
    assert curly == [] and straight == []
    with i18n.speaking("es"):
        assert i18n.quoted("gato") == "«gato»"
    assert i18n.quoted("cat") == "“cat”"


def test_size_letters_are_in_the_readers_language() -> None:
    assert [SIZE_LETTERS[name] for name in ("small", "medium", "large", "very large")] == ["S", "M", "L", "XL"]
    with i18n.speaking("es"):
        # pequeña, mediana, grande, muy grande
        assert [SIZE_LETTERS[name] for name in ("small", "medium", "large", "very large")] == ["P", "M", "G", "MG"]


def test_percent_axes_write_the_locales_percent() -> None:
    from dashapp.figures.axes import percent_axis
    from dashapp.figures.maps import prediction_figure

    assert percent_axis(0.9)["ticktext"] == ["0%", "25%", "50%", "75%", "100%"]
    with i18n.speaking("es"):
        axis = percent_axis(0.003)
        assert axis["ticktext"] == ["0\xa0%", "0,1\xa0%", "0,2\xa0%", "0,3\xa0%"]
        assert axis["range"][1] >= 0.003 and axis["tickvals"][-1] <= axis["range"][1]
        figure = prediction_figure([{"label": "tabby", "probability": 0.125}], untrained=False)
        assert list(figure.layout.xaxis.ticktext)[1] == "5\xa0%"
        assert figure.layout.separators == ",."
        assert list(figure.data[0].customdata) == ["12,50\xa0%"]


def test_the_untrained_banners_reason_is_in_the_readers_language() -> None:
    from dashapp.analysis.models.registry import ModelError, WeightsStatus
    from dashapp.analysis.models.weights import UNAVAILABLE
    from dashapp.wording.weights import weights_reason

    setting = WeightsStatus(pretrained=False, reason="DASHAPP_WEIGHTS=random", seed=0,
                            reason_template="the server is set to random weights (DASHAPP_WEIGHTS=random)")
    error = ModelError(UNAVAILABLE, model="alexnet", file="alexnet-owt.pth")
    failed = WeightsStatus(pretrained=False, reason=str(error), seed=0, reason_template=error.template,
                           reason_values=(("model", "alexnet"), ("file", "alexnet-owt.pth")))
    assert weights_reason(failed) == str(error)
    with i18n.speaking("es"):
        assert weights_reason(setting).startswith("el servidor está configurado con pesos aleatorios")
        spanish = weights_reason(failed)
        assert "alexnet-owt.pth" in spanish and "could not be downloaded" not in spanish
    assert weights_reason(WeightsStatus(pretrained=False, reason="an operator's words")) == "an operator's words"
