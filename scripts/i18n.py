"""The interface's gettext catalogs, with Babel's own commands.

    .venv/bin/python scripts/i18n.py extract   # pybabel extract: code -> dashapp/i18n/locale/messages.pot
    .venv/bin/python scripts/i18n.py update    # pybabel update: .pot -> each language's messages.po
    .venv/bin/python scripts/i18n.py compile   # pybabel compile: .po -> .mo (optional: the app reads .po)
    .venv/bin/python scripts/i18n.py check     # the catalogs hold every string of the code, translated

English is the source language: ``update`` fills its catalog with the
source text (``msgstr`` = ``msgid``), so an English wording can be changed
by editing ``en/LC_MESSAGES/messages.po`` alone. Spanish entries are
translated by hand; ``check`` fails while one is missing, empty or fuzzy.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "dashapp" / "i18n" / "locale"
TEMPLATE = LOCALE / "messages.pot"
LANGUAGES = ("en", "es")


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT, check=True)


def extract(output: Path = TEMPLATE) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    # No locations: a line moved in the code would otherwise change the catalogs.
    pybabel("extract", "-F", "babel.cfg", "-o", str(output), "--no-location", "--sort-output", "--no-wrap",
            "--project", "CNN Activation Analyzer", "--copyright-holder", "CNN Activation Analyzer",
            "-c", "TRANSLATORS:", "dashapp")


def update() -> None:
    for language in LANGUAGES:
        pybabel("update", "-i", str(TEMPLATE), "-d", str(LOCALE), "-l", language, "--init-missing",
                "--no-fuzzy-matching", "--ignore-obsolete", "--no-wrap", "--ignore-pot-creation-date")
    fill_english()


def fill_english() -> None:
    path = LOCALE / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, no_location=True, sort_output=True)


def problems() -> list[str]:
    """What keeps the catalogs from matching the code: strings not in a
    catalog, untranslated or fuzzy entries."""
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        extract(fresh)
        with fresh.open("rb") as handle:
            wanted = {m.id for m in read_po(handle) if m.id}
    for language in LANGUAGES:
        with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        held = {m.id: m for m in catalog if m.id}
        for msgid in sorted(wanted - held.keys(), key=str):
            found.append(f"{language}: not in the catalog: {msgid!r}")
        for msgid, message in held.items():
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{language}: untranslated: {msgid!r}")
            if message.fuzzy:
                found.append(f"{language}: fuzzy: {msgid!r}")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        extract()
    elif command == "update":
        update()
    elif command == "compile":
        pybabel("compile", "-d", str(LOCALE), "--statistics")
    elif command == "check":
        found = problems()
        print("\n".join(found) or "catalogs complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
