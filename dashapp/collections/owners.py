"""Who may see and use a collection, and what each user may hold, when
access control is on (``DASHAPP_AUTH``).

A collection uploaded by an authenticated user is theirs: its manifest names
its owner, and its id is salted with the owner's name, so the same images
uploaded by another user (under the same or other labels) make that user's
own collection instead of renaming the first one, and one user cannot work
out another's id from the images. Another user can read, scan and list it
only once its owner shares it (``shared``); asking for it otherwise answers
404, as for a collection that does not exist. Collections without an owner
(the operator's folders, the bundled demo, those made while access control
was off) are everyone's.

A scan belongs to the user who started it: only they (or, when nobody is
recorded, the collection's owner) may cancel it (403 for anyone else). Each
user may have ``DASHAPP_SCANS_PER_USER`` scans queued or running at once
(one more: 429, "busy, try again") and keep at most
``DASHAPP_COLLECTION_USER_MAX_BYTES`` of uploaded images in their
collections (one more: 413).

Without access control every request is ``ANYONE``: everything is shared,
nothing is counted per user, exactly as before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UserError
from ..i18n import _
from ..intake import human_size
from .blobs import BlobStore
from .manifest import Collection, CollectionStore

ACTIVE = ("queued", "running")
STARTER_PREFIX = "scan-owner"
USER_SCANS_PREFIX = "user-scans"


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an authenticated user's name, or None when access
    control is off (and for the server's own background work)."""

    name: str | None

    @property
    def separated(self) -> bool:
        return self.name is not None


ANYONE = Viewer(None)


def owned_id(content_id: str, owner: str | None) -> str:
    """A collection's id: its images' id alone without an owner (as before
    access control), else salted with the owner's name."""
    if owner is None:
        return content_id
    return hashlib.sha256(f"owner:{owner}\n{content_id}".encode()).hexdigest()


def can_read(collection: Collection, viewer: Viewer) -> bool:
    return not viewer.separated or collection.owner is None or collection.shared or collection.owner == viewer.name


