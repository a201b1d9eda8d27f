"""Rate limiting of gateway requests: per server and environment, and per client within it.

``Limiter.admit`` takes one token from the target's bucket and from the client's (only
when both have one, so a refused request costs neither) and answers 0, or the seconds
until the request would be admitted. Two kinds:

* ``LocalLimiter``: buckets in this replica's memory. Without ``MCPREG_REDIS_URL`` each
  replica limits on its own, so N replicas admit up to N times the rate together.
* ``RedisLimiter``: buckets in Redis, taken by one Lua script (atomic; the clock is the
  Redis server's), so every replica shares one budget. If Redis cannot be reached the
  request is admitted and the failure counted and logged (at most once a minute): an
  outage of the limiter does not become an outage of the gateway.

Refusals are counted in ``mcpreg_gateway_rate_limited_total`` by server, environment and
bucket (``target`` or ``client``), and never reach the traffic aggregates, so they do not
count against a version's error rate.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter
from starlette.requests import Request

from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.rate_limits import NO_LIMITS, Bucket, Limit, Limits, retry_after_header, take
from mcpreg.errors import RateLimited
from mcpreg.services import rate_limits

log = logging.getLogger("mcpreg.gateway")

LOCAL_BUCKETS = 100_000  # buckets one replica keeps (least recently used out first)
KEY_PREFIX = "mcpreg:rl:"
ERROR_LOG_EVERY = 60.0


class Limiter(Protocol):
    async def admit(self, environment: str, server: str, client: str | None, limits: Limits) -> float: ...

    async def close(self) -> None: ...


class Refusals:
    """The counters of refused and unlimited-because-of-an-error requests."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.limited = Counter(
            "mcpreg_gateway_rate_limited",
            "Gateway requests refused with 429 by a rate limit (not counted as errors of a version).",
            ["server", "environment", "bucket"],
            registry=registry,
        )
        self.errors = Counter(
            "mcpreg_gateway_rate_limiter_errors",
            "Gateway requests admitted unchecked because the shared limiter (Redis) failed.",
            registry=registry,
        )


def _keys(environment: str, server: str, client: str | None) -> tuple[str, str | None]:
    target = f"{KEY_PREFIX}{environment}|{server}"
    return target, (f"{target}|{client}" if client else None)


class LocalLimiter:
    """Buckets in memory: exact within one replica."""

    def __init__(self, refusals: Refusals, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._refusals = refusals
        self._clock = clock

    def _peek(self, key: str, limit: Limit, now: float) -> tuple[Bucket, float]:
        return take(limit, self._buckets.get(key), now)

    def _keep(self, key: str, bucket: Bucket) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        while len(self._buckets) > LOCAL_BUCKETS:
            self._buckets.popitem(last=False)

    async def admit(self, environment: str, server: str, client: str | None, limits: Limits) -> float:
        now = self._clock()
        target_key, client_key = _keys(environment, server, client)
        taken: list[tuple[str, Bucket]] = []
        wait = 0.0
        for key, limit, bucket_name in (
            (target_key, limits.target, "target"),
            (client_key, limits.client, "client"),
        ):
            if key is None or limit is None:
                continue
            bucket, retry = self._peek(key, limit, now)
            if retry > 0:
                self._refusals.limited.labels(server, environment, bucket_name).inc()
                wait = max(wait, retry)
            taken.append((key, bucket))
        if wait == 0:
            for key, bucket in taken:
                self._keep(key, bucket)
        return wait

    async def close(self) -> None:
        return None


# KEYS[1], KEYS[2]: the target's and the client's bucket ("" for none).
# ARGV: rate1, burst1, rate2, burst2 ("" where the bucket has no limit).
# Each bucket is a hash {t: tokens, s: stamp in microseconds}. Returns
# {refused_bucket_index (0 none, 1 target, 2 client), retry_after_microseconds}.
_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local states = {}
local refused, wait = 0, 0
for i = 1, 2 do
  local key, rate, burst = KEYS[i], tonumber(ARGV[i * 2 - 1]), tonumber(ARGV[i * 2])
  if key ~= '' and rate and burst then
    local held = redis.call('HMGET', key, 't', 's')
    local tokens = burst
    if held[1] then
      local elapsed = math.max(0, now - tonumber(held[2]))
      tokens = math.min(burst, tonumber(held[1]) + elapsed * rate / 1000000)
    end
    if tokens >= 1 then
      states[i] = {key, tokens - 1, math.ceil(burst / rate * 1000) + 1000}
    else
      local retry = math.ceil((1 - tokens) / rate * 1000000)
      if retry > wait then wait = retry; refused = i end
    end
  end
end
if refused == 0 then
  for i = 1, 2 do
    local s = states[i]
    if s then
      redis.call('HSET', s[1], 't', tostring(s[2]), 's', tostring(now))
      redis.call('PEXPIRE', s[1], s[3])
    end
  end
end
return {refused, wait}
"""


class RedisLimiter:
    """Buckets in Redis, shared by every replica that uses the same Redis."""

    def __init__(self, url: str, refusals: Refusals, *, clock: Callable[[], float] = time.monotonic) -> None:
        import redis.asyncio as redis  # only where a Redis URL is configured

        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_SCRIPT)
        self._refusals = refusals
        self._clock = clock
        self._last_error_log = -ERROR_LOG_EVERY

    async def admit(self, environment: str, server: str, client: str | None, limits: Limits) -> float:
        target_key, client_key = _keys(environment, server, client)
        args: list[str] = []
        for limit in (limits.target, limits.client):
            args += [repr(limit.rate), str(limit.burst)] if limit is not None else ["", ""]
        keys = [target_key if limits.target else "", client_key if (client_key and limits.client) else ""]
        try:
            refused, wait_us = await self._script(keys=keys, args=args)
        except Exception:
            self._refusals.errors.inc()
            now = self._clock()
            if now - self._last_error_log >= ERROR_LOG_EVERY:
                self._last_error_log = now
                log.exception("the shared rate limiter (Redis) failed; admitting requests unchecked")
            return 0.0
        if int(refused) == 0:
            return 0.0
        self._refusals.limited.labels(server, environment, "target" if int(refused) == 1 else "client").inc()
        return int(wait_us) / 1_000_000

    async def close(self) -> None:
        await self._client.aclose()


def build_limiter(redis_url: str | None, registry: CollectorRegistry | None) -> Limiter:
    refusals = Refusals(registry)
    if redis_url:
        return RedisLimiter(redis_url, refusals)
    return LocalLimiter(refusals)


async def admit(request: Request, environment: str, server: str, client: str | None) -> None:
    """Refuse with 429 (``RateLimited``) a request over its target's or its client's limit.

    The target's limits are read once per change (``Runtime.rate_limits``); a target with
    none costs one dictionary lookup.
    """
    rt = runtime(request.app)

    def read() -> Limits:
        with unit_of_work(rt.engine) as session:
            return rate_limits.effective(session, environment, server)

    limits = await rt.rate_limits.read_through((environment, server), read)
    if limits == NO_LIMITS:
        return
    wait = await rt.limiter.admit(environment, server, client, limits)
    if wait > 0:
        seconds = int(retry_after_header(wait))
        raise RateLimited(
            f"{server} in {environment} is over its rate limit; retry after {seconds} s",
            retry_after=seconds,
            bucket="rate",
        )
