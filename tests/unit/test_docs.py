"""The README and docs/ point at things that exist, and the generated pages are current.

Every relative link of README.md and docs/*.md (anchors included) and every
repository path they mention (``dashapp/config/settings.py``, ``tests/unit/``,
...) must exist, so a file moved or renamed cannot leave the documentation
pointing at nothing. docs/configuration.md must be what ``scripts/docs.py
configuration`` writes from the settings' declaration.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from types import ModuleType

import pytest

from dashapp.config.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
# A path is checked when it starts at one of these folders of the repository.
ROOTS = ("dashapp", "tests", "docs", "scripts", "assets", "benchmarks", "devtools", ".ci")
PATH = re.compile(r"(?<![\w/.<>:@~$-])(?:\./)?((?:" + "|".join(map(re.escape, ROOTS)) + r")(?:/[\w.-]*)+)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
# Code and tests cite documentation by path; these are checked too.
CITING = ("dashapp", "tests", "scripts", "devtools", "benchmarks", "assets/js")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def mentioned_paths(text: str) -> set[str]:
    """Repository paths written in the text (in code spans, code blocks or prose)."""
    return {match.rstrip(".") for match in PATH.findall(text)}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", page.read_text()))}


def broken_references(page: Path, root: Path = ROOT) -> list[str]:
    """What in one page points at nothing: links (relative to the page) and paths (relative to the root)."""
    text = page.read_text()
    broken = [f"path {path}" for path in sorted(mentioned_paths(text)) if not (root / path).exists()]
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"link {target}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"anchor {target}")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_and_path_of_the_documentation_exists(page: Path) -> None:
    assert broken_references(page) == []


def test_the_documentation_mentions_paths_and_the_check_sees_them() -> None:
    # A checker that found nothing would pass on any text.
    found = set().union(*(mentioned_paths(page.read_text()) for page in pages()))
    assert {"dashapp/config/settings.py", "docs/screenshot.png", "scripts/docs.py"} <= found
    assert len(found) > 50


def test_a_moved_file_a_missing_page_and_a_missing_heading_are_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "dashapp").mkdir()
    (tmp_path / "dashapp" / "here.py").write_text("")
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\nSee `dashapp/here.py`, `dashapp/gone.py` and ./scripts/run.\n"
        "[fine](other.md#a-section) [moved](missing.md) [renamed](other.md#no-such-section) [web](https://x.org/a)\n"
        "```bash\n# not a heading\n.venv/bin/python benchmarks/load.py\n```\n"
    )
    assert broken_references(page, root=tmp_path) == [
        "path benchmarks/load.py",
        "path dashapp/gone.py",
        "path scripts/run",
        "link missing.md",
        "anchor other.md#no-such-section",
    ]


def test_headings_get_githubs_anchors() -> None:
    assert slug("Where things live") == "where-things-live"
    assert slug("Python–JS contracts and their tests") == "pythonjs-contracts-and-their-tests"
    assert slug("The `Procfile` and gunicorn") == "the-procfile-and-gunicorn"


def test_code_cites_documentation_that_exists() -> None:
    cited: dict[str, set[str]] = {}
    for folder in CITING:
        for source in (ROOT / folder).rglob("*"):
            if source.suffix not in (".py", ".js") or "vendor" in source.parts or source == Path(__file__):
                continue
            text = source.read_text(errors="replace")
            assert "DESIGN.md" not in text, f"{source.relative_to(ROOT)} cites DESIGN.md, which does not exist"
            for path in re.findall(r"(?<![\w/.-])(docs/[\w./-]+\.\w+|README\.md)", text):
                cited.setdefault(path, set()).add(str(source.relative_to(ROOT)))
    assert {path: sources for path, sources in cited.items() if not (ROOT / path).exists()} == {}


def test_the_readme_stays_a_front_page() -> None:
    # The reference lives in docs/; the README is what a newcomer reads first.
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def docs_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_script", ROOT / "scripts" / "docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_page_is_the_generated_one() -> None:
    expected = docs_script().configuration()
    assert (ROOT / "docs" / "configuration.md").read_text() == expected, (
        "docs/configuration.md is stale: run .venv/bin/python scripts/docs.py configuration"
    )


def test_every_setting_is_described() -> None:
    assert [field.name for field in fields(Settings) if not field.metadata.get("doc")] == []


class RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers which variables were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_the_documented_variables_are_the_ones_the_settings_read() -> None:
    env = RecordingEnv()
    load_settings(env)
    variable = docs_script().variable
    assert {variable(field) for field in fields(Settings)} == env.asked
