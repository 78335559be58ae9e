"""Rate limits: the login throttle and the public page's post limit.

Counters live in a storage of the ``limits`` library: Redis when configured
(``RINGTRACE_RATE_LIMIT_URL``, else ``RINGTRACE_REDIS_URL``), so every server process and
worker counts the same failures and posts; otherwise this process's memory (the embedded
demo, one process). Each limit counts over a moving window (``MovingWindowRateLimiter``).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
import time
from collections.abc import Iterator

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ringtrace.errors import ConfigurationError, StoreUnavailable
from ringtrace.settings import Settings

KEY_PREFIX = "ringtrace-limits"
DEVICE_DAYS = 90  # how long a browser that logged in is remembered (its cookie's age)


def rate_limit_storage(settings: Settings) -> Storage:
    """The storage the app's limits count in (see the module's docstring)."""
    url = settings.rate_limit_url or settings.redis_url
    if not url:
        return MemoryStorage()
    redis = url.startswith(("redis://", "rediss://", "redis+unix://"))
    try:
        options: dict[str, float | str | bool] = {"key_prefix": KEY_PREFIX} if redis else {}
        storage = storage_from_string(url, wrap_exceptions=True, **options)
    except LimitsConfigurationError as e:
        raise ConfigurationError(f"RINGTRACE_RATE_LIMIT_URL: {e}") from e
    if not isinstance(storage, Storage):  # an async:// storage: the routes are not async
        raise ConfigurationError("RINGTRACE_RATE_LIMIT_URL: an async storage cannot be used")
    return storage


@contextlib.contextmanager
def _available() -> Iterator[None]:
    """The storage did not answer (Redis down): 503, try again. Not "no limit": an attacker
    who can break Redis must not get unlimited guesses."""
    try:
        yield
    except StorageError as e:
        raise StoreUnavailable(
            "the rate-limit store is unavailable; nothing was done, please retry"
        ) from e


class LoginThrottle:
    """Slows password guessing without locking the real user out.

    Failures are counted per (username, source), per source and per username, over
    ``window_s``. Past each limit, every further attempt waits twice as long as the one before
    (1 s, 2 s, 4 s ... up to ``max_delay_s``) after the last failure:

    - the (username, source) pair and the source alone always wait: one address guessing one
      account, or spraying many accounts;
    - the username alone (guesses from many addresses) makes only password-only attempts wait.
      An attempt that carries a second factor, or comes from a browser that has logged in as
      this user before (a device cookie from an earlier success), still goes through, so an
      attacker cannot keep the real user out from somewhere else.

    In the storage: each key's failures (a moving window), a ``wait`` counter per key that
    expires when its wait is over, and a marker per remembered device (a hash of its token).
    """

    def __init__(
        self,
        storage: Storage | None = None,
        pair_limit: int = 5,
        source_limit: int = 20,
        user_limit: int = 20,
        window_s: int = 900,
        max_delay_s: int = 900,
    ) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.limits = {"pair": pair_limit, "source": source_limit, "user": user_limit}
        self.max_delay_s = max_delay_s
        # Past 2**doublings seconds the wait is at its longest: no need to count further.
        doublings = math.ceil(math.log2(max_delay_s)) + 1
        self._items: dict[str, RateLimitItem] = {
            kind: RateLimitItemPerSecond(limit + doublings, window_s, namespace="login")
            for kind, limit in self.limits.items()
        }

    @staticmethod
    def _keys(user: str, source: str) -> dict[str, str]:
        user = user.strip().casefold()
        return {"pair": f"pair:{user}|{source}", "source": f"ip:{source}", "user": f"user:{user}"}

    def _wait(self, key: str) -> float:
        if self.storage.get(f"login/wait/{key}") <= 0:
            return 0.0
        # Wall-clock seconds, as the storages keep expiry times (whole seconds on Redis).
        return max(0.0, self.storage.get_expiry(f"login/wait/{key}") - time.time())

    def _device(self, user_key: str, token: str) -> str:
        return f"login/device/{user_key}/{hashlib.sha256(token.encode()).hexdigest()}"

    def wait_s(
        self, user: str, source: str, *, second_factor: bool = False, device: str | None = None
    ) -> float:
        """Seconds before this attempt may be tried (0: go on)."""
        with _available():
            return self._wait_s(user, source, second_factor, device)

    def _wait_s(self, user: str, source: str, second_factor: bool, device: str | None) -> float:
        keys = self._keys(user, source)
        waits = [self._wait(keys["pair"]), self._wait(keys["source"])]
        trusted = second_factor or (
            device is not None and self.storage.get(self._device(keys["user"], device)) > 0
        )
        if not trusted:
            waits.append(self._wait(keys["user"]))
        return max(waits)

    def failed(self, user: str, source: str) -> None:
        with _available():
            self._failed(user, source)

    def _failed(self, user: str, source: str) -> None:
        for kind, key in self._keys(user, source).items():
            item = self._items[kind]
            self.limiter.hit(item, key)
            count = item.amount - self.limiter.get_window_stats(item, key).remaining
            if count >= self.limits[kind]:
                delay = min(self.max_delay_s, 2 ** (count - self.limits[kind]))
                self.storage.clear(f"login/wait/{key}")  # a fresh wait from this failure
                self.storage.incr(f"login/wait/{key}", delay)

    def succeeded(self, user: str, source: str) -> str:
        """Forget this pair's failures; a device token for the browser's cookie."""
        keys = self._keys(user, source)
        with _available():
            return self._succeeded(keys)

    def _succeeded(self, keys: dict[str, str]) -> str:
        self.limiter.clear(self._items["pair"], keys["pair"])
        self.storage.clear(f"login/wait/{keys['pair']}")
        token = secrets.token_urlsafe(24)
        self.storage.incr(self._device(keys["user"], token), DEVICE_DAYS * 86400)
        return token


class PostLimiter:
    """At most ``limit`` form posts per client address in ``window_s`` (a surge or a script,
    not a person, hits it)."""

    def __init__(self, limit: int = 60, window_s: int = 600, storage: Storage | None = None):
        self.limit = limit
        self.limiter = MovingWindowRateLimiter(storage if storage is not None else MemoryStorage())
        self.item = RateLimitItemPerSecond(limit, window_s, namespace="public-post")

    def allow(self, client: str) -> bool:
        with _available():
            return self.limiter.hit(self.item, client)
