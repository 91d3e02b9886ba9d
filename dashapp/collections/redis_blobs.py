"""Blobs in Redis, bounded like the file store: each blob counted by its
key's ``MEMORY USAGE`` plus a measured overhead, grouped by the collection
(or job) its key names (``blob_index.group_of``), the least recently used
group evicted whole past ``max_bytes`` and remembered as evicted. Each step
is one Lua script, atomic against every other worker. Blobs written before
this bookkeeping are not counted until written again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .blob_index import KEEP_EVICTED, group_of

PREFIX = "dashapp:blob:"
SIZES = "dashapp:blob-sizes"  # hash: key -> counted bytes
GROUP = "dashapp:blob-group:"  # set per group: its keys
GROUPS = "dashapp:blob-groups"  # sorted set: group -> last use
GROUP_BYTES = "dashapp:blob-group-bytes"  # hash: group -> its blobs' bytes + its charge
EXTRA = "dashapp:blob-extra"  # hash: group -> bytes charged from elsewhere (its images)
TOTAL = "dashapp:blob-bytes"
EVICTED = "dashapp:blob-evicted"  # sorted set: group -> when it was evicted
OVERHEAD = 400  # a blob's entries in the size hash and its group's set, the keyspace's tables

PUT = """
redis.call('SET', KEYS[1], ARGV[1])
local size = (redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '0') or 0) + tonumber(ARGV[5])
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
redis.call('HSET', KEYS[2], ARGV[2], size)
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('HINCRBY', KEYS[5], ARGV[3], size - old)
redis.call('INCRBY', KEYS[6], size - old)
redis.call('ZREM', KEYS[7], ARGV[3])
return size
"""
EVICT = """
local victims = {}
while tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(ARGV[1]) and #victims < 100 do
  local victim = nil
  for _, g in ipairs(redis.call('ZRANGE', KEYS[1], 0, 1)) do
    if g ~= ARGV[2] then victim = g; break end
  end
  if not victim then break end
  for _, k in ipairs(redis.call('SMEMBERS', ARGV[5] .. victim)) do
    redis.call('DEL', ARGV[4] .. k)
    redis.call('HDEL', KEYS[5], k)
  end
  redis.call('DEL', ARGV[5] .. victim)
  redis.call('DECRBY', KEYS[3], tonumber(redis.call('HGET', KEYS[2], victim) or '0'))
  redis.call('HDEL', KEYS[2], victim)
  redis.call('HDEL', KEYS[6], victim)
  redis.call('ZREM', KEYS[1], victim)
  redis.call('ZADD', KEYS[4], ARGV[3], victim)
  table.insert(victims, victim)
end
if #victims > 0 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[6]) - 1) end
return victims
"""
DELETE = """
redis.call('DEL', KEYS[1])
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
if old > 0 then
  redis.call('HINCRBY', KEYS[4], ARGV[2], -old)
  redis.call('DECRBY', KEYS[5], old)
end
return 0
"""
CHARGE = """
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local delta = tonumber(ARGV[2]) - old
redis.call('HINCRBY', KEYS[2], ARGV[1], delta)
redis.call('INCRBY', KEYS[3], delta)
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
return 0
"""
TOUCH_EVERY_S = 60.0


class RedisBlobBound:
    """The bookkeeping half of ``RedisBlobStore`` (values are under ``PREFIX``)."""

    def __init__(self, client: Any, max_bytes: int | None) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self.on_evict: list[Callable[[str], None]] = []
        self._scripts = {name: client.register_script(text)
                         for name, text in (("put", PUT), ("evict", EVICT), ("delete", DELETE), ("charge", CHARGE))}
        self._touched: dict[str, float] = {}

    def put(self, key: str, data: bytes) -> None:
        group = group_of(key)
        self._scripts["put"](keys=[PREFIX + key, SIZES, GROUP + group, GROUPS, GROUP_BYTES, TOTAL, EVICTED],
                             args=[data, key, group, time.time(), OVERHEAD])
        self._evict(group)

    def charge(self, group: str, extra: int) -> None:
        self._scripts["charge"](keys=[EXTRA, GROUP_BYTES, TOTAL, GROUPS], args=[group, extra, time.time()])
        self._evict(group)

    def _evict(self, keep: str) -> None:
        if self.max_bytes is None:
            return
        victims = self._scripts["evict"](keys=[GROUPS, GROUP_BYTES, TOTAL, EVICTED, SIZES, EXTRA],
                                         args=[self.max_bytes, keep, time.time(), PREFIX, GROUP, KEEP_EVICTED])
        for victim in victims:
            group = bytes(victim).decode()
            for listener in self.on_evict:
                listener(group)

    def delete(self, key: str) -> None:
        group = group_of(key)
        self._scripts["delete"](keys=[PREFIX + key, SIZES, GROUP + group, GROUP_BYTES, TOTAL], args=[key, group])

    def used(self, key: str) -> None:
        group, now = group_of(key), time.monotonic()
        if now - self._touched.get(group, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[group] = now
            self.client.zadd(GROUPS, {group: time.time()}, xx=True)

    def evicted_at(self, group: str) -> float | None:
        at = self.client.zscore(EVICTED, group)
        return float(at) if at is not None else None

    def total(self) -> int:
        return int(self.client.get(TOTAL) or 0)
