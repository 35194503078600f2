"""Keeping outgoing mail at or under MAIL_RATE_PER_SECOND.

With Redis, the limit holds for the whole deployment: every sending process takes its
messages from one counter per second, twenty-five at a time so that Redis is asked once per 25
messages. Without Redis (or while it is unreachable), each process keeps to the rate on
its own. On a throttling reply (421/450/451/452/454) a process halves its own pace, so
mail slows down instead of bouncing.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis

log = logging.getLogger(__name__)
BLOCK = 25


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


class Pacer:
    def __init__(self, per_second: float, redis_url: str | None = None, namespace: str = ""):
        self.per_second = per_second
        self.redis = _redis(redis_url) if redis_url else None
        self.key = f"{namespace}:mail-rate"
        self.allowance = 0
        # Without a shared counter, each process spaces its own messages.
        self.interval = 0.0 if self.redis else 1.0 / per_second
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        if self.redis is not None and self.allowance <= 0:
            self._take_from_shared_counter()
        self.allowance -= 1
        now = time.monotonic()
        if self.next_slot > now:
            time.sleep(self.next_slot - now)
        self.next_slot = max(self.next_slot, now) + self.interval

    def _take_from_shared_counter(self) -> None:
        limit = max(1, int(self.per_second))
        while True:
            now = time.time()
            second = int(now)
            key = f"{self.key}:{second}"
            try:
                used = self.redis.incrby(key, BLOCK)
                if used == BLOCK:
                    self.redis.expire(key, 5)
            except redis.RedisError as exc:
                log.warning("rate counter unavailable (%s); pacing this process alone", exc)
                self.redis = None
                self.interval = max(self.interval, 1.0 / self.per_second)
                self.allowance = 1
                return
            granted = min(BLOCK, limit - (used - BLOCK))
            if granted > 0:
                self.allowance = granted
                return
            time.sleep(second + 1 - now)

    def back_off(self) -> None:
        self.interval = min(max(self.interval, 1.0 / self.per_second) * 2, 30.0)
