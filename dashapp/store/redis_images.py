"""The image store in Redis, for several hosts behind one load balancer.

No expiry: the store is durable, shared links must keep working; it is
bounded like the file store. An image counts what Redis really spends on it:
its key's ``MEMORY USAGE`` plus a measured overhead for its bookkeeping (its
recency and size entries), not the length of its bytes (tiny images cost
Redis several times their length). Each step (store, evict, hold, release)
is one Lua script, atomic against every other worker.

Images this process has decoded are still served while Redis is down (the
verifying read cache answers first); anything that needs Redis then raises
``StoreUnavailable``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..intake import AcceptedImage, is_sha256
from .backends import redis_client
from .images import DEFAULT_MAX_BYTES, PINNED, StoreUnavailable, _VerifyingImageStore

log = logging.getLogger(__name__)

# Bytes Redis spends on an image beyond its key's MEMORY USAGE (its entries
# in the recency sorted set and the size hash, the keyspace's own tables),
# measured on Redis 7: 1,000 tiny images raised used_memory by 839 bytes each,
# MEMORY USAGE said 264 (tests/integration/test_store_bounds.py holds the
# count at or above used_memory's growth).
BOOKKEEPING_BYTES = 640

PUT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return -1 end
local size = (redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '0') or 0) + tonumber(ARGV[4])
redis.call('HSET', KEYS[5], ARGV[3], size)
if tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0') > 0 then return size end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('INCRBY', KEYS[3], size)
return size
"""
EVICT = """
local evicted = {}
while tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) and #evicted < 1000 do
  local victim = nil
  for _, sha in ipairs(redis.call('ZRANGE', KEYS[1], 0, 1)) do
    if sha ~= ARGV[2] then victim = sha; break end
  end
  if not victim then break end
  local size = tonumber(redis.call('HGET', KEYS[3], victim) or '0')
  if size == 0 then size = redis.call('STRLEN', ARGV[3] .. victim) end
  redis.call('DEL', ARGV[3] .. victim)
  redis.call('ZREM', KEYS[1], victim)
  redis.call('HDEL', KEYS[3], victim)
  redis.call('DECRBY', KEYS[2], size)
  table.insert(evicted, victim)
end
return evicted
"""
HOLD = """
for _, sha in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], sha) == 1 and redis.call('HINCRBY', KEYS[2], sha, 1) == 1 then
    if redis.call('ZREM', KEYS[3], sha) == 1 then
      redis.call('DECRBY', KEYS[4], tonumber(redis.call('HGET', KEYS[5], sha) or '0'))
    end
  end
end
return 0
"""
RELEASE = """
for _, sha in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HINCRBY', KEYS[2], sha, -1) <= 0 then
    redis.call('HDEL', KEYS[2], sha)
    if redis.call('EXISTS', ARGV[2] .. sha) == 1 then
      redis.call('ZADD', KEYS[3], ARGV[1], sha)
      redis.call('INCRBY', KEYS[4], tonumber(redis.call('HGET', KEYS[5], sha) or '0'))
    end
  end
end
redis.call('DEL', KEYS[1])
return 0
"""


class RedisImageStore(_VerifyingImageStore):
    KEY = "dashapp:image:"
    RECENCY = "dashapp:image-recency"  # sorted set: sha -> last use (images nobody holds only)
    TOTAL = "dashapp:image-bytes"  # counted bytes of the images nobody holds
    SIZES = "dashapp:image-sizes"  # hash: sha -> counted bytes
    HOLDS = "dashapp:image-holds"  # hash: sha -> number of holders
    HOLDER = "dashapp:image-holder:"  # set per holder: the images it holds

    def __init__(self, url: str, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_pixels, max_bytes)
        self.client = redis_client(url, 2.0)
        self._scripts = {name: self.client.register_script(text)
                         for name, text in (("put", PUT), ("evict", EVICT), ("hold", HOLD), ("release", RELEASE))}

    @classmethod
    def _key(cls, sha: str) -> str:
        return cls.KEY + sha

    def _call(self, action: str, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            if method in self._scripts:
                return self._scripts[method](*args, **kwargs)
            return getattr(self.client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            # The operator gets the cause; the client a plain, retryable 503.
            log.warning("image store %s failed: %s", action, exc)
            raise StoreUnavailable() from exc

    def _touch(self, sha: str) -> None:
        # XX: only images already counted; held ones are not in the set.
        self._call("touch", "zadd", self.RECENCY, {sha: time.time()}, xx=True)

    def _holder_keys(self, owner: str) -> list[str]:
        return [self.HOLDER + owner, self.HOLDS, self.RECENCY, self.TOTAL, self.SIZES]

    def pin(self, sha: str) -> None:
        super().pin(sha)
        self.hold(PINNED, [sha])

    def hold(self, owner: str, shas: list[str]) -> None:
        if shas:
            self._call("hold", "hold", keys=self._holder_keys(owner), args=sorted(set(shas)))

    def release(self, owner: str) -> None:
        self._call("release", "release", keys=self._holder_keys(owner), args=[time.time(), self.KEY])

    def _holders(self, prefix: str) -> list[str]:
        import redis

        try:
            names = list(self.client.scan_iter(match=self.HOLDER + prefix + "*", count=1000))
        except redis.RedisError as exc:  # the sweep waits for the next time; the write goes on
            log.warning("image store sweep failed: %s", exc)
            return []
        return [bytes(name).decode()[len(self.HOLDER):] for name in names]

    def size_of(self, shas: list[str]) -> int:
        unique = sorted(set(shas))
        sizes = self._call("size", "hmget", self.SIZES, unique) if unique else []
        return sum(int(size) for size in sizes if size is not None)

    def has(self, sha: str) -> bool:
        return is_sha256(sha) and bool(self._call("lookup", "exists", self._key(sha)))

    def put(self, accepted: AcceptedImage) -> str:
        self._sweep()
        sha = accepted.sha256
        keys = [self._key(sha), self.RECENCY, self.TOTAL, self.HOLDS, self.SIZES]
        # SET NX is atomic: other clients see the whole value or nothing.
        size = int(self._call("write", "put", keys=keys,
                              args=[accepted.stored_bytes(), time.time(), sha, BOOKKEEPING_BYTES]))
        if size < 0:
            self._used(sha)
            return sha
        evicted = self._call("bound", "evict", keys=[self.RECENCY, self.TOTAL, self.SIZES],
                             args=[self.max_bytes, sha, self.KEY])
        for victim in evicted:
            self._decoded.discard(bytes(victim).decode())
            log.info("image store bound: evicted %s", bytes(victim).decode())
        return sha

    def _read(self, sha: str) -> bytes | None:
        value = self._call("read", "get", self._key(sha))
        return bytes(value) if value is not None else None
