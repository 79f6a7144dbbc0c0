"""At most one connector per tunnel name: an expiring Redis lease with fenced renew/release."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass

import redis as syncredis
import redis.asyncio as aioredis

from tunnel_worker.services import Holder

logger = logging.getLogger(__name__)

# Renew and release only if we still hold the lease (compare-and-set in one round trip).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


def lease_key(name: str) -> str:
    return f"tunnel:{name}:lease"


def heartbeat_key(name: str) -> str:
    return f"tunnel:{name}:heartbeat"


@dataclass
class LeaseInfo:
    """Who holds a lease, from the lease value, and how fresh its heartbeat is."""

    holder: dict | None
    ttl_ms: int
    heartbeat_age: float | None


class Lease:
    """An expiring lease on one tunnel name, renewed by its holder."""

    def __init__(self, *, url: str, name: str, ttl: float, holder: Holder) -> None:
        self.name = name
        self.ttl_ms = int(ttl * 1000)
        self.value = json.dumps({"host": holder.host, "pid": holder.pid, "id": uuid.uuid4().hex})
        self.redis = aioredis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
        )
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self.valid_until = 0.0  # monotonic deadline after which we must assume it is lost

    async def try_acquire(self) -> bool:
        """SET NX PX: take the lease if nobody holds it."""
        started = time.monotonic()
        ok = await self.redis.set(lease_key(self.name), self.value, nx=True, px=self.ttl_ms)
        if ok:
            self.valid_until = started + self.ttl_ms / 1000
            await self.redis.set(heartbeat_key(self.name), time.time(), px=self.ttl_ms * 4)
        return bool(ok)

    async def renew(self) -> bool:
        """Extend the lease if still ours; False means another holder has it (stop now)."""
        started = time.monotonic()
        keys = [lease_key(self.name), heartbeat_key(self.name)]
        args: list[str | int | float] = [self.value, self.ttl_ms, time.time(), self.ttl_ms * 4]
        held = bool(await self._renew(keys=keys, args=args))
        if held:
            self.valid_until = started + self.ttl_ms / 1000
        return held

    async def release(self) -> None:
        """Give the lease up if still ours (never deletes another holder's lease)."""
        try:
            await self._release(
                keys=[lease_key(self.name), heartbeat_key(self.name)], args=[self.value]
            )
        except (OSError, aioredis.RedisError) as exc:
            logger.warning("tunnel %s: could not release lease: %s", self.name, exc)

    async def holder(self) -> str:
        value = await self.redis.get(lease_key(self.name))
        return str(value) if value else ""

    async def close(self) -> None:
        await self.redis.aclose()


def lease_info(*, url: str, name: str) -> LeaseInfo:
    """Synchronous read of a lease (for the beat watchdog and tunnel_status)."""
    client = syncredis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )
    try:
        raw, ttl, beat = (
            client.get(lease_key(name)),
            client.pttl(lease_key(name)),
            client.get(heartbeat_key(name)),
        )
    finally:
        client.close()
    holder = json.loads(raw) if raw else None
    age = time.time() - float(beat) if beat else None
    return LeaseInfo(holder=holder, ttl_ms=int(ttl) if raw else 0, heartbeat_age=age)
