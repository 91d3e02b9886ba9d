"""Analysis errors a user reads, in English and Spanish."""

from __future__ import annotations

import pytest

from dashapp import i18n
from dashapp.analysis.featurevis.optimize import FeatureVisError, FeatureVisSettings
from dashapp.analysis.models import weights
from dashapp.analysis.models.registry import ModelError
from dashapp.wording.errors import error_text


def test_an_out_of_range_setting_is_said_in_the_readers_language() -> None:
    with pytest.raises(FeatureVisError) as caught:
        FeatureVisSettings(steps=10_001).checked(max_steps=300)
    assert str(caught.value) == "steps must be between 1 and 300, not 10001"  # logs stay English
    assert error_text(caught.value) == "steps must be between 1 and 300, not 10001"
    with i18n.speaking("es"):
        assert error_text(caught.value) == "steps debe estar entre 1 y 300, no 10001"


def test_a_model_error_keeps_its_values_in_spanish() -> None:
    error = ModelError("{model} has no conv layer named {layer!r}", model="resnet18", layer="layer9")
    assert str(error) == "resnet18 has no conv layer named 'layer9'"
    with i18n.speaking("es"):
        assert error_text(error) == "resnet18 no tiene ninguna capa convolucional con el nombre 'layer9'"


def test_an_error_without_a_template_is_shown_as_it_is() -> None:
    with i18n.speaking("es"):
        assert error_text(ModelError("weights {not} available")) == "weights {not} available"
        assert error_text(ValueError("plain")) == "plain"


def test_unavailable_weights_are_said_in_spanish() -> None:
    error = ModelError(weights.UNAVAILABLE, model="resnet18", file="resnet18-f37072fd.pth")
    assert str(error).startswith("ImageNet weights for resnet18 are not available: resnet18-f37072fd.pth could not")
    with i18n.speaking("es"):
        assert error_text(error).startswith("Los pesos de ImageNet de resnet18 no están disponibles: no se pudo "
                                            "descargar resnet18-f37072fd.pth")
