"""Plain-language meaning of layer names, in English and Spanish."""

from __future__ import annotations

import pytest

from dashapp import i18n
from dashapp.wording.layers import layer_meaning

from .leaks import english_words


def test_resnet_branch_convs_say_where_the_identity_is_added() -> None:
    text = layer_meaning("layer4.1.conv2")
    assert text is not None
    assert text.startswith("layer4.1.conv2 is the second conv of block 1 of stage 4")
    assert "before the identity is added" in text and "layer4.1" in text
    first = layer_meaning("layer4.1.conv1") or ""
    assert "first conv" in first and "before the identity is added" not in first
    # A Bottleneck has three convs: its second is inside the branch, its third is last.
    assert "before the identity" not in (layer_meaning("layer3.0.conv2", convs_in_block=3) or "")
    assert "before the identity is added" in (layer_meaning("layer3.0.conv3", convs_in_block=3) or "")


def test_other_resnet_names_and_unknown_ones() -> None:
    assert "shortcut" in (layer_meaning("layer2.0.downsample.0") or "")
    assert "output of block 1 of stage 4" in (layer_meaning("layer4.1") or "")
    assert "output of stage 4" in (layer_meaning("layer4") or "")
    assert "stem" in (layer_meaning("conv1") or "")
    assert layer_meaning("features.10") is None


def test_spanish_branch_convs_agree_with_convolucion() -> None:
    with i18n.speaking("es"):
        last = layer_meaning("layer4.1.conv2")
        inner = layer_meaning("layer3.0.conv2", convs_in_block=3)
        ninth = layer_meaning("layer1.0.conv9", convs_in_block=9)
    assert last == ("layer4.1.conv2 es la segunda convolución del bloque 1 de la etapa 4, la última antes de sumar la "
                    "identidad: su respuesta es solo la rama convolucional, sin el camino de la identidad (la salida "
                    "del bloque es layer4.1).")
    assert inner == ("layer3.0.conv2 es la segunda convolución del bloque 0 de la etapa 3, dentro de la rama (la "
                     "identidad se suma después de la última convolución del bloque).")
    assert ninth is not None and ninth.startswith("layer1.0.conv9 es la convolución 9 del bloque 0 de la etapa 1")


@pytest.mark.parametrize(("name", "start"), [
    ("conv1", "conv1 es la entrada de la red"),
    ("layer1.0.conv1", "layer1.0.conv1 es la primera convolución del bloque 0 de la etapa 1"),
    ("layer2.0.downsample.0", "layer2.0.downsample.0 es la convolución 1×1 del atajo del bloque 0 de la etapa 2"),
    ("layer4.1", "layer4.1 es la salida del bloque 1 de la etapa 4"),
    ("layer4", "layer4 es la salida de la etapa 4"),
])
def test_every_kind_of_layer_in_spanish(name: str, start: str) -> None:
    with i18n.speaking("es"):
        text = layer_meaning(name) or ""
    assert text.startswith(start) and text.endswith(".")
    assert english_words(text) == set(), english_words(text)


@pytest.mark.parametrize("conv", range(1, 9))
def test_every_ordinal_is_feminine(conv: int) -> None:
    with i18n.speaking("es"):
        text = layer_meaning(f"layer1.0.conv{conv}", convs_in_block=9) or ""
    ordinals = ("primera", "segunda", "tercera", "cuarta", "quinta", "sexta", "séptima", "octava")
    assert f" es la {ordinals[conv - 1]} convolución del bloque 0" in text
