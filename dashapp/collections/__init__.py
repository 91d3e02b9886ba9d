"""Image collections: sources (files, zip, server folder, demo), manifests,
durable blobs, and scans over them."""

from .blobs import BlobStore, FileBlobStore, RedisBlobStore, blob_store
from .manifest import Collection, CollectionStore, Member, build_collection, collection_id
from .sources import (
    Candidate,
    CollectionError,
    CollectionLimits,
    Rejected,
    folder_names,
    from_files,
    from_folder,
    from_zip,
)

__all__ = [
    "BlobStore", "Candidate", "Collection", "CollectionError", "CollectionLimits", "CollectionStore",
    "FileBlobStore", "Member", "RedisBlobStore", "Rejected", "blob_store", "build_collection", "collection_id",
    "folder_names", "from_files", "from_folder", "from_zip",
]
