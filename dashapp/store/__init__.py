"""Durable image store and the shared activation cache.

``images``: the content-addressed ``ImageStore`` (files, indexed by
``image_index``; or Redis, ``redis_images``); ``sqlite``: the shared index
file of a bounded store;
``activations``: the Flask-Caching ``ActivationStore``; ``codec``: the
float16 blob format; ``backends``: the shared cache backends; ``memo``: the
bounded in-process LRU and per-key locks.
"""

from ..intake import is_sha256
from .activations import ActivationStore, Subject
from .backends import BoundedFileSystemCache, make_backend, redis_client
from .codec import decode_maps, encode_maps, to_half, to_single
from .images import FileImageStore, ImageStore, StoreUnavailable
from .memo import KeyedLocks, LruDict
from .redis_images import RedisImageStore

__all__ = [
    "ActivationStore",
    "BoundedFileSystemCache",
    "FileImageStore",
    "ImageStore",
    "KeyedLocks",
    "LruDict",
    "RedisImageStore",
    "StoreUnavailable",
    "Subject",
    "decode_maps",
    "encode_maps",
    "is_sha256",
    "make_backend",
    "redis_client",
    "to_half",
    "to_single",
]
