"""The bundled demo collection: the four example photos and the labelled
photographs in ``assets/examples/collection/`` (sources and licences in
``assets/examples/SOURCES.md``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..i18n import N_
from .sources import Candidate, CollectionLimits, Rejected, from_folder

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
DEMO_NAME = N_("Demo: scikit-image photographs")  # stored as is; translated where shown
EXAMPLE_LABELS = {"chelsea.png": "animal", "astronaut.png": "person", "coffee.png": "object",
                  "rocket.jpg": "vehicle"}


def demo_entries(examples: Path = EXAMPLES_DIR) -> Iterator[Candidate | Rejected]:
    for file_name, label in EXAMPLE_LABELS.items():
        path = examples / file_name
        if path.is_file():
            yield Candidate(file_name, path.read_bytes(), label)
    yield from from_folder(examples, "collection", CollectionLimits())
