"""Rate limits, Cloudflare's ban and injected faults for the Discord stand-in.

Discord's rules (``../shared/PLATFORM.md`` section 2): each route has a bucket per major parameter
(channel, guild, webhook, interaction), reported in ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
(epoch seconds), ``-Reset-After`` and ``-Bucket`` on every answer; a bot has a global limit of 50
requests a second (interactions exempt); a 429 has ``{message, retry_after, global}``, ``Retry-After``
and ``X-RateLimit-Scope``; 10,000 invalid answers (401, 403, 429 not of shared scope) in ten minutes
earn a ban from Cloudflare, whose 429s have no ``Via`` header and a plain-text body.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from dataclasses import dataclass

from tests.discord_standin_rules import ApiError, Json

#: A webhook's token is part of its bucket (discord.py's ``Route.major_parameters`` too): every
#: interaction's follow-ups go to the application's webhook id, each with its own token.
MAJOR = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
#: Buckets the stand-in's defaults limit (count, seconds), per major parameter. Discord publishes
#: none of them; "messages" (5 per 5 s a channel) and "webhook" (5 per 2 s) are what bots observe;
#: a message's PATCH and DELETE have buckets of their own, per channel or per webhook, with the
#: numbers of sends (PLATFORM.md section 7); the rest are generous guesses. Routes without a
#: bucket of their own share "default"'s numbers.
ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "messages": (5, 5.0),
    "edits": (5, 5.0),
    "deletes": (5, 5.0),
    "threads": (5, 5.0),
    "webhook": (5, 2.0),
    "hook_edits": (5, 2.0),
    "hook_deletes": (5, 2.0),
    "commands": (10, 20.0),
    "interaction": (50, 1.0),
    "default": (50, 1.0),
}


def seconds(value: float) -> str:
    """Seconds as Discord writes them, rounded up to the millisecond (so a client never wakes early)."""
    return f"{math.ceil(value * 1000) / 1000:.3f}"


@dataclass
class Window:
    """A fixed window of ``limit`` requests that opens with its first request and lasts ``per`` s."""

    limit: int
    per: float
    used: int = 0
    resets: float = 0.0  # epoch seconds

    def take(self, now: float) -> float:
        """0 when the request fits (and counts), else the seconds until the window resets."""
        if now >= self.resets:
            self.used, self.resets = 0, math.ceil((now + self.per) * 1000) / 1000
        if self.used >= self.limit:
            return self.resets - now
        self.used += 1
        return 0.0


@dataclass
class Fault:
    status: int
    retry_after: float
    scope: str
    via: bool
    is_global: bool


class TooMany(ApiError):
    """A 429, with Discord's body and headers."""

    def __init__(self, wait: float, scope: str, *, is_global: bool = False, via: bool = True) -> None:
        super().__init__(429, 0, "You are being rate limited.")
        self.retry_after, self.is_global, self.via = float(seconds(wait)), is_global, via
        self.headers = {"Retry-After": str(max(1, math.ceil(wait))), "X-RateLimit-Scope": scope}
        if is_global:
            self.headers["X-RateLimit-Global"] = "true"

    def body(self) -> Json:
        return {"message": self.message, "retry_after": self.retry_after, "global": self.is_global}


class Limiter:
    """One bot's windows, its invalid answers, and the faults tests inject."""

    def __init__(
        self,
        limits: dict[str, tuple[int, float]],
        global_limit: int,
        invalid_limit: int,
        scale: float,
        rejections: list[tuple[str, str]],
    ) -> None:
        self.limits, self.global_limit, self.invalid_limit = limits, global_limit, invalid_limit
        self.scale, self.rejections = scale, rejections
        self.windows: dict[str, Window] = {}
        self.faults: dict[int, deque[Fault]] = {}
        self.invalid: deque[float] = deque()  # when each invalid answer went out (monotonic)

    def check(
        self, name: str, bucket: str, template: str, params: dict[str, str], *, bot: bool
    ) -> dict[str, str]:
        """Raise the 429 (or injected fault) a request meets; else count it and return the bucket's
        headers. ``name`` ("POST /channels/1/messages") goes into ``rejections``; ``bot``: a request
        with the bot's token, which counts towards the global limit unless it answers an interaction."""
        now = time.time()
        if bot and bucket != "interaction" and self.global_limit:
            window = self.windows.setdefault("global", Window(self.global_limit, self.scale))
            if wait := window.take(now):
                self.rejections.append((name, "global"))
                raise TooMany(wait, "global", is_global=True)
        self._inject(name, params)
        limit, per = self.limits.get(bucket, self.limits["default"])
        if not limit:
            return {}
        key = bucket if bucket in self.limits else template
        major = "+".join(params[k] for k in MAJOR if k in params)
        window = self.windows.setdefault(f"{key}:{major}", Window(limit, per * self.scale))
        wait = window.take(now)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - window.used),
            "X-RateLimit-Reset": f"{window.resets:.3f}",
            "X-RateLimit-Reset-After": seconds(window.resets - now),
            "X-RateLimit-Bucket": hashlib.md5(key.encode()).hexdigest(),
        }
        if wait:
            self.rejections.append((name, "route"))
            error = TooMany(wait, "user")
            error.headers |= headers
            raise error
        return headers

    def _inject(self, name: str, params: dict[str, str]) -> None:
        targets = [int(params[key]) for key in ("channel_id", "webhook_id") if key in params]
        queue = next((self.faults[t] for t in targets if self.faults.get(t)), None)
        if not queue:
            return
        fault = queue.popleft()
        if fault.status == 429:
            self.rejections.append((name, "injected"))
            raise TooMany(fault.retry_after, fault.scope, is_global=fault.is_global, via=fault.via)
        raise ApiError(fault.status, 0, f"{fault.status}: Internal Server Error")

    def answered(self, error: ApiError) -> None:
        if error.status in (401, 403, 429) and error.headers.get("X-RateLimit-Scope") != "shared":
            self.invalid.append(time.monotonic())

    def banned(self) -> bool:
        """Whether Cloudflare bans the bot now: too many invalid answers in ten (scaled) minutes."""
        while self.invalid and self.invalid[0] <= time.monotonic() - 600 * self.scale:
            self.invalid.popleft()
        return bool(self.invalid_limit) and len(self.invalid) >= self.invalid_limit

    def fail(self, target_id: int, fault: Fault, times: int) -> None:
        self.faults.setdefault(target_id, deque()).extend([fault] * times)
