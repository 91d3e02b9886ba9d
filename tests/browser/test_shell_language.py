"""The shell in Spanish in a real Chromium: the sidebar, and the words the
browser's own scripts write (the hover box, the upload check, accessible
names) arrive in the page's language."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import hover_heatmap, snap

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")


def test_the_shell_and_its_scripts_speak_spanish_with_lang_es(page: Page) -> None:
    page.goto("/heatmaps?lang=es")
    page.wait_for_url(SHA)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".sidebar-section")).to_have_text(
        ["Imagen", "Modelo y capa", "Comparar con", "Ranking", "Visualización", "Compartir"])
    expect(page.locator("#ctl-layer")).to_contain_text(re.compile(r"\d+ filtros · \d+×\d+"))

    # The hover box (assets/js/dashapp.js): Spanish words, a decimal comma, no English ordinal.
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(6)
    hover = hover_heatmap(page, "heat-1")
    expect(hover).to_have_text(re.compile(
        r": respuesta -?\d+(,\d+)?(e[+-]\d+)? \(percentil \d+ de este mapa\) en x \d+, y \d+ px; "
        r"campo receptivo de \d+×\d+ px$"))
    snap(page, "shell-es-hover", full_page=False)

    # Accessible names given by assets/js/a11y.js.
    expect(page.locator("#copy-link")).to_have_attribute("aria-label", "Copiar el enlace a esta vista")

    # The upload check in the browser: refused before sending, said in Spanish.
    limit = 10 * 1024 * 1024
    page.locator("#ctl-upload input[type=file]").set_input_files(
        files=[{"name": "grande.png", "mimeType": "image/png", "buffer": os.urandom(limit + 1024 * 1024)}])
    expect(page.locator("#image-message")).to_have_text(
        "«grande.png» ocupa 11,0 MB; el límite de subida es 10,0 MB. No se envió nada. Elige una imagen más pequeña.")
