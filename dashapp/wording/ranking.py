"""The ranking's notice, in the reader's language: what each rule of the
balanced score removed, counted and named (``analysis/maps/stats.py``'s facts)."""

from __future__ import annotations

import dataclasses

from dashapp.analysis.maps.stats import MIN_RELATIVE_PEAK, Ranking

from ..i18n import _, ngettext, number, percent


def name_filters(indices: tuple[int, ...], shown: int = 8) -> str:
    """"3, 7 and 12" / "0, 1, 2, … (40 in all)": which filters, in a sentence."""
    if len(indices) > shown:
        return _("{first}, … ({count} in all)").format(first=", ".join(str(i) for i in indices[:shown]),
                                                        count=len(indices))
    words = [str(i) for i in indices]
    if len(words) == 1:
        return words[0]
    return _("{items} and {last}").format(items=", ".join(words[:-1]), last=words[-1])


def removal_phrases(ranking: Ranking) -> list[str]:
    """What each eligibility rule removed, counted and named."""
    phrases = []
    if weak := ranking.too_weak:
        phrases.append(ngettext(
            "{count} too weak, its peak below {share} of the layer's strongest (filter {filters})",
            "{count} too weak, their peak below {share} of the layer's strongest (filters {filters})",
            len(weak),
        ).format(count=len(weak), share=percent(MIN_RELATIVE_PEAK), filters=name_filters(weak)))
    if dense := ranking.too_dense:
        phrases.append(ngettext(
            "{count} below the minimum sparsity of {cutoff} (filter {filters})",
            "{count} below the minimum sparsity of {cutoff} (filters {filters})",
            len(dense),
        ).format(count=len(dense), cutoff=number(ranking.min_sparsity, 2), filters=name_filters(dense)))
    return phrases


def ranking_notice(ranking: Ranking) -> str | None:
    """The on-screen notice when the balanced score's rules leave fewer filters
    than asked (None when they do not)."""
    if not ranking.short:
        return None
    removed = "; ".join(removal_phrases(ranking))
    if ranking.eligible == 0:
        if ranking.sparsest is None:
            return _("No filter of this layer is eligible: {removed}. Lower the minimum sparsity, or choose another "
                     "layer or image, to see filters.").format(removed=removed)
        return _("No filter of this layer is eligible: {removed}. The sparsest filter that responds has sparsity "
                 "{sparsest}. Lower the minimum sparsity, or choose another layer or image, to see filters.").format(
            removed=removed, sparsest=number(ranking.sparsest, 2))
    return ngettext(
        "Only {eligible} of {count} filters is eligible: {removed}. Showing {eligible} instead of {requested}.",
        "Only {eligible} of {count} filters are eligible: {removed}. Showing {eligible} instead of {requested}.",
        ranking.eligible,
    ).format(eligible=ranking.eligible, count=ranking.count, removed=removed, requested=ranking.requested)


def with_notice(ranking: Ranking) -> Ranking:
    """``ranking`` with its notice said in the current language."""
    return dataclasses.replace(ranking, notice=ranking_notice(ranking))
