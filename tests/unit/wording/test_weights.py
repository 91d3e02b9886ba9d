"""A weights download under way, in English and Spanish."""

from __future__ import annotations

from dashapp import i18n
from dashapp.analysis.models.weights import Progress
from dashapp.wording.weights import download_label


def test_the_download_label_counts_megabytes_in_the_readers_language() -> None:
    going = Progress("downloading", 12 << 20, 1100 << 20)
    assert download_label("resnet18", going) == "Downloading weights for resnet18: 12 of 1,100 MB"
    with i18n.speaking("es"):
        assert download_label("resnet18", going) == "Descargando los pesos de resnet18: 12 de 1.100 MB"
        assert download_label("resnet18", Progress("downloading")) == "Descargando los pesos de resnet18…"
