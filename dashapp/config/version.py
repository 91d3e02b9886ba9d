"""The app's version, as exports record it: which code produced a file.

``RELEASE`` is the version of the app as released; a checkout adds the
commit it runs (read from ``.git`` without running git), so two files
exported by different commits say so: ``1.0.0+g4275b9b``.
"""

from __future__ import annotations

import functools
from pathlib import Path

RELEASE = "1.0.0"
ROOT = Path(__file__).resolve().parents[2]


def _commit(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head or None
        ref = head[5:]
        loose = git / ref
        if loose.is_file():
            return loose.read_text().strip() or None
        for line in (git / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    except OSError:
        return None
    return None


@functools.cache
def version() -> str:
    commit = _commit(ROOT / ".git")
    return f"{RELEASE}+g{commit[:7]}" if commit else RELEASE
