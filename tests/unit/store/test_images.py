"""The durable image store: round trip, verification, atomic writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashapp.intake import accept_bytes
from dashapp.store import (
    FileImageStore,
    is_sha256,
)


def test_file_image_store_round_trip_and_verification(tmp_path: Path, example_bytes: bytes) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)
    assert store.put(accepted) == accepted.sha256 and store.has(accepted.sha256)
    image = FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256)  # fresh process view
    assert image is not None and image.size == (accepted.width, accepted.height)
    # No temporary files are left behind.
    assert not [p for p in (tmp_path / "images").rglob("*") if p.name.startswith(".incoming-")]
    # A tampered file is never served.
    path = next((tmp_path / "images").rglob(f"{accepted.sha256}.png"))
    path.write_bytes(path.read_bytes()[:-100])
    assert FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256) is None
    assert store.get("not-a-sha") is None and store.get("0" * 64) is None
    assert not is_sha256("../../etc/passwd")


def test_a_write_that_dies_midway_leaves_nothing_visible(tmp_path: Path, example_bytes: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)

    def dying_replace(*_args: Any) -> None:
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr("dashapp.store.images.os.replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        store.put(accepted)
    monkeypatch.undo()
    assert not store.has(accepted.sha256) and store.get(accepted.sha256) is None
    assert not list((tmp_path / "images").rglob("*.tmp"))


