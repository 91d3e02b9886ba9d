"""What the analysis found, said in the reader's language.

``dashapp/analysis`` returns facts (band keys, numbers, rule and reason
codes) and stays free of the interface's catalogs; these modules turn the
facts into sentences through ``dashapp.i18n`` when a page or the API shows
them. Each sentence is one catalog entry with named placeholders, so a
translation can order its words freely and make them agree.
"""

from __future__ import annotations
