"""Durable image store and the shared activation cache.

``images``: the content-addressed ``ImageStore`` (files or Redis);
``activations``: the Flask-Caching ``ActivationStore``; ``codec``: the
float16 blob format; ``backends``: the shared cache backends; ``memo``: the
bounded in-process LRU and per-key locks.
"""

from ..intake import is_sha256
from .activations import ActivationStore, Subject
from .backends import BoundedFileSystemCache, make_backend, redis_client
from .codec import decode_maps, encode_maps, to_half, to_single
from .images import FileImageStore, ImageStore, RedisImageStore, StoreUnavailable
from .memo import KeyedLocks, LruDict

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
