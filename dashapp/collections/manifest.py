"""A collection: a named, content-addressed set of images in the image store.

Its id is the SHA-256 of its sorted image hashes (an image added twice is
one image), so the same images make the same collection whatever the order
or the file names. Every image goes through intake and into the durable
image store; the manifest (id, name, images with optional labels, the
rejected entries with their reasons) is kept in the blob store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from ..i18n import _
from ..intake import DecodeBudget, IntakeError, Limits
from ..store.images import building_owner
from .blobs import BlobStore
from .sources import Candidate, CollectionLimits, Rejected

MANIFEST_PREFIX = "collection"


def collection_id(image_hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(image_hashes))).encode()).hexdigest()


@dataclass(frozen=True)
class Member:
    image: str  # SHA-256 in the image store
    name: str  # the first file name it came under (display only)
    label: str | None = None


@dataclass
class Collection:
    id: str
    name: str
    images: list[Member]  # sorted by image hash: the shard plan depends only on the id
    rejected: list[Rejected] = field(default_factory=list)
    created: float = 0.0
    owner: str | None = None  # the authenticated user who uploaded it (collections/owners.py)
    shared: bool = False  # readable by every user (an owner's choice)
    size_bytes: int = 0  # the image bytes it brought in, counted against its owner's quota

    @property
    def labels(self) -> list[str]:
        return sorted({m.label for m in self.images if m.label is not None})

    def labels_digest(self) -> str:
        """What the labels say, short: a scan's class sums are only valid for these labels."""
        pairs = "\n".join(f"{m.image}:{m.label or ''}" for m in self.images)
        return hashlib.sha256(pairs.encode()).hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "images": len(self.images), "labels": self.labels,
                "rejected": len(self.rejected), "created": self.created, "owner": self.owner, "shared": self.shared}

    def to_json(self) -> bytes:
        return json.dumps({
            "id": self.id, "name": self.name, "created": self.created, "owner": self.owner, "shared": self.shared,
            "bytes": self.size_bytes,
            "images": [[m.image, m.name, m.label] for m in self.images],
            "rejected": [[r.name, r.reason] for r in self.rejected],
        }).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> Collection:
        data = json.loads(blob)
        return cls(id=data["id"], name=data["name"], created=float(data.get("created") or 0.0),
                   owner=data.get("owner"), shared=bool(data.get("shared")), size_bytes=int(data.get("bytes") or 0),
                   images=[Member(image, name, label) for image, name, label in data["images"]],
                   rejected=[Rejected(name, reason) for name, reason in data["rejected"]])


@contextlib.contextmanager
def _held_while_building(image_store: Any) -> Iterator[Callable[[str], None]]:
    """Hold each image as it comes in, until the collection is built (then
    ``CollectionStore.put`` holds them for good): a collection larger than
    the image store's bound would otherwise evict its own first images."""
    if not hasattr(image_store, "hold"):
        yield lambda sha: None
        return
    owner = building_owner()
    try:
        yield lambda sha: image_store.hold(owner, [sha])
    finally:
        image_store.release(owner)


def build_collection(name: str, entries: Iterable[Candidate | Rejected], image_store: Any,
                     limits: Limits | None = None, budget: DecodeBudget | None = None) -> Collection:
    """Intake every candidate and store it; list every refusal with its reason.

    A candidate whose image is already in the collection is listed as
    rejected ("same image as ..."), so the counts add up for the user, and
    the image is counted once. Decoding is charged to ``budget`` (by default
    ``CollectionLimits``'); once it is spent the collection is refused whole.
    """
    limits = limits or Limits()
    budget = budget or CollectionLimits().decode_budget()
    members: dict[str, Member] = {}
    rejected: list[Rejected] = []
    size = 0
    with _held_while_building(image_store) as hold:
        for entry in entries:
            if isinstance(entry, Rejected):
                rejected.append(entry)
                continue
            budget.check()  # outside the try: a spent budget refuses the collection, not one entry
            try:
                accepted = budget.accept(entry.data, limits)
            except IntakeError as exc:
                rejected.append(Rejected(entry.name, str(exc)))
                continue
            first = members.get(accepted.sha256)
            if first is not None:
                rejected.append(Rejected(entry.name, _("same image as {name}; counted once").format(
                    name=first.name)))
                continue
            image_store.put(accepted)
            hold(accepted.sha256)
            members[accepted.sha256] = Member(accepted.sha256, entry.name, entry.label)
            size += len(entry.data)
    images = [members[sha] for sha in sorted(members)]
    return Collection(id=collection_id(members), name=name[:120] or "collection", images=images,
                      rejected=rejected, created=time.time(), size_bytes=size)


class CollectionEvicted(UserError):
    """A collection the store's bound evicted (``DASHAPP_COLLECTION_STORE_MAX_BYTES``): 410."""

    status = 410


class CollectionStore:
    """Manifests by collection id in the blob store. A stored collection
    holds its images in ``images`` (never evicted there while it lives) and
    is charged their bytes in the blob store's bound; evicted, it lets go."""

    def __init__(self, blobs: BlobStore, images: Any | None = None) -> None:
        self.blobs = blobs
        self.images = images
        self._held: set[str] = set()  # collections this process has made hold their images
        if images is not None:
            blobs.on_evict.append(self._evicted)

    def _evicted(self, collection: str) -> None:
        self._held.discard(collection)
        if self.images is not None:
            self.images.release(collection)

    def _hold(self, collection: Collection) -> None:
        """Hold its images and charge their bytes (once per process: also for
        collections stored before holds, or after an index was rebuilt)."""
        if self.images is None or collection.id in self._held:
            return
        shas = [member.image for member in collection.images]
        self.images.hold(collection.id, shas)
        self.blobs.charge(collection.id, self.images.size_of(shas))
        self._held.add(collection.id)

    def require(self, collection: str) -> Collection | None:
        """``get``, or ``CollectionEvicted`` saying the bound evicted it."""
        found = self.get(collection)
        if found is None and len(collection) == 64 and self.blobs.evicted_at(collection) is not None:
            raise CollectionEvicted(_("This collection was removed to make room for newer ones (the server keeps "
                                      "a bounded amount of collections); add its images again."))
        return found

    @staticmethod
    def _key(collection: str) -> str:
        return f"{MANIFEST_PREFIX}:{collection}"

    def get(self, collection: str) -> Collection | None:
        if not (len(collection) == 64 and all(c in "0123456789abcdef" for c in collection)):
            return None
        blob = self.blobs.get(self._key(collection))
        if blob is None:
            return None
        found = Collection.from_json(blob)
        self._hold(found)
        return found

    def put(self, collection: Collection) -> Collection:
        """Store ``collection``. The same images again keep the first name
        unless labels changed (then the new manifest replaces it)."""
        old = self.get(collection.id)
        if old is not None and old.labels_digest() == collection.labels_digest():
            # Same images and labels: keep the stored one, but report this upload's refusals.
            old.rejected = collection.rejected
            return old
        if not collection.images:
            return collection  # nothing to keep: an empty collection is only reported
        self.blobs.put(self._key(collection.id), collection.to_json())
        self._held.discard(collection.id)
        self._hold(collection)
        return collection

    def list(self) -> list[Collection]:
        found = []
        for key in self.blobs.keys(f"{MANIFEST_PREFIX}:"):
            blob = self.blobs.peek(key)  # a listing is no use of each collection
            if blob is not None:
                found.append(Collection.from_json(blob))
        return sorted(found, key=lambda c: (-c.created, c.id))
