"""The plain-language reading of one filter (``analysis/maps/explain.py``'s
facts), in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from dashapp.analysis.maps.explain import Reading

from ..i18n import _, ngettext, percent, pgettext
from .regions import size_label


@dataclass(frozen=True)
class WordedReading:
    band: str  # the band's key ("very selective"), as the API has always given it
    band_label: str  # the band in words
    summary: str
    details: list[str]
    warnings: list[str]
    warning_codes: list[str]  # analysis/maps/explain.py's WARNINGS, one per warning

    def as_dict(self) -> dict[str, object]:
        return {"band": self.band, "band_label": self.band_label, "summary": self.summary,
                "details": list(self.details), "warnings": list(self.warnings),
                "warning_codes": list(self.warning_codes)}


def band_label(band: str) -> str:
    """A sparsity band's name, agreeing with "filter"."""
    labels = {
        "very selective": pgettext("filter", "very selective"),
        "moderately selective": pgettext("filter", "moderately selective"),
        "weakly selective": pgettext("filter", "weakly selective"),
        "not selective": pgettext("filter", "not selective"),
    }
    return labels.get(band, band)


def summary(facts: Reading) -> str:
    """The band and what it means, one whole sentence per band."""
    sentences = {
        "very selective": _("Filter {index} is very selective ({silent} of positions silent): it fires on a small, "
                            "specific part of the image (an eye, a particular stripe)."),
        "moderately selective": _("Filter {index} is moderately selective ({silent} of positions silent): it "
                                  "responds to recurring textures or edges."),
        "weakly selective": _("Filter {index} is weakly selective ({silent} of positions silent): it responds to "
                              "common colours or broad areas."),
        "not selective": _("Filter {index} is not selective ({silent} of positions silent): it responds almost "
                           "everywhere: background, lighting or overall colour."),
    }
    return sentences[facts.band].format(index=facts.index, silent=percent(facts.sparsity))


def strength_sentence(facts: Reading) -> str:
    share = percent(facts.percentile)
    if facts.strength == "strongest":
        return _("One of the strongest filters of this layer on this image (mean above {share} of filters).").format(
            share=share)
    if facts.strength == "stronger":
        return _("Stronger than most filters of this layer (mean above {share} of filters).").format(share=share)
    return _("Weaker than most filters of this layer (mean above only {share} of filters).").format(share=share)


def region_sentences(facts: Reading) -> list[str]:
    if not facts.regions or facts.best_area is None:
        return [_("It does not respond anywhere on this image.")]
    said = [ngettext(
        "{count} activation region, covering {area} of the image ({size}).",
        "{count} activation regions; the most interesting covers {area} of the image ({size}).",
        facts.regions,
    ).format(count=facts.regions, area=percent(facts.best_area, 1), size=size_label(facts.best_size or ""))]
    if facts.all_small:
        said.append(_("All its regions are small: it picks out specific details."))
    return said


def warning(code: str, facts: Reading) -> str:
    if code == "background":
        return _("Likely background: it responds over a very large part of the image, so it may encode colour or "
                 "lighting rather than an object part.")
    if code == "silent":
        return _("This filter is silent on this image; its reading says nothing about what it detects.")
    if code == "untrained":
        return _("The model runs on untrained (random) weights, so this filter has learned nothing: its pattern and "
                 "responses are arbitrary.")
    return _("The model is unsure what the image shows (top class {probability}); its filters may respond to "
             "features unrelated to the main object.").format(probability=percent(facts.top_probability or 0.0))


def word_reading(facts: Reading) -> WordedReading:
    """The reading in the current language."""
    return WordedReading(
        band=facts.band,
        band_label=band_label(facts.band),
        summary=summary(facts),
        details=[strength_sentence(facts), *region_sentences(facts)],
        warnings=[warning(code, facts) for code in facts.warnings],
        warning_codes=list(facts.warnings),
    )
