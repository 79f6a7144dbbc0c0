"""At most N connectors per tunnel name: N expiring Redis leases (slots), each with fenced
renew/release and at most one holder.

N is TUNNEL_LEASE_HOLDERS: 1 for ssh (one reverse forward per remote port; other hosts are hot
standbys), N for cloudflared replicas of one tunnel (all active). Slot 0 is the tunnel's name
itself, so with N = 1 the keys and the status row are what they always were.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass

import redis as syncredis
import redis.asyncio as aioredis

from tunnel_worker.services import Holder

logger = logging.getLogger(__name__)

# Renew only if we still hold the lease; if the key is gone (Redis restarted empty, or lost it)
# take it back at once: the caller only renews while its lease is valid by its own clock, and a
# standby never claims a key that vanished before the holder's lease could have expired.
# Returns 1 renewed, 2 re-claimed, 0 held by someone else. One round trip, atomic.
_RENEW = """
local current = redis.call('GET', KEYS[1])
local result = 0
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  result = 1
elseif not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  result = 2
end
if result > 0 then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
end
return result
"""
# Release leaves a short-lived note saying who released, so a standby takes over at once.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
RENEWED, RECLAIMED = 1, 2


def slot_names(name: str, holders: int) -> list[str]:
    """The lease (and status row) names of a tunnel that allows `holders` connectors at once."""
    return [name] + [f"{name}{SLOT_MARK}{slot}" for slot in range(1, holders)]


SLOT_MARK = "#"  # not in tunnel names; `name#2` is the third slot of `name`


def lease_key(name: str) -> str:
    return f"tunnel:{name}:lease"


def heartbeat_key(name: str) -> str:
    return f"tunnel:{name}:heartbeat"


def released_key(name: str) -> str:
    return f"tunnel:{name}:released"


def lease_margin(ttl: float) -> float:
    """How long before its lease expires a holder that could not renew stops its connector."""
    return min(3.0, ttl / 4)  # room for a stalled event loop on a loaded host


def renew_interval(ttl: float, heartbeat_interval: float) -> float:
    """Renew often enough that a short Redis blip never reaches the fencing deadline."""
    return min(heartbeat_interval, ttl / 5)


@dataclass
class LeaseInfo:
    """Who holds a lease, from the lease value, and how fresh its heartbeat is."""

    holder: dict | None
    ttl_ms: int
    heartbeat_age: float | None
    live: dict | None = None  # what the holder last said about its connector (state, since, url)


class Lease:
    """An expiring lease on one tunnel name, renewed by its holder.

    ``valid_until`` is the holder's own monotonic deadline: the time it sent its last successful
    renewal plus the TTL (Redis started the TTL later, so Redis expires the key after it).
    ``fence_at`` is ``lease_margin`` earlier: a holder that cannot renew stops by then.
    """

    def __init__(
        self, *, url: str, name: str, ttl: float, holder: Holder, run_id: str = ""
    ) -> None:
        self.name = name
        self.ttl_ms = int(ttl * 1000)
        self.margin = lease_margin(ttl)
        # One value per run (not per attempt): a command delayed in the network that took or
        # extended the lease after we gave up on it is recognised as ours.
        run_id = run_id or uuid.uuid4().hex
        self.value = json.dumps({"host": holder.host, "pid": holder.pid, "id": run_id})
        self.redis = aioredis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
        )
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self.valid_until = 0.0  # monotonic deadline after which we must assume it is lost
        self._seen: tuple[str, float] | None = None  # (holder value, its valid-until) standing by

    @property
    def fence_at(self) -> float:
        return self.valid_until - self.margin

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; never a key that vanished before it could expire.

        A standby remembers when the holder it saw would lose its lease by the standby's own
        clock. If the key disappears earlier (Redis restarted empty) it waits for that time, so
        the holder re-claims its lease first; a released lease (graceful stop) is taken at once.
        """
        key = lease_key(self.name)
        started = time.monotonic()
        current, released = await self.redis.mget(key, released_key(self.name))
        if current == self.value:  # our own SET, delivered after we had timed out on it
            pttl = await self.redis.pttl(key)
            if pttl and pttl > 0:
                self.valid_until = started + pttl / 1000
                return True
        if current:
            pttl = await self.redis.pttl(key)
            if pttl and pttl > 0:
                self._seen = (str(current), started + pttl / 1000)
            return False
        if self._seen and time.monotonic() < self._seen[1] and released != self._seen[0]:
            return False  # the holder's lease is still valid: Redis lost the key, not the holder
        ok = await self.redis.set(key, self.value, nx=True, px=self.ttl_ms)
        if ok:
            self.valid_until = started + self.ttl_ms / 1000
            self._seen = None
            beat = json.dumps({"at": time.time(), "state": "starting"})
            await self.redis.set(heartbeat_key(self.name), beat, px=self.ttl_ms * 4)
        return bool(ok)

    async def renew(self, live: dict) -> bool:
        """Extend (or re-claim) the lease; False means another holder has it (stop now)."""
        started = time.monotonic()
        keys = [lease_key(self.name), heartbeat_key(self.name)]
        beat = json.dumps({"at": time.time(), **live})
        args: list[str | int | float] = [self.value, self.ttl_ms, beat, self.ttl_ms * 4]
        result = int(await self._renew(keys=keys, args=args))
        if result == RECLAIMED:
            logger.warning("tunnel %s: lease key was gone from Redis; re-claimed it", self.name)
        if result:
            self.valid_until = started + self.ttl_ms / 1000
        return bool(result)

    async def release(self) -> None:
        """Give the lease up if still ours (never deletes another holder's lease)."""
        keys = [lease_key(self.name), heartbeat_key(self.name), released_key(self.name)]
        try:
            await asyncio.wait_for(self._release(keys=keys, args=[self.value, self.ttl_ms]), 1.0)
        except (TimeoutError, OSError, aioredis.RedisError) as exc:
            logger.warning("tunnel %s: could not release lease: %s", self.name, exc)

    async def holder(self) -> str:
        value = await self.redis.get(lease_key(self.name))
        return str(value) if value else ""

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), 1.0)


def lease_info(*, url: str, name: str, timeout: float = 2.0) -> LeaseInfo:
    """Synchronous read of a lease (for the beat watchdog and tunnel_status)."""
    client = syncredis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
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
    live = _beat(str(beat) if beat else None)
    age = time.time() - float(live["at"]) if live else None
    return LeaseInfo(holder=holder, ttl_ms=int(ttl) if raw else 0, heartbeat_age=age, live=live)


def _beat(raw: str | None) -> dict | None:
    """The heartbeat value: JSON with `at` (epoch seconds) and the holder's live state."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if isinstance(value, int | float):
        return {"at": float(value)}
    return value if isinstance(value, dict) and "at" in value else None