def _key_part(text: str) -> str:
    """A user's name as a blob key part (names may hold any character)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def not_found() -> UserError:
    return UserError(_("No collection with this id is stored here."), 404)


class ViewedStore:
    """A collection store as one viewer sees it: ``get`` finds no collection
    they may not read (what a concept test started by a request reads)."""

    def __init__(self, store: CollectionStore, viewer: Callable[[], Viewer]) -> None:
        self.store, self.viewer = store, viewer

    def get(self, collection_id: str) -> Collection | None:
        found = self.store.get(collection_id)
        return found if found is not None and can_read(found, self.viewer()) else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Owners:
    """The access rules and per-user bounds over one collection store."""

    def __init__(self, store: CollectionStore, user_max_bytes: int, scans_per_user: int) -> None:
        self.store = store
        self.blobs: BlobStore = store.blobs
        self.user_max_bytes = user_max_bytes
        self.scans_per_user = scans_per_user
        self._starting = threading.Lock()

    # -- reading

    def readable(self, collection_id: str, viewer: Viewer) -> Collection:
        """The collection, or a 404 whether it is missing or another user's unshared one."""
        collection = self.store.require(collection_id[:64])  # an evicted one says so (410)
        if collection is None or not can_read(collection, viewer):
            raise not_found()
        return collection

    def check(self, collection_id: str, viewer: Viewer) -> None:
        """With access control on, the 404 of ``readable``; off, nothing (the scanner says what is missing)."""
        if viewer.separated:
            self.readable(collection_id, viewer)

    def visible(self, collections: list[Collection], viewer: Viewer) -> list[Collection]:
        return [c for c in collections if can_read(c, viewer)]

    def set_shared(self, collection_id: str, viewer: Viewer, shared: bool) -> Collection:
        """The owner shares (or stops sharing) their collection; anyone else: 404 or 403."""
        collection = self.readable(collection_id, viewer)
        if viewer.separated and collection.owner != viewer.name:
            raise UserError(_("Only the user who created this collection can change whether it is shared."), 403)
        if collection.shared != shared:
            collection.shared = shared
            self.blobs.put(self.store._key(collection.id), collection.to_json())
        return collection

    # -- creating

    def used_bytes(self, owner: str, except_id: str | None = None) -> int:
        return sum(c.size_bytes for c in self.store.list() if c.owner == owner and c.id != except_id)

    def check_room(self, viewer: Viewer) -> None:
        """Before any work: refuse a user whose quota is already spent."""
        if viewer.name is not None and self.used_bytes(viewer.name) >= self.user_max_bytes:
            raise self._over_quota(self.used_bytes(viewer.name), 0)

    def _over_quota(self, used: int, asked: int) -> UserError:
        return UserError(_("Your collections already hold {used} of your {quota} quota; this one needs {asked} more. "
                           "Ask the operator for more room.").format(
            used=human_size(used), quota=human_size(self.user_max_bytes), asked=human_size(asked)), 413)

    def claim(self, viewer: Viewer, shared: bool) -> Callable[[Collection], Collection]:
        """What an upload's collection becomes before it is stored: the
        viewer's (id salted, owner and shared set), within their quota."""

        def claimed(collection: Collection) -> Collection:
            if viewer.name is None:
                return collection
            mine = dataclasses.replace(collection, id=owned_id(collection.id, viewer.name), owner=viewer.name,
                                       shared=shared)
            used = self.used_bytes(viewer.name, except_id=mine.id)
            if used + mine.size_bytes > self.user_max_bytes:
                raise self._over_quota(used, mine.size_bytes)
            return mine

        return claimed

    # -- scans

    def _starter_key(self, collection_id: str, model: str) -> str:
        return f"{STARTER_PREFIX}:{collection_id}:{_key_part(model)}"

    def _user_key(self, user: str) -> str:
        return f"{USER_SCANS_PREFIX}:{_key_part(user)}"

    def start_scan(self, collection_id: str, model: str, viewer: Viewer,
                   status: Callable[[str, str], dict[str, Any]],
                   start: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
        """Start the scan for ``viewer`` unless it runs already, within their share of scans."""
        self.check(collection_id, viewer)
        if viewer.name is None:
            return start(collection_id, model)
        with self._starting:
            if status(collection_id, model)["state"] in ("done", *ACTIVE):
                return start(collection_id, model)  # nothing new starts: the status as it is
            mine = [pair for pair in self._user_scans(viewer.name) if status(*pair)["state"] in ACTIVE]
            if len(mine) >= self.scans_per_user:
                raise UserError(_("You already have {n} scans under way; please try again when one has finished.")
                                .format(n=len(mine)), 429)
            answer = start(collection_id, model)
            self.blobs.put(self._starter_key(collection_id, model), viewer.name.encode())
            self.blobs.put(self._user_key(viewer.name), json.dumps([*mine, [collection_id, model]]).encode())
        return answer

    def _user_scans(self, user: str) -> list[tuple[str, str]]:
        blob = self.blobs.get(self._user_key(user))
        return [(str(c), str(m)) for c, m in json.loads(blob)] if blob else []

    def record_starter(self, kind: str, job: str, viewer: Viewer) -> None:
        """``viewer`` started background job ``job`` (a concept test: ``kind`` "tcav")."""
        if viewer.name is not None:
            self.blobs.put(f"{kind}-owner:{job}", viewer.name.encode())

    def check_starter(self, kind: str, job: str, viewer: Viewer) -> None:
        """Only the user who started job ``job`` may cancel it (403 for anyone else)."""
        blob = self.blobs.get(f"{kind}-owner:{job}") if viewer.name is not None else None
        if blob is not None and blob.decode() != viewer.name:
            raise UserError(_("This job was started by another user; only they can cancel it."), 403)

    def check_cancel(self, collection_id: str, model: str, viewer: Viewer) -> None:
        """Only the scan's starter (or, with no record, the collection's owner) may cancel it."""
        if viewer.name is None:
            return
        collection = self.readable(collection_id, viewer)
        blob = self.blobs.get(self._starter_key(collection_id, model))
        starter = blob.decode() if blob else collection.owner
        if starter is not None and starter != viewer.name:
            raise UserError(_("This scan was started by another user; only they can cancel it."), 403)
