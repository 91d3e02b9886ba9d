"""collections/owners.py: ids salted by owner, who reads what, and each
user's share of scans (one more: 429, "try again")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashapp.collections import CollectionStore, FileBlobStore, Member
from dashapp.collections.manifest import Collection
from dashapp.collections.owners import ANYONE, Owners, Viewer, can_read, owned_id
from dashapp.errors import UserError

ALICE, BOB = Viewer("alice"), Viewer("bob")


def collection(owner: str | None, shared: bool = False, size: int = 10, cid: str = "a" * 64) -> Collection:
    return Collection(id=cid, name="c", images=[Member("b" * 64, "x.png")], owner=owner, shared=shared,
                      size_bytes=size)


def test_an_id_is_salted_by_its_owner_only() -> None:
    assert owned_id("c" * 64, None) == "c" * 64
    assert owned_id("c" * 64, "alice") != owned_id("c" * 64, "bob") != "c" * 64
    assert len(owned_id("c" * 64, "alice")) == 64


def test_who_reads_what() -> None:
    assert can_read(collection("alice"), ALICE) and not can_read(collection("alice"), BOB)
    assert can_read(collection("alice", shared=True), BOB)
    assert can_read(collection(None), BOB)  # the operator's folders, the demo, made before auth
    assert can_read(collection("alice"), ANYONE)  # auth off


@pytest.fixture
def owners(tmp_path: Path) -> Owners:
    return Owners(CollectionStore(FileBlobStore(tmp_path / "blobs")), user_max_bytes=100, scans_per_user=1)


def test_a_user_past_their_share_of_scans_is_told_to_try_again(owners: Owners) -> None:
    states: dict[tuple[str, str], str] = {}
    ids = [owned_id(c * 64, "alice") for c in "abc"]
    for cid in ids:
        owners.store.put(Collection(id=cid, name="c", images=[Member("b" * 64, "x.png")], owner="alice"))

    def status(cid: str, model: str) -> dict[str, Any]:
        return {"state": states.get((cid, model), "none")}

    def start(cid: str, model: str) -> dict[str, Any]:
        states.setdefault((cid, model), "running")
        return status(cid, model)

    assert owners.start_scan(ids[0], "m", ALICE, status, start)["state"] == "running"
    assert owners.start_scan(ids[0], "m", ALICE, status, start)["state"] == "running"  # the same: no new scan
    with pytest.raises(UserError) as busy:
        owners.start_scan(ids[1], "m", ALICE, status, start)
    assert busy.value.status == 429 and "try again" in busy.value.message
    states[(ids[0], "m")] = "done"
    assert owners.start_scan(ids[1], "m", ALICE, status, start)["state"] == "running"
    with pytest.raises(UserError) as hidden:
        owners.start_scan(ids[2], "m", BOB, status, start)
    assert hidden.value.status == 404


def test_a_claim_within_the_quota_is_the_users_and_past_it_a_413(owners: Owners) -> None:
    claim = owners.claim(ALICE, shared=True)
    mine = owners.store.put(claim(collection(None, size=60)))
    assert mine.owner == "alice" and mine.shared and mine.id == owned_id("a" * 64, "alice")
    assert owners.store.put(claim(collection(None, size=60))).id == mine.id  # the same again: counted once
    with pytest.raises(UserError) as over:
        claim(collection(None, size=60, cid="d" * 64))
    assert over.value.status == 413
    assert owners.claim(ANYONE, shared=False)(collection(None, size=10_000)).id == "a" * 64  # auth off: unbounded
