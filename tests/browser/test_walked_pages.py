"""Every page is walked by the page-walking suites or excluded with a
reason (tests/browser/walked.py); no browser is started here."""

from __future__ import annotations

import pytest

from dashapp.pages import PAGES

from . import walked


def unaccounted(paths: list[str], drawn: dict[str, str], not_walked: dict[str, str]) -> list[str]:
    """What is wrong with the walk over ``paths`` (a page's path each), one line a fault."""
    faults = [f"{path}: neither walked (no DRAWN selector) nor excluded (NOT_WALKED)"
              for path in paths if path not in drawn and path not in not_walked]
    faults += [f"{path}: both walked and excluded" for path in paths if path in drawn and path in not_walked]
    faults += [f"{path}: excluded without a reason" for path, why in not_walked.items() if not why.strip()]
    faults += [f"{path}: named in walked.py but not a page of PAGES"
               for path in sorted({*drawn, *not_walked} - set(paths))]
    return faults


def test_every_page_is_walked_or_excluded_with_a_reason() -> None:
    paths = [page.PATH for page in PAGES]
    assert not unaccounted(paths, walked.DRAWN, walked.NOT_WALKED)


def test_a_new_page_neither_walked_nor_excluded_is_reported() -> None:
    paths = [*walked.DRAWN, "/new"]
    assert unaccounted(paths, walked.DRAWN, walked.NOT_WALKED) == [
        "/new: neither walked (no DRAWN selector) nor excluded (NOT_WALKED)"]
    assert unaccounted(paths, walked.DRAWN, {"/new": "cannot be walked: needs a GPU"}) == []
    assert unaccounted(paths, walked.DRAWN, {"/new": " "}) == ["/new: excluded without a reason"]
    assert unaccounted(paths[:-2], walked.DRAWN, {}) == [f"{paths[-2]}: named in walked.py but not a page of PAGES"]


def test_a_walked_page_without_a_selector_fails_saying_so() -> None:
    with pytest.raises(pytest.fail.Exception, match="no DRAWN selector"):
        walked.drawn("/new")
