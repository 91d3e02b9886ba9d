"""Error messages a user may read, kept translatable.

Analysis stays free of the interface's catalogs, so an error a page or the
API shows carries its English template (marked for the catalog with this
module's identity ``N_``) and the values that fill it; ``str()`` is the
English text (logs, operators), and ``wording/errors.py`` says it in the
reader's language where it is shown.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the name gettext extractors look for
    return message


class Explained(Exception):
    """An error with a message template (named placeholders) and its values."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)
