"""Stores holding the planted concept collections (tests/support/planted_concepts.py),
for the concept job tests in-process and on Celery workers."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from dashapp.collections import CollectionLimits, build_collection, from_files
from tests.support.planted_concepts import concept_model, images


class ConceptRegistry:
    """The registry interface concept jobs need, serving the planted concept model."""

    def __init__(self) -> None:
        self.loaded = concept_model()
        self.names = (self.loaded.name,)

    def get(self, name: str) -> Any:
        if name != self.loaded.name:
            raise KeyError(f"Unknown model {name!r}")
        return self.loaded


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def add(collections: Any, image_store: Any, name: str, kind: str, count: int, offset: int = 0) -> str:
    """A stored collection of ``count`` planted images of ``kind``; its id."""
    files = [(f"{kind}{offset + i}.png", png(image)) for i, image in enumerate(images(kind, count, offset))]
    built = build_collection(name, from_files(files, CollectionLimits()), image_store)
    return collections.put(built).id


def planted_collections(collections: Any, image_store: Any) -> dict[str, str]:
    """name -> id: red and blue squares (concepts), noise (random), red squares of the class."""
    return {"red": add(collections, image_store, "red squares", "red", 12),
            "blue": add(collections, image_store, "blue squares", "blue", 12),
            "noise": add(collections, image_store, "noise", "noise", 24),
            "class": add(collections, image_store, "class", "red", 8, offset=700),
            "one": add(collections, image_store, "one", "red", 1, offset=900)}
